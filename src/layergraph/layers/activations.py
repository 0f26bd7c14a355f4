"""Element-wise activations and the softmax layer.

Each keeps the input's dtype. ``backward`` never writes into ``dout`` or the cached arrays.
"""

import math
import numbers

import numpy as np
from scipy.special import expit

from .. import threads
from ..gradcheck.registry import register_case
from .base import Layer

#: ``max(x, 0)`` runs by rows of this many values against one shared row of zeros (see :func:`max_zero`).
ROW = 1 << 14
#: C-contiguous float arrays of at least this many bytes are split into units of :data:`UNIT` values that run on
#: layergraph's threads (:func:`layergraph.threads.parallel_for`) when it has more than one. Measured with two
#: threads: ReLU forward + backward took 0.82-0.88 of the one-piece time on 6.4-6.9 MB arrays, 1.2-3.8 times as
#: long on arrays of 1.6-4.8 MB (waking the second thread costs more than it saves there).
PARALLEL_BYTES = 6 << 20
#: Values per unit of the parallel element-wise loops (a multiple of :data:`ROW`).
UNIT = 1 << 18
_ZERO_ROWS = {}


def max_zero(x, out=None):
    """``np.maximum(x, 0)`` for a C-contiguous float array, about 2.5x faster on large float32 arrays (float64 ones
    are limited by memory and gain nothing); written into *out* (C-contiguous, ``x``'s shape and dtype) if given.

    NumPy's vectorised loop for ``maximum`` needs two arrays: against the scalar 0 it runs a slower loop. So the
    flattened ``x`` is taken by rows of :data:`ROW` values, each compared with one shared, read-only row of zeros
    (the rest with the scalar). The result is identical, NaN and signed zeros included.
    """
    zero = _ZERO_ROWS.get(x.dtype)
    if zero is None:
        zero = _ZERO_ROWS[x.dtype] = np.zeros(ROW, dtype=x.dtype)
        zero.flags.writeable = False
    if not x.flags.c_contiguous:
        raise ValueError("max_zero: x must be C-contiguous")
    y = np.empty(x.shape, dtype=x.dtype) if out is None else out
    xf, yf = x.reshape(-1), y.reshape(-1)
    k = xf.size - xf.size % ROW
    if k:
        np.maximum(xf[:k].reshape(-1, ROW), zero, out=yf[:k].reshape(-1, ROW))
    np.maximum(xf[k:], 0, out=yf[k:])
    return y


def parallel_elementwise(arrays, out_dtypes, fn):
    """Run ``fn(ins, outs)`` on units of :data:`UNIT` values of the flattened *arrays* on layergraph's threads.

    *arrays* are C-contiguous arrays of one shape; new C-contiguous outputs of that shape, one per entry of
    *out_dtypes*, are made and returned. ``fn`` gets the 1-D slices of one unit of the inputs and of the outputs
    and writes that unit of every output; units are independent, so the result is the same for every thread count.
    Returns None (nothing done) when the first array has fewer than :data:`PARALLEL_BYTES` bytes, the arrays are
    not all C-contiguous, or layergraph runs on one thread; the caller then computes the result in one piece.
    """
    shape = arrays[0].shape
    if (arrays[0].nbytes < PARALLEL_BYTES or threads.get_num_threads() < 2
            or not all(a.flags.c_contiguous and a.shape == shape for a in arrays)):
        return None
    outs = [np.empty(shape, dtype=dt) for dt in out_dtypes]
    ins_flat, outs_flat = [a.reshape(-1) for a in arrays], [o.reshape(-1) for o in outs]
    size = ins_flat[0].size
    bounds = [(s, min(s + UNIT, size)) for s in range(0, size, UNIT)]

    def unit(worker, u):
        s, e = bounds[u]
        fn([a[s:e] for a in ins_flat], [o[s:e] for o in outs_flat])
    threads.parallel_for(len(bounds), unit, limit_blas=False)
    return outs


def _relu_unit(ins, outs):
    (x,), (y, mask) = ins, outs
    np.greater(x, 0, out=mask)
    if x.dtype == np.float32:
        max_zero(x, out=y)
    else:
        np.maximum(x, 0, out=y)


def _mask_unit(ins, outs):
    np.multiply(ins[0], ins[1], out=outs[0])


class ReLU(Layer):
    """Rectified linear unit ``y = max(x, 0)``; ``dx = dout * (x > 0)`` (the derivative at 0 is taken as 0).

    Large float arrays run in units on layergraph's threads (see :func:`parallel_elementwise`).
    """

    def __init__(self):
        super().__init__()
        self._mask = None

    def forward(self, x, train=True):
        x = np.asarray(x)
        if x.dtype in (np.float32, np.float64):
            done = parallel_elementwise([x], [x.dtype, np.bool_], _relu_unit)
            if done is not None:
                y, self._mask = done
                return y
        self._mask = x > 0
        if x.size >= ROW and x.dtype == np.float32 and x.flags.c_contiguous:
            return max_zero(x)
        return np.maximum(x, 0)

    def backward(self, dout):
        mask = self._cached(self._mask)
        dout = self._check_dout(dout, mask.shape)
        if dout.dtype in (np.float32, np.float64):
            done = parallel_elementwise([dout, mask], [dout.dtype], _mask_unit)
            if done is not None:
                return done[0]
        return dout * mask

    # -- gradient-check hook --------------------------------------------------------------------------------

    def kink_branches(self):
        """Which piece of ``max(x, 0)`` each element of the last input took (``x > 0``), shape of ``x``.

        The gradient checker compares it between perturbed evaluations: an element whose branch changes within
        the finite-difference step sits at the kink and is reported as ``skipped: kink`` instead of failing.
        """
        return self._cached(self._mask)


