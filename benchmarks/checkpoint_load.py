"""Checkpoint loading: the validated reader of ``load_checkpoint`` against a plain ``np.load`` of the same file and
``torch.load(weights_only=True)`` of the same tensors, interleaved in one process.

Run: python benchmarks/checkpoint_load.py [--rounds 15]   (prints a table; numbers depend on the machine and load)
"""

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

import layergraph as lg
from layergraph.train import load_checkpoint, save_checkpoint


def mlp(sizes, seed=0):
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers += [lg.Affine(a, b, rng=seed + i)] + ([lg.ReLU()] if i < len(sizes) - 2 else [])
    return lg.Sequential(*layers, loss=lg.SoftmaxWithLoss())


def np_load(path):
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    try:
        import torch
        torch.set_num_threads(1)
    except ImportError:
        torch = None
    cases = {"784-100-100-10": (784, 100, 100, 10), "2048-2048-2048-10": (2048, 2048, 2048, 10)}
    print(f"{'network':<20} {'params':>10} {'MB':>6} {'reader':<26} {'median ms':>10} {'IQR ms':>14}")
    with tempfile.TemporaryDirectory() as tmp:
        for name, sizes in cases.items():
            net = mlp(sizes)
            path = Path(tmp) / f"{name}.npz"
            save_checkpoint(path, net)
            readers = {"load_checkpoint (checked)": lambda: load_checkpoint(path), "np.load (unchecked)":
                       lambda: np_load(path)}
            if torch is not None:
                tpath = Path(tmp) / f"{name}.pt"
                torch.save({k: torch.from_numpy(v.copy()) for k, v in net.state_dict().items()}, tpath)
                readers["torch.load weights_only"] = lambda: torch.load(tpath, weights_only=True)
            times = {k: [] for k in readers}
            for _ in range(args.rounds):  # interleaved: every reader once per round
                for key, fn in readers.items():
                    t0 = time.perf_counter()
                    fn()
                    times[key].append((time.perf_counter() - t0) * 1e3)
            n = sum(v.size for v in net.params.values())
            for key, ts in times.items():
                q = statistics.quantiles(ts, n=4)
                print(f"{name:<20} {n:>10,} {path.stat().st_size / 1e6:>6.1f} {key:<26} "
                      f"{statistics.median(ts):>10.2f} {q[0]:>6.2f}-{q[2]:<7.2f}")


if __name__ == "__main__":
    main()
