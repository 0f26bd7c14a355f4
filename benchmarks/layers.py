"""Per-step time (forward + backward) of convolution networks, pooling layers and MLPs, against PyTorch.

Rows (float32 unless said otherwise; batch 100 unless said otherwise):

* SimpleConvNet (float32 and float64): Conv2D(1->30, 5x5) -> ReLU -> MaxPool2D(2) -> Affine(4320->100) -> ReLU ->
  Affine(100->10) -> SoftmaxWithLoss on 1x28x28 inputs;
* ResNet (example): the network of examples/resnet_mnist.py, batch 64;
* MaxPool / AvgPool 2x2 stride 2 and 3x3 stride 2 pad 1: one layer on (100, 30, 24, 24) ReLU-like input;
* MLP and BN-MLP (float32 and float64): 784-100-100-100-100-10 with ReLU (BN-MLP: BatchNorm before and Dropout(0.2)
  after each ReLU).

A network step is ``net.loss_and_gradient(x, t)`` in layergraph and ``loss = f(model(x), t); loss.backward()`` in
PyTorch (gradients reset to None first); a pooling step is ``forward`` then ``backward`` with a fixed ``dout``.

How it is timed: for each thread count (``--threads``, default 1 and 2; ``lg.set_num_threads`` for layergraph's
own threads and NumPy's BLAS, ``torch.set_num_threads`` for PyTorch), each row runs ``--rounds`` interleaved
rounds; in every round each library (in alternating order) gets a short idle pause (so that the other library's
spinning worker threads are idle), then ``--warmup`` seconds of untimed steps (10 at least), then ``--steps``
timed steps (by default about 0.15 s of layergraph steps); see ``_timing.warm_up`` for why the warm-up. The
table gives the median per-step time over the rounds, the ratio layergraph / PyTorch (the median of the per-round
ratios; below 1 means layergraph is faster) and the spread (interquartile range over the median) of each library's
times and of the ratio.

Memory (``--memory``, on by default): the peak memory of one SimpleConvNet float32 step, each library in a fresh
process (see ``_layer_cases.memory_probe``).

Usage::

    python benchmarks/layers.py                       # both thread counts, all rows: about 3-5 minutes
    python benchmarks/layers.py --threads 1 --rounds 11 --only SimpleConvNet ResNet
    python benchmarks/layers.py --threads 1 --clock cpu  # CPU time: steadier when other jobs share the machine
"""

import argparse
import os
import statistics
import subprocess
import sys
import time

import numpy as np
from _timing import warm_up


def _parse(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="Run on a quiet machine; interleaving keeps ratios fair on a loaded one.")
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2], help="thread counts to run (default: 1 2)")
    p.add_argument("--rounds", type=int, default=7, help="interleaved rounds per row; medians are reported")
    p.add_argument("--steps", type=int, default=0,
                   help="timed steps per round (default: about 0.15 s of layergraph steps, at least 3)")
    p.add_argument("--clock", choices=["wall", "cpu"], default="wall",
                   help="wall: elapsed time (default); cpu: process CPU time, steadier on a loaded machine but only "
                        "meaningful with --threads 1 (with more threads it adds up the threads' busy-waiting)")
    p.add_argument("--pause", type=float, default=0.3, help="idle seconds before each timed block")
    p.add_argument("--warmup", type=float, default=0.1,
                   help="seconds of untimed steps after each pause, 10 steps at least (default 0.1)")
    p.add_argument("--only", nargs="+", default=None, metavar="NAME",
                   help="run only rows whose name starts with one of these (e.g. SimpleConvNet ResNet MaxPool)")
    p.add_argument("--no-torch", action="store_true", help="skip PyTorch even if installed")
    p.add_argument("--no-memory", action="store_true", help="skip the peak-memory measurement")
    p.add_argument("--memory-probe", choices=["layergraph", "torch"], help=argparse.SUPPRESS)
    return p.parse_args(argv)


CLOCK = time.perf_counter


def per_step(step, steps):
    start = CLOCK()
    for _ in range(steps):
        step()
    return (CLOCK() - start) / steps


def spread(values):
    """Interquartile range over the median."""
    q1, med, q3 = np.percentile(values, [25, 50, 75])
    return (q3 - q1) / med


