"""Class probabilities and labels from a network's outputs, decided by its loss layer (the "head").

A head maps the network's inference output (logits) to probabilities and to labels. Softmax cross-entropy and
sigmoid (binary / multi-label) cross-entropy are built in; :func:`register_head` adds your own loss classes.
These functions work on any container with ``forward(x, train=False)`` and a ``loss_layer`` attribute.
"""

import numpy as np

from ..errors import ShapeError, describe
from ..layers.init import check_positive_int
from ..layers.losses import SigmoidWithLoss, SoftmaxWithLoss

_HEADS = []  # [(loss class, proba fn, labels fn)], most recently registered first


def softmax_proba(logits):
    """Row-wise softmax of ``(N, C)`` logits (shifted by the row maximum, so any finite logits work)."""
    z = logits - np.max(logits, axis=1, keepdims=True)
    e = np.exp(z)
    return e / np.sum(e, axis=1, keepdims=True)


def sigmoid_proba(logits):
    """Element-wise logistic function, computed without overflow for any finite logit."""
    e = np.exp(-np.abs(logits))
    return np.where(logits >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(logits.dtype, copy=False)


def _softmax_labels(proba, threshold):
    return np.argmax(proba, axis=1).astype(np.int64)


def _sigmoid_labels(proba, threshold):
    labels = (proba > threshold).astype(np.int64)
    return labels[:, 0] if labels.shape[1] == 1 else labels


def register_head(loss_cls, proba, labels):
    """Teach :func:`predict_proba` / :func:`predict_labels` about networks whose loss layer is a *loss_cls*.

    Parameters
    ----------
    loss_cls : type
        The loss layer class (subclasses match too; the latest registration wins).
    proba : callable ``(N, C) outputs -> (N, C) probabilities``
    labels : callable ``(probabilities, threshold) -> labels``
        ``(N,)`` int64 class labels (or ``(N, C)`` 0/1 for multi-label heads).
    """
    if not isinstance(loss_cls, type):
        raise TypeError(f"register_head: 'loss_cls' must be a class, got {type(loss_cls).__name__}")
    if not (callable(proba) and callable(labels)):
        raise TypeError("register_head: 'proba' and 'labels' must be callables")
    _HEADS.insert(0, (loss_cls, proba, labels))


register_head(SoftmaxWithLoss, softmax_proba, _softmax_labels)
register_head(SigmoidWithLoss, sigmoid_proba, _sigmoid_labels)


def _head(net, owner):
    loss = getattr(net, "loss_layer", None)
    for cls, proba, labels in _HEADS:
        if isinstance(loss, cls):
            return proba, labels
    what = "no loss layer" if loss is None else f"the loss layer {type(loss).__name__}"
    raise ValueError(f"{owner}: {describe(net)} has {what}, which gives no class probabilities (softmax and sigmoid "
                     "heads are built in; add others with layergraph.network.predict.register_head)")


def chunked(n, batch_size, owner):
    """True when *n* samples are to run in chunks of *batch_size* rows; checks that *batch_size* is None or a
    positive int.

    A network with a stateful layer carries its state from one chunk to the next, row by row, as Keras does for
    stateful models: chunk ``k + 1`` holds the continuations of the sequences of chunk ``k`` (a smaller last chunk
    starts from zero, with the layer's warning).
    """
    if batch_size is None:
        return False
    batch_size = check_positive_int(batch_size, "batch_size", owner)
    return n > batch_size


def _outputs(net, x, batch_size, owner):
    x = np.asarray(x)
    if x.ndim < 1 or len(x) == 0:
        raise ShapeError(f"{owner}: 'x' must hold at least one sample (shape (N, ...)), got shape {x.shape}")
    if not chunked(len(x), batch_size, owner):
        y = net.forward(x, train=False)
    else:
        y = np.concatenate([net.forward(x[i:i + batch_size], train=False) for i in range(0, len(x), batch_size)])
    y = np.asarray(y)
    if y.ndim != 2:
        raise ShapeError(f"{owner}: {describe(net)} must output scores of shape (N, C), got {y.shape}")
    return y


def predict_proba(net, x, batch_size=None):
    """Class probabilities of *net* on *x* in inference mode.

    Parameters
    ----------
    net : container with a softmax or sigmoid loss layer (or one added with :func:`register_head`)
    x : ndarray, shape (N, ...)
    batch_size : int, optional
        Rows per forward pass (default: all at once).

    Returns
    -------
    ndarray, shape (N, C), the network's float dtype
        Softmax head: rows sum to 1. Sigmoid head: each column is the probability of its label being 1
        (``C = 1`` for a binary classifier).
    """
    owner = f"{describe(net)}.predict_proba"
    proba, _ = _head(net, owner)
    return proba(_outputs(net, x, batch_size, owner))


def predict_labels(net, x, batch_size=None, threshold=0.5):
    """Predicted labels of *net* on *x* in inference mode.

    Parameters
    ----------
    net, x, batch_size
        As for :func:`predict_proba`.
    threshold : float, default 0.5
        Sigmoid heads only: a probability above it is label 1.

    Returns
    -------
    ndarray of int64
        ``(N,)`` class labels (arg-max for softmax; 0/1 for a one-output sigmoid head), or ``(N, C)`` 0/1
        labels for a multi-output sigmoid (multi-label) head.
    """
    owner = f"{describe(net)}.predict_labels"
    proba, labels = _head(net, owner)
    if not 0.0 <= float(threshold) <= 1.0:
        raise ValueError(f"{owner}: 'threshold' must be in [0, 1], got {threshold!r}")
    return labels(proba(_outputs(net, x, batch_size, owner)), float(threshold))
