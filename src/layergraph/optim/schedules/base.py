"""Base class of the pure learning-rate schedules."""

from __future__ import annotations

import numpy as np

from .._checks import check_int

__all__ = ["Schedule"]


class Schedule:
    """A learning rate as a pure function of an integer step (or epoch) ``t >= 0``.

    Subclasses implement ``_value(t)``; ``sched(t)`` validates ``t`` and returns a Python
    float. Calling a schedule never changes it: the same ``t`` always gives the same value,
    whatever was called before. Use :func:`~layergraph.optim.schedules.attach` to drive an
    optimizer's ``lr`` with it, per step or per epoch.
    """

    def __call__(self, t) -> float:
        t = check_int(type(self).__name__, "t", t, minimum=0)
        return float(self._value(t))

    def _value(self, t: int) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def values(self, n) -> np.ndarray:
        """The first ``n`` values, ``[sched(0), ..., sched(n-1)]``.

        Returns
        -------
        ndarray, shape (n,), float64
        """
        n = check_int(type(self).__name__, "n", n, minimum=0)
        return np.array([self._value(t) for t in range(n)], dtype=np.float64)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({args})"
