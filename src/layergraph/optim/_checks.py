"""Validation helpers for optimizer and schedule hyperparameters.

Every helper returns the value converted to a plain Python ``float`` (or ``int``)
so that update arithmetic with NumPy arrays keeps the array's own dtype.
"""

from __future__ import annotations

import math
from numbers import Integral, Real

__all__ = [
    "as_real",
    "check_nonneg",
    "check_positive",
    "check_unit_interval",
    "check_int",
]


def as_real(owner: str, name: str, value) -> float:
    """Return ``value`` as a finite Python float or raise.

    Raises
    ------
    TypeError
        If ``value`` is not a real number (``bool`` is rejected too).
    ValueError
        If ``value`` is NaN or infinite.
    """
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(
            f"{owner}: argument '{name}' must be a real number, got {type(value).__name__} ({value!r})"
        )
    out = float(value)
    if not math.isfinite(out):
        raise ValueError(f"{owner}: argument '{name}' must be finite, got {out!r}")
    return out


def check_nonneg(owner: str, name: str, value) -> float:
    """Finite float ``>= 0``; ``ValueError`` naming ``name`` otherwise."""
    out = as_real(owner, name, value)
    if out < 0.0:
        raise ValueError(f"{owner}: argument '{name}' must be >= 0, got {out!r}")
    return out


def check_positive(owner: str, name: str, value) -> float:
    """Finite float ``> 0``; ``ValueError`` naming ``name`` otherwise."""
    out = as_real(owner, name, value)
    if out <= 0.0:
        raise ValueError(f"{owner}: argument '{name}' must be > 0, got {out!r}")
    return out


def check_unit_interval(owner: str, name: str, value) -> float:
    """Finite float in the half-open interval ``[0, 1)``."""
    out = as_real(owner, name, value)
    if not 0.0 <= out < 1.0:
        raise ValueError(f"{owner}: argument '{name}' must be in [0, 1), got {out!r}")
    return out


def check_int(owner: str, name: str, value, minimum: int = 0) -> int:
    """Python int ``>= minimum`` (``bool`` and floats are rejected with ``TypeError``)."""
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise TypeError(
            f"{owner}: argument '{name}' must be an integer, got {type(value).__name__} ({value!r})"
        )
    out = int(value)
    if out < minimum:
        raise ValueError(f"{owner}: argument '{name}' must be >= {minimum}, got {out}")
    return out
