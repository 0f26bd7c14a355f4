"""Finite differences with error estimates, Richardson extrapolation where needed, and kink detection.

Elements are first judged on the plain central difference ``D(h)`` (two evaluations): an element whose analytic
value agrees with it within half of ``atol + rtol * max(|a|, |D|)`` (no allowance for the numeric error, so the
test is stricter than the full one) passes at once. Only the others (near or beyond the tolerance, or at a kink) get
the two further evaluations at ``+-h/2`` and the full treatment below.

For one coordinate (an element, or a direction) the objective is evaluated at offsets ``+h, -h, +h/2, -h/2``
(as differences ``phi`` from the unperturbed value). From them:

* ``D(h) = (phi(h) - phi(-h)) / 2h`` and ``D(h/2)``, central differences;
* ``numeric = D(h/2) + (D(h/2) - D(h)) / 3``, the Richardson extrapolation (error ``O(h^4)``);
* ``truncation = |D(h/2) - D(h)| / 3``, the estimated error of ``D(h/2)``;
* ``roundoff = u * S / h`` with ``S`` the magnitude of the output terms that changed;
* the non-smoothness indicator ``kappa = |s(h) - 4 s(h/2)| / h`` with ``s(h) = phi(h) + phi(-h)``: for a
  smooth function the second differences scale as ``h^2`` and ``kappa = O(h^3)``; a kink (a jump ``J`` of the
  derivative) at distance ``c <= h`` gives ``kappa = J |3c - h| / h`` (``J`` for a kink exactly at the point).
  Where ``kappa`` is small (``c`` near ``h/3``) the kink inflates the truncation estimate instead, and the
  tolerance ``c * truncation`` covers the error: for a piecewise-linear kink anywhere within ``+-h``,
  ``|numeric - analytic| - 4 * truncation <= kappa / 2``. So an element can only fail from a kink if ``kappa``
  exceeds twice its allowed error, and those elements are skipped as kinks, as are elements whose
  ``kink_branches()`` changed.
"""

from dataclasses import dataclass, field

import numpy as np

from .batched import OFFSETS, batched_phis
from .batched_params import param_phis


QUICK = 0.5
"""Elements whose analytic value is within this fraction of ``atol + rtol * max(|a|, |D(h)|)`` of the central
difference ``D(h)`` pass after two evaluations (no allowance for the numeric error: a stricter test)."""


@dataclass
class Estimates:
    """Numeric derivatives of a set of coordinates (all arrays of the same length ``k``).

    ``phi`` (k, 4) holds ``f - f0`` at ``+h, -h, +h/2, -h/2`` (NaN where not evaluated), ``h`` the steps and
    ``changes`` (k, 4) the number of kink-signature entries each perturbation changed; ``quick`` marks elements
    accepted on the central difference ``D(h)`` alone.
    """

    numeric: np.ndarray
    truncation: np.ndarray
    roundoff: np.ndarray
    kappa: np.ndarray
    hooked_kink: np.ndarray
    phi: np.ndarray = None
    h: np.ndarray = None
    changes: np.ndarray = None
    quick: np.ndarray = field(default=None)
    keys: np.ndarray = None

    @property
    def estimate(self):
        """Total numeric error estimate, ``truncation + roundoff``."""
        return self.truncation + self.roundoff


def estimates_from(phi, scale, h, kinked, u):
    """Build :class:`Estimates` from ``phi``/``scale`` of shape (k, 4) at offsets ``+h, -h, +h/2, -h/2``.

    *kinked* is (k,) or (k, 4): counts (or flags) of kink-signature entries changed by each perturbation.
    """
    d1 = (phi[:, 0] - phi[:, 1]) / (2 * h)
    d2 = (phi[:, 2] - phi[:, 3]) / h
    s1 = phi[:, 0] + phi[:, 1]
    s2 = phi[:, 2] + phi[:, 3]
    kappa = np.abs(s1 - 4 * s2) / h
    roundoff = u * np.max(scale, axis=1) / h
    changes = np.asarray(kinked)
    if changes.ndim == 1:
        changes = np.repeat(changes.astype(np.int64)[:, None], phi.shape[1], axis=1)
    hooked = np.any(changes > 0, axis=1)
    return Estimates(d2 + (d2 - d1) / 3.0, np.abs(d2 - d1) / 3.0, roundoff, kappa, hooked, phi, h,
                     changes.astype(np.int64), np.zeros(len(h), dtype=bool))


def steps_for(value, flat, eps):
    """Steps ``h = eps * max(1, |v|)`` for the elements *flat* of *value*."""
    return eps * np.maximum(1.0, np.abs(value.reshape(-1)[flat].astype(np.float64)))


