"""``layergraph bench``: optimizer benchmarks (test functions, sweeps on real data, reports)."""

import json
import os
import sys
import time
from pathlib import Path

from .options import nonneg_float, positive_int

#: The seven classic optimizers, the default of ``--optimizers``.
CLASSIC = ("SGD", "Momentum", "Nesterov", "AdaGrad", "RMSprop", "Adam", "AdamW")
#: What ``bench run`` runs without options.
DEFAULTS = {"problems": ("digits-mlp",), "optimizers": CLASSIC, "budget": 8, "seeds": 5}
#: What ``bench run --quick`` runs: the shipped / generated data only, about a minute on 2 cores.
QUICK = {"problems": ("digits-mlp", "logreg", "spiral-mlp"), "optimizers": CLASSIC, "budget": 12, "seeds": 10}


def _names(text):
    return [s.strip() for s in str(text).split(",") if s.strip()]


def _executor_options(p):
    g = p.add_mutually_exclusive_group()
    g.add_argument("--jobs", "-j", type=positive_int, default=None,
                   help="worker processes of the local pool (default: one per CPU); 1 runs everything in this "
                        "process, one run after the other")
    g.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="run on the Dask cluster of this scheduler, e.g. tcp://host:8786 (needs layergraph[dask])")
    g.add_argument("--dask-local", type=positive_int, default=None, metavar="N",
                   help="start a local Dask cluster of N single-threaded worker processes on 127.0.0.1")


def register(sub):
    p = sub.add_parser("bench", help="benchmark optimizers (test functions, real data, reports)",
                       description="Benchmark optimizers: trajectories on 2-D test functions, and seeded sweeps on "
                                   "real data with the same tuning budget for every optimizer, selection on "
                                   "validation and several seeds at the selected setting. See docs/benchmarking.md.")
    bsub = p.add_subparsers(dest="bench_command", metavar="SUBCOMMAND", parser_class=type(p))

    f = bsub.add_parser("functions", help="optimizer trajectories on the 2-D test functions",
                        description="Run each optimizer on each test function with every learning rate of one "
                                    "shared log grid, keep the best run per pair, print the table of steps to "
                                    "tolerance and final distance, and draw one contour plot per function.")
    from ..bench.functions import function_names

    f.add_argument("--functions", default=",".join(function_names()),
                   help=f"comma-separated test functions (default: all of {', '.join(function_names())})")
    f.add_argument("--optimizers", default=",".join(CLASSIC), help="comma-separated optimizers (any case)")
    f.add_argument("--steps", type=positive_int, default=300, help="updates per run (default 300)")
    f.add_argument("--tol", type=nonneg_float, default=1e-3, help="distance tolerance (default 1e-3)")
    f.add_argument("--noise", type=nonneg_float, default=0.0, help="gradient noise sigma (default 0: exact)")
    f.add_argument("--condition", type=nonneg_float, default=100.0,
                   help="condition number of the 'quadratic' function (default 100)")
    f.add_argument("--seed", type=int, default=0, help="seed of the gradient noise (default 0)")
    f.add_argument("--out", default="bench-functions", metavar="DIR",
                   help="output directory: runs/*.json, functions.md, <function>.png (default bench-functions)")
    f.add_argument("--no-plots", action="store_true", help="do not draw the PNG plots")
    _executor_options(f)
    f.set_defaults(run=run_functions)

    r = bsub.add_parser("run", help="tune, select and repeat over seeds on real-data problems",
                        description="Run the benchmark protocol: for every optimizer the same number of tuning "
                                    "trials (--budget), selection on validation accuracy, then --seeds runs at the "
                                    "selected setting; then write results.csv, report.md and plots. Runs whose "
                                    "JSON record exists in --out are skipped, so an interrupted sweep resumes.")
    from ..bench.problems import problem_names

    r.add_argument("--problem", default=None,
                   help=f"comma-separated problems among {', '.join(problem_names())} (default digits-mlp)")
    r.add_argument("--optimizers", default=None,
                   help="comma-separated optimizers, any case (default: the seven classic ones)")
    r.add_argument("--budget", type=positive_int, default=None, help="tuning trials per optimizer (default 8)")
    r.add_argument("--seeds", type=positive_int, default=None, help="final runs per optimizer (default 5)")
    r.add_argument("--search", choices=("grid", "random"), default="grid",
                   help="grid: log-spaced learning rates; random: seeded random search over the optimizer's "
                        "learning rate and other hyperparameters (default grid)")
    r.add_argument("--search-seed", type=int, default=0, help="seed of the random search (default 0)")
    r.add_argument("--seed-base", type=int, default=0, help="first seed of the final runs (default 0)")
    r.add_argument("--epochs", type=positive_int, default=None,
                   help="override every problem's epoch budget (default: the problem's own)")
    r.add_argument("--data-dir", default=None, metavar="DIR",
                   help="directory of the MNIST t10k files for the mnist-* problems "
                        "(default: $LAYERGRAPH_DATA, then ~/.cache/layergraph)")
    r.add_argument("--out", default=None, metavar="DIR",
                   help="results directory (default bench-results, or bench-quick with --quick)")
    r.add_argument("--quick", action="store_true",
                   help=f"about one minute on 2 cores: problems {', '.join(QUICK['problems'])}, the seven classic "
                        f"optimizers, budget {QUICK['budget']}, {QUICK['seeds']} seeds (explicit options "
                        "override these)")
    r.add_argument("--no-plots", action="store_true", help="do not draw the PNG plots")
    r.add_argument("--quiet", "-q", action="store_true", help="no progress bar and no report on the terminal")
    _executor_options(r)
    r.set_defaults(run=run_sweep_cmd)

    rep = bsub.add_parser("report", help="write results.csv, report.md and plots from a results directory",
                          description="Read the run records of RESULTS_DIR (written by `layergraph bench run`) and "
                                      "write results.csv, report.md and PNG plots into it.")
    rep.add_argument("results_dir", metavar="RESULTS_DIR", help="directory written by `layergraph bench run`")
    rep.add_argument("--no-plots", action="store_true", help="do not draw the PNG plots")
    rep.add_argument("--quiet", "-q", action="store_true", help="print only where the files are")
    rep.set_defaults(run=run_report)
    p.set_defaults(run=lambda args: (p.print_help(), 2)[1])


