"""Loss layers: ``forward(x, t) -> float`` (a mean) and ``backward(dout=1.0) -> dx``."""

import numpy as np
from scipy.special import expit

from ..errors import ShapeError, describe, shape_str
from ..gradcheck.registry import register_case
from .base import Loss


def _as_logits(layer, x, ndims, layout):
    x = np.asarray(x)
    if x.dtype.kind != "f":
        x = x.astype(np.float64)
    layer._check_ndim(x, ndims, layout)
    return layer._check_finite_input(x)


class SoftmaxWithLoss(Loss):
    """Softmax followed by cross-entropy, computed from logits with log-sum-exp.

    ``loss = -(1/N) * sum_n sum_c t[n, c] * log_softmax(x)[n, c]``; ``dx = (softmax(x) * sum_c t - t) / N``, which
    is ``(softmax(x) - t) / N`` for one-hot or probability rows. Logits of any finite magnitude (1e4 and beyond)
    give a finite, exact loss and gradient. Non-finite logits raise :class:`~layergraph.errors.NonFiniteError`.

    Shapes
    ------
    x : ``(N, C)`` logits. t : integer labels ``(N,)`` in ``[0, C)`` or one-hot / probability rows ``(N, C)``.
    """

    def __init__(self):
        super().__init__()
        self._cache = None

    def forward(self, x, t):
        x = _as_logits(self, x, (2,), "(N, C) logits")
        n, c = x.shape
        t = np.asarray(t)
        z = x - np.max(x, axis=1, keepdims=True)
        p = np.exp(z)
        s = np.sum(p, axis=1, keepdims=True)
        p /= s
        log_s = np.log(s[:, 0])  # log_softmax(x) = z - log_s
        if t.ndim == 1:
            labels = _check_labels(self, t, n, c)
            loss = (np.sum(log_s) - np.sum(z[np.arange(n), labels])) / n
            self._cache = (p, labels)
        else:
            if t.shape != x.shape:
                raise ShapeError(
                    f"{describe(self)}: argument 't' must be labels (N,) = ({n},) or one-hot / probability rows "
                    f"(N, C) = ({n}, {c}), got shape {shape_str(t.shape)}"
                )
            t = t.astype(x.dtype, copy=False)
            loss = (np.dot(np.sum(t, axis=1), log_s) - np.sum(t * z)) / n
            self._cache = (p, t)
        return float(loss)

    def backward(self, dout=1.0):
        p, t = self._cached(self._cache)
        n = p.shape[0]
        if t.ndim == 1:
            dx = p.copy()
            dx[np.arange(n), t] -= 1.0
        else:
            dx = p * np.sum(t, axis=1, keepdims=True)
            dx -= t
        dx *= np.asarray(dout, dtype=dx.dtype) / n
        return dx


def _check_labels(layer, t, n, c):
    if t.shape[0] != n:
        raise ShapeError(f"{describe(layer)}: argument 't' has {t.shape[0]} labels, expected N = {n} (x has {n} rows)")
    if t.dtype.kind == "f":
        if not np.all(np.isfinite(t)) or np.any(t != np.round(t)):
            raise ValueError(f"{describe(layer)}: argument 't' holds labels, which must be whole numbers")
        t = t.astype(np.int64)
    elif t.dtype.kind not in "iu":
        raise TypeError(f"{describe(layer)}: argument 't' must hold integer labels, got dtype {t.dtype}")
    if n and (t.min() < 0 or t.max() >= c):
        bad = t[(t < 0) | (t >= c)][0]
        raise ValueError(f"{describe(layer)}: argument 't' has label {bad} out of range [0, {c}) for {c} classes")
    return t


