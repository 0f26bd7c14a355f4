"""The tuning protocol: the same budget of trials for every optimizer, selection on validation, then seeds.

1. **Tune.**  Each optimizer gets ``budget`` trials.  ``method="grid"`` spaces the
   learning rate log-uniformly over the optimizer's range (the other
   hyperparameters keep their defaults); ``method="random"`` draws every
   hyperparameter of the optimizer's search space from a generator seeded by
   ``search_seed`` and the optimizer's name.  All trials of all optimizers use
   the same run seed (``tune_seed``), so they start from the same weights and
   see the same batches.
2. **Select** the trial with the highest final validation accuracy (ties: the
   lower final validation loss, then the earlier trial); diverged trials rank last.
3. **Repeat** the selected setting with ``seeds`` run seeds
   ``seed_base, seed_base + 1, ...``; the same seeds for every optimizer, so
   seed ``s`` means the same initial weights and batch order everywhere.

Every run is a :class:`~layergraph.bench.tasks.Task` with an explicit seed, so
the results do not depend on the executor or the order in which runs finish.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass

import numpy as np

from .problems import get_problem
from .runs import resolve_optimizer, train_run
from .tasks import Task, stable_id

__all__ = ["LogUniform", "OneMinusLogUniform", "SEARCH_SPACES", "search_space", "tuning_trials", "selection_key",
           "select_best", "tuning_tasks", "final_tasks", "METHODS", "TUNE_SEED"]

METHODS = ("grid", "random")
#: Run seed of every tuning trial (the final runs use ``seed_base + i``).
TUNE_SEED = 10_000


def _round(x: float) -> float:
    """4 significant digits, so hyperparameters read well in records and reports."""
    return float(f"{x:.4g}")


@dataclass(frozen=True)
class LogUniform:
    """A positive hyperparameter searched on a log scale between ``low`` and ``high``."""

    low: float
    high: float

    def grid(self, n: int) -> list[float]:
        """``n`` log-spaced values from ``low`` to ``high`` (the geometric middle when ``n == 1``)."""
        if n == 1:
            return [_round(math.sqrt(self.low * self.high))]
        return [_round(v) for v in np.geomspace(self.low, self.high, n)]

    def sample(self, rng: np.random.Generator) -> float:
        return _round(math.exp(rng.uniform(math.log(self.low), math.log(self.high))))

    def describe(self) -> str:
        return f"log-uniform [{self.low:g}, {self.high:g}]"


@dataclass(frozen=True)
class OneMinusLogUniform:
    """A decay rate ``1 - d`` with ``d`` log-uniform in ``[low, high]`` (e.g. momentum 0.8 .. 0.99)."""

    low: float
    high: float

    def sample(self, rng: np.random.Generator) -> float:
        return _round(1.0 - math.exp(rng.uniform(math.log(self.low), math.log(self.high))))

    def describe(self) -> str:
        return f"1 - log-uniform [{self.low:g}, {self.high:g}]"


_ADAM = {"lr": LogUniform(3e-5, 3e-2), "beta1": OneMinusLogUniform(0.02, 0.3)}
#: Search space of each optimizer: ``lr`` (3 decades around where the method usually works) and, for
#: ``method="random"``, its other main hyperparameters.
SEARCH_SPACES: dict[str, dict] = {
    "SGD": {"lr": LogUniform(3e-3, 3.0)},
    "Momentum": {"lr": LogUniform(3e-4, 0.3), "momentum": OneMinusLogUniform(0.01, 0.2)},
    "Nesterov": {"lr": LogUniform(3e-4, 0.3), "momentum": OneMinusLogUniform(0.01, 0.2)},
    "AdaGrad": {"lr": LogUniform(1e-3, 1.0)},
    "AdaDelta": {"lr": LogUniform(0.03, 30.0), "decay_rate": OneMinusLogUniform(0.001, 0.1)},
    "RMSprop": {"lr": LogUniform(3e-5, 3e-2), "decay_rate": OneMinusLogUniform(0.001, 0.1)},
    "Adam": dict(_ADAM),
    "AdamW": {**_ADAM, "weight_decay": LogUniform(1e-4, 1e-1)},
    "Adamax": {"lr": LogUniform(1e-4, 0.1), "beta1": OneMinusLogUniform(0.02, 0.3)},
    "NAdam": dict(_ADAM),
    "RAdam": dict(_ADAM),
    "Lion": {"lr": LogUniform(3e-6, 3e-3), "beta1": OneMinusLogUniform(0.02, 0.3)},
}


def search_space(optimizer: str) -> dict:
    """The search space of ``optimizer`` (any case): hyperparameter name -> range object."""
    name, _ = resolve_optimizer(optimizer)
    if name not in SEARCH_SPACES:
        raise ValueError(f"search_space: no search space for optimizer {name!r}; add one to SEARCH_SPACES")
    return SEARCH_SPACES[name]


def _check_count(value, what: str, who: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{who}: {what} must be an int, got {type(value).__name__}")
    if value < 1:
        raise ValueError(f"{who}: {what} must be >= 1, got {value}")
    return int(value)


def tuning_trials(optimizer: str, budget: int, method: str = "grid", search_seed: int = 0) -> list[dict]:
    """The ``budget`` hyperparameter settings tried for ``optimizer``.

    Parameters
    ----------
    optimizer : str
    budget : int, >= 1
        Number of trials (the same for every optimizer).
    method : {"grid", "random"}
        ``"grid"``: ``lr`` log-spaced over its range, other hyperparameters at their defaults.
        ``"random"``: every hyperparameter of the search space drawn independently.
    search_seed : int
        With the optimizer's name, seeds the random search (unused by the grid).

    Returns
    -------
    list of dict
        Constructor keyword arguments, one dict per trial.
    """
    budget = _check_count(budget, "budget", "tuning_trials")
    if method not in METHODS:
        raise ValueError(f"tuning_trials: method must be one of {METHODS}, got {method!r}")
    name, _ = resolve_optimizer(optimizer)
    space = search_space(name)
    if method == "grid":
        return [{"lr": lr} for lr in space["lr"].grid(budget)]
    rng = np.random.default_rng([int(search_seed), zlib.crc32(name.encode())])
    return [{k: dist.sample(rng) for k, dist in space.items()} for _ in range(budget)]


def selection_key(record: dict) -> tuple:
    """Sort key of a tuning record: smaller is better (see the module docstring)."""
    final = record.get("final") or {}
    acc, loss = final.get("val_accuracy"), final.get("val_loss")
    bad = bool(record.get("diverged")) or acc is None
    return (bad, -(acc if acc is not None else -math.inf), loss if loss is not None else math.inf,
            record.get("trial") if record.get("trial") is not None else math.inf)


def select_best(records) -> dict:
    """The best of the tuning records of one (problem, optimizer) pair, by :func:`selection_key`."""
    records = list(records)
    if not records:
        raise ValueError("select_best: no tuning records to select from")
    return min(records, key=selection_key)


def tuning_tasks(problem: str, optimizer: str, budget: int, *, method: str = "grid", search_seed: int = 0,
                 tune_seed: int = TUNE_SEED, epochs: int | None = None, data_dir=None) -> list[Task]:
    """The tuning runs of one optimizer on one problem, as tasks (ids are stable across invocations)."""
    name, _ = resolve_optimizer(optimizer)
    tasks = []
    for i, hp in enumerate(tuning_trials(name, budget, method, search_seed)):
        kwargs = dict(problem=problem, optimizer=name, hyperparameters=hp, phase="tune", trial=i, epochs=epochs,
                      data_dir=data_dir)
        tid = stable_id(f"{problem}-{name.lower()}-tune{i:03d}", seed=tune_seed, **_id_fields(kwargs))
        tasks.append(Task(tid, train_run, seed=tune_seed, kwargs=kwargs))
    return tasks


def final_tasks(problem: str, optimizer: str, hyperparameters: dict, seeds, *, epochs: int | None = None,
                data_dir=None) -> list[Task]:
    """One run per seed of the selected setting (seeds are explicit ints, recorded in each run)."""
    name, _ = resolve_optimizer(optimizer)
    tasks = []
    for s in seeds:
        kwargs = dict(problem=problem, optimizer=name, hyperparameters=dict(hyperparameters), phase="final",
                      trial=None, epochs=epochs, data_dir=data_dir)
        tid = stable_id(f"{problem}-{name.lower()}-final-s{s}", seed=s, **_id_fields(kwargs))
        tasks.append(Task(tid, train_run, seed=int(s), kwargs=kwargs))
    return tasks


def _id_fields(kwargs: dict) -> dict:
    # The problem's definition enters the id (changing a problem invalidates its records); the data directory
    # is where the files are, not what they are, so it does not.
    fields = {k: v for k, v in kwargs.items() if k != "data_dir"}
    fields["problem_spec"] = get_problem(kwargs["problem"]).describe()
    return fields
