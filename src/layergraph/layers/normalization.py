"""Batch normalisation and layer normalisation."""

import math
import numbers

import numpy as np

from ..errors import ShapeError, describe, shape_str
from ..gradcheck.registry import register_case
from ._workspace import Workspace
from .base import Layer
from .init import as_float_dtype, as_generator, check_positive_int


def _check_eps(eps, owner):
    if not isinstance(eps, numbers.Real) or isinstance(eps, bool):
        raise TypeError(f"{owner}: 'eps' must be a positive float, got {type(eps).__name__}")
    if not (math.isfinite(eps) and eps > 0):
        raise ValueError(f"{owner}: 'eps' must be positive and finite, got {eps}")
    return float(eps)


def _channel_sum(a):
    """Per-channel sum ``(C,)`` of ``a`` ``(N, C)`` or ``(N, C, H, W)``; for images one matrix-vector product per
    sample over the contiguous ``H * W`` values (no temporary the size of ``a``)."""
    if a.ndim == 2:
        return a.sum(axis=0)
    a3 = a.reshape(a.shape[0], a.shape[1], -1)
    return (a3 @ np.ones(a3.shape[2], dtype=a.dtype)).sum(axis=0)


def _channel_dot(a, b):
    """Per-channel ``sum(a * b)`` ``(C,)`` over every axis but 1, without forming ``a * b``."""
    if a.ndim == 2:
        return (a * b).sum(axis=0)
    a3 = a.reshape(a.shape[0], a.shape[1], 1, -1)
    b3 = b.reshape(b.shape[0], b.shape[1], -1, 1)
    return (a3 @ b3).sum(axis=(0, 2, 3))


