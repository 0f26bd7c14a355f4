"""The tuning protocol: the same budget of trials for every optimizer, selection on validation, then seeds.

1. **Tune.**  Each optimizer gets ``budget`` trials drawn from its search space by
   ``method`` (grid, random, Sobol or Halton; see :mod:`layergraph.bench.space`),
   seeded by ``search_seed`` and the optimizer's name.  Every trial runs with the
   tuning seeds ``tune_seed .. tune_seed + tune_seeds - 1`` (the same for every
   optimizer: same initial weights, same batches) and is scored by the mean of its
   final validation headline metric over them.
2. **Select** the trial with the best score in the metric's direction (ties: the
   lower final validation loss, then the earlier trial); diverged trials rank last.
3. **Repeat** the selected setting with the final seeds ``seed_base, seed_base + 1,
   ...``: the same seeds for every optimizer, always disjoint from the tuning seeds.

Every run is a :class:`~layergraph.bench.tasks.Task` with an explicit seed, so
the results do not depend on the executor or the order in which runs finish.
"""

from __future__ import annotations

import math
import zlib

import numpy as np

from .metrics import Metric
from .problems import get_problem
from .registry import SEARCH_SPACES, get_optimizer, resolve_optimizer
from .runs import train_run
from .space import METHODS, LogUniform, OneMinusLogUniform, sample_space
from .tasks import Task, stable_id

__all__ = ["LogUniform", "OneMinusLogUniform", "SEARCH_SPACES", "BUILTIN_SPACES", "search_space", "tuning_trials",
           "trial_score", "select_best", "selection_key", "tuning_tasks", "final_tasks", "METHODS", "TUNE_SEED",
           "check_seed_ranges"]

#: First run seed of the tuning trials (the final runs use ``seed_base + i``).
TUNE_SEED = 10_000

