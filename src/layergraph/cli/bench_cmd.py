"""``layergraph bench``: optimizer benchmarks (test functions, sweeps on real data, reports)."""

import os
import sys
import time
from pathlib import Path

from .options import nonneg_float, positive_int

#: The seven classic optimizers, the default of ``--optimizers``.
CLASSIC = ("SGD", "Momentum", "Nesterov", "AdaGrad", "RMSprop", "Adam", "AdamW")
#: What ``bench run`` runs without options.
DEFAULTS = {"problems": ("digits-mlp",), "optimizers": CLASSIC, "budget": 8, "seeds": 5}
#: What ``bench run --quick`` runs: the shipped / generated data only.
QUICK = {"problems": ("digits-mlp", "logreg", "spiral-mlp"), "optimizers": CLASSIC, "budget": 12, "seeds": 10}
#: The measured duration of ``bench run --quick`` quoted by --help, the README and docs/benchmarking.md.
QUICK_DURATION = "about 65 s on 2 idle cores"


def _plugin_option(p):
    p.add_argument("--plugin", action="append", default=[], metavar="MODULE",
                   help="import MODULE first (a dotted module name or a path to a .py file) so that the optimizers "
                        "and problems it registers can be named; repeatable. Workers import it too. Entry points "
                        "of the group 'layergraph.bench' are loaded automatically")


