"""Metrics of benchmark problems: a name, a direction, a target, and how to compute it.

A :class:`Metric` is what a problem is judged on.  ``"accuracy"`` (classification,
higher is better), ``"loss"`` (the network's own loss, lower is better) and
``"mse"`` (mean squared error over all output elements, lower is better) are built
in; any other name needs ``fn(y, t) -> float``, the mean over a batch of network
outputs ``y`` ``(B, ...)`` and targets ``t`` ``(B, ...)``.

Every metric also gives *per-example* values (used by the bootstrap over test
examples): accuracy 0 / 1 per row, MSE the mean squared error of the row, and a
custom metric ``fn`` applied to each row on its own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

__all__ = ["Metric", "BUILTIN_METRICS", "metric_fn", "per_example"]

#: Names with a built-in function.
BUILTIN_METRICS = ("accuracy", "loss", "mse")


def _mse(y, t):
    y = np.asarray(y, dtype=np.float64)
    d = y - np.asarray(t, dtype=np.float64).reshape(y.shape)
    return float(np.mean(d * d))


def _mse_rows(y, t):
    y = np.asarray(y, dtype=np.float64)
    d = (y - np.asarray(t, dtype=np.float64).reshape(y.shape)).reshape(len(y), -1)
    return np.mean(d * d, axis=1)


@dataclass(frozen=True)
class Metric:
    """How a problem is scored.

    Parameters
    ----------
    name : str
        ``"accuracy"``, ``"loss"``, ``"mse"`` or any other name together with ``fn``.
    fn : callable ``fn(y, t) -> float``, optional
        Batch mean of the metric; required for names that are not built in, not allowed to shadow
        ``"loss"``.
    higher_is_better : bool
        Keyword only; the direction used for selection, time to target, profiles and reports.
    target : float or None
        Keyword only; the validation value that counts as "reached" for time to target (``>=`` when higher is
        better, ``<=`` otherwise).  None: no time to target for this metric.

    Examples
    --------
    >>> Metric("mse", higher_is_better=False, target=0.05)
    Metric(name='mse', fn=None, higher_is_better=False, target=0.05)
    """

    name: str
    fn: Callable | None = None
    higher_is_better: bool = True
    target: float | None = None

    def __init__(self, name, fn=None, *, higher_is_better, target):
        if not isinstance(name, str) or not name.strip():
            raise TypeError(f"Metric: name must be a non-empty str, got {name!r}")
        if not isinstance(higher_is_better, bool):
            raise TypeError(f"Metric {name!r}: higher_is_better must be True or False, got {higher_is_better!r}")
        if fn is None and name not in BUILTIN_METRICS:
            raise ValueError(f"Metric {name!r}: not a built-in metric ({', '.join(BUILTIN_METRICS)}); pass "
                             "fn(y, t) -> float")
        if fn is not None and not callable(fn):
            raise TypeError(f"Metric {name!r}: fn must be callable fn(y, t) -> float, got {type(fn).__name__}")
        if fn is not None and name == "loss":
            raise ValueError("Metric 'loss': the loss is the network's loss layer; it takes no fn")
        if target is not None:
            if isinstance(target, bool) or not isinstance(target, (int, float, np.floating, np.integer)) \
                    or not math.isfinite(float(target)):
                raise ValueError(f"Metric {name!r}: target must be a finite number or None, got {target!r}")
            target = float(target)
        if name in ("accuracy",) and not higher_is_better:
            raise ValueError("Metric 'accuracy': higher is better for accuracy (higher_is_better=True)")
        if name in ("loss", "mse") and higher_is_better:
            raise ValueError(f"Metric {name!r}: lower is better for {name} (higher_is_better=False)")
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "fn", fn)
        object.__setattr__(self, "higher_is_better", higher_is_better)
        object.__setattr__(self, "target", target)

    @property
    def direction(self) -> str:
        """``"higher"`` or ``"lower"`` (is better)."""
        return "higher" if self.higher_is_better else "lower"

    def better(self, a, b) -> bool:
        """True when value ``a`` is strictly better than ``b``."""
        return a > b if self.higher_is_better else a < b

    def reached(self, value) -> bool:
        """True when ``value`` meets the target (False without a target or for None / nan)."""
        if self.target is None or value is None or not math.isfinite(value):
            return False
        return value >= self.target if self.higher_is_better else value <= self.target

    def sort_value(self, value) -> float:
        """A number where smaller is better (``inf`` for a missing value)."""
        if value is None or not math.isfinite(value):
            return math.inf
        return -value if self.higher_is_better else value

    def describe(self) -> dict:
        """JSON-friendly: name, direction, target and the function's qualified name (custom metrics)."""
        d = {"name": self.name, "higher_is_better": self.higher_is_better, "target": self.target}
        if self.fn is not None:
            d["fn"] = f"{getattr(self.fn, '__module__', '?')}:{getattr(self.fn, '__qualname__', '?')}"
        return d


def metric_fn(metric: Metric, net=None):
    """The batch function ``fn(y, t) -> float`` of a metric for the trainer; None for ``"loss"``."""
    if metric.name == "loss":
        return None
    if metric.fn is not None:
        return metric.fn
    if metric.name == "mse":
        return _mse
    from ..train import Accuracy

    return Accuracy(getattr(net, "loss_layer", None))


def per_example(metric: Metric, net, y, t) -> np.ndarray:
    """Per-row values of ``metric`` for outputs ``y`` ``(N, ...)`` and targets ``t``: shape ``(N,)``, float64.

    ``"loss"`` is the loss layer applied to each row on its own.
    """
    n = len(y)
    if metric.name == "mse" and metric.fn is None:
        return _mse_rows(y, t)
    if metric.name == "accuracy" and metric.fn is None:
        judge = metric_fn(metric, net).judge
        pred = np.asarray(judge.predicted_labels(y))
        true = np.asarray(judge.target_labels(t)).reshape(pred.shape)
        return (pred.reshape(n, -1) == true.reshape(n, -1)).all(axis=1).astype(np.float64)
    if metric.name == "loss":
        layer = net.loss_layer
        return np.array([float(layer.forward(y[i:i + 1], t[i:i + 1])) for i in range(n)], dtype=np.float64)
    return np.array([float(metric.fn(y[i:i + 1], t[i:i + 1])) for i in range(n)], dtype=np.float64)