def _executor(args):
    from ..bench.executors import make_executor

    return make_executor(jobs=args.jobs, scheduler=args.scheduler, dask_local=args.dask_local)


def _where(args):
    if args.scheduler:
        return f"Dask scheduler {args.scheduler}"
    if args.dask_local:
        return f"local Dask cluster of {args.dask_local} workers"
    if args.jobs == 1:
        return "this process"
    return f"{args.jobs or os.cpu_count()} local worker processes"


def run_functions(args):
    from ..bench.function_sweep import run_function_sweep
    from ..bench.progress import RunProgress

    functions, optimizers = _names(args.functions), _names(args.optimizers)
    from ..bench.function_sweep import DEFAULT_LRS, function_tasks

    n = len(function_tasks(functions, optimizers, DEFAULT_LRS, steps=args.steps))
    bar = RunProgress(n)
    with _executor(args) as ex:
        res = run_function_sweep(functions, optimizers, ex, args.out, steps=args.steps, noise=args.noise,
                                 seed=args.seed, tol=args.tol, condition=args.condition, plots=not args.no_plots,
                                 progress=bar)
    print(res["table"])
    out = Path(args.out).resolve()
    print(f"\nwrote {out / 'functions.md'}, {n} run records in {out / 'runs'}"
          + (f", {len(res['plots'])} PNG plots" if res["plots"] else ""))
    if res["plot_error"]:
        print(f"no plots: {res['plot_error']}", file=sys.stderr)
    return 0


def run_sweep_cmd(args):
    from ..bench.problems import get_problem
    from ..bench.progress import RunProgress
    from ..bench.report import write_report
    from ..bench.sweep import SweepConfig, run_sweep
    from ..bench.tasks import TaskError

    base = QUICK if args.quick else DEFAULTS
    problems = _names(args.problem) if args.problem is not None else list(base["problems"])
    optimizers = _names(args.optimizers) if args.optimizers is not None else list(base["optimizers"])
    budget = args.budget if args.budget is not None else base["budget"]
    seeds = args.seeds if args.seeds is not None else base["seeds"]
    out = Path(args.out or ("bench-quick" if args.quick else "bench-results"))
    config = SweepConfig(problems=tuple(problems), optimizers=tuple(optimizers), budget=budget, seeds=seeds,
                         method=args.search, search_seed=args.search_seed, seed_base=args.seed_base,
                         epochs=args.epochs, data_dir=args.data_dir)
    for name in config.problems:  # fail fast, with the loader's message, on missing MNIST files
        get_problem(name).load(args.data_dir)
    _check_same_sweep(out, config)
    if not args.quiet:
        print(f"{config.n_runs} runs ({len(config.problems)} problem(s) x {len(config.optimizers)} optimizers x "
              f"({config.budget} tuning + {config.seeds} seeds)) on {_where(args)}; results in {out.resolve()}",
              file=sys.stderr)
    bar = RunProgress(config.n_runs, enabled=not args.quiet)
    t0 = time.perf_counter()
    try:
        with _executor(args) as ex:
            res = run_sweep(config, ex, out, progress=bar)
    except TaskError as err:
        print(f"layergraph bench run: error: {err}; finished runs are saved in {out.resolve()}, run the same "
              "command again to retry the others", file=sys.stderr)
        return 1
    wall = time.perf_counter() - t0
    files = write_report(out, plots=not args.no_plots)
    if not args.quiet:
        print(files["report"].read_text(encoding="utf-8"))
    print(f"{len(res['ran'])} runs in {wall:.1f} s ({len(res['skipped'])} already done); wrote "
          f"{files['report'].resolve()}, {files['csv'].name}"
          + (f" and {len(files['plots'])} PNG plots" if files["plots"] else ""))
    if files["plot_error"]:
        print(f"no plots: {files['plot_error']}", file=sys.stderr)
    return 0


def _check_same_sweep(out, config):
    path = out / "protocol.json"
    if not path.is_file():
        return
    try:
        old = json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        return
    new = config.describe()
    if old != new:
        diff = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
        raise ValueError(f"--out {str(out)!r} holds the results of a different sweep (differs in: "
                         f"{', '.join(diff)}); choose another --out or delete that directory")


def run_report(args):
    from ..bench.report import write_report

    files = write_report(args.results_dir, plots=not args.no_plots)
    if not args.quiet:
        print(files["report"].read_text(encoding="utf-8"))
    print(f"wrote {files['report'].resolve()}, {files['csv'].name}"
          + (f" and {len(files['plots'])} PNG plots" if files["plots"] else ""))
    if files["plot_error"]:
        print(f"no plots: {files['plot_error']}", file=sys.stderr)
    return 0
