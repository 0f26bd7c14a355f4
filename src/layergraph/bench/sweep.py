"""A whole benchmark: tuning runs, selection, seeded final runs, on any executor, resumable.

Layout of the results directory::

    RESULTS/protocol.json      the settings of the sweep (budget, method, seeds, search spaces)
    RESULTS/selection.json     the setting selected for each (problem, optimizer)
    RESULTS/runs/<id>.json     one record per run (written as each run finishes)

A second call with the same settings and directory skips every run whose record
exists, so an interrupted sweep resumes; :mod:`layergraph.bench.report` then
turns the directory into a CSV file, a Markdown report and plots.
"""

from __future__ import annotations

import concurrent.futures as cf
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import json

from .plugins import load_plugins, normalize_plugin
from .problems import get_problem
from .protocol import (METHODS, TUNE_SEED, check_seed_ranges, final_tasks, search_space, select_best,
                       tuning_tasks)
from .records import jsonable, write_json_atomic
from .registry import resolve_optimizer
from .tasks import run_all

__all__ = ["SweepConfig", "run_sweep", "RUNS_DIR", "SweepMismatchError", "check_same_sweep"]

RUNS_DIR = "runs"


@dataclass(frozen=True)
class SweepConfig:
    """What a benchmark sweep runs.

    Attributes
    ----------
    problems : tuple of str
        Registered problem names; a comma-separated str (``"logreg,digits-mlp"``) is split.
    optimizers : tuple of str
        Registered optimizer names (any case; stored canonical); a comma-separated str (``"SGD,Adam"``) is
        split.
    budget : int
        Tuning trials per optimizer (the same for all).
    seeds : int
        Final runs per optimizer, seeds ``seed_base .. seed_base + seeds - 1``.
    method : {"grid", "random", "sobol", "halton"}
    search_seed : int
    seed_base : int
    tune_seed : int
        First tuning seed; the tuning seeds are ``tune_seed .. tune_seed + tune_seeds - 1`` and must not
        meet the final seeds (a ValueError says how to move them).
    epochs : int or None
        Overrides every problem's epoch budget.
    data_dir : str or None
    tune_seeds : int, default 1
        Seeds per tuning trial; the trial's score is the mean validation metric over them.
    eval_every : int or None
        Steps between validation evaluations (default: about 20 per run).
    plugins : tuple of str
        Plugin modules (dotted names or ``.py`` paths), imported here and by every worker before a run; a
        comma-separated str is split.
    """

    problems: tuple
    optimizers: tuple
    budget: int
    seeds: int = 5
    method: str = "grid"
    search_seed: int = 0
    seed_base: int = 0
    tune_seed: int = TUNE_SEED
    epochs: int | None = None
    data_dir: str | None = None
    tune_seeds: int = 1
    eval_every: int | None = None
    plugins: tuple = ()

    def __post_init__(self):
        for name in ("problems", "optimizers", "plugins"):
            object.__setattr__(self, name, _name_list(getattr(self, name), name))
        object.__setattr__(self, "plugins", tuple(normalize_plugin(p) for p in self.plugins))
        load_plugins(self.plugins)
        if not self.problems:
            raise ValueError("SweepConfig: problems is empty; expected at least one problem name")
        if not self.optimizers:
            raise ValueError("SweepConfig: optimizers is empty; expected at least one optimizer name")
        object.__setattr__(self, "problems", tuple(get_problem(p).name for p in self.problems))
        object.__setattr__(self, "optimizers", tuple(resolve_optimizer(o)[0] for o in self.optimizers))
        for name in ("budget", "seeds", "tune_seeds"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"SweepConfig: {name} must be an int >= 1, got {v!r}")
        if self.epochs is not None and (isinstance(self.epochs, bool) or not isinstance(self.epochs, int)
                                        or self.epochs < 1):
            raise ValueError(f"SweepConfig: epochs must be None or an int >= 1, got {self.epochs!r}")
        if self.eval_every is not None and (isinstance(self.eval_every, bool) or not isinstance(self.eval_every, int)
                                            or self.eval_every < 1):
            raise ValueError(f"SweepConfig: eval_every must be None or an int >= 1, got {self.eval_every!r}")
        if self.method not in METHODS:
            raise ValueError(f"SweepConfig: method must be one of {METHODS}, got {self.method!r}")
        for name in ("search_seed", "seed_base", "tune_seed"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise ValueError(f"SweepConfig: {name} must be an int >= 0, got {v!r}")
        for o in self.optimizers:
            search_space(o)
        check_seed_ranges(self.tune_seed_list, self.seed_list)

    @property
    def seed_list(self) -> list[int]:
        """The final seeds."""
        return list(range(self.seed_base, self.seed_base + self.seeds))

    @property
    def tune_seed_list(self) -> list[int]:
        """The tuning seeds (every trial runs with each of them)."""
        return list(range(self.tune_seed, self.tune_seed + self.tune_seeds))

    @property
    def n_runs(self) -> int:
        return len(self.problems) * len(self.optimizers) * (self.budget * self.tune_seeds + self.seeds)

    def describe(self) -> dict:
        """JSON-friendly settings, with each optimizer's search space (what ``protocol.json`` holds)."""
        d = {k: getattr(self, k) for k in ("problems", "optimizers", "budget", "seeds", "method", "search_seed",
                                           "seed_base", "tune_seed", "tune_seeds", "epochs", "eval_every")}
        d["seed_list"] = self.seed_list
        d["tune_seed_list"] = self.tune_seed_list
        d["problem_specs"] = {p: get_problem(p).describe() for p in self.problems}
        d["search_spaces"] = {o: {k: v.describe() for k, v in search_space(o).items()} for o in self.optimizers}
        d["selection"] = ("best mean final validation headline metric over the tuning seeds, in its direction; "
                          "ties: lower final val_loss, then earlier trial; diverged last")
        return jsonable(d)


def _name_list(value, field: str) -> tuple:
    """A name-list field as a tuple: a str is a comma-separated list (a plugin path holding a comma stays whole)."""
    if isinstance(value, str):
        if field == "plugins" and "," in value and Path(value.strip()).expanduser().is_file():
            return (value,)
        return tuple(s.strip() for s in value.split(",") if s.strip())
    try:
        return tuple(value)
    except TypeError:
        raise TypeError(f"SweepConfig: {field} must be a comma-separated str or a sequence of str, got "
                        f"{type(value).__name__}") from None


class SweepMismatchError(ValueError):
    """An existing results directory holds a different sweep."""


def check_same_sweep(out_dir, config: SweepConfig) -> None:
    """Raise :class:`SweepMismatchError` when ``out_dir/protocol.json`` describes another sweep.

    The comparison covers everything in :meth:`SweepConfig.describe` (problems, optimizers, budget, seeds,
    search method and spaces, tuning seeds, epochs, evaluation interval); where the data and plugins are
    does not count.
    """
    path = Path(out_dir) / "protocol.json"
    if not path.is_file():
        return
    try:
        old = json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        raise SweepMismatchError(f"{str(path)!r} is not valid JSON; choose another directory or delete it")
    new = config.describe()
    diff = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
    if diff:
        raise SweepMismatchError(f"{str(out_dir)!r} holds the results of a different sweep (differs in: "
                                 f"{', '.join(diff)}); choose another directory or delete that one")


def run_sweep(config: SweepConfig, executor: cf.Executor, out_dir,
              progress: Callable[[str], None] | None = None) -> dict:
    """Run the protocol of ``config`` on ``executor`` and write the records into ``out_dir``.

    Parameters
    ----------
    config : SweepConfig
    executor : concurrent.futures.Executor
        Not shut down here.
    out_dir : str or Path
    progress : callable, optional
        Called with the run id each time a run finishes or is found already done.

    Returns
    -------
    dict
        ``{"selection": {problem: {optimizer: tuning record}}, "records": {id: record}, "ran": [...],
        "skipped": [...]}``.
    """
    if not isinstance(config, SweepConfig):
        raise TypeError(f"run_sweep: config must be a SweepConfig, got {type(config).__name__}")
    out = Path(out_dir)
    check_same_sweep(out, config)
    runs = out / RUNS_DIR
    runs.mkdir(parents=True, exist_ok=True)
    write_json_atomic(out / "protocol.json", config.describe())

    common = dict(epochs=config.epochs, eval_every=config.eval_every, data_dir=config.data_dir,
                  plugins=config.plugins)
    tune = {(p, o): tuning_tasks(p, o, config.budget, method=config.method, search_seed=config.search_seed,
                                 tune_seed=config.tune_seed, tune_seeds=config.tune_seeds, **common)
            for p in config.problems for o in config.optimizers}
    first = _run_phase([t for ts in tune.values() for t in ts], executor, runs, progress)

    selection: dict = {p: {} for p in config.problems}
    finals = []
    for (p, o), ts in tune.items():
        best = select_best([first.records[t.id] for t in ts], get_problem(p).metric)
        selection[p][o] = best
        finals += final_tasks(p, o, best["hyperparameters"], config.seed_list, **common)
    write_json_atomic(out / "selection.json", {
        p: {o: {"id": r["id"], "trial": r["trial"], "hyperparameters": r["hyperparameters"],
                "metric": get_problem(p).metric.name, "tune_score": r["tune_score"],
                "val_loss": r["final"]["val_loss"]}
            for o, r in sel.items()}
        for p, sel in selection.items()})
    second = _run_phase(finals, executor, runs, progress)
    return {"selection": selection, "records": {**first.records, **second.records},
            "ran": first.ran + second.ran, "skipped": first.skipped + second.skipped}


def _run_phase(tasks: Sequence, executor, runs: Path, progress):
    if progress is None:
        return run_all(tasks, executor, runs)
    summary = None

    def hook(done, total, tid):
        progress(tid)

    summary = run_all(tasks, executor, runs, progress=hook)
    for tid in summary.skipped:
        progress(tid)
    return summary
