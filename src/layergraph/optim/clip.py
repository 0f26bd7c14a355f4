"""Gradient clipping, usable before any optimizer's ``update``.

Both functions modify the gradient arrays **in place** (that is their purpose) and work on
a dict ``name -> ndarray`` (e.g. ``net.grads``) or a sequence of arrays.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from ._checks import check_positive
from .base import NonFiniteGradientError

__all__ = ["clip_grad_norm", "clip_grad_value", "global_norm"]


def _items(owner: str, grads):
    if isinstance(grads, Mapping):
        items = list(grads.items())
    elif isinstance(grads, (list, tuple)):
        items = [(str(i), g) for i, g in enumerate(grads)]
    else:
        raise TypeError(
            f"{owner}: argument 'grads' must be a dict or list of arrays, got {type(grads).__name__}"
        )
    for name, g in items:
        if not isinstance(g, np.ndarray):
            raise TypeError(f"{owner}: grads['{name}'] must be a numpy array, got {type(g).__name__}")
        if g.dtype.kind != "f":
            raise TypeError(f"{owner}: grads['{name}'] must have a floating dtype, got {g.dtype}")
    return items


def _norm(g: np.ndarray) -> float:
    f = g.reshape(-1)
    with np.errstate(over="ignore", invalid="ignore"):
        s = float(np.dot(f, f))
    if math.isfinite(s):
        return math.sqrt(s)
    if not np.isfinite(f).all():
        return s
    # Finite values whose squares overflow the dtype: rescale in float64 (rare path).
    m = float(np.max(np.abs(f)))
    return m * math.sqrt(float(np.sum(np.square(f.astype(np.float64) / m))))


def _total(items) -> float:
    # hypot combines the per-array norms without overflow or underflow.
    return math.hypot(*(_norm(g) for _, g in items))


def global_norm(grads) -> float:
    """Euclidean norm of all gradients taken together, ``sqrt(sum_k ||g_k||^2)``.

    Parameters
    ----------
    grads : dict of str -> ndarray, or sequence of ndarray
        Any shapes.

    Returns
    -------
    float
        NaN or inf when a gradient is non-finite.
    """
    items = _items("global_norm", grads)
    return _total(items)


def clip_grad_norm(grads, max_norm, *, error_if_nonfinite=True) -> float:
    """Scale all gradients by one factor so that their global norm is at most ``max_norm``.

    If ``N = global_norm(grads) > max_norm``, every array is multiplied in place by
    ``max_norm / N``; otherwise nothing changes.

    Parameters
    ----------
    grads : dict of str -> ndarray, or sequence of ndarray
        Floating arrays of any shapes; modified in place.
    max_norm : float > 0
    error_if_nonfinite : bool, default True
        If the norm is NaN/inf: raise :class:`NonFiniteGradientError` naming the first
        offending key (True), or return the norm and leave ``grads`` unchanged (False).

    Returns
    -------
    float
        The global norm **before** clipping.
    """
    max_norm = check_positive("clip_grad_norm", "max_norm", max_norm)
    items = _items("clip_grad_norm", grads)
    total = _total(items)
    if not math.isfinite(total):
        if error_if_nonfinite:
            bad = next((name for name, g in items if not np.isfinite(g).all()), items[0][0])
            raise NonFiniteGradientError(
                f"clip_grad_norm: gradient '{bad}' contains NaN or inf (global norm {total})", bad
            )
        return total
    if total > max_norm:
        coef = max_norm / total
        for _, g in items:
            g *= coef
    return total


def clip_grad_value(grads, clip_value) -> None:
    """Clip every gradient element to ``[-clip_value, clip_value]``, in place.

    Parameters
    ----------
    grads : dict of str -> ndarray, or sequence of ndarray
        Floating arrays of any shapes; modified in place (NaN stays NaN).
    clip_value : float > 0
    """
    c = check_positive("clip_grad_value", "clip_value", clip_value)
    for _, g in _items("clip_grad_value", grads):
        np.clip(g, -c, c, out=g)
