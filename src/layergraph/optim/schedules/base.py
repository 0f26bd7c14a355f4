"""Base class of the pure learning-rate schedules, and the check of a schedule's value."""

from __future__ import annotations

import math
from numbers import Real

import numpy as np

from .._checks import check_int

__all__ = ["Schedule", "check_lr"]


def check_lr(owner: str, lr, t: int) -> float:
    """Return the learning rate *lr* that *owner* gave for step *t* as a float, or raise.

    Parameters
    ----------
    owner : str
        What produced the value, for the message (``"MySchedule.value"``, ``"function warmup"``).
    lr : object
        The value returned.
    t : int
        The step it was returned for.

    Raises
    ------
    TypeError
        *lr* is not a real number (``bool`` included).
    ValueError
        *lr* is NaN, infinite or negative.
    """
    if isinstance(lr, bool) or not isinstance(lr, Real):
        raise TypeError(f"{owner}({t}) must return a learning rate (a real number), got {type(lr).__name__}")
    out = float(lr)
    if not (math.isfinite(out) and out >= 0.0):
        raise ValueError(f"{owner}({t}) must return a finite learning rate >= 0, got {out!r}")
    return out


class Schedule:
    """A learning rate as a pure function of an integer step (or epoch) ``t >= 0``.

    Subclasses implement :meth:`value`; ``sched(t)`` validates ``t`` and the result and
    returns a Python float. Calling a schedule never changes it: the same ``t`` always gives
    the same value, whatever was called before. Use
    :func:`~layergraph.optim.schedules.attach` to drive an optimizer's ``lr`` with it, per
    step or per epoch (a plain function ``t -> lr`` works there too).

    Examples
    --------
    >>> class Halving(Schedule):
    ...     def __init__(self, lr0, every):
    ...         self.lr0, self.every = lr0, every
    ...     def value(self, t):
    ...         return self.lr0 * 0.5 ** (t // self.every)
    >>> Halving(0.1, every=2).values(5).tolist()
    [0.1, 0.1, 0.05, 0.05, 0.025]
    """

    #: The hook ``sched(t)`` calls: that of the most derived class defining one, ``value`` or, in code written for
    #: earlier versions, ``_value`` (so a subclass of a built-in overriding either is what runs); set per class.
    _hook_name = "value"

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls._hook_name = next(("value" if "value" in vars(c) else "_value") for c in cls.__mro__
                              if "value" in vars(c) or "_value" in vars(c))

    def __call__(self, t) -> float:
        t = check_int(type(self).__name__, "t", t, minimum=0)
        return check_lr(f"{type(self).__name__}.value", self._hook()(t), t)

    def _hook(self):
        """The bound hook ``sched(t)`` calls (see :attr:`_hook_name`)."""
        return getattr(self, self._hook_name)

    def value(self, t: int) -> float:
        """The learning rate at step *t*: the hook subclasses implement.

        Parameters
        ----------
        t : int
            ``>= 0``, already validated by ``sched(t)``.

        Returns
        -------
        float
            Finite and ``>= 0`` (``sched(t)`` checks it).
        """
        if type(self)._value is not Schedule._value:          # code written for the earlier hook name
            return self._value(t)
        raise NotImplementedError(f"{type(self).__name__}: a Schedule subclass must implement value(t)")

    def _value(self, t: int) -> float:
        # Code written for earlier versions overrides this name (see _hook); calling it reaches value(t).
        if type(self).value is not Schedule.value:
            return self.value(t)
        raise NotImplementedError(f"{type(self).__name__}: a Schedule subclass must implement value(t)")

    def values(self, n) -> np.ndarray:
        """The first ``n`` values, ``[sched(0), ..., sched(n-1)]``.

        Returns
        -------
        ndarray, shape (n,), float64
        """
        n = check_int(type(self).__name__, "n", n, minimum=0)
        owner = f"{type(self).__name__}.value"
        hook = self._hook()
        return np.array([check_lr(owner, hook(t), t) for t in range(n)], dtype=np.float64)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({args})"