def _load_plugins(args):
    from ..bench.plugins import load_plugins

    try:
        load_plugins(getattr(args, "plugin", []) or [])
    except ImportError as exc:  # PluginImportError / ModuleNotFoundError: the message names the plugin
        raise ValueError(str(exc)) from exc


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
    f.add_argument("--weight-decay", type=nonneg_float, default=0.0,
                   help="weight decay of the decoupled-decay optimizers (AdamW); default 0, since the decay is "
                        "not tuned here and would pull the point off the minima")
    _plugin_option(f)
    _executor_options(f)
    f.set_defaults(run=run_functions)

    r = bsub.add_parser("run", help="tune, select and repeat over seeds on real-data problems",
                        description="Run the benchmark protocol: for every optimizer the same number of tuning "
                                    "trials (--budget), selection on the problem's validation metric, then --seeds "
                                    "runs at the selected setting on seeds disjoint from the tuning seeds; then "
                                    "write results.csv, report.md and plots. Runs whose JSON record exists in --out "
                                    "are skipped, so an interrupted sweep resumes; an --out holding a different "
                                    "sweep is refused.")
    from ..bench.problems import problem_names

    r.add_argument("--problem", default=None,
                   help=f"comma-separated problems among {', '.join(problem_names())} or registered by a "
                        "plugin (default digits-mlp)")
    r.add_argument("--optimizers", default=None,
                   help="comma-separated optimizers, any case, built in or registered by a plugin (default: the "
                        "seven classic ones)")
    r.add_argument("--budget", type=positive_int, default=None, help="tuning trials per optimizer (default 8)")
    r.add_argument("--seeds", type=positive_int, default=None, help="final runs per optimizer (default 5)")
    r.add_argument("--search", choices=("grid", "random", "sobol", "halton"), default="grid",
                   help="grid: log-spaced learning rates (times every combination of categorical "
                        "hyperparameters); random: seeded random search over the whole search space; sobol, "
                        "halton: scrambled quasi-random points of scipy.stats.qmc (default grid)")
    r.add_argument("--search-seed", type=int, default=0, help="seed of the random search (default 0)")
    r.add_argument("--seed-base", type=int, default=0, help="first seed of the final runs (default 0)")
    r.add_argument("--tune-seed", type=int, default=None,
                   help="first tuning seed (default 10000); tuning and final seeds must not meet")
    r.add_argument("--tune-seeds", type=positive_int, default=1,
                   help="seeds per tuning trial, the validation metric averaged over them (default 1)")
    r.add_argument("--eval-every", type=positive_int, default=None, metavar="STEPS",
                   help="steps between validation evaluations (default: about 20 evaluations per run); time to "
                        "target is the first evaluation meeting the target")
    r.add_argument("--baseline", default=None, metavar="NAME",
                   help="compare every optimizer with NAME in the paired tests (default: the best mean)")
    r.add_argument("--baselines", action="store_true",
                   help="run only --optimizers with the quick protocol and report them against the stored "
                        "records of the built-in optimizers on the quick suite (step figures only)")
    r.add_argument("--epochs", type=positive_int, default=None,
                   help="override every problem's epoch budget (default: the problem's own)")
    r.add_argument("--data-dir", default=None, metavar="DIR",
                   help="directory of the MNIST t10k files for the mnist-* problems "
                        "(default: $LAYERGRAPH_DATA, then ~/.cache/layergraph)")
    r.add_argument("--out", default=None, metavar="DIR",
                   help="results directory (default bench-results, or bench-quick with --quick)")
    r.add_argument("--quick", action="store_true",
                   help=f"{QUICK_DURATION}: problems {', '.join(QUICK['problems'])}, the seven classic "
                        f"optimizers, budget {QUICK['budget']}, {QUICK['seeds']} seeds (explicit options "
                        "override these)")
    r.add_argument("--no-plots", action="store_true", help="do not draw the PNG plots")
    r.add_argument("--quiet", "-q", action="store_true", help="no progress bar and no report on the terminal")
    _plugin_option(r)
    _executor_options(r)
    r.set_defaults(run=run_sweep_cmd)

    rep = bsub.add_parser("report", help="write results.csv, report.md and plots from a results directory",
                          description="Read the run records of RESULTS_DIR (written by `layergraph bench run`) and "
                                      "write results.csv, report.md and PNG plots into it.")
    rep.add_argument("results_dir", metavar="RESULTS_DIR", help="directory written by `layergraph bench run`")
    rep.add_argument("--no-plots", action="store_true", help="do not draw the PNG plots")
    rep.add_argument("--quiet", "-q", action="store_true", help="print only where the files are")
    rep.add_argument("--baseline", default=None, metavar="NAME",
                     help="compare every optimizer with NAME in the paired tests (default: the best mean)")
    _plugin_option(rep)
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
    _load_plugins(args)
    from ..bench.function_sweep import run_function_sweep
    from ..bench.progress import RunProgress

    functions, optimizers = _names(args.functions), _names(args.optimizers)
    from ..bench.function_sweep import DEFAULT_LRS, function_tasks

    n = len(function_tasks(functions, optimizers, DEFAULT_LRS, steps=args.steps))
    bar = RunProgress(n)
    with _executor(args) as ex:
        res = run_function_sweep(functions, optimizers, ex, args.out, steps=args.steps, noise=args.noise,
                                 seed=args.seed, tol=args.tol, condition=args.condition, plots=not args.no_plots,
                                 progress=bar, weight_decay=args.weight_decay, plugins=tuple(args.plugin))
    print(res["table"])
    out = Path(args.out).resolve()
    print(f"\nwrote {out / 'functions.md'}, {n} run records in {out / 'runs'}"
          + (f", {len(res['plots'])} PNG plots" if res["plots"] else ""))
    if res["plot_error"]:
        print(f"no plots: {res['plot_error']}", file=sys.stderr)
    return 0


