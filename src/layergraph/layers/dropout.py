"""Inverted dropout."""

import numbers

import numpy as np

from ..gradcheck.registry import register_case
from .base import Layer
from .init import as_generator


class Dropout(Layer):
    """Inverted dropout: in training each unit is kept with probability ``1 - p`` and scaled by ``1 / (1 - p)``.

    ``y = x * m`` with ``m = (u >= p) / (1 - p)`` and ``u`` uniform on ``[0, 1)`` drawn from the layer's own
    Generator, so the expected output equals ``x`` and inference (``train=False``) is the identity. ``backward``
    reuses the mask of the last training forward: ``dx = dout * m``.

    Parameters
    ----------
    p : float, default 0.5
        Probability of dropping a unit, ``0 <= p < 1`` (``p = 0`` is the identity).
    rng : int or numpy.random.Generator, optional
        Source of the masks; the same seed gives bit-identical masks.

    Attributes
    ----------
    rng : numpy.random.Generator
        The source of the masks. Its state is the layer's :meth:`~layergraph.layers.base.Layer.get_rng_state`,
        which checkpoints store so that a resumed training run draws the same masks.

    Shapes
    ------
    x : ``(N, ...)``; y and dx have ``x``'s shape and dtype (non-floating inputs become float64).
    """

    def __init__(self, p=0.5, *, rng=None):
        super().__init__()
        if not isinstance(p, numbers.Real) or isinstance(p, bool):
            raise TypeError(f"Dropout: 'p' must be a float in [0, 1), got {type(p).__name__}")
        if not 0.0 <= p < 1.0:
            raise ValueError(f"Dropout: 'p' must be in [0, 1), got {p}")
        self.p = float(p)
        self.rng = as_generator(rng, "Dropout")
        self._mask = None
        self._shape = None

    def forward(self, x, train=True):
        x = np.asarray(x)
        if x.dtype.kind != "f":
            x = x.astype(np.float64)
        self._shape = x.shape
        if not train or self.p == 0.0:
            self._mask = None
            return x
        draw = x.dtype if x.dtype in (np.float32, np.float64) else np.float64
        mask = self.rng.random(x.shape, dtype=draw)
        np.greater_equal(mask, self.p, out=mask)   # 1.0 where kept, 0.0 where dropped
        mask *= 1.0 / (1.0 - self.p)
        self._mask = mask
        return x * mask

    def backward(self, dout):
        shape = self._cached(self._shape)
        dout = self._check_dout(dout, shape)
        return dout.copy() if self._mask is None else dout * self._mask

    def extra_repr(self):
        return f"p={self.p}"


@register_case(Dropout, "p0.3", modes=(True, False))
def _dropout(rng):
    return Dropout(0.3, rng=rng), rng.standard_normal((5, 7)), None


@register_case(Dropout, "4d-p0.5", modes=(True, False))
def _dropout_4d(rng):
    return Dropout(0.5, rng=1), rng.standard_normal((2, 3, 3, 2)), None
