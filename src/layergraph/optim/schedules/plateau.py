"""Reduce the learning rate when a monitored metric stops improving."""

from __future__ import annotations

import math
from collections.abc import Mapping

from .._checks import as_real, check_int, check_nonneg

__all__ = ["ReduceLROnPlateau"]


class ReduceLROnPlateau:
    """Multiply the learning rate by ``factor`` after ``patience`` epochs without progress.

    Unlike the other schedules this one is stateful by nature: call ``step(metric)`` once
    per evaluation (usually per epoch). A metric *improves* when (``mode="min"``)
    ``metric < best - threshold * |best|`` (``threshold_mode="rel"``) or
    ``metric < best - threshold`` (``"abs"``); mirrored for ``mode="max"``. After
    ``patience + 1`` consecutive non-improving calls the rate becomes
    ``max(lr * factor, min_lr)`` and the counter restarts; the next ``cooldown`` calls are
    not counted as bad.

    Parameters
    ----------
    lr0 : float >= 0
    factor : float in (0, 1), default 0.1
    patience : int >= 0, default 10
    mode : {"min", "max"}, default "min"
    threshold : float >= 0, default 1e-4
    threshold_mode : {"rel", "abs"}, default "rel"
    cooldown : int >= 0, default 0
    min_lr : float >= 0, default 0
    """

    def __init__(self, lr0, factor=0.1, patience=10, mode="min", threshold=1e-4,
                 threshold_mode="rel", cooldown=0, min_lr=0.0):
        owner = "ReduceLROnPlateau"
        self.lr0 = check_nonneg(owner, "lr0", lr0)
        self.factor = as_real(owner, "factor", factor)
        if not 0.0 < self.factor < 1.0:
            raise ValueError(f"{owner}: argument 'factor' must be in (0, 1), got {self.factor}")
        self.patience = check_int(owner, "patience", patience, minimum=0)
        if mode not in ("min", "max"):
            raise ValueError(f"{owner}: argument 'mode' must be 'min' or 'max', got {mode!r}")
        self.mode = mode
        self.threshold = check_nonneg(owner, "threshold", threshold)
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"{owner}: argument 'threshold_mode' must be 'rel' or 'abs', got {threshold_mode!r}")
        self.threshold_mode = threshold_mode
        self.cooldown = check_int(owner, "cooldown", cooldown, minimum=0)
        self.min_lr = check_nonneg(owner, "min_lr", min_lr)
        self.reset()

    def reset(self) -> None:
        """Back to the initial state (``lr = lr0``, no best value yet)."""
        self.lr = self.lr0
        self.best = math.inf if self.mode == "min" else -math.inf
        self.num_bad = 0
        self.cooldown_counter = 0
        self.num_steps = 0

    def _improves(self, metric: float) -> bool:
        if math.isinf(self.best):
            return True
        margin = self.threshold * abs(self.best) if self.threshold_mode == "rel" else self.threshold
        if self.mode == "min":
            return metric < self.best - margin
        return metric > self.best + margin

    def step(self, metric) -> float:
        """Record one value of the monitored metric and return the (possibly reduced) lr.

        Parameters
        ----------
        metric : float
            Finite value of the monitored quantity (e.g. validation loss).
        """
        metric = as_real("ReduceLROnPlateau.step", "metric", metric)
        self.num_steps += 1
        if self._improves(metric):
            self.best = metric
            self.num_bad = 0
        else:
            self.num_bad += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad = 0
        if self.num_bad > self.patience:
            self.lr = max(self.lr * self.factor, self.min_lr)
            self.cooldown_counter = self.cooldown
            self.num_bad = 0
        return self.lr

    _STATE_KEYS = ("lr", "best", "num_bad", "cooldown_counter", "num_steps")

    def state_dict(self) -> dict:
        """Counters and current values as plain numbers."""
        return {k: getattr(self, k) for k in self._STATE_KEYS}

    def load_state_dict(self, d: Mapping) -> None:
        """Restore a :meth:`state_dict` (keys checked, values converted to numbers)."""
        if not isinstance(d, Mapping):
            raise TypeError(f"ReduceLROnPlateau.load_state_dict: argument 'd' must be a mapping, got {type(d).__name__}")
        if set(d) != set(self._STATE_KEYS):
            raise ValueError(
                f"ReduceLROnPlateau.load_state_dict: keys must be {sorted(self._STATE_KEYS)}, got {sorted(d)}"
            )
        self.lr = float(d["lr"])
        self.best = float(d["best"])
        for k in ("num_bad", "cooldown_counter", "num_steps"):
            setattr(self, k, int(d[k]))
