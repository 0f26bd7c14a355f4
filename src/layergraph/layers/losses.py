"""Loss layers: ``forward(x, t) -> float`` (a mean) and ``backward(dout=1.0) -> dx``."""

import numbers

import numpy as np
from scipy.special import expit

from ..errors import ShapeError, describe, shape_str
from ..gradcheck.registry import register_case
from .base import Loss


_ANY_RANK = tuple(range(1, 33))


def _as_logits(layer, x, ndims, layout):
    x = np.asarray(x)
    if x.dtype.kind != "f":
        x = x.astype(np.float64)
    layer._check_ndim(x, ndims, layout)
    return layer._check_finite_input(x)


def _check_no_nan(layer, t):
    """Raise a one-line ValueError naming the layer and 't' if the floating targets hold NaN."""
    if t.dtype.kind == "f" and t.size and np.isnan(np.sum(t)) and np.isnan(t).any():
        raise ValueError(f"{describe(layer)}: argument 't' has {int(np.count_nonzero(np.isnan(t)))} NaN "
                         f"target(s) among {t.size}, shape {shape_str(t.shape)}")


class SoftmaxWithLoss(Loss):
    """Softmax over the last axis followed by cross-entropy, computed from logits with log-sum-exp.

    For logits ``x`` ``(N, ..., C)`` every position (every ``(n, ...)``) is one classification; the loss is the mean
    over the ``M`` counted positions of ``-sum_c t[..., c] * log_softmax(x)[..., c]``, and
    ``dx = (softmax(x) * sum_c t - t) / M``, which is ``(softmax(x) - t) / M`` for one-hot or probability rows.
    With integer labels, positions whose label equals ``ignore_index`` are not counted (padding): they add nothing
    to the loss and get a zero gradient, and ``M`` is the number of the others (PyTorch's ``ignore_index`` with
    mean reduction). A batch where every position is ignored gives loss 0.0 and a zero gradient. Logits of any
    finite magnitude give a finite, exact loss and gradient; non-finite logits raise
    :class:`~layergraph.errors.NonFiniteError`.

    Parameters
    ----------
    ignore_index : int, optional
        A label value meaning "no target here" (e.g. -100 or the padding token).

    Shapes
    ------
    x : ``(N, ..., C)`` logits, e.g. ``(N, C)`` or ``(N, T, C)``. t : integer labels ``(N, ...)`` in ``[0, C)`` (or
    ``ignore_index``), or one-hot / probability rows ``(N, ..., C)`` (non-negative, no NaN).
    """

    def __init__(self, ignore_index=None):
        super().__init__()
        if ignore_index is not None and (not isinstance(ignore_index, numbers.Integral)
                                         or isinstance(ignore_index, bool)):
            raise TypeError(f"SoftmaxWithLoss: 'ignore_index' must be an int or None, "
                            f"got {type(ignore_index).__name__}")
        self.ignore_index = None if ignore_index is None else int(ignore_index)
        self._cache = None

    def forward(self, x, t):
        x = _as_logits(self, x, _ANY_RANK[1:], "(N, C) logits or (N, ..., C)")
        shape, c = x.shape, x.shape[-1]
        x = x.reshape(-1, c)
        m = x.shape[0]
        t = np.asarray(t)
        z = x - np.max(x, axis=1, keepdims=True)
        p = np.exp(z)
        s = np.sum(p, axis=1, keepdims=True)
        p /= s
        log_s = np.log(s[:, 0])  # log_softmax(x) = z - log_s
        if t.shape == shape[:-1]:
            labels = _check_labels(self, t.reshape(-1), c)
            keep = None if self.ignore_index is None else labels != self.ignore_index
            if keep is None or keep.all():
                keep, rows, cols = None, np.arange(m), labels
            else:
                rows = np.flatnonzero(keep)
                cols = labels[rows]
            count = len(rows)
            loss = (np.sum(log_s[rows]) - np.sum(z[rows, cols])) / count if count else 0.0
            self._cache = (p, (rows, cols, keep, count), shape)
        else:
            if t.shape != shape:
                if t.ndim == 1 and len(shape) == 2:
                    raise ShapeError(f"{describe(self)}: argument 't' has {t.shape[0]} labels, expected N = "
                                     f"{shape[0]} (x has {shape[0]} rows)")
                lay = {2: "(N, C)", 3: "(N, T, C)"}.get(len(shape), "(N, ..., C)")
                raise ShapeError(
                    f"{describe(self)}: argument 't' must be labels {lay[:-4]}) = {shape_str(shape[:-1])} or "
                    f"one-hot / probability rows {lay} = {shape_str(shape)}, got shape {shape_str(t.shape)}")
            t = t.reshape(-1, c).astype(x.dtype, copy=False)
            _check_no_nan(self, t)
            if t.size and np.min(t) < 0:
                bad = np.unique(np.nonzero(t < 0)[0])
                raise ValueError(f"{describe(self)}: argument 't' has {len(bad)} row(s) with negative "
                                 f"probabilities (first at flat position {bad[0]}, min {np.min(t)})")
            loss = (np.dot(np.sum(t, axis=1), log_s) - np.sum(t * z)) / m if m else 0.0
            self._cache = (p, t, shape)
        return float(loss)

    def backward(self, dout=1.0):
        p, t, shape = self._cached(self._cache)
        if isinstance(t, tuple):
            rows, cols, keep, count = t
            dx = p.copy()
            dx[rows, cols] -= 1.0
            if keep is not None:
                dx[~keep] = 0.0
            scale = 1.0 / count if count else 0.0
        else:
            dx = p * np.sum(t, axis=1, keepdims=True)
            dx -= t
            scale = 1.0 / p.shape[0] if p.shape[0] else 0.0
        dx *= np.asarray(dout, dtype=dx.dtype) * scale
        return dx.reshape(shape)

    def target_labels(self, t):
        """Labels from targets: integer labels ``(N, ...)`` as they are, one-hot / probability rows by arg-max.

        Floating targets of one dimension are labels; floating targets of two or more are rows.
        """
        t = np.asarray(t)
        return t if t.dtype.kind in "iu" or t.ndim == 1 else np.argmax(t, axis=-1)

    def valid_mask(self, t):
        """Boolean mask of the positions of targets *t* that count (None when every position counts)."""
        t = np.asarray(t)
        if self.ignore_index is None or not (t.dtype.kind in "iu" or t.ndim == 1):
            return None
        return t != self.ignore_index

    def extra_repr(self):
        return "" if self.ignore_index is None else f"ignore_index={self.ignore_index}"


