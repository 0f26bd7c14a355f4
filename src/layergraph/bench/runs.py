"""One training run of a benchmark problem: the unit of work of a sweep.

:func:`train_run` imports the sweep's plugins, builds the problem's network from the
seed, trains it with one optimizer setting for the problem's epoch budget while
evaluating the validation set every ``eval_every`` steps, and returns a JSON-friendly
result: the step-resolved validation curve of every metric, per-epoch training
numbers, cumulative training seconds, the test numbers (with per-example values of
the headline metric for the bootstrap over test examples), time to target in steps
and seconds, library versions and machine.
"""

from __future__ import annotations

import math
import time
import warnings

import numpy as np

from ..train import Callback, DivergenceError, Trainer
from .metrics import metric_fn, per_example
from .plugins import load_plugins
from .problems import get_problem
from .records import environment
from .registry import resolve_optimizer
from .schedules import SCHEDULES, make_schedule

__all__ = ["train_run", "resolve_optimizer", "StepEvaluator", "time_to_target", "default_eval_every",
           "EVALUATIONS"]

#: About this many validation evaluations per run when ``eval_every`` is not given.
EVALUATIONS = 20


def default_eval_every(total_steps: int) -> int:
    """Steps between evaluations so that a run of ``total_steps`` has about :data:`EVALUATIONS` of them."""
    return max(1, int(round(total_steps / EVALUATIONS)))


class StepEvaluator(Callback):
    """Applies the learning-rate schedule, times the training steps and evaluates every ``every`` steps.

    The validation set is evaluated before the first step (step 0), after every ``every`` steps and after
    the last step.

    Attributes
    ----------
    curve : dict
        ``step`` (list of int) and, per metric, ``val_<name>`` (list of float), plus cumulative training
        ``seconds`` at each evaluation.
    """

    def __init__(self, every, total_steps, val, metrics, net, schedule=None):
        self.every, self.total_steps, self.val, self.metrics, self.net = every, total_steps, val, metrics, net
        self.schedule = schedule
        self.total, self._t0 = 0.0, 0.0
        self.epoch_seconds = []
        self.curve = {"step": [], "seconds": [], **{f"val_{m.name}": [] for m in metrics}}

    def on_train_begin(self, logs=None):
        self.evaluate(self.trainer.step)  # the starting point, so a target met early is interpolated from it

    def on_batch_begin(self, batch, logs=None):
        if self.schedule is not None:
            self.trainer.optimizer.lr = self.schedule(self.trainer.step)
        self._t0 = time.perf_counter()

    def on_batch_end(self, batch, logs=None):
        self.total += time.perf_counter() - self._t0
        step = self.trainer.step
        if step % self.every == 0 or step == self.total_steps:
            self.evaluate(step)

    def on_epoch_end(self, epoch, logs=None):
        self.epoch_seconds.append(self.total)

    def evaluate(self, step):
        """Evaluate the validation set now and append to :attr:`curve`."""
        res = self.trainer.evaluate(*self.val)
        check_metric_values(res, self.metrics, f"on the validation set at step {step}")
        self.curve["step"].append(int(step))
        self.curve["seconds"].append(self.total)
        for m in self.metrics:
            v = res.get(m.name)
            self.curve[f"val_{m.name}"].append(None if v is None or not math.isfinite(v) else float(v))


def check_metric_values(values, metrics, where):
    """Raise when a metric is not finite while the loss is: a network whose outputs are finite (its loss is)
    must get a finite value from every metric, or the bug is in the metric's function."""
    loss = values.get("loss")
    if loss is None or not math.isfinite(loss):
        return
    for m in metrics:
        v = values.get(m.name)
        if v is not None and not math.isfinite(v):
            raise ValueError(f"metric {m.name!r} returned {v} {where} while the loss is finite ({loss:.6g}); a "
                             "metric's fn(y, t) must return a finite number for finite outputs")