def run_row(ours, theirs, args, set_threads, threads):
    steps = {"layergraph": ours} if theirs is None else {"layergraph": ours, "torch": theirs}
    set_threads(threads)
    for step in steps.values():
        per_step(step, 2)                       # warm-up: buffers, caches, lazy initialisation
    n = args.steps or max(3, round(0.15 / max(per_step(ours, 1), 1e-6)))
    times = {name: [] for name in steps}
    for r in range(args.rounds):
        order = list(steps.items()) if r % 2 == 0 else list(steps.items())[::-1]
        for name, step in order:
            time.sleep(args.pause)
            warm_up(step, args.warmup)
            times[name].append(per_step(step, n))
    return times


def main(argv=None):
    global CLOCK
    args = _parse(argv)
    CLOCK = time.process_time if args.clock == "cpu" else time.perf_counter
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, here)
    import _layer_cases as cases

    if args.memory_probe:
        rss, traced = cases.memory_probe(args.memory_probe, 100)
        print(rss, traced if traced is not None else -1)
        return 0
    from threadpoolctl import threadpool_limits

    torch = None
    if not args.no_torch:
        try:
            import torch
        except ImportError:
            print("PyTorch is not installed: timing layergraph only (pip install torch to compare).")

    import layergraph as lg

    def set_threads(n):
        threadpool_limits(n)
        lg.set_num_threads(n)
        if torch is not None:
            torch.set_num_threads(n)

    rows = [c for c in cases.CASES if args.only is None or any(c[0].startswith(o) for o in args.only)]
    results = {}
    for threads in args.threads:
        for name, dtype, batch, build in rows:
            ours, theirs = build(dtype, batch, np.random.default_rng(0), torch)
            results[threads, name, np.dtype(dtype).name] = (batch, run_row(ours, theirs, args, set_threads, threads))
            print(f"  done: {threads} thread(s), {name} {np.dtype(dtype).name}", file=sys.stderr, flush=True)
    lines = [f"forward + backward per step ({args.clock} clock), median of {args.rounds} interleaved rounds; "
             f"numpy {np.__version__}"
             + (f", torch {torch.__version__}" if torch is not None else "") + f"; {lg.threads.blas_summary()}"]
    lines += table(results)
    if not args.no_memory:
        lines += memory(here, torch is not None)
    print("\n".join(lines))
    return 0


def table(results):
    head = (f"| threads | row | dtype | batch | layergraph ms | torch ms | ratio | spread lg / torch / ratio |")
    out = ["", head, "|---|---|---|---|---|---|---|---|"]
    for (threads, name, dt), (batch, times) in results.items():
        ours = times["layergraph"]
        theirs = times.get("torch")
        if theirs:
            ratios = [a / b for a, b in zip(ours, theirs)]
            out.append(f"| {threads} | {name} | {dt} | {batch} | {statistics.median(ours) * 1e3:.2f} | "
                       f"{statistics.median(theirs) * 1e3:.2f} | {statistics.median(ratios):.2f} | "
                       f"{spread(ours):.0%} / {spread(theirs):.0%} / {spread(ratios):.0%} |")
        else:
            out.append(f"| {threads} | {name} | {dt} | {batch} | {statistics.median(ours) * 1e3:.2f} | - | - | "
                       f"{spread(ours):.0%} |")
    return out


def memory(here, with_torch):
    env = dict(os.environ, MALLOC_MMAP_THRESHOLD_="65536", OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    out = ["", "peak memory of one SimpleConvNet float32 step (batch 100), fresh process each:"]
    for library in ["layergraph"] + (["torch"] if with_torch else []):
        res = subprocess.run([sys.executable, os.path.join(here, "layers.py"), "--memory-probe", library],
                             env=env, capture_output=True, text=True, check=True)
        rss, traced = (int(v) for v in res.stdout.split()[-2:])
        extra = f", tracemalloc {traced / 2**20:.1f} MiB (incl. gradient arrays)" if traced >= 0 else ""
        out.append(f"  {library}: peak RSS above the resident set {rss / 2**20:.1f} MiB{extra}")
    return out


if __name__ == "__main__":
    sys.exit(main())
