"""Timing of ``gradcheck`` on a float64 784-100-100-10 network (ReLU, SoftmaxWithLoss), batch 16.

Usage: ``python benchmarks/gradcheck.py [--repeat 5] [--batch 16] [--no-full]``. Prints one row per mode with the
median and best wall time, the forward evaluations used, the elements compared and the kinks skipped.
"""

import argparse
import statistics
import time

import numpy as np

import layergraph as lg


def build(batch, seed=0):
    net = lg.Sequential(lg.Affine(784, 100, dtype=np.float64, rng=seed), lg.ReLU(),
                        lg.Affine(100, 100, dtype=np.float64, rng=seed + 1), lg.ReLU(),
                        lg.Affine(100, 10, dtype=np.float64, rng=seed + 2), loss=lg.SoftmaxWithLoss())
    rng = np.random.default_rng(seed)
    return net, rng.standard_normal((batch, 784)), rng.integers(0, 10, batch)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--no-full", action="store_true", help="skip the (slow) full mode")
    args = parser.parse_args(argv)
    net, x, t = build(args.batch)
    rows = []
    modes = ["directional", "auto", "sampled"] + ([] if args.no_full else ["full"])
    for mode in modes:
        times, report = [], None
        for _ in range(1 if mode == "full" else args.repeat):
            start = time.perf_counter()
            report = lg.gradcheck(net, x, t, mode=mode)
            times.append(time.perf_counter() - start)
        checked = sum(r.checked for r in report.tensors.values())
        rows.append((mode, f"{statistics.median(times):.3f}", f"{min(times):.3f}", str(report.evaluations),
                     str(checked), str(report.kinks), "PASS" if report.ok else "FAIL"))
        if mode == "full":
            per = {name: r.evaluations for name, r in report.tensors.items()}
            rows_detail = ", ".join(f"{k}: {v}" for k, v in per.items())
    header = ("mode", "median s", "best s", "evaluations", "elements", "kinks", "result")
    widths = [max(len(r[i]) for r in [header] + rows) for i in range(len(header))]
    print(f"gradcheck, float64 784-100-100-10 ReLU net + SoftmaxWithLoss, batch {args.batch}")
    for r in [header] + rows:
        print("  ".join(c.rjust(w) for c, w in zip(r, widths)))
    if not args.no_full:
        print(f"full-mode evaluations per tensor: {rows_detail}")


if __name__ == "__main__":
    main()
