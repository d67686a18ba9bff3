// Runs the standard int8 check (bottleneck_runtime::check) in WebAssembly under Node and prints
// the digest, so that it can be compared with the native one:
//   node check.mjs bottleneck_wasm.wasm model.bnq vectors.bin
// Prints one line: `digest 0x<8 hex digits> vectors <n>`; exits 1 on any error.
import { readFileSync } from "node:fs";

const [wasmPath, modelPath, vectorsPath] = process.argv.slice(2);
if (!vectorsPath) {
  console.error("usage: node check.mjs MODULE.wasm model.bnq vectors.bin");
  process.exit(2);
}
const { instance } = await WebAssembly.instantiate(readFileSync(wasmPath));
const w = instance.exports;
const mem = () => w.memory.buffer;

const model = readFileSync(modelPath);
new Uint8Array(mem(), w.model_ptr(), model.length).set(model);
const status = w.load(model.length);
if (status !== 0) {
  const why = status === -101 ? " (the file is larger than the module's 2 MiB model buffer)" : "";
  throw new Error(`load failed with code ${status}${why}`);
}

// vectors.bin, format 1 (docs/vectors-format.md)
const vb = readFileSync(vectorsPath);
const dv = new DataView(vb.buffer, vb.byteOffset, vb.byteLength);
if (vb.toString("latin1", 0, 4) !== "BTNV" || dv.getUint16(4, true) !== 1) throw new Error("not a vectors file of format 1");
const count = dv.getUint32(8, true);
const pixels = dv.getUint16(12, true) * dv.getUint16(14, true) * dv.getUint16(16, true);
const latent = dv.getUint16(18, true);
const classes = dv.getUint16(20, true);
const record = (2 * pixels + latent + classes) * 4 + 4;
if (vb.length !== 32 + count * record) throw new Error("vectors file has the wrong length");
if (w.input_len() !== pixels || w.latent_len() !== latent) throw new Error("model and vectors disagree on sizes");

const f32 = (offset, n) => {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = dv.getFloat32(offset + 4 * i, true);
  return out;
};
w.check_reset();
for (let v = 0; v < count; v++) {
  const at = 32 + v * record;
  new Float32Array(mem(), w.input_ptr(), pixels).set(f32(at, pixels));
  new Float32Array(mem(), w.float_code_ptr(), latent).set(f32(at + 4 * pixels, latent));
  const r = w.check_vector();
  if (r < 0) throw new Error(`check_vector failed on vector ${v} with code ${r}`);
}
const r = w.check_samples();
if (r < 0) throw new Error(`check_samples failed with code ${r}`);
console.log(`digest 0x${(w.check_digest() >>> 0).toString(16).padStart(8, "0")} vectors ${count}`);
