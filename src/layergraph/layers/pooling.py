"""Pooling and reshaping layers: MaxPool2D, AvgPool2D, GlobalAvgPool, Flatten.

Pooling reduces strided window views: for each of the ``kh * kw`` kernel offsets, the view
``xp[:, :, i::sh, j::sw]`` (cut to ``(m, C, OH, OW)``) is combined into the output of a chunk of ``m`` samples, so
no window stack is ever built (no im2col). The chunks (about :data:`POOL_UNIT` padded input values each, so that a
chunk stays in the processor's cache) run in parallel on the threads of :func:`layergraph.threads.parallel_for`;
every sample is computed the same way whatever its chunk, so results do not depend on the thread count. Max
pooling keeps only the offset of each window's first maximum (one byte per output) for backward; average pooling is
separable (sums over the kernel's rows, then over its columns).
"""

import math

import numpy as np

from .. import threads
from ..gradcheck.registry import register_case
from . import _spatial as sp
from .base import Layer


#: Pooling runs by chunks of the batch of about this many (padded) input values each, in parallel.
POOL_UNIT = 1 << 19


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

    def _prepare(self, x):
        x = sp.float_input(x)
        sp.check_nchw(self, x)
        out_hw = sp.output_hw(self, x.shape, self.kernel_size, self.stride, self.pad)
        (ph, pw), (h, w) = self.pad, x.shape[2:]
        xp_shape = (*x.shape[:2], h + 2 * ph, w + 2 * pw)
        return x, xp_shape, out_hw, threads.batch_chunks(x.shape[0], xp_shape[1] * xp_shape[2] * xp_shape[3],
                                                          POOL_UNIT)

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

    Both passes run by chunks of the batch on the threads of :func:`layergraph.threads.parallel_for` (results do
    not depend on the thread count).

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
        x, xp_shape, out_hw, chunks = self._prepare(x)
        n_views = self.kernel_size[0] * self.kernel_size[1]
        y = np.empty((*x.shape[:2], *out_hw), dtype=x.dtype)
        code = np.empty(y.shape, dtype=np.uint8 if n_views <= 256 else np.intp)   # offset of the first max

        def chunk(worker, u):
            part = slice(*chunks[u])
            self._max(sp.pad_hw(x[part], self.pad, -np.inf), y[part], code[part])
        threads.parallel_for(len(chunks), chunk, limit_blas=False)
        self._cache = (xp_shape, code, chunks)
        return y

    def _max(self, xp, y, code):
        """Write the window maxima of ``xp`` into ``y`` and the offset of each window's first maximum into ``code``."""
        views = [xp[index] for _, _, index in sp.offset_slices(self.kernel_size, self.stride, y.shape[2:])]
        np.copyto(y, views[0])
        code.fill(0)
        if len(views) > 1:
            window = np.empty_like(y)
            greater = np.empty(y.shape, dtype=bool)
            step = np.empty_like(code)
            for k, view in enumerate(views[1:], start=1):
                np.copyto(window, view)                   # one strided read; the rest runs on contiguous data
                np.greater(window, y, out=greater)        # strictly greater: ties keep the earlier offset
                np.maximum(y, window, out=y)
                np.multiply(greater.view(np.uint8), k, out=step, casting="unsafe")
                np.maximum(code, step, out=code)          # later offsets are larger: the last "greater" wins

    def backward(self, dout):
        xp_shape, code, chunks = self._cached(self._cache)
        dout = self._check_dout(dout, code.shape)
        if not self.requires_input_grad:
            return None
        dtype = dout.dtype if dout.dtype.kind == "f" else np.dtype(np.float64)
        dx = np.empty((*xp_shape[:2], xp_shape[2] - 2 * self.pad[0], xp_shape[3] - 2 * self.pad[1]), dtype=dtype)

        def chunk(worker, u):
            part = slice(*chunks[u])
            shape = (part.stop - part.start, *xp_shape[1:])
            if self._overlapping():
                dxp = self._scatter(dout[part], code[part], shape)
            else:
                dxp = self._route(dout[part], code[part], shape, dtype)
            np.copyto(dx[part], sp.crop_hw(dxp, self.pad), casting="unsafe")
        threads.parallel_for(len(chunks), chunk, limit_blas=False)
        return dx

    def _route(self, dout, code, xp_shape, dtype):
        """Disjoint windows: each ``dout`` element goes to its window's maximum (one write per position)."""
        dxp = np.zeros(xp_shape, dtype=dtype)
        hit = np.empty(code.shape, dtype=bool)
        for k, (_, _, index) in enumerate(sp.offset_slices(self.kernel_size, self.stride, code.shape[2:])):
            np.equal(code, k, out=hit)
            np.multiply(dout, hit, out=dxp[index])
        return dxp

    def _scatter(self, dout, code, xp_shape):
        """Overlapping windows: sum ``dout`` into the flat positions of the maxima in one ``np.bincount``."""
        n, c, hp, wp = xp_shape
        (kh, kw), (sh, sw), (oh, ow) = self.kernel_size, self.stride, code.shape[2:]
        offsets = (np.arange(kh)[:, None] * wp + np.arange(kw)).ravel()
        corner = (np.arange(n * c)[:, None, None] * (hp * wp) + (np.arange(oh) * (sh * wp))[:, None]
                  + np.arange(ow) * sw)
        flat = np.take(offsets, code.reshape(n * c, oh, ow))
        flat += corner
        dxp = np.bincount(flat.ravel(), weights=dout.ravel(), minlength=n * c * hp * wp)
        return dxp.reshape(xp_shape)


