"""Pooling and reshaping layers: MaxPool2D, AvgPool2D, GlobalAvgPool, Flatten.

Pooling reduces strided window views: for each of the ``kh * kw`` kernel offsets, the view
``xp[:, :, i::sh, j::sw]`` (cut to ``(N, C, OH, OW)``) is combined into the output with one vectorised ufunc over
the whole batch, so no input window is ever copied out (no im2col).
"""

import math

import numpy as np

from ..gradcheck.registry import register_case
from . import _spatial as sp
from .base import Layer


class _Pool2D(Layer):
    """Shared constructor, validation and geometry of the 2-D pooling layers."""

    def __init__(self, kernel_size, stride=None, pad=0):
        super().__init__()
        owner = type(self).__name__
        self.kernel_size = sp.as_pair(kernel_size, "kernel_size", owner, 1)
        self.stride = self.kernel_size if stride is None else sp.as_pair(stride, "stride", owner, 1)
        self.pad = sp.as_pair(pad, "pad", owner, 0)
        if any(p > k // 2 for p, k in zip(self.pad, self.kernel_size)):
            raise ValueError(f"{owner}: 'pad' must be at most half the kernel size per axis, got pad={pad!r} "
                             f"for kernel_size={kernel_size!r}")
        self._cache = None

    def _prepare(self, x, fill):
        x = sp.float_input(x)
        sp.check_nchw(self, x)
        out_hw = sp.output_hw(self, x.shape, self.kernel_size, self.stride, self.pad)
        return x, sp.pad_hw(x, self.pad, fill), out_hw

    def _overlapping(self):
        return self.stride[0] < self.kernel_size[0] or self.stride[1] < self.kernel_size[1]

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, pad={self.pad}"


class MaxPool2D(_Pool2D):
    """Max pooling: ``y[n, c, p, q] = max_{i, j} xp[n, c, p * sh + i, q * sw + j]`` over a ``kh x kw`` window.

    ``xp`` is ``x`` padded with ``-inf``; the output size is ``(H + 2 * ph - kh) // sh + 1`` (same for W).
    Backward routes each ``dout`` element to the position of its window's maximum. **Ties** (common after a ReLU,
    where whole windows are 0) are broken deterministically: the gradient goes to the *first* maximum in row-major
    window order (smallest ``i``, then smallest ``j``), as in ``np.argmax`` over the flattened window.

    Parameters
    ----------
    kernel_size : int or (int, int)
    stride : int or (int, int), optional
        Defaults to ``kernel_size`` (non-overlapping windows).
    pad : int or (int, int), default 0
        At most half the kernel size per axis, so every window holds at least one input element.

    Shapes
    ------
    x, dx : ``(N, C, H, W)``; y : ``(N, C, OH, OW)``.
    """

    def forward(self, x, train=True):
        x, xp, out_hw = self._prepare(x, -np.inf)
        slices = list(sp.offset_slices(self.kernel_size, self.stride, out_hw))
        y = xp[slices[0][2]].copy()
        for _, _, index in slices[1:]:
            np.maximum(y, xp[index], out=y)
        self._cache = (x.shape, xp, y, slices)
        return y

    def backward(self, dout):
        x_shape, xp, y, slices = self._cached(self._cache)
        dout = self._check_dout(dout, y.shape)
        if not self.requires_input_grad:
            return None
        dxp = np.zeros(xp.shape, dtype=np.result_type(dout.dtype, y.dtype))
        overlap = self._overlapping()
        hit = np.empty(y.shape, dtype=bool)
        taken = np.zeros(y.shape, dtype=bool)
        part = np.empty(y.shape, dtype=dxp.dtype) if overlap else None
        last = len(slices) - 1
        for k, (_, _, index) in enumerate(slices):
            np.equal(xp[index], y, out=hit)
            if k:
                np.greater(hit, taken, out=hit)          # hit and not yet taken: the first maximum wins
            if k < last:
                np.logical_or(taken, hit, out=taken)
            if overlap:
                np.multiply(dout, hit, out=part)
                dxp[index] += part
            else:
                np.multiply(dout, hit, out=dxp[index])
        return sp.crop_hw(dxp, self.pad)


class AvgPool2D(_Pool2D):
    """Average pooling: ``y[n, c, p, q] = mean_{i, j} xp[n, c, p * sh + i, q * sw + j]`` over a ``kh x kw`` window.

    ``xp`` is ``x`` zero-padded and every window is divided by ``kh * kw``, padding included. Backward spreads
    ``dout / (kh * kw)`` evenly over each window. Same arguments and shapes as :class:`MaxPool2D`.
    """

    def forward(self, x, train=True):
        x, xp, out_hw = self._prepare(x, 0.0)
        slices = list(sp.offset_slices(self.kernel_size, self.stride, out_hw))
        y = xp[slices[0][2]].copy()
        for _, _, index in slices[1:]:
            y += xp[index]
        y *= 1.0 / len(slices)
        self._cache = (x.shape, xp.shape, y.shape, y.dtype, slices)
        return y

    def backward(self, dout):
        x_shape, xp_shape, y_shape, dtype, slices = self._cached(self._cache)
        dout = self._check_dout(dout, y_shape)
        if not self.requires_input_grad:
            return None
        share = dout * (1.0 / len(slices))
        dxp = np.zeros(xp_shape, dtype=share.dtype)
        overlap = self._overlapping()
        for _, _, index in slices:
            if overlap:
                dxp[index] += share
            else:
                dxp[index] = share
        return sp.crop_hw(dxp, self.pad)


class GlobalAvgPool(Layer):
    """Global average pooling ``y[n, c] = mean_{h, w} x[n, c, h, w]``; ``dx = dout[:, :, None, None] / (H * W)``.

    Shapes
    ------
    x, dx : ``(N, C, H, W)``; y : ``(N, C)``.
    """

    def __init__(self):
        super().__init__()
        self._shape = None

    def forward(self, x, train=True):
        x = sp.float_input(x)
        sp.check_nchw(self, x)
        self._shape = x.shape
        return np.mean(x, axis=(2, 3))

    def backward(self, dout):
        shape = self._cached(self._shape)
        dout = self._check_dout(dout, shape[:2])
        if not self.requires_input_grad:
            return None
        dx = np.empty(shape, dtype=dout.dtype if dout.dtype.kind == "f" else np.float64)
        dx[...] = (dout * (1.0 / (shape[2] * shape[3])))[:, :, None, None]
        return dx


class Flatten(Layer):
    """Reshape ``(N, d1, d2, ...)`` to ``(N, d1 * d2 * ...)``; backward reshapes ``dout`` back.

    Shapes
    ------
    x : ``(N, ...)`` with at least 2 axes; y : ``(N, prod(...))``.
    """

    def __init__(self):
        super().__init__()
        self._shape = None

    def forward(self, x, train=True):
        x = np.asarray(x)
        if x.ndim < 2:
            self._check_ndim(x, (), "(N, ...) with at least 2 axes")
        self._shape = x.shape
        return x.reshape(x.shape[0], math.prod(x.shape[1:]))

    def backward(self, dout):
        shape = self._cached(self._shape)
        dout = self._check_dout(dout, (shape[0], math.prod(shape[1:])))
        return dout.reshape(shape)


def _distinct(rng, shape):
    """Values at least 0.01 apart (a shuffled grid plus small noise): no ties, no kink within a check's step."""
    size = math.prod(shape)
    grid = rng.permutation(size) * 0.05 - 0.025 * size
    return (grid + rng.uniform(-0.01, 0.01, size)).reshape(shape)


@register_case(MaxPool2D, "2x2")
def _max_2x2(rng):
    return MaxPool2D(2), _distinct(rng, (2, 2, 4, 6)), None


@register_case(MaxPool2D, "3x3-stride2-pad1")
def _max_overlap(rng):
    return MaxPool2D(3, stride=2, pad=1), _distinct(rng, (2, 2, 5, 4)), None


@register_case(MaxPool2D, "rect")
def _max_rect(rng):
    return MaxPool2D((2, 3), stride=(1, 2)), _distinct(rng, (1, 3, 4, 7)), None


@register_case(AvgPool2D, "2x2")
def _avg_2x2(rng):
    return AvgPool2D(2), rng.standard_normal((2, 2, 4, 6)), None


@register_case(AvgPool2D, "3x3-stride2-pad1")
def _avg_overlap(rng):
    return AvgPool2D(3, stride=2, pad=1), rng.standard_normal((2, 2, 5, 4)), None


@register_case(GlobalAvgPool)
def _gap(rng):
    return GlobalAvgPool(), rng.standard_normal((2, 3, 4, 5)), None


@register_case(Flatten)
def _flatten(rng):
    return Flatten(), rng.standard_normal((3, 2, 2, 3)), None