_ADAM = {"lr": LogUniform(3e-5, 3e-2), "beta1": OneMinusLogUniform(0.02, 0.3)}
#: Search spaces of the built-in optimizers: ``lr`` (3 decades around where the method usually works) and the
#: other main hyperparameters (drawn by random / quasi-random search; the grid varies ``lr`` only).
BUILTIN_SPACES: dict[str, dict] = {
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
    """The search space of a registered optimizer (any case): hyperparameter name -> dimension."""
    return get_optimizer(optimizer).search_space


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
    method : {"grid", "random", "sobol", "halton"}
        See :func:`layergraph.bench.space.sample_space`.
    search_seed : int
        With the optimizer's name, seeds the search (unused by the grid), so adding an optimizer does not
        change the others' trials.

    Returns
    -------
    list of dict
        Factory keyword arguments, one dict per trial.
    """
    budget = _check_count(budget, "budget", "tuning_trials")
    spec = get_optimizer(optimizer)
    return sample_space(spec.search_space, budget, method, seed=[int(search_seed), zlib.crc32(spec.name.encode())],
                        who=f"tuning {spec.name}")


def check_seed_ranges(tune_seeds, final_seeds, who: str = "SweepConfig") -> None:
    """Raise ValueError when the tuning and final seed ranges share a seed.

    The message suggests only values that are accepted: seeds are ints >= 0, so a range can move below the
    other one only when there is room for it above 0.
    """
    common = sorted(set(tune_seeds) & set(final_seeds))
    if common:
        t, f = sorted(tune_seeds), sorted(final_seeds)
        raise ValueError(f"{who}: the final seeds {f[0]}..{f[-1]} overlap the tuning seeds {t[0]}..{t[-1]} "
                         f"(both contain {common[:5]}); tuning and final seeds must be disjoint: choose seed_base "
                         f"(--seed-base) {_outside(t, len(f))}, or tune_seed (--tune-seed) {_outside(f, len(t))}")


def _outside(other: list, n: int) -> str:
    """The start values >= 0 of a run of ``n`` consecutive seeds that misses the sorted range ``other``."""
    low = other[0] - n  # the largest start whose range ends below other[0]
    above = f"at least {other[-1] + 1}"
    return f"at most {low} or {above}" if low >= 0 else above


def trial_score(records, metric: Metric) -> tuple:
    """Sort key of one tuning trial (its records over the tuning seeds): smaller is better.

    ``(diverged, -mean val metric or mean val metric, mean val loss, trial)``.
    """
    records = list(records)
    vals = [(r.get("final") or {}).get(f"val_{metric.name}") for r in records]
    losses = [(r.get("final") or {}).get("val_loss") for r in records]
    bad = any(r.get("diverged") for r in records) or any(v is None for v in vals) or not vals
    score = math.inf if bad else metric.sort_value(float(np.mean(vals)))
    loss = math.inf if bad or any(v is None for v in losses) else float(np.mean(losses))
    trial = records[0].get("trial") if records and records[0].get("trial") is not None else math.inf
    return (bad, score, loss, trial)


def recorded_metric(record: dict) -> Metric:
    """The headline metric named in a record (``accuracy`` for records without one), for ranking only."""
    m = record.get("metric") or {"name": "accuracy", "higher_is_better": True}
    fn = None if m["name"] in ("accuracy", "loss", "mse") else _unused_fn
    return Metric(m["name"], fn, higher_is_better=bool(m["higher_is_better"]), target=None)


def _unused_fn(y, t):  # a stand-in: ranking reads recorded values and never calls the metric
    raise RuntimeError("recorded_metric: this metric is only used to rank recorded values")


def selection_key(record: dict, metric: Metric | None = None) -> tuple:
    """Sort key of a single tuning record (see :func:`trial_score`)."""
    return trial_score([record], metric or recorded_metric(record))


def select_best(records, metric: Metric | None = None) -> dict:
    """The best tuning trial of one (problem, optimizer) pair.

    Parameters
    ----------
    records : iterable of dict
        Tuning records; several per trial when tuning used several seeds.
    metric : Metric, optional
        Default: the problem's headline metric as recorded.

    Returns
    -------
    dict
        The record of the best trial at its first tuning seed, with ``tune_score`` (the mean validation
        metric over the tuning seeds) added.
    """
    records = list(records)
    if not records:
        raise ValueError("select_best: no tuning records to select from")
    if metric is None:
        metric = recorded_metric(records[0])
    by_trial: dict = {}
    for r in records:
        by_trial.setdefault(r.get("trial"), []).append(r)
    best = min(by_trial.values(), key=lambda rs: trial_score(rs, metric))
    first = dict(min(best, key=lambda r: r["seed"]))
    vals = [r["final"].get(f"val_{metric.name}") for r in best]
    first["tune_score"] = None if any(v is None for v in vals) else float(np.mean(vals))
    return first


def tuning_tasks(problem: str, optimizer: str, budget: int, *, method: str = "grid", search_seed: int = 0,
                 tune_seed: int = TUNE_SEED, tune_seeds: int = 1, epochs: int | None = None,
                 eval_every: int | None = None, data_dir=None, plugins=()) -> list[Task]:
    """The tuning runs of one optimizer on one problem, as tasks (ids are stable across invocations)."""
    name, _ = resolve_optimizer(optimizer)
    tasks = []
    for i, hp in enumerate(tuning_trials(name, budget, method, search_seed)):
        for s in range(tune_seed, tune_seed + tune_seeds):
            kwargs = dict(problem=problem, optimizer=name, hyperparameters=hp, phase="tune", trial=i,
                          epochs=epochs, eval_every=eval_every, data_dir=data_dir, plugins=tuple(plugins),
                          per_example_test=False)
            tid = stable_id(f"{problem}-{name.lower()}-tune{i:03d}" + (f"-s{s}" if tune_seeds > 1 else ""),
                            seed=s, **_id_fields(kwargs))
            tasks.append(Task(tid, train_run, seed=s, kwargs=kwargs))
    return tasks


def final_tasks(problem: str, optimizer: str, hyperparameters: dict, seeds, *, epochs: int | None = None,
                eval_every: int | None = None, data_dir=None, plugins=()) -> list[Task]:
    """One run per seed of the selected setting (seeds are explicit ints, recorded in each run)."""
    name, _ = resolve_optimizer(optimizer)
    tasks = []
    for s in seeds:
        kwargs = dict(problem=problem, optimizer=name, hyperparameters=dict(hyperparameters), phase="final",
                      trial=None, epochs=epochs, eval_every=eval_every, data_dir=data_dir, plugins=tuple(plugins))
        tid = stable_id(f"{problem}-{name.lower()}-final-s{s}", seed=s, **_id_fields(kwargs))
        tasks.append(Task(tid, train_run, seed=int(s), kwargs=kwargs))
    return tasks


def _id_fields(kwargs: dict) -> dict:
    # The problem's definition enters the id (changing a problem invalidates its records); the data directory
    # and the plugin paths are where things are, not what they are, so they do not.
    fields = {k: v for k, v in kwargs.items() if k not in ("data_dir", "plugins")}
    fields["problem_spec"] = get_problem(kwargs["problem"]).describe()
    return fields