class LeakyReLU(Layer):
    """Leaky ReLU ``y = x`` for ``x > 0`` and ``alpha * x`` otherwise.

    Parameters
    ----------
    alpha : float, default 0.01
        Slope for negative inputs; finite.
    """

    def __init__(self, alpha=0.01):
        super().__init__()
        if not isinstance(alpha, numbers.Real) or isinstance(alpha, bool):
            raise TypeError(f"LeakyReLU: 'alpha' must be a real number, got {type(alpha).__name__}")
        if not math.isfinite(alpha):
            raise ValueError(f"LeakyReLU: 'alpha' must be finite, got {alpha}")
        self.alpha = float(alpha)
        self._slope = None

    def forward(self, x, train=True):
        x = np.asarray(x)
        slope = np.where(x > 0, 1.0, self.alpha).astype(x.dtype if x.dtype.kind == "f" else np.float64)
        self._slope = slope
        return x * slope

    def backward(self, dout):
        slope = self._cached(self._slope)
        return self._check_dout(dout, slope.shape) * slope

    # -- gradient-check hook --------------------------------------------------------------------------------

    def kink_branches(self):
        """Which piece each element of the last input took (True for ``x > 0``), shape of ``x``; see
        :meth:`ReLU.kink_branches`."""
        return self._cached(self._slope) == 1.0

    def extra_repr(self):
        return f"alpha={self.alpha}"


class Sigmoid(Layer):
    """Logistic sigmoid ``y = 1 / (1 + exp(-x))``, computed without overflow (finite for ``|x| = 1000``);
    ``dx = dout * y * (1 - y)``."""

    def __init__(self):
        super().__init__()
        self._y = None

    def forward(self, x, train=True):
        self._y = expit(np.asarray(x))
        return self._y

    def backward(self, dout):
        y = self._cached(self._y)
        return self._check_dout(dout, y.shape) * (y * (1.0 - y))


class Tanh(Layer):
    """Hyperbolic tangent ``y = tanh(x)``; ``dx = dout * (1 - y**2)``."""

    def __init__(self):
        super().__init__()
        self._y = None

    def forward(self, x, train=True):
        self._y = np.tanh(np.asarray(x))
        return self._y

    def backward(self, dout):
        y = self._cached(self._y)
        return self._check_dout(dout, y.shape) * (1.0 - y * y)


def softmax(x, axis=-1):
    """Numerically stable softmax along *axis*: ``exp(x - max) / sum(exp(x - max))``."""
    z = x - np.max(x, axis=axis, keepdims=True)
    np.exp(z, out=z)
    z /= np.sum(z, axis=axis, keepdims=True)
    return z


class Softmax(Layer):
    """Softmax over the last axis, ``y_i = exp(x_i) / sum_j exp(x_j)`` (shifted by the max for stability);
    ``dx = y * (dout - sum(dout * y, axis=-1))``. Use :class:`SoftmaxWithLoss` for training a classifier."""

    def __init__(self):
        super().__init__()
        self._y = None

    def forward(self, x, train=True):
        x = np.asarray(x)
        self._y = softmax(x if x.dtype.kind == "f" else x.astype(np.float64))
        return self._y

    def backward(self, dout):
        y = self._cached(self._y)
        dout = self._check_dout(dout, y.shape)
        return y * (dout - np.sum(dout * y, axis=-1, keepdims=True))


def _away_from_zero(rng, shape, margin=0.05):
    """Normal samples pushed at least *margin* away from 0, so kinks sit far from the finite-difference steps."""
    x = rng.standard_normal(shape)
    return x + np.copysign(margin, x)


@register_case(ReLU)
def _relu(rng):
    return ReLU(), _away_from_zero(rng, (4, 6)), None


@register_case(LeakyReLU)
def _leaky(rng):
    return LeakyReLU(alpha=0.1), _away_from_zero(rng, (3, 2, 5)), None


@register_case(Sigmoid)
def _sigmoid(rng):
    return Sigmoid(), 3 * rng.standard_normal((4, 5)), None


@register_case(Tanh)
def _tanh(rng):
    return Tanh(), 2 * rng.standard_normal((4, 5)), None


@register_case(Softmax)
def _softmax(rng):
    return Softmax(), 2 * rng.standard_normal((3, 2, 6)), None
