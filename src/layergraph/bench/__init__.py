"""Optimizer benchmarks: test functions and trajectories, problems on real data, a seeded tuning protocol,
executors (sequential, process pool, Dask), resumable sweeps and reports.

The plotting modules (``layergraph.bench.plot``, ``layergraph.bench.curves``) need
matplotlib and are not imported here, so ``import layergraph.bench`` works with
the core dependencies only.  See ``docs/benchmarking.md``.
"""

from .executors import (BLAS_THREAD_VARS, DaskExecutor, LocalProcessPool, SequentialExecutor, dask_executor,
                        make_executor, process_executor)
from .functions import (FUNCTIONS, Beale, Bowl, Himmelblau, IllConditionedQuadratic, Noisy, Objective, Rastrigin,
                        Rosenbrock, function_names, get_function)
from .metrics import Metric
from .plugins import ENTRY_POINT_GROUP, load_plugins
from .problems import PROBLEMS, Problem, ProblemData, get_problem, problem_names
from .protocol import SEARCH_SPACES, select_best, selection_key, tuning_trials
from .registry import get_optimizer, optimizer_names, register_optimizer, register_problem, unregister
from .space import Choice, IntUniform, LogUniform, OneMinusLogUniform, Uniform, sample_space
from .records import environment, jsonable, read_records, strip_timings, write_json_atomic
from .report import load_runs, markdown_report, summarize, write_csv, write_report
from .runs import train_run
from .stats import mean_ci, mean_ci_curves, performance_profile, performance_ratios
from .sweep import SweepConfig, run_sweep
from .table import format_table
from .tasks import RunSummary, Task, TaskError, execute_task, record_path, run_all, stable_id
from .trajectory import Trajectory, optimizer_label, run_trajectory, trajectory_table, trajectory_task

__all__ = [
    "register_optimizer", "register_problem", "unregister", "optimizer_names", "get_optimizer", "Metric",
    "load_plugins", "ENTRY_POINT_GROUP", "Uniform", "IntUniform", "Choice", "sample_space",
    "Objective", "Bowl", "Rosenbrock", "Beale", "Rastrigin", "Himmelblau", "IllConditionedQuadratic", "Noisy",
    "FUNCTIONS", "function_names", "get_function",
    "Trajectory", "run_trajectory", "trajectory_table", "trajectory_task", "optimizer_label", "format_table",
    "Problem", "ProblemData", "PROBLEMS", "get_problem", "problem_names", "train_run",
    "SEARCH_SPACES", "LogUniform", "OneMinusLogUniform", "tuning_trials", "select_best", "selection_key",
    "SweepConfig", "run_sweep",
    "mean_ci", "mean_ci_curves", "performance_ratios", "performance_profile",
    "load_runs", "summarize", "markdown_report", "write_csv", "write_report",
    "Task", "TaskError", "RunSummary", "execute_task", "run_all", "record_path", "stable_id",
    "SequentialExecutor", "LocalProcessPool", "DaskExecutor", "BLAS_THREAD_VARS", "process_executor",
    "dask_executor", "make_executor",
    "environment", "jsonable", "read_records", "strip_timings", "write_json_atomic",
]
