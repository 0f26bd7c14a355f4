"""Trainer overhead against a bare training loop, and checkpoint save / load times.

Run: python benchmarks/train_overhead.py   (prints a table; numbers depend on the machine)
"""

import tempfile
import time
from pathlib import Path

import numpy as np

import layergraph as lg
from layergraph.train import Trainer, load_checkpoint, save_checkpoint


class SGD:
    def __init__(self, lr):
        self.lr = lr

    def update(self, params, grads):
        for k, p in params.items():
            p -= self.lr * grads[k]


def mlp(sizes, seed=0):
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers += [lg.Affine(a, b, rng=seed + i)] + ([lg.ReLU()] if i < len(sizes) - 2 else [])
    return lg.Sequential(*layers, loss=lg.SoftmaxWithLoss())


def bare_loop(net, opt, x, t, batch_size, epochs, seed):
    rng = np.random.default_rng(seed)
    for _ in range(epochs):
        order = rng.permutation(len(x))
        for i in range(0, len(x), batch_size):
            idx = order[i:i + batch_size]
            _, grads = net.loss_and_gradient(x[idx], t[idx])
            opt.update(net.params, grads)


def best_of(fn, repeat=3):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main():
    rng = np.random.default_rng(0)
    rows = []
    for sizes, n, bs in [((64, 100, 10), 1500, 32), ((784, 100, 100, 10), 8000, 100)]:
        x = rng.standard_normal((n, sizes[0])).astype(np.float32)
        t = rng.integers(0, sizes[-1], n)
        epochs = 3
        bare = best_of(lambda: bare_loop(mlp(sizes), SGD(0.01), x, t, bs, epochs, 0))
        full = best_of(lambda: Trainer(mlp(sizes), SGD(0.01), batch_size=bs, seed=0, verbose=0,
                                       metrics=()).fit(x, t, epochs=epochs))
        acc = best_of(lambda: Trainer(mlp(sizes), SGD(0.01), batch_size=bs, seed=0, verbose=0)
                      .fit(x, t, epochs=epochs))
        arch = "-".join(map(str, sizes))
        rows.append((f"{arch}, N={n}, bs={bs}", bare / epochs, full / epochs, acc / epochs))
    print(f"{'network / data':34} {'bare loop s/epoch':>18} {'Trainer s/epoch':>16} {'+accuracy s/epoch':>18}")
    for name, a, b, c in rows:
        print(f"{name:34} {a:18.4f} {b:16.4f} {c:18.4f}")

    net = mlp((784, 100, 100, 10))
    n_params = sum(p.size for p in net.params.values())
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "c.npz"
        save = best_of(lambda: save_checkpoint(path, net, epoch=1))
        load = best_of(lambda: load_checkpoint(path, net))
        size = path.stat().st_size
    print(f"\ncheckpoint of {n_params:,} float32 parameters: {size / 1e6:.2f} MB, "
          f"save {save * 1e3:.1f} ms (with fsync), load {load * 1e3:.1f} ms")


if __name__ == "__main__":
    main()
