"""One training run of a benchmark problem: the unit of work of a sweep.

:func:`train_run` builds the problem's network from the seed, trains it with one
optimizer setting for the problem's epoch budget, and returns a JSON-friendly
result: per-epoch train / validation loss and accuracy, the cumulative training
seconds, the test numbers, steps, time-to-target, library versions and machine.
"""

from __future__ import annotations

import time
import warnings

import numpy as np

from ..train import Callback, DivergenceError, Trainer
from .problems import get_problem
from .records import environment

__all__ = ["train_run", "resolve_optimizer", "StepTimer", "time_to_target"]


def resolve_optimizer(name: str):
    """``(canonical name, class)`` of optimizer ``name`` from :data:`layergraph.optim.OPTIMIZERS`, any case."""
    from ..optim import OPTIMIZERS

    if not isinstance(name, str):
        raise TypeError(f"optimizer name must be a str, got {type(name).__name__}")
    by_lower = {k.lower(): k for k in OPTIMIZERS}
    key = by_lower.get(name.strip().lower())
    if key is None:
        raise ValueError(f"unknown optimizer {name!r}; expected one of {', '.join(OPTIMIZERS)} (any case)")
    return key, OPTIMIZERS[key]


class StepTimer(Callback):
    """Measures the seconds spent in training steps (evaluation excluded).

    Attributes
    ----------
    seconds : list of float
        Cumulative training seconds at the end of each finished epoch.
    """

    def __init__(self):
        self.seconds, self._total, self._t0 = [], 0.0, 0.0

    def on_batch_begin(self, batch, logs=None):
        self._t0 = time.perf_counter()

    def on_batch_end(self, batch, logs=None):
        self._total += time.perf_counter() - self._t0

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(self._total)

    @property
    def total(self) -> float:
        """Training seconds so far."""
        return self._total


def time_to_target(val_accuracy, steps, seconds, target):
    """First epoch whose validation accuracy reaches ``target``: its step count and training seconds.

    Parameters
    ----------
    val_accuracy, steps, seconds : sequences of length E
        Per-epoch validation accuracy, cumulative steps and cumulative training seconds.
    target : float

    Returns
    -------
    (int or None, float or None)
        ``(None, None)`` when no epoch reaches the target.
    """
    for acc, k, s in zip(val_accuracy, steps, seconds):
        if acc is not None and acc >= target:
            return int(k), float(s)
    return None, None


def _seeds(seed: int):
    """Independent streams for the weights and the batch order of run ``seed``."""
    init, order = np.random.SeedSequence([int(seed), 0x7275]).spawn(2)
    return int(init.generate_state(1)[0]), np.random.default_rng(order)


def train_run(*, seed: int, problem: str, optimizer: str, hyperparameters: dict, phase: str = "final",
              trial: int | None = None, epochs: int | None = None, data_dir=None) -> dict:
    """Train ``problem``'s network with one optimizer setting and return the run's result.

    Parameters
    ----------
    seed : int
        Fixes the initial weights and the mini-batch order (two independent streams).
    problem : str
        A name from :data:`layergraph.bench.problems.PROBLEMS`.
    optimizer : str
        A name from :data:`layergraph.optim.OPTIMIZERS` (any case).
    hyperparameters : dict
        Constructor arguments of the optimizer, e.g. ``{"lr": 0.01, "momentum": 0.9}``.
    phase : {"tune", "final"}
        Recorded only.
    trial : int, optional
        Index of the tuning trial (recorded only).
    epochs : int, optional
        Overrides the problem's epoch budget (``--quick`` and tests).
    data_dir : str, optional
        Where the MNIST files are (MNIST problems only).

    Returns
    -------
    dict
        ``problem`` (its description), ``optimizer``, ``hyperparameters``, ``phase``, ``trial``,
        ``history`` (per epoch: ``epoch``, ``step``, ``train_loss``, ``train_accuracy``, ``val_loss``,
        ``val_accuracy``, ``seconds``), ``final`` (last epoch's train / val numbers and the test loss and
        accuracy), ``steps``, ``diverged``, ``diverged_at_step``, ``target``, ``steps_to_target``,
        ``seconds_to_target``, ``train_seconds``, ``data_sizes``, ``versions``, ``machine``.
        A run that diverges keeps the epochs finished before, and its ``final`` test numbers are None.
    """
    if phase not in ("tune", "final"):
        raise ValueError(f"train_run: phase must be 'tune' or 'final', got {phase!r}")
    prob = get_problem(problem)
    name, cls = resolve_optimizer(optimizer)
    if not isinstance(hyperparameters, dict):
        raise TypeError(f"train_run: hyperparameters must be a dict, got {type(hyperparameters).__name__}")
    budget = prob.epochs if epochs is None else int(epochs)
    data = prob.load(data_dir)
    init_seed, order_rng = _seeds(seed)
    net = prob.build(init_seed)
    opt = cls(**hyperparameters)
    timer = StepTimer()
    trainer = Trainer(net, opt, batch_size=prob.batch_size, seed=order_rng, verbose=0, callbacks=[timer])
    diverged_at = None
    with warnings.catch_warnings(), np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            trainer.fit(data.x_train, data.t_train, epochs=budget, validation_data=(data.x_val, data.t_val))
        except DivergenceError as err:
            diverged_at = int(err.step)
        test = None if diverged_at is not None else trainer.evaluate(data.x_test, data.t_test)
    h = trainer.history
    n = len(h.get("epoch", []))
    history = {
        "epoch": list(h.get("epoch", [])),
        "step": list(h.get("step", [])),
        "train_loss": list(h.get("loss", [])),
        "train_accuracy": list(h.get("accuracy", [])),
        "val_loss": list(h.get("val_loss", [])),
        "val_accuracy": list(h.get("val_accuracy", [])),
        "seconds": timer.seconds[:n],
    }
    last = (lambda key: history[key][-1] if n else None)
    final = {"train_loss": last("train_loss"), "train_accuracy": last("train_accuracy"),
             "val_loss": last("val_loss"), "val_accuracy": last("val_accuracy"),
             "test_loss": None if test is None else test["loss"],
             "test_accuracy": None if test is None else test["accuracy"]}
    steps_hit, secs_hit = time_to_target(history["val_accuracy"], history["step"], history["seconds"], prob.target)
    return {
        "problem": prob.describe(),
        "optimizer": name,
        "hyperparameters": dict(hyperparameters),
        "phase": phase,
        "trial": trial,
        "epochs": budget,
        "history": history,
        "final": final,
        "steps": int(trainer.step),
        "diverged": diverged_at is not None,
        "diverged_at_step": diverged_at,
        "target": prob.target,
        "steps_to_target": steps_hit,
        "seconds_to_target": secs_hit,
        "train_seconds": timer.total,
        "data_sizes": data.sizes(),
        **environment(),
    }
