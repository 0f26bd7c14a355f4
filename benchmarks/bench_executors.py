"""Wall time of one 12-run sweep on the sequential executor, the local process pool and a local Dask cluster.

Every executor runs the same tasks (the same problem and optimizer setting, seeds
0..11) into its own results directory; the script checks that the records agree
apart from timings and prints a table of wall times: "start" is creating the
executor (worker processes, Dask scheduler), "sweep" is submitting the runs and
writing their records.

    python benchmarks/bench_executors.py                         # digits-mlp, 60 epochs per run
    python benchmarks/bench_executors.py --problem mnist-mlp --epochs 10 --data-dir ../shared/data/mnist
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

from layergraph.bench import read_records, run_all, strip_timings
from layergraph.bench.executors import make_executor
from layergraph.bench.protocol import final_tasks
from layergraph.bench.table import format_table


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--problem", default="digits-mlp")
    ap.add_argument("--epochs", type=int, default=60)
    ap.add_argument("--runs", type=int, default=12)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--no-dask", action="store_true")
    args = ap.parse_args(argv)

    tasks = final_tasks(args.problem, "Adam", {"lr": 1e-3}, range(args.runs), epochs=args.epochs,
                        data_dir=args.data_dir)
    setups = [("sequential", dict(jobs=1)), (f"process pool ({args.workers})", dict(jobs=args.workers))]
    if not args.no_dask:
        setups.append((f"Dask LocalCluster ({args.workers} workers)", dict(dask_local=args.workers)))
    rows, reference = [], None
    root = tempfile.mkdtemp(prefix="layergraph-executors-")
    for i, (name, opts) in enumerate(setups):
        out = os.path.join(root, str(i))
        t0 = time.perf_counter()
        try:
            ex = make_executor(**opts)
        except ImportError as exc:
            print(f"skipping {name}: {exc}", file=sys.stderr)
            continue
        t1 = time.perf_counter()
        with ex:
            run_all(tasks, ex, out)
            t2 = time.perf_counter()
        recs = {k: strip_timings(v) for k, v in read_records(out).items()}
        if reference is None:
            reference = recs
        same = recs == reference
        rows.append([name, round(t1 - t0, 2), round(t2 - t1, 2), round(t2 - t0, 2), "yes" if same else "NO"])
    print(f"# {args.runs} runs of {args.problem} ({args.epochs} epochs each), {os.cpu_count()} CPUs\n")
    print(format_table(["executor", "start s", "sweep s", "total s", "same records"], rows, fmt="markdown"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
