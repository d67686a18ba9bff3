"""PyTorch reference for `cargo xtask bench training`: the same networks as Bottleneck's conv
autoencoder (seed 002), fully-connected autoencoder (seed 001), conv VAE and CNN baseline, trained
on the same Fashion-MNIST files with the same batch sizes and optimizer, on the same number of
threads.

Prints one JSON object per model: seconds per training epoch (data already in memory, shuffled
each epoch) and the test loss after the last epoch.

    python3 pytorch_reference.py --data /usr/share/datasets/fashion-mnist --epochs 3 --threads 2
"""

import argparse
import gzip
import json
import os
import statistics
import time

import numpy as np
import torch
from torch import nn


def read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def find(folder, stem):
    for name in (stem + ".gz", stem):
        path = os.path.join(folder, name)
        if os.path.exists(path):
            return path
    raise SystemExit(f"{folder} has no {stem}[.gz]")


def conv_ae(latent=16):
    encoder = nn.Sequential(
        nn.Conv2d(1, 8, 4, 2, 1), nn.ReLU(), nn.Conv2d(8, 16, 4, 2, 1), nn.ReLU(),
        nn.Conv2d(16, 32, 3, 2, 0), nn.Flatten(), nn.Linear(288, 64), nn.ReLU(), nn.Linear(64, latent))
    decoder = nn.Sequential(
        nn.Linear(latent, 64), nn.ReLU(), nn.Linear(64, 288), nn.ReLU(), nn.Unflatten(1, (32, 3, 3)),
        nn.ConvTranspose2d(32, 16, 3, 2, 0), nn.ReLU(), nn.ConvTranspose2d(16, 8, 4, 2, 1), nn.ReLU(),
        nn.ConvTranspose2d(8, 1, 4, 2, 1))
    return encoder, decoder


def fc_ae():
    widths = [784, 128, 64, 32, 16, 8]
    enc = []
    for a, b in zip(widths, widths[1:]):
        enc += [nn.Linear(a, b), nn.ReLU()]
    dec_widths = [8, 8, 32, 64, 128, 784]
    dec = []
    for a, b in zip(dec_widths, dec_widths[1:]):
        dec += [nn.Linear(a, b), nn.ReLU()]
    dec[-1] = nn.Tanh()
    return nn.Sequential(nn.Flatten(), *enc), nn.Sequential(*dec, nn.Unflatten(1, (1, 28, 28)))


def cnn(widths=(16, 32, 64), convs=(1, 2, 2), hidden=512, dropout=0.1, classes=10):
    """`bottleneck train cnn`'s defaults: 3x3 convolutions with batch norm and ReLU, 2x2 max
    pooling after each block, dropout before the hidden and the output layer."""
    layers, prev, side = [], 1, 28
    for width, n in zip(widths, convs):
        for _ in range(n):
            layers += [nn.Conv2d(prev, width, 3, 1, 1), nn.BatchNorm2d(width), nn.ReLU()]
            prev = width
        layers.append(nn.MaxPool2d(2))
        side //= 2
    return nn.Sequential(*layers, nn.Flatten(), nn.Dropout(dropout), nn.Linear(prev * side * side, hidden), nn.ReLU(),
                         nn.Dropout(dropout), nn.Linear(hidden, classes))


def run(name, train, test, epochs, batch, make):
    torch.manual_seed(42)
    model, loss_fn, prepare = make()
    lr = 2e-3 if name == "cnn" else 1e-3
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=0.0 if name == "conv-vae" else 1e-5)
    xs = prepare(train)
    times = []
    for _ in range(epochs):
        order = torch.randperm(len(xs))
        start = time.perf_counter()
        model.train()
        for i in range(0, len(xs), batch):
            x = xs[order[i : i + batch]]
            opt.zero_grad()
            loss = loss_fn(model, x, True)
            loss.backward()
            opt.step()
        times.append(time.perf_counter() - start)
    model.eval()
    with torch.no_grad():
        xt = prepare(test)
        test_loss = sum(loss_fn(model, xt[i : i + 1000], False).item() * len(xt[i : i + 1000]) for i in range(0, len(xt), 1000)) / len(xt)
    return {"model": name, "batch": batch, "epochs": epochs, "seconds_per_epoch": [round(t, 2) for t in times],
            "median_seconds": round(statistics.median(times), 2), "test_loss": test_loss}


class Ae(nn.Module):
    def __init__(self, parts, out=None):
        super().__init__()
        self.encoder, self.decoder = parts
        self.out = out

    def forward(self, x):
        y = self.decoder(self.encoder(x))
        return self.out(y) if self.out else y


class Vae(nn.Module):
    def __init__(self, latent=16):
        super().__init__()
        self.encoder, self.decoder = conv_ae(2 * latent)[0], conv_ae(latent)[1]
        self.latent = latent

    def forward(self, x, sample):
        h = self.encoder(x)
        mean, log_var = h[:, : self.latent], h[:, self.latent :]
        z = mean + torch.exp(0.5 * log_var) * torch.randn_like(mean) if sample else mean
        return self.decoder(z), mean, log_var


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--models", default="conv-ae,fc-ae,conv-vae,cnn")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    train = torch.from_numpy(read_idx(find(a.data, "train-images-idx3-ubyte")).copy()).float().div(255).unsqueeze(1)
    test = torch.from_numpy(read_idx(find(a.data, "t10k-images-idx3-ubyte")).copy()).float().div(255).unsqueeze(1)
    mse = nn.MSELoss()

    def conv():
        return Ae(conv_ae(), nn.Sigmoid()), lambda m, x, _: mse(m(x), x), lambda t: t

    def fc():
        return Ae(fc_ae()), lambda m, x, _: mse(m(x), x), lambda t: t * 2 - 1

    def vae():
        def loss(m, x, sample):
            logits, mean, log_var = m(x, sample)
            recon = nn.functional.binary_cross_entropy_with_logits(logits, x, reduction="sum") / len(x)
            kl = -0.5 * torch.sum(1 + log_var - mean.pow(2) - log_var.exp()) / len(x)
            return recon + kl
        return Vae(), loss, lambda t: t

    labels = torch.from_numpy(read_idx(find(a.data, "train-labels-idx1-ubyte")).copy()).long()
    test_labels = torch.from_numpy(read_idx(find(a.data, "t10k-labels-idx1-ubyte")).copy()).long()
    smoothed = nn.CrossEntropyLoss(label_smoothing=0.1)

    def classifier():
        # Images and labels travel together through the shuffle: one tensor, the label in the
        # last column. Half of each batch is mirrored, as Bottleneck's augmentation does.
        def loss(m, xy, training):
            x, y = xy[:, :784].reshape(-1, 1, 28, 28), xy[:, 784].long()
            if training:
                flip = torch.rand(len(x)) < 0.5
                x = torch.where(flip[:, None, None, None], x.flip(3), x)
                return smoothed(m(x), y)
            return nn.functional.cross_entropy(m(x), y)
        def prepare(t):
            y = labels if len(t) == len(labels) else test_labels
            return torch.cat([t.reshape(len(t), 784), y.float()[:, None]], 1)
        return cnn(), loss, prepare

    makers = {"conv-ae": (256, conv), "fc-ae": (128, fc), "conv-vae": (256, vae), "cnn": (128, classifier)}
    for name in a.models.split(","):
        batch, make = makers[name]
        print(json.dumps(run(name, train, test, a.epochs, batch, make)), flush=True)


if __name__ == "__main__":
    main()
