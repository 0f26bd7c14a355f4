"""Affine (fully connected) layer."""

import numpy as np

from .. import threads
from ..errors import ShapeError, describe, shape_str
from ..gradcheck.registry import register_case
from .base import Layer
from .init import as_float_dtype, as_generator, check_positive_int, init_std


#: Products of at least this many multiply-adds are split by rows over layergraph's threads
#: (:func:`layergraph.threads.parallel_for`); smaller ones go to BLAS whole.
PARALLEL_MACS = 1 << 25


def matmul_rows(a, b, out=None):
    """``a @ b`` for 2-D ``a`` ``(M, K)`` and ``b`` ``(K, P)``; large products run as two or more row blocks of ``a``
    in parallel (the blocks depend only on the shapes, so the result does not depend on the thread count)."""
    m, k = a.shape
    if out is None:
        out = np.empty((m, b.shape[1]), dtype=np.result_type(a, b))
    if m < 2 or m * k * b.shape[1] < PARALLEL_MACS:
        return np.matmul(a, b, out=out)
    blocks = threads.even_chunks(m, -(-m // 2))

    def block(worker, u):
        rows = slice(*blocks[u])
        np.matmul(a[rows], b, out=out[rows])
    threads.parallel_for(len(blocks), block)
    return out


class Affine(Layer):
    """Fully connected layer ``y = x.reshape(N, -1) @ W + b``.

    Products of at least :data:`PARALLEL_MACS` multiply-adds run as row blocks on layergraph's threads (see
    :mod:`layergraph.threads`); smaller ones go to BLAS whole.

    Parameters
    ----------
    in_features, out_features : int
        Sizes of one flattened input sample and of one output sample.
    init : {"he", "xavier"} or float, default "he"
        Weight initialisation: He normal ``sqrt(2/in)``, Glorot normal ``sqrt(2/(in+out))``, or that standard
        deviation. Biases start at zero.
    dtype : floating dtype, default float32
        Dtype of parameters, gradients and computation; inputs of another dtype are cast to it.
    rng : int or numpy.random.Generator, optional
        Source of the initial weights.

    Shapes
    ------
    x : ``(N, ...)`` with ``prod(...) == in_features``; y : ``(N, out_features)``; ``dx`` has ``x``'s shape.
    W : ``(in_features, out_features)``; b : ``(out_features,)``.
    """

    def __init__(self, in_features, out_features, *, init="he", dtype=np.float32, rng=None):
        super().__init__()
        owner = type(self).__name__
        self.in_features = check_positive_int(in_features, "in_features", owner)
        self.out_features = check_positive_int(out_features, "out_features", owner)
        self.dtype = as_float_dtype(dtype, owner)
        std = init_std(init, self.in_features, self.out_features, owner)
        gen = as_generator(rng, owner)
        W = gen.standard_normal((self.in_features, self.out_features)).astype(self.dtype, copy=False)
        W *= std
        self.params = {"W": W, "b": np.zeros(self.out_features, dtype=self.dtype)}
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        self._x2 = None
        self._x_shape = None

    def forward(self, x, train=True):
        x = np.asarray(x)
        self._check_batch(x)
        if x.ndim < 2 or x[0].size != self.in_features:
            raise ShapeError(
                f"{describe(self)}: argument 'x' must be (N, {self.in_features}) or (N, ...) with "
                f"{self.in_features} features per sample, got shape {shape_str(x.shape)}"
            )
        x2 = x.reshape(x.shape[0], self.in_features).astype(self.params["W"].dtype, copy=False)
        y = matmul_rows(x2, self.params["W"])
        y += self.params["b"]
        self._x2, self._x_shape = x2, x.shape
        return y

    def backward(self, dout):
        x2 = self._cached(self._x2)
        dout = self._check_dout(dout, (x2.shape[0], self.out_features))
        W = self.params["W"]
        matmul_rows(x2.T, dout, out=self.grads["W"])
        np.matmul(self._ones(x2.shape[0], dout.dtype), dout, out=self.grads["b"])  # column sums, via BLAS
        if not self.requires_input_grad:
            return None
        return matmul_rows(dout, W.T).reshape(self._x_shape)

    def _ones(self, n, dtype):
        ones = self.__dict__.get("_ones_cache")
        if ones is None or ones.shape[0] != n or ones.dtype != dtype:
            ones = self._ones_cache = np.ones(n, dtype=dtype)
        return ones

    def extra_repr(self):
        return f"{self.in_features}, {self.out_features}, dtype={self.dtype}"


@register_case(Affine, "2d")
def _affine_2d(rng):
    return Affine(5, 3, dtype=np.float64, rng=rng), rng.standard_normal((4, 5)), None


@register_case(Affine, "4d-input")
def _affine_4d(rng):
    return Affine(2 * 3 * 2, 4, init="xavier", dtype=np.float64, rng=rng), rng.standard_normal((3, 2, 3, 2)), None
