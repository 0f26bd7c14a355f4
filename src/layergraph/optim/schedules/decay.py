"""Constant, step, multi-step, exponential, inverse-time and polynomial decay."""

from __future__ import annotations

from .._checks import check_int, check_nonneg, check_positive
from .base import Schedule

__all__ = ["ConstantLR", "StepLR", "MultiStepLR", "ExponentialLR", "InverseTimeLR", "PolynomialLR"]


class ConstantLR(Schedule):
    """``lr(t) = lr0``.

    Parameters
    ----------
    lr0 : float >= 0
    """

    def __init__(self, lr0):
        self.lr0 = check_nonneg("ConstantLR", "lr0", lr0)

    def value(self, t):
        return self.lr0


class StepLR(Schedule):
    """``lr(t) = lr0 * gamma ** floor(t / step_size)``.

    Parameters
    ----------
    lr0 : float >= 0
    step_size : int >= 1
    gamma : float > 0, default 0.1
    """

    def __init__(self, lr0, step_size, gamma=0.1):
        self.lr0 = check_nonneg("StepLR", "lr0", lr0)
        self.step_size = check_int("StepLR", "step_size", step_size, minimum=1)
        self.gamma = check_positive("StepLR", "gamma", gamma)

    def value(self, t):
        return self.lr0 * self.gamma ** (t // self.step_size)


class MultiStepLR(Schedule):
    """``lr(t) = lr0 * gamma ** (number of milestones <= t)``.

    Parameters
    ----------
    lr0 : float >= 0
    milestones : sequence of int
        Strictly increasing, >= 1.
    gamma : float > 0, default 0.1
    """

    def __init__(self, lr0, milestones, gamma=0.1):
        self.lr0 = check_nonneg("MultiStepLR", "lr0", lr0)
        ms = tuple(check_int("MultiStepLR", "milestones", m, minimum=1) for m in milestones)
        if any(b <= a for a, b in zip(ms, ms[1:])):
            raise ValueError(f"MultiStepLR: argument 'milestones' must be strictly increasing, got {ms}")
        self.milestones = ms
        self.gamma = check_positive("MultiStepLR", "gamma", gamma)

    def value(self, t):
        k = sum(1 for m in self.milestones if m <= t)
        return self.lr0 * self.gamma**k


class ExponentialLR(Schedule):
    """``lr(t) = lr0 * gamma ** t``.

    Parameters
    ----------
    lr0 : float >= 0
    gamma : float > 0
    """

    def __init__(self, lr0, gamma):
        self.lr0 = check_nonneg("ExponentialLR", "lr0", lr0)
        self.gamma = check_positive("ExponentialLR", "gamma", gamma)

    def value(self, t):
        return self.lr0 * self.gamma**t


class InverseTimeLR(Schedule):
    """``lr(t) = lr0 / (1 + decay_rate * t / decay_steps)``.

    Parameters
    ----------
    lr0 : float >= 0
    decay_rate : float >= 0
    decay_steps : int >= 1, default 1
    """

    def __init__(self, lr0, decay_rate, decay_steps=1):
        self.lr0 = check_nonneg("InverseTimeLR", "lr0", lr0)
        self.decay_rate = check_nonneg("InverseTimeLR", "decay_rate", decay_rate)
        self.decay_steps = check_int("InverseTimeLR", "decay_steps", decay_steps, minimum=1)

    def value(self, t):
        return self.lr0 / (1.0 + self.decay_rate * t / self.decay_steps)


class PolynomialLR(Schedule):
    """``lr(t) = (lr0 - end_lr) * (1 - min(t, T) / T) ** power + end_lr``, ``T = total_steps``.

    Parameters
    ----------
    lr0 : float >= 0
    total_steps : int >= 1
    end_lr : float >= 0, default 0
    power : float > 0, default 1 (linear decay)
    """

    def __init__(self, lr0, total_steps, end_lr=0.0, power=1.0):
        self.lr0 = check_nonneg("PolynomialLR", "lr0", lr0)
        self.total_steps = check_int("PolynomialLR", "total_steps", total_steps, minimum=1)
        self.end_lr = check_nonneg("PolynomialLR", "end_lr", end_lr)
        self.power = check_positive("PolynomialLR", "power", power)

    def value(self, t):
        frac = 1.0 - min(t, self.total_steps) / self.total_steps
        return (self.lr0 - self.end_lr) * frac**self.power + self.end_lr