class SigmoidWithLoss(Loss):
    """Binary cross-entropy from logits: ``loss = mean(max(x, 0) - x * t + log(1 + exp(-|x|)))``.

    The mean is over all elements (the PyTorch ``BCEWithLogitsLoss`` / Keras convention), stable for any finite
    ``|x|``; ``dx = (sigmoid(x) - t) / x.size``.

    Shapes
    ------
    x : ``(N,)`` or ``(N, 1)`` with t ``(N,)`` (binary), or ``(N, K)`` with t ``(N, K)`` (multi-label);
    targets in ``[0, 1]``.
    """

    def __init__(self):
        super().__init__()
        self._cache = None

    def forward(self, x, t):
        x = _as_logits(self, x, (1, 2), "(N,) or (N, K) logits")
        t = np.asarray(t)
        if t.shape != x.shape and not (x.ndim == 2 and x.shape[1] == 1 and t.shape == x.shape[:1]):
            raise ShapeError(
                f"{describe(self)}: argument 't' must have the shape of 'x' {shape_str(x.shape)}, "
                f"got {shape_str(t.shape)}"
            )
        t = t.reshape(x.shape).astype(x.dtype, copy=False)
        if t.size and (np.min(t) < 0 or np.max(t) > 1):
            raise ValueError(f"{describe(self)}: argument 't' must hold targets in [0, 1], "
                             f"got values in [{np.min(t)}, {np.max(t)}]")
        loss = np.mean(np.maximum(x, 0) - x * t + np.log1p(np.exp(-np.abs(x))))
        self._cache = (x, t)
        return float(loss)

    def backward(self, dout=1.0):
        x, t = self._cached(self._cache)
        dx = expit(x) - t
        dx *= np.asarray(dout, dtype=dx.dtype) / x.size
        return dx

    def predicted_labels(self, y):
        """Predicted 0/1 labels: ``y > 0`` (a logit above 0 is a probability above 1/2)."""
        y = np.asarray(y)
        return (y.reshape(y.shape[0], -1) > 0).astype(np.int64)

    def target_labels(self, t):
        """Target 0/1 labels: ``t > 0.5``, shaped like :meth:`predicted_labels`."""
        t = np.asarray(t)
        return (t.reshape(t.shape[0], -1) > 0.5).astype(np.int64)


class MeanSquaredError(Loss):
    """Mean squared error ``loss = mean((x - t)**2)`` over ALL elements (the PyTorch ``MSELoss`` / Keras convention,
    not the textbook ``0.5 * sum``); ``dx = 2 * (x - t) / x.size``.

    Shapes
    ------
    x : ``(N, ...)``; t : the same shape.
    """

    def __init__(self):
        super().__init__()
        self._diff = None

    def forward(self, x, t):
        x = np.asarray(x)
        if x.dtype.kind != "f":
            x = x.astype(np.float64)
        t = np.asarray(t)
        if t.shape != x.shape:
            raise ShapeError(f"{describe(self)}: argument 't' must have the shape of 'x' {shape_str(x.shape)}, "
                             f"got {shape_str(t.shape)}")
        self._check_finite_input(x)
        self._diff = x - t.astype(x.dtype, copy=False)
        return float(np.mean(self._diff * self._diff))

    def backward(self, dout=1.0):
        diff = self._cached(self._diff)
        return diff * (2.0 * np.asarray(dout, dtype=diff.dtype) / diff.size)


@register_case(SoftmaxWithLoss, "labels")
def _sce_labels(rng):
    return SoftmaxWithLoss(), 2 * rng.standard_normal((5, 4)), rng.integers(0, 4, 5)


@register_case(SoftmaxWithLoss, "probabilities")
def _sce_probs(rng):
    t = rng.random((5, 4))
    return SoftmaxWithLoss(), 2 * rng.standard_normal((5, 4)), t / t.sum(axis=1, keepdims=True)


@register_case(SigmoidWithLoss, "binary")
def _bce(rng):
    return SigmoidWithLoss(), 3 * rng.standard_normal(6), rng.integers(0, 2, 6)


@register_case(SigmoidWithLoss, "multilabel")
def _bce_multi(rng):
    return SigmoidWithLoss(), 3 * rng.standard_normal((4, 3)), rng.random((4, 3))


@register_case(MeanSquaredError)
def _mse(rng):
    return MeanSquaredError(), rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
