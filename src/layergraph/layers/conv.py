"""2-D convolution (cross-correlation, as in every deep-learning library) by large, cache-sized matrix products."""

import numpy as np

from ..gradcheck.registry import register_case
from . import _im2col as im2col
from . import _spatial as sp
from .base import Layer
from .init import as_float_dtype, as_generator, check_positive_int, init_std


class Conv2D(Layer):
    """2-D convolution ``y[n, o, p, q] = b[o] + sum_{c, i, j} W[o, c, i, j] * xp[n, c, p * sh + i, q * sw + j]``.

    ``xp`` is ``x`` zero-padded by ``ph`` rows and ``pw`` columns on each side. The output size is
    ``OH = (H + 2 * ph - kh) // sh + 1`` and ``OW = (W + 2 * pw - kw) // sw + 1``; an input whose padded size is
    smaller than the kernel (empty output) raises :class:`~layergraph.errors.ShapeError`.

    Each pass is a few large matrix products (see :mod:`layergraph.layers._im2col`): the batch is cut into chunks
    whose input windows fit in the processor's cache; each chunk's windows are gathered by one copy from a strided
    view into a ``(K, m * L)`` column buffer (``K = C * kh * kw``, ``L = OH * OW``) and multiplied by ``W``
    reshaped to ``(out_channels, K)`` (with the bias as one more column, against a row of ones). Backward gathers
    the same columns again from the cached padded input (no ``K x L`` matrix is kept between the passes) for
    ``dW``; ``dx`` (skipped when ``requires_input_grad`` is False) is, for stride 1, the correlation of the padded
    ``dout`` with the flipped kernel (the same gather and product, no scatter) and, for larger strides, ``W^T dout``
    folded back by ``kh * kw`` strided in-place adds; ``db`` comes out of the weight-gradient products (a row of
    ones under the columns). Outputs and input gradients are fresh C-contiguous ``(N, C, H, W)`` arrays; scratch
    buffers are reused across calls.
    ``dout`` is cast to the layer's dtype.

    Parameters
    ----------
    in_channels, out_channels : int
    kernel_size : int or (int, int)
        ``k`` for a square ``k x k`` kernel, or ``(kh, kw)``.
    stride : int or (int, int), default 1
        ``(sh, sw)``; positive.
    pad : int or (int, int), default 0
        Zero padding ``(ph, pw)`` on both sides of each axis; non-negative.
    init : {"he", "xavier"} or float, default "he"
        Weight initialisation with ``fan_in = in_channels * kh * kw`` and ``fan_out = out_channels * kh * kw``;
        biases start at zero.
    dtype : floating dtype, default float32
    rng : int or numpy.random.Generator, optional

    Shapes
    ------
    x : ``(N, in_channels, H, W)``; y : ``(N, out_channels, OH, OW)``; dx has ``x``'s shape.
    W : ``(out_channels, in_channels, kh, kw)``; b : ``(out_channels,)``.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, pad=0, *, init="he", dtype=np.float32,
                 rng=None):
        super().__init__()
        owner = type(self).__name__
        self.in_channels = check_positive_int(in_channels, "in_channels", owner)
        self.out_channels = check_positive_int(out_channels, "out_channels", owner)
        self.kernel_size = sp.as_pair(kernel_size, "kernel_size", owner, 1)
        self.stride = sp.as_pair(stride, "stride", owner, 1)
        self.pad = sp.as_pair(pad, "pad", owner, 0)
        self.dtype = as_float_dtype(dtype, owner)
        kh, kw = self.kernel_size
        std = init_std(init, self.in_channels * kh * kw, self.out_channels * kh * kw, owner)
        gen = as_generator(rng, owner)
        W = gen.standard_normal((self.out_channels, self.in_channels, kh, kw)).astype(self.dtype, copy=False)
        W *= std
        self.params = {"W": W, "b": np.zeros(self.out_channels, dtype=self.dtype)}
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        self._cache = None
        self._work = im2col.Workspace()

    def forward(self, x, train=True):
        x = np.asarray(x)
        sp.check_nchw(self, x, self.in_channels)
        self._check_batch(x)
        W = self.params["W"]
        x = x.astype(W.dtype, copy=False)
        out_hw = sp.output_hw(self, x.shape, self.kernel_size, self.stride, self.pad)
        cols = im2col.Columns(x, self.pad, self.kernel_size, self.stride, out_hw, self.out_channels,
                              self._work, "fwd.xp")
        y = im2col.correlate(cols, W.reshape(self.out_channels, -1), self.params["b"], self._work)
        self._cache = (cols, x.shape, out_hw)
        return y

    def backward(self, dout):
        cols, x_shape, out_hw = self._cached(self._cache)
        n, o = x_shape[0], self.out_channels
        W = self.params["W"]
        dout = self._check_dout(dout, (n, o, *out_hw)).astype(W.dtype, copy=False)
        d3 = dout.reshape(n, o, -1)
        gW, db = self.grads["W"], self.grads["b"]
        dWm = gW.reshape(o, -1)                                  # a view unless the gradient is not contiguous
        dx = None
        if self.requires_input_grad and self._same():
            dx = im2col.backward_same(cols, dout, W, dWm, self._work, db)
        if dx is None:
            im2col.weight_grad(cols, dout, dWm, self._work, db)
        if not np.may_share_memory(dWm, gW):
            gW[...] = dWm.reshape(gW.shape)
        if not self.requires_input_grad or dx is not None:
            return dx
        if self.stride == (1, 1):
            return im2col.input_grad_stride1(dout, W, x_shape[2:], self.pad, self._work)
        return im2col.input_grad_strided(d3, W.reshape(o, -1), self.kernel_size, self.stride, self.pad, x_shape,
                                         out_hw, self._work)

    def _same(self):
        """Stride 1, odd kernel and padding ``k // 2`` on both axes: the output has the input's size."""
        return self.stride == (1, 1) and all(k % 2 == 1 and p == k // 2 for k, p in zip(self.kernel_size, self.pad))

    def extra_repr(self):
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}, "
                f"pad={self.pad}, dtype={self.dtype}")


def _conv_case(rng, n, c, o, hw, kernel, stride, pad):
    layer = Conv2D(c, o, kernel, stride, pad, dtype=np.float64, rng=rng)
    layer.params["b"][...] = rng.standard_normal(o)
    return layer, rng.standard_normal((n, c, *hw)), None


@register_case(Conv2D, "3x3-pad1")
def _conv_3x3(rng):
    return _conv_case(rng, 2, 2, 3, (5, 5), 3, 1, 1)


@register_case(Conv2D, "rect-stride2-pad")
def _conv_rect(rng):
    return _conv_case(rng, 2, 3, 2, (6, 7), (3, 2), (2, 1), (1, 0))


@register_case(Conv2D, "1x1")
def _conv_1x1(rng):
    return _conv_case(rng, 3, 4, 2, (3, 2), 1, 1, 0)

