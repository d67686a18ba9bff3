"""Runs an export's model.py under PyTorch on its vectors.bin and compares with burn's outputs.

Usage: python3 check_pytorch.py EXPORT_DIR [TOLERANCE]
Prints the largest absolute differences; exits 1 when one exceeds TOLERANCE (default 1e-4).
"""

import importlib.util
import os
import struct
import sys

import numpy as np
import torch


def read_vectors(path):
    """The records of a vectors.bin (docs/vectors-format.md) as numpy arrays."""
    raw = open(path, "rb").read()
    magic, version, header, count, c, h, w, latent, classes = struct.unpack_from("<4sHHIHHHHH", raw, 0)
    assert magic == b"BTNV" and version == 1, (magic, version)
    pixels = c * h * w
    floats = pixels + latent + pixels + classes
    record = 4 * floats + 4
    assert len(raw) == header + count * record, "vectors.bin has the wrong length"
    inputs, codes, recons, logits = [], [], [], []
    for i in range(count):
        v = np.frombuffer(raw, dtype="<f4", count=floats, offset=header + i * record)
        inputs.append(v[:pixels])
        codes.append(v[pixels:pixels + latent])
        recons.append(v[pixels + latent:2 * pixels + latent])
        logits.append(v[2 * pixels + latent:])
    shape = (count, c, h, w)
    return (np.stack(inputs).reshape(shape), np.stack(codes), np.stack(recons).reshape(shape),
            np.stack(logits) if classes else None)


def main():
    export_dir = sys.argv[1]
    tolerance = float(sys.argv[2]) if len(sys.argv) > 2 else 1e-4
    spec = importlib.util.spec_from_file_location("bottleneck_model", os.path.join(export_dir, "model.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    model = module.load(export_dir)
    x, code, recon, logits = read_vectors(os.path.join(export_dir, "vectors.bin"))
    with torch.no_grad():
        images = torch.from_numpy(x.copy())
        got = {
            "code": (module.encode(model, images).numpy(), code),
            # The reconstruction of burn's code: the decoder alone.
            "reconstruction": (module.decode(model, torch.from_numpy(code.copy())).numpy(), recon),
        }
        if logits is not None:
            got["logits"] = (module.classify(model, images).numpy(), logits)
    worst = 0.0
    for name, (ours, theirs) in got.items():
        diff = float(np.max(np.abs(ours.reshape(theirs.shape) - theirs)))
        worst = max(worst, diff)
        print(f"{name}: max |pytorch - burn| = {diff:.3e} over {theirs.shape[0]} images")
    if worst > tolerance:
        print(f"FAILED: {worst:.3e} exceeds {tolerance:.0e}")
        sys.exit(1)
    print("pytorch matches burn")


if __name__ == "__main__":
    main()