def _check_labels(layer, t, c):
    if t.dtype.kind == "f":
        if not np.all(np.isfinite(t)) or np.any(t != np.round(t)):
            raise ValueError(f"{describe(layer)}: argument 't' holds labels, which must be whole numbers")
        t = t.astype(np.int64)
    elif t.dtype.kind not in "iu":
        raise TypeError(f"{describe(layer)}: argument 't' must hold integer labels, got dtype {t.dtype}")
    ignore = getattr(layer, "ignore_index", None)
    counted = t if ignore is None else t[t != ignore]
    if counted.size and (counted.min() < 0 or counted.max() >= c):
        lo, hi = counted.min(), counted.max()
        raise ValueError(f"{describe(layer)}: argument 't' has label {lo if lo < 0 else hi} out of range [0, {c}) "
                         f"for {c} classes (labels span min {lo} to max {hi})")
    return t


class SigmoidWithLoss(Loss):
    """Binary cross-entropy from logits: ``loss = mean(max(x, 0) - x * t + log(1 + exp(-|x|)))``.

    The mean is over all elements (the PyTorch ``BCEWithLogitsLoss`` / Keras convention), stable for any finite
    ``|x|``; ``dx = (sigmoid(x) - t) / x.size``.

    Shapes
    ------
    x : ``(N, ...)`` logits with t of the same shape (``(N,)`` binary, ``(N, K)`` multi-label, ``(N, T, K)`` per
    time step), or x ``(N, ..., 1)`` with t ``(N, ...)``; targets in ``[0, 1]``, NaN rejected.
    """

    def __init__(self):
        super().__init__()
        self._cache = None

    def forward(self, x, t):
        x = _as_logits(self, x, _ANY_RANK, "(N, ...) logits")
        t = np.asarray(t)
        if t.shape != x.shape and not (x.ndim >= 2 and x.shape[-1] == 1 and t.shape == x.shape[:-1]):
            raise ShapeError(
                f"{describe(self)}: argument 't' must have the shape of 'x' {shape_str(x.shape)}, "
                f"got {shape_str(t.shape)}"
            )
        t = t.reshape(x.shape).astype(x.dtype, copy=False)
        _check_no_nan(self, t)
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
    x : ``(N, ...)``, e.g. ``(N, T, K)`` per time step; t : the same shape, NaN rejected.
    """

    #: A regression loss: outputs are not labels, so trainers do not report accuracy for it.
    judges_labels = False

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
        _check_no_nan(self, t)
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


@register_case(SoftmaxWithLoss, "sequence-ignore_index")
def _sce_sequence(rng):
    t = rng.integers(0, 4, (3, 5))
    t[0, 3:] = -100
    t[2, 1:] = -100
    return SoftmaxWithLoss(ignore_index=-100), 2 * rng.standard_normal((3, 5, 4)), t


@register_case(SoftmaxWithLoss, "all-ignored")
def _sce_all_ignored(rng):
    return SoftmaxWithLoss(ignore_index=0), rng.standard_normal((2, 3, 4)), np.zeros((2, 3), dtype=np.int64)


@register_case(SoftmaxWithLoss, "sequence-probabilities")
def _sce_sequence_probs(rng):
    t = rng.random((2, 3, 4))
    return SoftmaxWithLoss(), 2 * rng.standard_normal((2, 3, 4)), t / t.sum(axis=-1, keepdims=True)


@register_case(SigmoidWithLoss, "sequence")
def _bce_sequence(rng):
    return SigmoidWithLoss(), 3 * rng.standard_normal((2, 4, 3)), rng.random((2, 4, 3))


@register_case(MeanSquaredError, "sequence")
def _mse_sequence(rng):
    return MeanSquaredError(), rng.standard_normal((2, 4, 3)), rng.standard_normal((2, 4, 3))
