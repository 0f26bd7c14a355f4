"""Forward + backward time of RNN, LSTM and GRU against torch.nn.RNN / LSTM / GRU, and Embedding backward.

Recurrent layers: float32, batch N=32, T=50 steps, D=64 inputs, H=128 hidden units, ``return_sequences=True``;
one step is ``y = layer.forward(x); layer.backward(dy)`` against ``y, _ = module(x); y.backward(dy)`` (input
gradient included on both sides). Embedding: N=64, T=100 indices from a vocabulary of 10,000, D=128; only the
backward call is timed (forward untimed before it) on both sides.

Both libraries run with the same thread count (threadpoolctl for NumPy's BLAS, ``torch.set_num_threads``), in one
process, interleaved: every round times a few steps of one library then of the other, alternating which goes first.
Before each timed block the benchmark idles for ``--pause`` seconds, so the other library's worker threads (which
spin for a while after their last task) are idle, then runs untimed steps for ``--warmup`` seconds (10 at least),
so that the timed steps run in the steady state of a training loop rather than just after an idle pause.
The table gives the median per-step time over the rounds, the ratio layergraph / PyTorch of the medians, and the
spread of the per-round ratios (25th-75th percentile).

Usage::

    python benchmarks/recurrent.py [--threads 1 2] [--rounds 15] [--steps 3] [--pause 0.3] [--warmup 0.1]
                                   [--only LSTM GRU]
"""

import argparse
import time

import numpy as np
import torch
from threadpoolctl import threadpool_limits

from _timing import warm_up

import layergraph as lg

N, T, D, H = 32, 50, 64, 128
EN, ET, V, ED = 64, 100, 10_000, 128


def _parse(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    p.add_argument("--rounds", type=int, default=15)
    p.add_argument("--steps", type=int, default=3, help="steps timed per round and library")
    p.add_argument("--pause", type=float, default=0.3, help="idle seconds before each timed block")
    p.add_argument("--warmup", type=float, default=0.1,
                   help="seconds of untimed steps after each pause, 10 steps at least (default 0.1)")
    p.add_argument("--only", nargs="+", default=None, metavar="NAME",
                   help="run only these rows: LSTM, GRU, RNN, Embedding")
    return p.parse_args(argv)


def recurrent_pair(name):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((N, T, D)).astype(np.float32)
    dy = rng.standard_normal((N, T, H)).astype(np.float32)
    layer = {"LSTM": lg.LSTM, "GRU": lg.GRU, "RNN": lg.RNN}[name](D, H, rng=0)
    module = getattr(torch.nn, name)(D, H, batch_first=True)
    xt = torch.from_numpy(x).requires_grad_(True)
    dyt = torch.from_numpy(dy)

    def ours():
        layer.forward(x)
        layer.backward(dy)

    def theirs():
        xt.grad = None
        module.zero_grad(set_to_none=True)
        y, _ = module(xt)
        y.backward(dyt)

    return ours, theirs


def embedding_pair():
    rng = np.random.default_rng(0)
    idx = rng.integers(0, V, (EN, ET))
    dy = rng.standard_normal((EN, ET, ED)).astype(np.float32)
    layer = lg.Embedding(V, ED, rng=0)
    module = torch.nn.Embedding(V, ED)
    idxt, dyt = torch.from_numpy(idx), torch.from_numpy(dy)

    def ours():
        layer.forward(idx)
        t0 = time.perf_counter()
        layer.backward(dy)
        return time.perf_counter() - t0

    def theirs():
        module.zero_grad(set_to_none=True)
        y = module(idxt)
        t0 = time.perf_counter()
        y.backward(dyt)
        return time.perf_counter() - t0

    return ours, theirs


def timed(fn, steps):
    total = 0.0
    for _ in range(steps):
        t0 = time.perf_counter()
        inner = fn()
        total += inner if inner is not None else time.perf_counter() - t0
    return total / steps


def measure(pair, rounds, steps, pause=0.3, warmup=0.1):
    ours, theirs = pair
    ours(), theirs()   # warm up (allocations, first BLAS calls)
    a, b = [], []
    for r in range(rounds):
        order = ((ours, a), (theirs, b)) if r % 2 == 0 else ((theirs, b), (ours, a))
        for fn, out in order:
            time.sleep(pause)
            warm_up(fn, warmup)
            out.append(timed(fn, steps))
    a, b = np.array(a), np.array(b)
    ratios = a / b
    return np.median(a), np.median(b), np.median(a) / np.median(b), np.percentile(ratios, [25, 75])


def main(argv=None):
    args = _parse(argv)
    rows = []
    for threads in args.threads:
        torch.set_num_threads(threads)
        with threadpool_limits(threads):
            for name in ("LSTM", "GRU", "RNN", "Embedding backward"):
                if args.only and not any(name.startswith(o) for o in args.only):
                    continue
                pair = embedding_pair() if name.startswith("Embedding") else recurrent_pair(name)
                ours, theirs, ratio, (lo, hi) = measure(pair, args.rounds, args.steps, args.pause, args.warmup)
                rows.append((name, threads, ours, theirs, ratio, lo, hi))
                print(f"{name:<19} threads {threads}  layergraph {ours * 1e3:8.2f} ms  PyTorch {theirs * 1e3:8.2f} ms"
                      f"  ratio {ratio:5.2f}  (per-round ratios {lo:.2f}-{hi:.2f})", flush=True)
    print(f"\nnumpy {np.__version__}, torch {torch.__version__}; {lg.threads.blas_summary()}")
    print("\n| layer | threads | layergraph (ms) | PyTorch (ms) | ratio | per-round ratio IQR |")
    print("|---|---|---|---|---|---|")
    for name, threads, ours, theirs, ratio, lo, hi in rows:
        print(f"| {name} | {threads} | {ours * 1e3:.2f} | {theirs * 1e3:.2f} | {ratio:.2f} | {lo:.2f}-{hi:.2f} |")
    return rows


if __name__ == "__main__":
    main()