class AvgPool2D(_Pool2D):
    """Average pooling: ``y[n, c, p, q] = mean_{i, j} xp[n, c, p * sh + i, q * sw + j]`` over a ``kh x kw`` window.

    ``xp`` is ``x`` zero-padded and every window is divided by ``kh * kw``, padding included. Backward spreads
    ``dout / (kh * kw)`` evenly over each window. Same arguments and shapes as :class:`MaxPool2D`.
    """

    def forward(self, x, train=True):
        x, xp_shape, out_hw, chunks = self._prepare(x)
        (kh, kw), (sh, sw), (oh, ow) = self.kernel_size, self.stride, out_hw
        y = np.empty((*x.shape[:2], oh, ow), dtype=x.dtype)

        def chunk(worker, u):
            part = slice(*chunks[u])
            rows = _strided_sum(sp.pad_hw(x[part], self.pad), kh, sh, oh, axis=2)   # (m, C, OH, Wp): row sums
            np.multiply(_strided_sum(rows, kw, sw, ow, axis=3), 1.0 / (kh * kw), out=y[part])
        threads.parallel_for(len(chunks), chunk, limit_blas=False)
        self._cache = (x.shape, xp_shape, y.shape, chunks)
        return y

    def backward(self, dout):
        x_shape, xp_shape, y_shape, chunks = self._cached(self._cache)
        dout = self._check_dout(dout, y_shape)
        if not self.requires_input_grad:
            return None
        (kh, kw), (sh, sw) = self.kernel_size, self.stride
        dtype = dout.dtype if dout.dtype.kind == "f" else np.dtype(np.float64)
        dx = np.empty(x_shape, dtype=dtype)

        def chunk(worker, u):
            part = slice(*chunks[u])
            share = dout[part] * (1.0 / (kh * kw))
            rows = _strided_spread(share, kw, sw, xp_shape[3], axis=3)    # (m, C, OH, Wp)
            dxp = _strided_spread(rows, kh, sh, xp_shape[2], axis=2)      # (m, C, Hp, Wp)
            np.copyto(dx[part], sp.crop_hw(dxp, self.pad))
        threads.parallel_for(len(chunks), chunk, limit_blas=False)
        return dx


def _axis_slice(ndim, axis, index):
    return (slice(None),) * axis + (index,) + (slice(None),) * (ndim - axis - 1)


def _strided_sum(a, k, s, out_len, axis):
    """``out[..., p, ...] = sum_{i < k} a[..., p * s + i, ...]`` along *axis* (separable window sums)."""
    views = [a[_axis_slice(a.ndim, axis, slice(i, i + s * (out_len - 1) + 1, s))] for i in range(k)]
    out = views[0].copy()
    for v in views[1:]:
        out += v
    return out


def _strided_spread(g, k, s, full_len, axis):
    """Adjoint of :func:`_strided_sum`: add ``g[..., p, ...]`` to positions ``p * s + i``, ``i < k``, of *axis*."""
    shape = list(g.shape)
    shape[axis] = full_len
    out = np.zeros(shape, dtype=g.dtype)
    n = g.shape[axis]
    for i in range(k):
        target = out[_axis_slice(g.ndim, axis, slice(i, i + s * (n - 1) + 1, s))]
        if s >= k:                       # disjoint positions: plain assignment into zeros
            np.copyto(target, g)
        else:
            target += g
    return out


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
