"""Embedding: a trainable lookup table from integer indices to vectors."""

import numbers

import numpy as np
from scipy.sparse import csr_matrix

from ..errors import ShapeError, describe, shape_str
from ..gradcheck.registry import register_case
from .base import Layer
from .init import as_float_dtype, as_generator, check_positive_int


class Embedding(Layer):
    """Look up row ``x[...]`` of the table ``W`` for every integer index: ``y[..., :] = W[x[...]]``.

    The gradient with respect to ``W`` accumulates over repeated indices (a sparse one-hot product, no Python loop
    over tokens); the ``padding_idx`` row starts at zero and never receives a gradient, so it stays zero under
    any optimizer without weight decay.

    Parameters
    ----------
    num_embeddings : int
        Vocabulary size ``V``; valid indices are ``0 .. V-1``.
    embedding_dim : int
        ``D``, the length of each vector.
    padding_idx : int, optional
        An index whose row is zero and gets no gradient (e.g. the padding token). Negative values count from the end.
    dtype : floating dtype, default float32
    rng : int or numpy.random.Generator, optional
        Source of the initial table, drawn N(0, 1) like PyTorch.

    Shapes
    ------
    x : integer array of any shape ``(N, ...)``, typically ``(N, T)``; y : ``(N, ..., D)``. Param ``W (V, D)``.
    ``backward`` returns None: indices have no gradient.
    """

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, *, dtype=np.float32, rng=None):
        super().__init__()
        owner = type(self).__name__
        self.num_embeddings = check_positive_int(num_embeddings, "num_embeddings", owner)
        self.embedding_dim = check_positive_int(embedding_dim, "embedding_dim", owner)
        if padding_idx is not None:
            if not isinstance(padding_idx, numbers.Integral) or isinstance(padding_idx, bool):
                raise TypeError(f"{owner}: 'padding_idx' must be an int or None, got {type(padding_idx).__name__}")
            if not -self.num_embeddings <= padding_idx < self.num_embeddings:
                raise ValueError(f"{owner}: 'padding_idx' must be in [-{self.num_embeddings}, "
                                 f"{self.num_embeddings}), got {padding_idx}")
            padding_idx = int(padding_idx) % self.num_embeddings
        self.padding_idx = padding_idx
        self.dtype = as_float_dtype(dtype, owner)
        gen = as_generator(rng, owner)
        W = gen.standard_normal((self.num_embeddings, self.embedding_dim)).astype(self.dtype, copy=False)
        if padding_idx is not None:
            W[padding_idx] = 0
        self.params = {"W": W}
        self.grads = {"W": np.zeros_like(W)}
        self._idx = None
        self._shape = None

    def _check_indices(self, x):
        x = np.asarray(x)
        if x.dtype.kind not in "iu":
            raise TypeError(f"{describe(self)}: argument 'x' must hold integer indices, got dtype {x.dtype} "
                            f"(cast whole-number floats with x.astype(int) explicitly)")
        if x.ndim < 1:
            raise ShapeError(f"{describe(self)}: argument 'x' must be laid out as (N, ...) indices, "
                             f"got an array of shape {shape_str(x.shape)}")
        if x.size:
            lo, hi = int(x.min()), int(x.max())
            if lo < 0 or hi >= self.num_embeddings:
                raise IndexError(f"{describe(self)}: argument 'x' has indices from {lo} to {hi}, outside "
                                 f"[0, {self.num_embeddings}) for num_embeddings = {self.num_embeddings}")
        return x

    def forward(self, x, train=True):
        """Return ``W[x]`` with shape ``x.shape + (embedding_dim,)``."""
        x = self._check_indices(x)
        self._idx = x.reshape(-1).astype(np.intp, copy=False)
        self._shape = x.shape + (self.embedding_dim,)
        return np.take(self.params["W"], self._idx, axis=0).reshape(self._shape)

    def backward(self, dout):
        """Accumulate ``dout`` rows into ``grads["W"]`` by index (repeated indices add up); return None."""
        idx = self._cached(self._idx)
        dout = self._check_dout(dout, self._shape)
        dW = self.grads["W"]
        if idx.size:
            rows = dout.reshape(idx.size, self.embedding_dim).astype(dW.dtype, copy=False)
            # dW = S^T rows with S the (tokens x V) one-hot matrix: a sparse product sums repeated indices in C
            onehot = csr_matrix((np.ones(idx.size, dtype=dW.dtype), idx, np.arange(idx.size + 1)),
                                shape=(idx.size, self.num_embeddings))
            np.copyto(dW, onehot.T @ rows)
        else:
            dW.fill(0)
        if self.padding_idx is not None:
            dW[self.padding_idx] = 0
        return None

    def extra_repr(self):
        pad = "" if self.padding_idx is None else f", padding_idx={self.padding_idx}"
        return f"{self.num_embeddings}, {self.embedding_dim}{pad}, dtype={self.dtype}"


class _ScaledLookup(Layer):
    """Gradient-check probe for :class:`Embedding`: ``y = embedding(indices) * x`` for fixed integer *indices*.

    The checker perturbs a floating input; indices cannot be perturbed, so the probe multiplies the looked-up rows
    by a floating ``x`` of the output's shape. ``dW`` then receives ``dout * x`` accumulated by index.
    """

    def __init__(self, embedding, indices):
        self.embedding = embedding
        self.indices = np.asarray(indices)
        self.params = embedding.params
        self.grads = embedding.grads
        self._x = None

    def forward(self, x, train=True):
        self._x = np.asarray(x)
        return self.embedding.forward(self.indices, train) * self._x

    def backward(self, dout):
        x = self._cached(self._x)
        self.embedding.backward(dout * x)
        return dout * self.embedding.params["W"][self.indices]

    def astype(self, dtype):
        self.embedding.astype(dtype)
        self.params, self.grads = self.embedding.params, self.embedding.grads
        return self


@register_case(Embedding, "repeated-indices")
def _embedding(rng):
    idx = rng.integers(0, 5, (3, 4))
    idx[0, :2] = 2                                    # a repeated index accumulates
    layer = Embedding(5, 3, dtype=np.float64, rng=rng)
    return _ScaledLookup(layer, idx), rng.standard_normal((3, 4, 3)), None


@register_case(Embedding, "padding_idx")
def _embedding_padding(rng):
    idx = rng.integers(0, 6, (2, 5))
    idx[:, -2:] = 0
    layer = Embedding(6, 4, padding_idx=0, dtype=np.float64, rng=rng)
    x = rng.standard_normal((2, 5, 4))
    x[idx == 0] = 0.0        # padded positions are masked out, so the (untrained) padding row does not matter
    return _ScaledLookup(layer, idx), x, None
