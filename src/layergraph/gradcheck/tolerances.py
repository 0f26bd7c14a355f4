"""The tolerance model of the gradient checker, with defaults per dtype of the numeric pass.

An element (or a directional derivative) with analytic value ``a`` and Richardson-extrapolated numeric value ``n``
passes when::

    |a - n| <= atol + rtol * max(|a|, |n|) + c * (truncation + roundoff)

where ``truncation = |D(h) - D(h/2)| / 3`` is the Richardson estimate of the truncation error of the central
difference ``D(h/2)`` and ``roundoff = u * S / h`` estimates the cancellation error of the difference
(``u`` the unit roundoff of the numeric dtype, ``S`` the magnitude of the output terms that changed). Both
estimates are tiny for a smooth function and a well-chosen step, so they loosen the test only where the numerics
themselves are uncertain; a wrong gradient is off by ``O(|a|)`` and still fails.
"""

from dataclasses import dataclass, replace

import numpy as np


@dataclass(frozen=True)
class Tolerance:
    """Step and tolerances of one check.

    Attributes
    ----------
    eps : float
        Relative step: an element ``v`` moves by ``h = eps * max(1, |v|)`` (and ``h/2``).
    rtol, atol : float
        Relative and absolute tolerance; ``atol / rtol`` is also the floor of the reported relative error.
    c : float
        Weight of the numeric error estimate (truncation + roundoff) in the allowed error.
    kink : float
        An element is treated as sitting at a kink when its non-smoothness indicator ``kappa`` exceeds
        ``kink * (atol + rtol * max(|a|, |n|)) + 2 * c * roundoff``. A kink makes the Richardson value miss the
        one-sided derivative by at most ``c * truncation + kappa / 2`` (for ``c >= 4``), so with ``kink <= 2``
        every kink that could cause a failure is flagged (see :mod:`layergraph.gradcheck.numeric`).
    """

    eps: float
    rtol: float
    atol: float
    c: float = 4.0
    kink: float = 1.0

    @property
    def floor(self):
        """Floor of the denominator of the relative error ``|a - n| / max(|a|, |n|, floor)``."""
        return self.atol / self.rtol

    def allowed(self, a, n, estimate):
        """The largest ``|a - n|`` accepted, given the numeric error *estimate* (arrays broadcast)."""
        return self.atol + self.rtol * np.maximum(np.abs(a), np.abs(n)) + self.c * estimate

    def kink_threshold(self, a, n, roundoff):
        """Values of the non-smoothness indicator above which an element counts as sitting at a kink."""
        return self.kink * (self.atol + self.rtol * np.maximum(np.abs(a), np.abs(n))) + 2 * self.c * roundoff


DEFAULTS = {
    np.dtype(np.float64): Tolerance(eps=1e-4, rtol=1e-7, atol=1e-10),
    np.dtype(np.float32): Tolerance(eps=1e-2, rtol=2e-3, atol=1e-5),
}
"""Defaults per numeric dtype. float64 is the default numeric pass whatever the layer's dtype."""


def resolve(dtype, eps=None, rtol=None, atol=None):
    """Return the :class:`Tolerance` for a numeric pass in *dtype*, with any given value overriding the default.

    Raises
    ------
    ValueError
        For a dtype without defaults or a non-positive ``eps``/``rtol`` or negative ``atol``.
    """
    dtype = np.dtype(dtype)
    if dtype not in DEFAULTS:
        raise ValueError(f"gradcheck: no tolerance defaults for dtype {dtype}; expected float32 or float64")
    tol = DEFAULTS[dtype]
    changes = {k: float(v) for k, v in (("eps", eps), ("rtol", rtol), ("atol", atol)) if v is not None}
    tol = replace(tol, **changes)
    if not (tol.eps > 0 and tol.rtol > 0 and tol.atol >= 0):
        raise ValueError(f"gradcheck: need eps > 0, rtol > 0 and atol >= 0; "
                         f"got eps={tol.eps}, rtol={tol.rtol}, atol={tol.atol}")
    return tol


def unit_roundoff(dtype):
    """Unit roundoff ``u = finfo(dtype).eps / 2``."""
    return float(np.finfo(dtype).eps) / 2
