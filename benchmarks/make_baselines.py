"""Regenerate the stored baselines: the quick suite's records of the built-in optimizers (package data).

    python benchmarks/make_baselines.py                 # run the quick suite on 2 workers, then pack it
    python benchmarks/make_baselines.py --from DIR      # pack the records of an existing `bench run --quick`

The file is ``src/layergraph/bench/baselines/quick.json.gz``; ``layergraph bench run --baselines`` reads it.
"""

import argparse
import time

from layergraph.bench import SweepConfig, make_executor, run_sweep
from layergraph.bench.baselines import BASELINE_FILE, pack_baselines
from layergraph.cli.bench_cmd import QUICK


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--from", dest="source", default=None, metavar="DIR", help="pack this results directory")
    ap.add_argument("--jobs", "-j", type=int, default=2)
    ap.add_argument("--out", default="bench-baselines", help="results directory when running (default %(default)s)")
    args = ap.parse_args()
    source = args.source
    if source is None:
        config = SweepConfig(problems=QUICK["problems"], optimizers=QUICK["optimizers"], budget=QUICK["budget"],
                             seeds=QUICK["seeds"])
        t0 = time.perf_counter()
        with make_executor(jobs=args.jobs) as ex:
            res = run_sweep(config, ex, args.out)
        print(f"{len(res['ran'])} runs in {time.perf_counter() - t0:.1f} s ({len(res['skipped'])} already done)")
        source = args.out
    path = pack_baselines(source, BASELINE_FILE)
    print(f"wrote {path} ({path.stat().st_size / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()