def evaluate(obj, name, value, flat, h, offsets, batched):
    """``(phi, scale, changes, keys)``, each (len(flat), len(offsets)), for elements *flat* moved by
    ``offsets * h``: ``changes`` counts the kink-signature entries each perturbation changed, ``keys`` sums their
    positions (equal keys: the same entries).

    *value* is perturbed in place (through its strides, so non-contiguous tensors work too) and restored
    bit-exactly. Input perturbations are stacked along the batch axis when *batched*; parameters of layers with
    an output-delta rule are stacked by :func:`~.batched_params.param_phis` when possible.
    """
    if obj.is_input(name) and batched:
        return batched_phis(obj, flat, h, offsets)
    if not obj.is_input(name):
        stacked = param_phis(obj, name, value, flat, h, offsets)
        if stacked is not None:
            return stacked
    start = obj.owner_index(name)
    k = len(flat)
    phi = np.zeros((k, len(offsets)))
    scale = np.zeros((k, len(offsets)))
    changes = np.zeros((k, len(offsets)), dtype=np.int64)
    keys = np.zeros((k, len(offsets)), dtype=np.int64)
    index = np.unravel_index(np.asarray(flat, dtype=np.int64), value.shape) if value.ndim else None
    for e in range(k):
        where = tuple(int(i[e]) for i in index) if index is not None else ()
        original = value[where].copy()
        try:
            for j, off in enumerate(offsets):
                value[where] = original + off * h[e]
                phi[e, j], scale[e, j], changes[e, j] = obj.phi(start)
                keys[e, j] = obj.change_key
        finally:
            value[where] = original
    return phi, scale, changes, keys


def _runner(obj):
    workers = getattr(obj, "workers", 1)
    if workers <= 1:
        return evaluate
    from .workers import evaluate_parallel

    return lambda *args: evaluate_parallel(*args, workers)


def element_estimates(obj, name, value, flat, tol, u, batched, analytic=None):
    """Numeric derivatives of the objective with respect to elements *flat* of tensor *name* (array *value*).

    With *analytic* (the flat analytic gradient), elements whose analytic value agrees with the central
    difference ``D(h)`` are accepted after two evaluations; the rest get four (Richardson, kink indicator).
    """
    flat = np.asarray(flat, dtype=np.int64)
    h = steps_for(value, flat, tol.eps)
    k = len(flat)
    phi = np.full((k, 4), np.nan)
    scale = np.zeros((k, 4))
    changes = np.zeros((k, 4), dtype=np.int64)
    keys = np.zeros((k, 4), dtype=np.int64)
    run = _runner(obj)
    phi[:, :2], scale[:, :2], changes[:, :2], keys[:, :2] = run(obj, name, value, flat, h, OFFSETS[:2], batched)
    d1 = (phi[:, 0] - phi[:, 1]) / (2 * h)
    roundoff = u * np.max(scale[:, :2], axis=1) / h
    if analytic is None:
        quick = np.zeros(k, dtype=bool)
    else:
        a = analytic[flat]
        quick = ((np.abs(a - d1) <= QUICK * (tol.atol + tol.rtol * np.maximum(np.abs(a), np.abs(d1))))
                 & np.all(changes[:, :2] == 0, axis=1))
    rest = np.flatnonzero(~quick)
    if len(rest):
        p, sc, ch, ky = run(obj, name, value, flat[rest], h[rest], OFFSETS[2:], batched)
        phi[rest, 2:], scale[rest, 2:], changes[rest, 2:], keys[rest, 2:] = p, sc, ch, ky
    est = estimates_from(np.where(np.isnan(phi), 0.0, phi), scale, h, changes, u)
    est.numeric[quick] = d1[quick]
    est.truncation[quick] = 0.0
    est.roundoff[quick] = roundoff[quick]
    est.kappa[quick] = 0.0
    est.phi = phi
    est.quick = quick
    est.keys = keys
    return est


def directional_estimate(obj, name, value, direction, mask, tol, u, shrink=1.0):
    """Numeric derivative of the objective along ``direction * mask`` for tensor *name*.

    The step is chosen so the largest element moves by ``eps * max(1, max|value|) / shrink``.
    """
    v = direction if mask is None else direction * mask
    vmax = float(np.max(np.abs(v), initial=0.0))
    if vmax == 0.0:
        zero = np.zeros(1)
        return Estimates(zero, zero, zero, zero, np.zeros(1, bool))
    h = tol.eps * max(1.0, float(np.max(np.abs(value), initial=0.0))) / vmax / shrink
    start = obj.owner_index(name)
    original = value.copy()
    phi = np.zeros((1, 4))
    scale = np.zeros((1, 4))
    kinked = np.zeros((1, 4), dtype=np.int64)
    try:
        for j, off in enumerate(OFFSETS):
            np.add(original, (off * h) * v, out=value, casting="unsafe")
            phi[0, j], scale[0, j], kinked[0, j] = obj.phi(start)
    finally:
        np.copyto(value, original)
    return estimates_from(phi, scale, np.array([h]), kinked, u)