def per_example_or_none(metric, rows, whole):
    """*rows* when their mean is the metric's value *whole* on the same examples, else None (with the reason).

    A test-set interval bootstraps the mean of per-example values; that only describes metrics that are means over
    examples (accuracy, MSE, the loss). For others (F1, AUC, ...) the per-example values mean something else.
    """
    if whole is None or not math.isfinite(whole):
        return rows, None
    mean = float(np.mean(rows)) if len(rows) else math.nan
    if math.isfinite(mean) and math.isclose(mean, whole, rel_tol=1e-5, abs_tol=1e-8):
        return rows, None
    return None, (f"metric {metric.name!r} is not a mean over examples (the mean of its per-example values is "
                  f"{mean:.6g}, its value on the test set {whole:.6g}): no test-set interval")


def time_to_target(values, steps, seconds, metric):
    """First evaluation meeting ``metric``'s target: ``(steps, seconds, interpolated steps)``.

    The interpolated step is where the straight line between the previous evaluation and this one crosses the
    target (the step itself when the first evaluation already meets it); it refines ties between runs that
    reach the target at the same evaluation.  ``(None, None, None)`` when no evaluation reaches the target.
    """
    prev_v, prev_k = None, 0
    for v, k, s in zip(values, steps, seconds):
        if metric.reached(v):
            interp = float(k)
            if prev_v is not None and v != prev_v:
                frac = (metric.target - prev_v) / (v - prev_v)
                interp = float(prev_k + min(max(frac, 0.0), 1.0) * (k - prev_k))
            return int(k), float(s), interp
        prev_v, prev_k = v, k
    return None, None, None


def _seeds(seed: int):
    """Independent streams for the weights and the batch order of run ``seed``."""
    init, order = np.random.SeedSequence([int(seed), 0x7275]).spawn(2)
    return int(init.generate_state(1)[0]), np.random.default_rng(order)


