"""Smooth element-wise activations: ELU, GELU (exact), SiLU / Swish, Softplus.

Each keeps a floating input's dtype (other inputs become float64) and never writes into ``x``, ``dout`` or its cache.
"""

import math
import numbers

import numpy as np
from scipy.special import erf, expit

from ..gradcheck.registry import register_case
from .base import Layer

_INV_SQRT2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


def _float(x):
    x = np.asarray(x)
    return x if x.dtype.kind == "f" else x.astype(np.float64)


class ELU(Layer):
    """Exponential linear unit: ``y = x`` for ``x > 0``, ``alpha * (exp(x) - 1)`` otherwise.

    ``dy/dx = 1`` for ``x > 0`` and ``y + alpha`` otherwise (the derivative at 0 is taken from the left).

    Parameters
    ----------
    alpha : float, default 1.0
        Saturation value for very negative inputs is ``-alpha``; finite and ``>= 0``.
    """

    def __init__(self, alpha=1.0):
        super().__init__()
        if not isinstance(alpha, numbers.Real) or isinstance(alpha, bool):
            raise TypeError(f"ELU: 'alpha' must be a real number, got {type(alpha).__name__}")
        if not (math.isfinite(alpha) and alpha >= 0):
            raise ValueError(f"ELU: 'alpha' must be finite and >= 0, got {alpha}")
        self.alpha = float(alpha)
        self._slope = None

    def forward(self, x, train=True):
        x = _float(x)
        neg = np.expm1(np.minimum(x, 0))           # exp(x) - 1 for x <= 0, exactly 0 for x > 0
        neg *= self.alpha
        y = np.where(x > 0, x, neg)
        neg += self.alpha                          # alpha * exp(x): the slope on the negative side
        self._slope = np.where(x > 0, 1.0, neg).astype(x.dtype, copy=False)
        return y

    def backward(self, dout):
        slope = self._cached(self._slope)
        return self._check_dout(dout, slope.shape) * slope

    def extra_repr(self):
        return f"alpha={self.alpha}"


class GELU(Layer):
    """Gaussian error linear unit, exact form: ``y = x * Phi(x)`` with ``Phi(x) = (1 + erf(x / sqrt(2))) / 2``.

    ``dy/dx = Phi(x) + x * phi(x)``, ``phi(x) = exp(-x**2 / 2) / sqrt(2 pi)`` (not the tanh approximation).
    """

    def __init__(self):
        super().__init__()
        self._slope = None

    def forward(self, x, train=True):
        x = _float(x)
        cdf = erf(x * _INV_SQRT2)
        cdf += 1.0
        cdf *= 0.5
        pdf = np.exp(-0.5 * x * x) * _INV_SQRT_2PI
        self._slope = cdf + x * pdf
        return x * cdf

    def backward(self, dout):
        slope = self._cached(self._slope)
        return self._check_dout(dout, slope.shape) * slope


class SiLU(Layer):
    """Sigmoid linear unit (Swish with beta = 1): ``y = x * s`` with ``s = sigmoid(x)``.

    ``dy/dx = s * (1 + x * (1 - s))``; the sigmoid is computed without overflow.
    """

    def __init__(self):
        super().__init__()
        self._slope = None

    def forward(self, x, train=True):
        x = _float(x)
        s = expit(x)
        y = x * s
        self._slope = s * (1.0 + x - y)            # s * (1 + x * (1 - s)) = s * (1 + x - x * s)
        return y

    def backward(self, dout):
        slope = self._cached(self._slope)
        return self._check_dout(dout, slope.shape) * slope


Swish = SiLU
"""Alias of :class:`SiLU`."""


class Softplus(Layer):
    """Softplus ``y = log(1 + exp(x))``, computed as ``logaddexp(0, x)`` (finite for any finite ``x``);
    ``dy/dx = sigmoid(x)``."""

    def __init__(self):
        super().__init__()
        self._slope = None

    def forward(self, x, train=True):
        x = _float(x)
        self._slope = expit(x)
        return np.logaddexp(0.0, x)

    def backward(self, dout):
        slope = self._cached(self._slope)
        return self._check_dout(dout, slope.shape) * slope


def _away_from_zero(rng, shape, margin=0.05):
    x = rng.standard_normal(shape)
    return x + np.copysign(margin, x)


@register_case(ELU)
def _elu(rng):
    return ELU(alpha=0.7), 2 * _away_from_zero(rng, (4, 5)), None


@register_case(GELU)
def _gelu(rng):
    return GELU(), 2 * rng.standard_normal((3, 2, 5)), None


@register_case(SiLU)
def _silu(rng):
    return SiLU(), 3 * rng.standard_normal((4, 5)), None


@register_case(Softplus)
def _softplus(rng):
    return Softplus(), 3 * rng.standard_normal((4, 5)), None