class BatchNorm(Layer):
    """Batch normalisation over the batch (and spatial) axes, per feature / channel.

    Training: ``xhat = (x - mean) / sqrt(var + eps)`` with the batch mean and the biased batch variance over the
    ``M`` values of each channel (``M = N`` for ``(N, C)``, ``N * H * W`` for ``(N, C, H, W)``); ``y = gamma * xhat
    + beta``. The running estimates are then updated in place::

        running_mean = momentum * running_mean + (1 - momentum) * mean
        running_var  = momentum * running_var  + (1 - momentum) * var * M / (M - 1)   # unbiased

    Inference (``train=False``) normalises with ``running_mean`` and ``running_var`` instead and updates nothing.
    The running variance keeps the *unbiased* batch variance (as PyTorch does); normalisation in training uses the
    biased one.

    Parameters
    ----------
    num_features : int
        ``C``, the size of axis 1 of the input.
    momentum : float, default 0.9
        Weight of the old running value, in ``[0, 1]`` (0.9 here is PyTorch's ``momentum=0.1``).
    eps : float, default 1e-5
        Added to the variance before the square root.
    dtype : floating dtype, default float32
    rng : int or numpy.random.Generator, optional
        Accepted for the uniform constructor of layers with parameters; the initialisation is deterministic.

    Shapes
    ------
    x, y, dx : ``(N, C)`` or ``(N, C, H, W)``. Params ``gamma`` (ones), ``beta`` (zeros): ``(C,)``.
    Buffers ``running_mean`` (zeros), ``running_var`` (ones): ``(C,)``; in ``buffers`` and ``state_dict``,
    never in ``params``.
    """

    def __init__(self, num_features, momentum=0.9, eps=1e-5, *, dtype=np.float32, rng=None):
        super().__init__()
        owner = type(self).__name__
        self.num_features = check_positive_int(num_features, "num_features", owner)
        if not isinstance(momentum, numbers.Real) or isinstance(momentum, bool):
            raise TypeError(f"{owner}: 'momentum' must be a float in [0, 1], got {type(momentum).__name__}")
        if not 0.0 <= momentum <= 1.0:
            raise ValueError(f"{owner}: 'momentum' must be in [0, 1], got {momentum}")
        self.momentum = float(momentum)
        self.eps = _check_eps(eps, owner)
        self.dtype = as_float_dtype(dtype, owner)
        as_generator(rng, owner)
        c = self.num_features
        self.params = {"gamma": np.ones(c, dtype=self.dtype), "beta": np.zeros(c, dtype=self.dtype)}
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        self.buffers = {"running_mean": np.zeros(c, dtype=self.dtype), "running_var": np.ones(c, dtype=self.dtype)}
        self._cache = None
        self._work = Workspace()

    def forward(self, x, train=True):
        x = np.asarray(x)
        self._check_ndim(x, (2, 4), "(N, C) or (N, C, H, W)")
        if x.shape[1] != self.num_features:
            raise ShapeError(f"{describe(self)}: argument 'x' must be laid out as (N, C) or (N, C, H, W) with "
                             f"C = {self.num_features}, got an array of shape {shape_str(x.shape)}")
        dtype = self.params["gamma"].dtype
        x = x.astype(dtype, copy=False)
        bshape = (1, -1) if x.ndim == 2 else (1, -1, 1, 1)
        m = x.size // self.num_features
        xhat = self._work.get("xhat", x.shape, dtype)   # kept for backward (reused: no fresh pages)
        if train:
            if m < 2:
                raise ShapeError(f"{describe(self)}: training needs more than one value per channel, got an "
                                 f"input of shape {shape_str(x.shape)}")
            mean = _channel_sum(x) / m
            np.subtract(x, mean.reshape(bshape), out=xhat)
            var = _channel_dot(xhat, xhat) / m
            inv_std = (1.0 / np.sqrt(var + self.eps)).reshape(bshape)
            rm, rv = self.buffers["running_mean"], self.buffers["running_var"]
            rm *= self.momentum
            rm += (1.0 - self.momentum) * mean
            rv *= self.momentum
            rv += (1.0 - self.momentum) * (m / (m - 1.0)) * var
        else:
            inv_std = (1.0 / np.sqrt(self.buffers["running_var"] + self.eps)).reshape(bshape).astype(dtype)
            np.subtract(x, self.buffers["running_mean"].reshape(bshape), out=xhat)
        xhat *= inv_std
        y = xhat * self.params["gamma"].reshape(bshape)
        y += self.params["beta"].reshape(bshape)
        self._cache = (xhat, inv_std, bshape, train)
        return y

    def backward(self, dout):
        xhat, inv_std, bshape, train = self._cached(self._cache)
        dout = self._check_dout(dout, xhat.shape)
        dbeta, dgamma = self.grads["beta"], self.grads["gamma"]
        dbeta[...] = _channel_sum(dout)
        dgamma[...] = _channel_dot(dout, xhat)
        if not self.requires_input_grad:
            return None
        scale = self.params["gamma"].reshape(bshape) * inv_std
        if not train:
            return dout * scale
        # dx = gamma * inv_std * (dout - (xhat * sum(dout * xhat) + sum(dout)) / M), in four passes
        m = xhat.size // self.num_features
        dx = xhat * (dgamma / m).reshape(bshape)
        dx += (dbeta / m).reshape(bshape)
        np.subtract(dout, dx, out=dx)
        dx *= scale
        return dx

    def extra_repr(self):
        return f"{self.num_features}, momentum={self.momentum}, eps={self.eps}, dtype={self.dtype}"