def train_run(*, seed: int, problem: str, optimizer: str, hyperparameters: dict, phase: str = "final",
              trial: int | None = None, epochs: int | None = None, eval_every: int | None = None,
              data_dir=None, plugins=(), per_example_test: bool = True) -> dict:
    """Train ``problem``'s network with one optimizer setting and return the run's result.

    Parameters
    ----------
    seed : int
        Fixes the initial weights and the mini-batch order (two independent streams).
    problem : str
        A registered problem (see :func:`layergraph.bench.register_problem`).
    optimizer : str
        A registered optimizer (any case).
    hyperparameters : dict
        Arguments of the optimizer's factory, e.g. ``{"lr": 0.01, "momentum": 0.9}``; a ``"schedule"`` entry
        (one of :data:`layergraph.bench.schedules.SCHEDULES`) sets the learning-rate schedule instead.
    phase : {"tune", "final"}
    trial : int, optional
        Index of the tuning trial (recorded only).
    epochs : int, optional
        Overrides the problem's epoch budget.
    eval_every : int, optional
        Steps between validation evaluations (default: about 20 evaluations per run).
    data_dir : str, optional
        Where the data files are (MNIST problems).
    plugins : sequence of str
        Plugin modules imported first (so a worker knows custom optimizers and problems).
    per_example_test : bool, default True
        Record the per-example test values of the headline metric (the bootstrap over test examples).

    Returns
    -------
    dict
        ``problem`` (its description), ``optimizer``, ``hyperparameters``, ``phase``, ``trial``, ``epochs``,
        ``eval_every``, ``curve`` (per evaluation: ``step``, ``epoch`` (fractional), ``seconds``,
        ``val_<metric>``), ``history`` (per epoch: ``epoch``, ``step``, ``train_loss``, ``train_<metric>``,
        ``seconds``), ``final`` (``val_<metric>`` at the last evaluation, ``train_<metric>`` of the last epoch,
        ``test_<metric>``), ``test_per_example``, ``metric``, ``steps``, ``diverged``, ``diverged_at_step``,
        ``target``, ``steps_to_target``, ``seconds_to_target``, ``steps_to_target_interp``,
        ``train_seconds``, ``data_sizes``, ``versions``, ``machine``.
    """
    load_plugins(plugins)
    if phase not in ("tune", "final"):
        raise ValueError(f"train_run: phase must be 'tune' or 'final', got {phase!r}")
    prob = get_problem(problem)
    name, factory = resolve_optimizer(optimizer)
    if not isinstance(hyperparameters, dict):
        raise TypeError(f"train_run: hyperparameters must be a dict, got {type(hyperparameters).__name__}")
    hp = dict(hyperparameters)
    schedule_name = hp.pop("schedule", None)
    budget = prob.epochs if epochs is None else int(epochs)
    data = prob.load(data_dir)
    init_seed, order_rng = _seeds(seed)
    net = prob.build(init_seed)
    opt = factory(**hp)
    if not callable(getattr(opt, "update", None)):
        raise TypeError(f"train_run: optimizer {name!r} factory returned {type(opt).__name__} without "
                        "update(params, grads)")
    metrics = prob.all_metrics
    fns = {m.name: metric_fn(m, net) for m in metrics if m.name != "loss"}
    batches = -(-len(data.x_train) // prob.batch_size)
    total = budget * batches
    every = default_eval_every(total) if eval_every is None else int(eval_every)
    schedule = None
    if schedule_name is not None:
        if schedule_name not in SCHEDULES:
            raise ValueError(f"train_run: hyperparameter 'schedule' must be one of {SCHEDULES}, got "
                             f"{schedule_name!r}")
        if getattr(opt, "lr", None) is None:
            raise TypeError(f"train_run: optimizer {name!r} has no 'lr' attribute, so no schedule can drive it")
        schedule = make_schedule(schedule_name, float(opt.lr), total)
    ev = StepEvaluator(every, total, (data.x_val, data.t_val), metrics, net, schedule)
    trainer = Trainer(net, opt, batch_size=prob.batch_size, seed=order_rng, verbose=0, callbacks=[ev], metrics=fns)
    diverged_at = None
    test, test_rows, rows_note = None, None, None
    with warnings.catch_warnings(), np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            trainer.fit(data.x_train, data.t_train, epochs=budget)
        except DivergenceError as err:
            diverged_at = int(err.step)
        if diverged_at is None:
            test = trainer.evaluate(data.x_test, data.t_test)
            check_metric_values(test, metrics, "on the test set")
            if per_example_test:
                y = np.concatenate([net.forward(data.x_test[i:i + 1000], train=False)
                                    for i in range(0, len(data.x_test), 1000)])
                test_rows, rows_note = per_example_or_none(prob.metric, per_example(prob.metric, net, y, data.t_test),
                                                           test.get(prob.metric.name))
    h = trainer.history
    n = len(h.get("epoch", []))
    history = {"epoch": list(h.get("epoch", [])), "step": list(h.get("step", [])),
               "train_loss": list(h.get("loss", [])), "seconds": ev.epoch_seconds[:n]}
    for m in metrics:
        if m.name != "loss":
            history[f"train_{m.name}"] = list(h.get(m.name, []))
    curve = dict(ev.curve)
    curve["epoch"] = [k / batches for k in curve["step"]]
    final = {}
    for m in metrics:
        vals = curve[f"val_{m.name}"]
        train_vals = history["train_loss" if m.name == "loss" else f"train_{m.name}"]
        final[f"val_{m.name}"] = vals[-1] if vals else None
        final[f"train_{m.name}"] = train_vals[-1] if train_vals else None
        final[f"test_{m.name}"] = None if test is None else test.get(m.name)
    head = prob.metric
    steps_hit, secs_hit, interp = time_to_target(curve[f"val_{head.name}"], curve["step"], curve["seconds"], head)
    return {
        "problem": prob.describe(),
        "optimizer": name,
        "hyperparameters": dict(hyperparameters),
        "phase": phase,
        "trial": trial,
        "epochs": budget,
        "eval_every": every,
        "batches_per_epoch": batches,
        "metric": head.describe(),
        "curve": curve,
        "history": history,
        "final": final,
        "test_per_example": None if test_rows is None else [float(f"{v:.6g}") for v in test_rows],
        "test_per_example_note": rows_note,
        "steps": int(trainer.step),
        "diverged": diverged_at is not None,
        "diverged_at_step": diverged_at,
        "target": head.target,
        "steps_to_target": steps_hit,
        "seconds_to_target": secs_hit,
        "steps_to_target_interp": interp,
        "train_seconds": ev.total,
        "data_sizes": data.sizes(),
        **environment(),
    }
