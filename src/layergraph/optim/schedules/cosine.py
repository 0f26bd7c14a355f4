"""Cosine annealing (with warm restarts), linear warm-up + cosine, one-cycle."""

from __future__ import annotations

import math

from .._checks import as_real, check_int, check_nonneg, check_positive
from .base import Schedule

__all__ = ["CosineAnnealingLR", "CosineWarmRestarts", "WarmupCosineLR", "OneCycleLR"]


def _cos_interp(start: float, end: float, x: float) -> float:
    """``end + (start - end) * (1 + cos(pi * x)) / 2`` for ``x`` in [0, 1]."""
    return end + (start - end) * 0.5 * (1.0 + math.cos(math.pi * x))


class CosineAnnealingLR(Schedule):
    """Half a cosine from ``lr0`` down to ``min_lr`` over ``total_steps``, then ``min_lr``.

    ``lr(t) = min_lr + (lr0 - min_lr) * (1 + cos(pi * t / T)) / 2`` for ``t <= T``.

    Parameters
    ----------
    lr0 : float >= 0
    total_steps : int >= 1
    min_lr : float >= 0, default 0
    """

    def __init__(self, lr0, total_steps, min_lr=0.0):
        self.lr0 = check_nonneg("CosineAnnealingLR", "lr0", lr0)
        self.total_steps = check_int("CosineAnnealingLR", "total_steps", total_steps, minimum=1)
        self.min_lr = check_nonneg("CosineAnnealingLR", "min_lr", min_lr)

    def value(self, t):
        if t >= self.total_steps:
            return self.min_lr
        return _cos_interp(self.lr0, self.min_lr, t / self.total_steps)


class CosineWarmRestarts(Schedule):
    """SGDR (Loshchilov & Hutter, 2017): cosine cycles restarting at ``lr0``.

    Cycle ``i`` lasts ``T_i = period * period_mult**i`` steps; inside it, with ``T_cur``
    steps since the last restart, ``lr = min_lr + (lr0 - min_lr) * (1 + cos(pi*T_cur/T_i))/2``.

    Parameters
    ----------
    lr0 : float >= 0
    period : int >= 1
        Length of the first cycle.
    period_mult : int >= 1, default 1
    min_lr : float >= 0, default 0
    """

    def __init__(self, lr0, period, period_mult=1, min_lr=0.0):
        self.lr0 = check_nonneg("CosineWarmRestarts", "lr0", lr0)
        self.period = check_int("CosineWarmRestarts", "period", period, minimum=1)
        self.period_mult = check_int("CosineWarmRestarts", "period_mult", period_mult, minimum=1)
        self.min_lr = check_nonneg("CosineWarmRestarts", "min_lr", min_lr)

    def value(self, t):
        length = self.period
        if self.period_mult == 1:
            t_cur = t % length
        else:
            t_cur = t
            while t_cur >= length:  # O(log t) cycles
                t_cur -= length
                length *= self.period_mult
        return _cos_interp(self.lr0, self.min_lr, t_cur / length)


class WarmupCosineLR(Schedule):
    """Linear warm-up from ``warmup_start_lr`` to ``lr0``, then cosine down to ``min_lr``.

    ``lr(t) = warmup_start_lr + (lr0 - warmup_start_lr) * t / W`` for ``t < W``;
    ``min_lr + (lr0 - min_lr) * (1 + cos(pi * (t - W) / (T - W))) / 2`` for ``W <= t <= T``;
    ``min_lr`` afterwards (``W = warmup_steps``, ``T = total_steps``).

    Parameters
    ----------
    lr0 : float >= 0
        Peak learning rate, reached at ``t = W``.
    warmup_steps : int >= 0
    total_steps : int > warmup_steps
    min_lr : float >= 0, default 0
    warmup_start_lr : float >= 0, default 0
    """

    def __init__(self, lr0, warmup_steps, total_steps, min_lr=0.0, warmup_start_lr=0.0):
        self.lr0 = check_nonneg("WarmupCosineLR", "lr0", lr0)
        self.warmup_steps = check_int("WarmupCosineLR", "warmup_steps", warmup_steps, minimum=0)
        self.total_steps = check_int("WarmupCosineLR", "total_steps", total_steps, minimum=1)
        if self.total_steps <= self.warmup_steps:
            raise ValueError(
                f"WarmupCosineLR: argument 'total_steps' ({self.total_steps}) must exceed "
                f"'warmup_steps' ({self.warmup_steps})"
            )
        self.min_lr = check_nonneg("WarmupCosineLR", "min_lr", min_lr)
        self.warmup_start_lr = check_nonneg("WarmupCosineLR", "warmup_start_lr", warmup_start_lr)

    def value(self, t):
        w, total = self.warmup_steps, self.total_steps
        if t < w:
            return self.warmup_start_lr + (self.lr0 - self.warmup_start_lr) * t / w
        if t >= total:
            return self.min_lr
        return _cos_interp(self.lr0, self.min_lr, (t - w) / (total - w))


class OneCycleLR(Schedule):
    """One-cycle policy (Smith & Topin, 2018), as two annealing phases.

    With ``lr_start = max_lr / div_factor``, ``lr_end = lr_start / final_div_factor`` and
    the peak at ``p = pct_start * (T - 1)`` (``T = total_steps``):
    ``lr`` goes from ``lr_start`` (t = 0) to ``max_lr`` (t = p), then to ``lr_end``
    (t = T - 1) and stays there; each phase is a half cosine (``anneal="cos"``) or linear.

    Parameters
    ----------
    max_lr : float >= 0
    total_steps : int >= 2
    pct_start : float in (0, 1), default 0.3
    div_factor : float > 0, default 25
    final_div_factor : float > 0, default 1e4
    anneal : {"cos", "linear"}, default "cos"
    """

    def __init__(self, max_lr, total_steps, pct_start=0.3, div_factor=25.0, final_div_factor=1e4, anneal="cos"):
        self.max_lr = check_nonneg("OneCycleLR", "max_lr", max_lr)
        self.total_steps = check_int("OneCycleLR", "total_steps", total_steps, minimum=2)
        self.pct_start = as_real("OneCycleLR", "pct_start", pct_start)
        if not 0.0 < self.pct_start < 1.0:
            raise ValueError(f"OneCycleLR: argument 'pct_start' must be in (0, 1), got {self.pct_start}")
        self.div_factor = check_positive("OneCycleLR", "div_factor", div_factor)
        self.final_div_factor = check_positive("OneCycleLR", "final_div_factor", final_div_factor)
        if anneal not in ("cos", "linear"):
            raise ValueError(f"OneCycleLR: argument 'anneal' must be 'cos' or 'linear', got {anneal!r}")
        self.anneal = anneal

    def _interp(self, start, end, x):
        if self.anneal == "cos":
            return _cos_interp(start, end, x)
        return start + (end - start) * x

    def value(self, t):
        lr_start = self.max_lr / self.div_factor
        lr_end = lr_start / self.final_div_factor
        last = self.total_steps - 1
        peak = self.pct_start * last
        if t >= last:
            return lr_end
        if t <= peak:
            return self._interp(lr_start, self.max_lr, t / peak)
        return self._interp(self.max_lr, lr_end, (t - peak) / (last - peak))
