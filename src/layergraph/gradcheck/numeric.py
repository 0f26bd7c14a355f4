"""Finite differences with Richardson extrapolation, error estimates and kink detection.

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

from dataclasses import dataclass

import numpy as np

from .batched import OFFSETS, batched_phis


@dataclass
class Estimates:
    """Numeric derivatives of a set of coordinates (all arrays of the same length)."""

    numeric: np.ndarray
    truncation: np.ndarray
    roundoff: np.ndarray
    kappa: np.ndarray
    hooked_kink: np.ndarray

    @property
    def estimate(self):
        """Total numeric error estimate, ``truncation + roundoff``."""
        return self.truncation + self.roundoff


def estimates_from(phi, scale, h, kinked, u):
    """Build :class:`Estimates` from ``phi``/``scale`` of shape (k, 4) at offsets ``+h, -h, +h/2, -h/2``."""
    d1 = (phi[:, 0] - phi[:, 1]) / (2 * h)
    d2 = (phi[:, 2] - phi[:, 3]) / h
    s1 = phi[:, 0] + phi[:, 1]
    s2 = phi[:, 2] + phi[:, 3]
    kappa = np.abs(s1 - 4 * s2) / h
    roundoff = u * np.max(scale, axis=1) / h
    return Estimates(d2 + (d2 - d1) / 3.0, np.abs(d2 - d1) / 3.0, roundoff, kappa, np.asarray(kinked, bool))


def steps_for(value, flat, eps):
    """Steps ``h = eps * max(1, |v|)`` for the elements *flat* of *value*."""
    return eps * np.maximum(1.0, np.abs(value.reshape(-1)[flat].astype(np.float64)))


def element_estimates(obj, name, value, flat, tol, u, batched):
    """Numeric derivatives of the objective with respect to elements *flat* of tensor *name* (array *value*).

    *value* is perturbed in place and restored bit-exactly. With ``batched`` (input only), perturbations are
    stacked along the batch axis.
    """
    flat = np.asarray(flat, dtype=np.int64)
    h = steps_for(value, flat, tol.eps)
    if name == "x" and batched:
        phi, scale, kinked = batched_phis(obj, flat, h)
        return estimates_from(phi, scale, h, kinked, u)
    start = obj.owner_index(name)
    phi = np.zeros((len(flat), 4))
    scale = np.zeros((len(flat), 4))
    kinked = np.zeros(len(flat), dtype=bool)
    view = value.reshape(-1)
    if not np.shares_memory(view, value):
        raise ValueError(f"gradcheck: tensor {name!r} is not contiguous; cannot perturb it in place")
    for k, i in enumerate(flat):
        original = view[i].copy()
        try:
            for j, off in enumerate(OFFSETS):
                view[i] = original + off * h[k]
                phi[k, j], scale[k, j], kink = obj.phi(start)
                kinked[k] |= kink
        finally:
            view[i] = original
    return estimates_from(phi, scale, h, kinked, u)


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
    kinked = False
    try:
        for j, off in enumerate(OFFSETS):
            np.add(original, (off * h) * v, out=value, casting="unsafe")
            phi[0, j], scale[0, j], kink = obj.phi(start)
            kinked |= kink
    finally:
        np.copyto(value, original)
    return estimates_from(phi, scale, np.array([h]), np.array([kinked]), u)