class LayerNorm(Layer):
    """Layer normalisation over the trailing axes given by ``normalized_shape``, per sample.

    ``xhat = (x - mean) / sqrt(var + eps)`` with the mean and biased variance over the trailing axes;
    ``y = gamma * xhat + beta`` (element-wise affine of shape ``normalized_shape``). Training and inference are
    identical; there are no buffers.

    Parameters
    ----------
    normalized_shape : int or tuple of int
        Shape of the trailing axes normalised together, e.g. ``C`` for ``(N, C)`` or ``(C, H, W)``.
    eps : float, default 1e-5
    dtype : floating dtype, default float32
    rng : int or numpy.random.Generator, optional
        Accepted for the uniform constructor of layers with parameters; the initialisation is deterministic.

    Shapes
    ------
    x, y, dx : ``(N, ..., *normalized_shape)``. Params ``gamma`` (ones), ``beta`` (zeros): ``normalized_shape``.
    """

    def __init__(self, normalized_shape, eps=1e-5, *, dtype=np.float32, rng=None):
        super().__init__()
        owner = type(self).__name__
        shape = (normalized_shape,) if isinstance(normalized_shape, numbers.Integral) else normalized_shape
        if not isinstance(shape, (tuple, list)) or not shape:
            raise TypeError(f"{owner}: 'normalized_shape' must be an int or a non-empty tuple of ints, "
                            f"got {normalized_shape!r}")
        self.normalized_shape = tuple(check_positive_int(s, "normalized_shape", owner) for s in shape)
        self.eps = _check_eps(eps, owner)
        self.dtype = as_float_dtype(dtype, owner)
        as_generator(rng, owner)
        self.params = {"gamma": np.ones(self.normalized_shape, dtype=self.dtype),
                       "beta": np.zeros(self.normalized_shape, dtype=self.dtype)}
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        self._cache = None

    def forward(self, x, train=True):
        x = np.asarray(x)
        k = len(self.normalized_shape)
        if x.ndim < k + 1 or x.shape[-k:] != self.normalized_shape:
            layout = "(N, ..., " + ", ".join(map(str, self.normalized_shape)) + ")"
            raise ShapeError(f"{describe(self)}: argument 'x' must be laid out as {layout}, "
                             f"got an array of shape {shape_str(x.shape)}")
        x = x.astype(self.params["gamma"].dtype, copy=False)
        axes = tuple(range(x.ndim - k, x.ndim))
        mean = np.mean(x, axis=axes, keepdims=True)
        xhat = x - mean
        var = np.mean(np.square(xhat), axis=axes, keepdims=True)
        inv_std = 1.0 / np.sqrt(var + self.eps)
        xhat *= inv_std
        y = xhat * self.params["gamma"]
        y += self.params["beta"]
        self._cache = (xhat, inv_std, axes)
        return y

    def backward(self, dout):
        xhat, inv_std, axes = self._cached(self._cache)
        dout = self._check_dout(dout, xhat.shape)
        lead = tuple(range(xhat.ndim - len(axes)))
        np.sum(dout, axis=lead, out=self.grads["beta"])
        np.sum(dout * xhat, axis=lead, out=self.grads["gamma"])
        if not self.requires_input_grad:
            return None
        m = math.prod(self.normalized_shape)
        g = dout * self.params["gamma"]                       # dL/dxhat
        dx = xhat * np.sum(g * xhat, axis=axes, keepdims=True)
        dx += np.sum(g, axis=axes, keepdims=True)
        dx *= -1.0 / m
        dx += g
        dx *= inv_std
        return dx

    def extra_repr(self):
        return f"{self.normalized_shape}, eps={self.eps}, dtype={self.dtype}"


def _batchnorm(rng, x):
    bn = BatchNorm(x.shape[1], momentum=0.8, dtype=np.float64)
    bn.params["gamma"][...] = rng.uniform(0.5, 1.5, x.shape[1])
    bn.params["beta"][...] = rng.standard_normal(x.shape[1])
    bn.buffers["running_mean"][...] = rng.standard_normal(x.shape[1])
    bn.buffers["running_var"][...] = rng.uniform(0.5, 2.0, x.shape[1])
    return bn, x, None


@register_case(BatchNorm, "2d", modes=(True, False))
def _bn_2d(rng):
    return _batchnorm(rng, 2 * rng.standard_normal((6, 4)) + 1)


@register_case(BatchNorm, "4d", modes=(True, False))
def _bn_4d(rng):
    return _batchnorm(rng, rng.standard_normal((3, 2, 3, 2)))


@register_case(LayerNorm, "last-axis")
def _ln_1(rng):
    ln = LayerNorm(5, dtype=np.float64)
    ln.params["gamma"][...] = rng.uniform(0.5, 1.5, 5)
    ln.params["beta"][...] = rng.standard_normal(5)
    return ln, 2 * rng.standard_normal((4, 5)) - 1, None


@register_case(LayerNorm, "trailing-2")
def _ln_2(rng):
    ln = LayerNorm((3, 4), dtype=np.float64)
    ln.params["gamma"][...] = rng.uniform(0.5, 1.5, (3, 4))
    ln.params["beta"][...] = rng.standard_normal((3, 4))
    return ln, rng.standard_normal((2, 2, 3, 4)), None
