"""Drive an optimizer's ``lr`` from a schedule, per step or per epoch."""

from __future__ import annotations

from collections.abc import Mapping

from .._checks import check_int
from .base import Schedule, check_lr
from .plateau import ReduceLROnPlateau

__all__ = ["LRDriver", "attach"]


class LRDriver:
    """Sets ``optimizer.lr`` from ``schedule`` at construction and at every :meth:`step`.

    For a pure schedule - a :class:`~layergraph.optim.schedules.Schedule` or any function
    ``t -> lr`` - the driver keeps the counter ``t`` (starting at ``start``) and sets
    ``optimizer.lr = schedule(t)``; call ``step()`` after every optimizer update (per-step
    schedule) or after every epoch (per-epoch). For :class:`ReduceLROnPlateau` call
    ``step(metric)``.

    Parameters
    ----------
    optimizer : object with a settable ``lr`` (any :class:`~layergraph.optim.Optimizer`)
    schedule : Schedule, callable ``t -> lr`` or ReduceLROnPlateau
        A function must return a finite real number ``>= 0`` for every ``t``; anything else
        raises a one-line ``TypeError`` / ``ValueError`` naming it and ``t``, before
        ``optimizer.lr`` or the counter changes.
    start : int >= 0, default 0

    Raises
    ------
    TypeError
        *optimizer* has no ``lr``, or *schedule* is neither callable nor a ReduceLROnPlateau.
    """

    def __init__(self, optimizer, schedule, *, start=0):
        if not hasattr(optimizer, "lr"):
            raise TypeError(f"LRDriver: argument 'optimizer' must have an 'lr' attribute, got {type(optimizer).__name__}")
        if not (callable(schedule) or isinstance(schedule, ReduceLROnPlateau)):
            raise TypeError(
                "LRDriver: argument 'schedule' must be a Schedule, a function t -> lr or a ReduceLROnPlateau, "
                f"got {type(schedule).__name__}"
            )
        self.optimizer = optimizer
        self.schedule = schedule
        self.t = check_int("LRDriver", "start", start, minimum=0)
        self._apply()

    @property
    def plateau(self) -> bool:
        """Whether the schedule is metric-driven (:class:`ReduceLROnPlateau`)."""
        return isinstance(self.schedule, ReduceLROnPlateau)

    def _lr_at(self, t: int) -> float:
        schedule = self.schedule
        if isinstance(schedule, Schedule):
            return schedule(t)  # checks its own value
        name = getattr(schedule, "__qualname__", None) or type(schedule).__name__
        return check_lr(f"LRDriver: schedule {name}", schedule(t), t)

    def _apply(self) -> float:
        lr = self.schedule.lr if self.plateau else self._lr_at(self.t)
        self.optimizer.lr = lr
        return lr

    def step(self, metric=None) -> float:
        """Advance by one step/epoch and return the learning rate now set on the optimizer."""
        if self.plateau:
            if metric is None:
                raise TypeError("LRDriver.step: ReduceLROnPlateau needs argument 'metric'")
            self.t += 1
            self.optimizer.lr = self.schedule.step(metric)
            return self.optimizer.lr
        if metric is not None:
            raise TypeError(f"LRDriver.step: {type(self.schedule).__name__} takes no 'metric'")
        lr = self._lr_at(self.t + 1)  # checked before anything changes
        self.t += 1
        self.optimizer.lr = lr
        return lr

    def state_dict(self) -> dict:
        """``{"t": int, "schedule": plateau state or None}``."""
        return {"t": self.t, "schedule": self.schedule.state_dict() if self.plateau else None}

    def load_state_dict(self, d: Mapping) -> None:
        """Restore :meth:`state_dict` and set the optimizer's lr accordingly."""
        if not isinstance(d, Mapping) or set(d) != {"t", "schedule"}:
            raise ValueError(f"LRDriver.load_state_dict: expected keys ['schedule', 't'], got {d!r}")
        self.t = check_int("LRDriver.load_state_dict", "t", d["t"], minimum=0)
        if self.plateau:
            self.schedule.load_state_dict(d["schedule"])
        self._apply()


def attach(optimizer, schedule, *, start=0) -> LRDriver:
    """Let ``schedule`` (a Schedule, a function ``t -> lr`` or ReduceLROnPlateau) drive ``optimizer.lr``.

    See :class:`LRDriver` for the arguments.

    Returns
    -------
    LRDriver

    Examples
    --------
    >>> from layergraph.optim import SGD
    >>> from layergraph.optim.schedules import StepLR, attach
    >>> opt = SGD(lr=1.0)
    >>> drv = attach(opt, StepLR(0.1, step_size=2))
    >>> [opt.lr] + [drv.step() for _ in range(3)]
    [0.1, 0.1, 0.010000000000000002, 0.010000000000000002]
    """
    return LRDriver(optimizer, schedule, start=start)
