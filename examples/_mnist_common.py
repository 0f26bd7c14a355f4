"""Shared pieces of the MNIST examples: a small IDX reader, the 8,000 / 2,000 split, Adam, a training loop."""

import gzip
import os
import time

import numpy as np

DEFAULT_DATA_DIR = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "mnist")


def read_idx(path):
    """Read a (gzipped) IDX file into an array: magic (2 zero bytes, dtype code, ndim), big-endian sizes, data."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    if raw[:2] != b"\x00\x00" or raw[2] != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte IDX file")
    ndim = raw[3]
    dims = np.frombuffer(raw, dtype=">u4", count=ndim, offset=4).astype(int)
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load_split(data_dir, n_train=8000):
    """The MNIST test set (10,000 images), split into the first *n_train* for training and the rest for
    validation; images as float32 ``(N, 1, 28, 28)`` in [0, 1], labels as int ``(N,)``."""
    images = read_idx(os.path.join(data_dir, "t10k-images-idx3-ubyte.gz"))
    labels = read_idx(os.path.join(data_dir, "t10k-labels-idx1-ubyte.gz")).astype(np.int64)
    x = (images.astype(np.float32) / 255.0)[:, None, :, :]
    return (x[:n_train], labels[:n_train]), (x[n_train:], labels[n_train:])


class Adam:
    """Adam (Kingma & Ba 2015) updating the arrays of ``params`` in place."""

    def __init__(self, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
        self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps
        self.m, self.v, self.t = {}, {}, 0

    def update(self, params, grads):
        self.t += 1
        step = self.lr * np.sqrt(1 - self.beta2 ** self.t) / (1 - self.beta1 ** self.t)
        for key, p in params.items():
            g = grads[key]
            m = self.m.setdefault(key, np.zeros_like(p))
            v = self.v.setdefault(key, np.zeros_like(p))
            m *= self.beta1
            m += (1 - self.beta1) * g
            v *= self.beta2
            v += (1 - self.beta2) * g * g
            p -= step * m / (np.sqrt(v) + self.eps)


def train(net, train_set, val_set, epochs, batch_size=100, lr=1e-3, seed=0, target=None):
    """Mini-batch training with Adam; prints one line per epoch and returns the last validation accuracy."""
    (x, t), (xv, tv) = train_set, val_set
    rng = np.random.default_rng(seed)
    opt = Adam(lr)
    start = time.perf_counter()
    acc = 0.0
    for epoch in range(1, epochs + 1):
        order = rng.permutation(len(x))
        losses = []
        for i in range(0, len(x), batch_size):
            idx = order[i:i + batch_size]
            loss, grads = net.loss_and_gradient(x[idx], t[idx])
            opt.update(net.params, grads)
            losses.append(loss)
        acc = net.accuracy(xv, tv, batch_size=500)
        print(f"epoch {epoch:2d}  loss {np.mean(losses):.4f}  val acc {acc:.4f}  "
              f"time {time.perf_counter() - start:6.1f} s", flush=True)
        if target is not None and acc >= target:
            break
    return acc
