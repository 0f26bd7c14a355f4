"""DeepOBS's noisy quadratic problem (``quadratic-deep``) and the layer it is made of.

The loss of one sample ``x`` is ``0.5 (theta - x)^T H (theta - x)`` with a fixed
100 x 100 Hessian ``H = Q diag(lambda) Q^T``: 90 eigenvalues uniform in [0, 1] and 10
in [30, 60], ``Q`` a random rotation (Schneider, Balles & Hennig, DeepOBS, 2019).
The samples are ``x ~ N(0, I)``, so the expected loss is smallest at ``theta = 0``
and mini-batches give noisy gradients.  It is written here as a network: the layer
:class:`QuadraticDeviation` maps ``x`` to ``y = (theta - x) S`` with ``S = sqrt(D / 2)
H^{1/2}`` and the mean squared error against zeros gives exactly the loss above.
"""

from __future__ import annotations

import functools

import numpy as np

from .. import layers as L
from ..errors import ShapeError, describe, shape_str
from ..gradcheck.registry import register_case
from ..network import Sequential

__all__ = ["QuadraticDeviation", "quadratic_hessian", "quadratic_data", "quadratic_network", "DIM"]

#: Dimension of the problem.
DIM = 100


class QuadraticDeviation(L.Layer):
    """``y = (theta - x) @ S`` for a fixed square matrix ``S``; the only parameter is ``theta``.

    Parameters
    ----------
    scale : ndarray, shape (D, D)
        The fixed matrix ``S`` (not trained).
    theta0 : ndarray, shape (D,)
        Initial ``theta`` (copied).
    dtype : numpy dtype, default float32

    Shapes
    ------
    x : ``(N, D)``; y : ``(N, D)``.
    """

    def __init__(self, scale, theta0, dtype=np.float32):
        super().__init__()
        self.dtype = np.dtype(dtype)
        scale = np.asarray(scale)
        if scale.ndim != 2 or scale.shape[0] != scale.shape[1]:
            raise ShapeError(f"QuadraticDeviation: argument 'scale' must be square (D, D), got "
                             f"{shape_str(scale.shape)}")
        theta0 = np.asarray(theta0)
        if theta0.shape != (scale.shape[0],):
            raise ShapeError(f"QuadraticDeviation: argument 'theta0' must have shape ({scale.shape[0]},), got "
                             f"{shape_str(theta0.shape)}")
        self.buffers["scale"] = scale.astype(self.dtype)
        self.params["theta"] = theta0.astype(self.dtype, copy=True)
        self.grads["theta"] = np.zeros_like(self.params["theta"])
        self._diff = None

    def forward(self, x, train=True):
        x = np.asarray(x)
        d = self.params["theta"].shape[0]
        if x.ndim != 2 or x.shape[1] != d:
            raise ShapeError(f"{describe(self)}: argument 'x' must have shape (N, {d}), got {shape_str(x.shape)}")
        self._diff = self.params["theta"] - x
        return self._diff @ self.buffers["scale"]

    def backward(self, dout):
        diff = self._cached(self._diff)
        dout = self._check_dout(dout, diff.shape)
        g = dout @ self.buffers["scale"].T
        self.grads["theta"][...] = g.sum(axis=0)
        return -g if self.requires_input_grad else None

    def extra_repr(self):
        return f"dim={self.params['theta'].shape[0]}"


@register_case(QuadraticDeviation, "random-scale")
def _case(rng):
    s = rng.standard_normal((4, 4))
    return QuadraticDeviation(s, rng.standard_normal(4), dtype=np.float64), rng.standard_normal((3, 4)), None


@functools.lru_cache(maxsize=1)
def quadratic_hessian(dim: int = DIM, seed: int = 42) -> np.ndarray:
    """The fixed Hessian ``H`` (float64, ``(dim, dim)``): 90% eigenvalues in [0, 1], 10% in [30, 60]."""
    rng = np.random.default_rng(seed)
    n_big = dim // 10
    lam = np.concatenate([rng.uniform(0.0, 1.0, dim - n_big), rng.uniform(30.0, 60.0, n_big)])
    q, r = np.linalg.qr(rng.standard_normal((dim, dim)))
    q = q * np.sign(np.diag(r))
    return (q * lam) @ q.T


def _sqrt_psd(h):
    w, v = np.linalg.eigh(h)
    return (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T


@functools.lru_cache(maxsize=1)
def quadratic_data(data_dir=None):
    """Samples ``x ~ N(0, I)``: 1,000 train / 500 val / 1,000 test, targets zeros ``(N, D)`` float32."""
    from .problems import ProblemData

    rng = np.random.default_rng(1234)
    parts = [rng.standard_normal((n, DIM)).astype(np.float32) for n in (1000, 500, 1000)]
    zeros = [np.zeros_like(p) for p in parts]
    return ProblemData(parts[0], zeros[0], parts[1], zeros[1], parts[2], zeros[2])


def quadratic_network(seed: int) -> Sequential:
    """The network of ``quadratic-deep``: ``theta`` starts at ones (as in DeepOBS) whatever the seed."""
    scale = np.sqrt(DIM / 2.0) * _sqrt_psd(quadratic_hessian())
    return Sequential([("quad", QuadraticDeviation(scale, np.ones(DIM)))], loss=L.MeanSquaredError())