def run_sweep_cmd(args):
    _load_plugins(args)
    from ..bench.problems import get_problem
    from ..bench.progress import RunProgress
    from ..bench.protocol import TUNE_SEED
    from ..bench.report import write_report
    from ..bench.sweep import SweepConfig, check_same_sweep, run_sweep
    from ..bench.tasks import TaskError

    base = QUICK if (args.quick or args.baselines) else DEFAULTS
    extra = []
    if args.baselines:
        from ..bench.baselines import baseline_protocol, check_baseline_protocol

        proto = baseline_protocol()
        base = {**base, "budget": proto["budget"], "seeds": proto["seeds"], "problems": tuple(proto["problems"])}
        if args.optimizers is None:
            raise ValueError("--baselines needs --optimizers: the optimizers to compare with the stored baselines")
    problems = _names(args.problem) if args.problem is not None else list(base["problems"])
    optimizers = _names(args.optimizers) if args.optimizers is not None else list(base["optimizers"])
    if args.baseline is not None and args.baseline.strip().lower() not in {o.lower() for o in optimizers}:
        raise ValueError(f"--baseline {args.baseline!r} is not one of the optimizers to run: "
                         f"{', '.join(optimizers)} (any case)")
    budget = args.budget if args.budget is not None else base["budget"]
    seeds = args.seeds if args.seeds is not None else base["seeds"]
    out = Path(args.out or ("bench-quick" if args.quick else "bench-results"))
    config = SweepConfig(problems=tuple(problems), optimizers=tuple(optimizers), budget=budget, seeds=seeds,
                         method=args.search, search_seed=args.search_seed, seed_base=args.seed_base,
                         tune_seed=TUNE_SEED if args.tune_seed is None else args.tune_seed,
                         tune_seeds=args.tune_seeds, eval_every=args.eval_every, epochs=args.epochs,
                         data_dir=args.data_dir, plugins=tuple(args.plugin))
    if args.baselines:
        check_baseline_protocol(config)
    for name in config.problems:  # fail fast, with the loader's message, on missing MNIST files
        get_problem(name).load(args.data_dir)
    check_same_sweep(out, config)
    if not args.quiet:
        print(f"{config.n_runs} runs ({len(config.problems)} problem(s) x {len(config.optimizers)} optimizers x "
              f"({config.budget} tuning x {config.tune_seeds} seed(s) + {config.seeds} seeds)) on {_where(args)}; "
              f"results in {out.resolve()}", file=sys.stderr)
    bar = RunProgress(config.n_runs, enabled=not args.quiet)
    t0 = time.perf_counter()
    try:
        with _executor(args) as ex:
            res = run_sweep(config, ex, out, progress=bar)
    except TaskError as err:
        print(f"layergraph bench run: error: {err}; finished runs are saved in {out.resolve()}, and the same "
              "command runs only the failed and missing ones (fix the cause first when it is in your code or data)",
              file=sys.stderr)
        return 1
    wall = time.perf_counter() - t0
    if args.baselines:
        from ..bench.baselines import MARKER
        from ..bench.records import write_json_atomic

        write_json_atomic(out / MARKER, {"compare_with_stored_baselines": True})
    files = write_report(out, plots=not args.no_plots, baseline=args.baseline)
    extra = [r for r in files.get("baseline_records", [])]
    if not args.quiet:
        print(files["report"].read_text(encoding="utf-8"))
    print(f"{len(res['ran'])} runs in {wall:.1f} s ({len(res['skipped'])} already done); wrote "
          f"{files['report'].resolve()}, {files['csv'].name}"
          + (f" and {len(files['plots'])} PNG plots" if files["plots"] else "")
          + (f"; compared with {len(extra)} stored baseline records" if extra else ""))
    if files["plot_error"]:
        print(f"no plots: {files['plot_error']}", file=sys.stderr)
    return 0


def run_report(args):
    _load_plugins(args)
    from ..bench.report import write_report

    files = write_report(args.results_dir, plots=not args.no_plots, baseline=args.baseline)
    if not args.quiet:
        print(files["report"].read_text(encoding="utf-8"))
    print(f"wrote {files['report'].resolve()}, {files['csv'].name}"
          + (f" and {len(files['plots'])} PNG plots" if files["plots"] else ""))
    if files["plot_error"]:
        print(f"no plots: {files['plot_error']}", file=sys.stderr)
    return 0
