"""Metrics and evaluation in batches.

A metric is a function ``fn(y, t) -> float`` of a batch's network outputs ``y`` ``(B, ...)`` and targets ``t``
returning the batch mean; an epoch's (or a data set's) value is the batch-size-weighted mean of the batch values,
so any per-sample mean (accuracy, squared error, ...) comes out exact whatever the batch size.
"""

from collections.abc import Mapping

import numpy as np

from ..layers.base import Loss
from ..layers.init import check_positive_int
from .batches import check_pair, n_rows, take_rows
from .classification import (_labels, classification_report, confusion_matrix,  # noqa: F401 (public here)
                             precision_recall_f1)
from .multi_output import WeightedLosses, per_output, training_loss


class Accuracy:
    """Fraction of samples whose predicted label equals the target label.

    Labels come from the loss layer's ``predicted_labels`` / ``target_labels`` (arg-max of logits for
    softmax, ``y > 0`` for sigmoid, integer labels or one-hot rows for targets).
    """

    def __init__(self, loss_layer=None):
        self.judge = loss_layer if isinstance(loss_layer, Loss) else Loss()

    def __call__(self, y, t):
        pred = self.judge.predicted_labels(y)
        true = self.judge.target_labels(t)
        hit = pred == true.reshape(pred.shape)
        keep = getattr(self.judge, "valid_mask", lambda _: None)(t)
        if keep is None:
            return np.count_nonzero(hit) / max(pred.size, 1)
        keep = keep.reshape(pred.shape)   # positions the loss ignores (padding) are not counted
        return np.count_nonzero(hit & keep) / max(int(np.count_nonzero(keep)), 1)


def top_k_accuracy(y_true, scores=None, k=None):
    """Fraction of samples whose true class is among the *k* highest scores; or, called as
    ``top_k_accuracy(k)``, a Trainer metric ``fn(y, t)`` computing it per batch.

    Parameters
    ----------
    y_true : array of int, shape (N,)
        True class labels (one-hot rows ``(N, C)`` are accepted too).
    scores : array, shape (N, C)
        Any scores increasing with confidence: logits or probabilities.
    k : int >= 1

    Returns
    -------
    float
        In [0, 1]. A sample counts when fewer than *k* classes score strictly higher than its true class
        (ties are resolved in its favour). ``k >= C`` gives 1.0.

    Examples
    --------
    >>> top_k_accuracy([0, 1], [[0.1, 0.9, 0.0], [0.2, 0.7, 0.1]], k=1)
    0.5
    """
    if scores is None and k is None:
        return _top_k_metric(y_true)
    k = check_positive_int(k, "k", "top_k_accuracy")
    scores = np.asarray(scores)
    if scores.ndim != 2:
        raise ShapeError(f"top_k_accuracy: 'scores' must have shape (N, C), got {scores.shape}")
    labels = _labels(y_true, "y_true", "top_k_accuracy")
    if len(labels) != len(scores):
        raise ShapeError(f"top_k_accuracy: 'y_true' has {len(labels)} samples but 'scores' has {len(scores)}")
    if len(labels) == 0:
        raise ValueError("top_k_accuracy: 'y_true' holds no samples")
    if labels.max() >= scores.shape[1]:
        raise ValueError(f"top_k_accuracy: label {int(labels.max())} in 'y_true' is out of range for "
                         f"{scores.shape[1]} score columns")
    own = scores[np.arange(len(labels)), labels]
    higher = np.count_nonzero(scores > own[:, None], axis=1)
    return float(np.count_nonzero(higher < k)) / len(labels)


def _top_k_metric(k):
    k = check_positive_int(k, "k", "top_k_accuracy")

    def metric(y, t):
        t = np.asarray(t)
        labels = t if t.ndim == 1 else np.argmax(t, axis=-1)
        top = np.argpartition(-y, min(k, y.shape[1]) - 1, axis=1)[:, :k]
        return np.count_nonzero(top == labels[:, None]) / len(labels)

    metric.__name__ = f"top{k}_accuracy"
    return metric


def resolve_metrics(spec, net):
    """Turn a metrics specification into an ordered dict name -> ``fn(y, t)``.

    Parameters
    ----------
    spec : sequence of (str or callable), or mapping name -> callable, or None
        ``"accuracy"`` is built in (bound to *net*'s loss layer); a callable is named by its ``__name__``.
        For a network with several outputs each metric is reported per output that has a loss, named
        ``"<output>_<metric>"`` (``aux_accuracy``); ``"<output>_loss"`` names that output's loss.
    net : Sequential or Graph
    """
    if spec is None:
        return {}
    losses = getattr(net, "losses", None) or {}
    if getattr(net, "loss_layer", None) is None and losses:
        out, taken = {}, {f"{output}_loss" for output in losses}
        for output, loss in losses.items():
            holder = type("_Net", (), {"loss_layer": loss})()
            for name, fn in resolve_metrics(spec, holder).items():
                key = f"{output}_{name}"
                if key in taken:
                    raise ValueError(f"Trainer: metric {name!r} of output {output!r} would be logged as {key!r}, "
                                     "the name of an output's loss; rename the metric")
                out[key] = per_output(fn, output)
        return out
    items = spec.items() if isinstance(spec, Mapping) else [(None, s) for s in spec]
    out = {}
    for name, fn in items:
        if isinstance(fn, str):
            if fn != "accuracy":
                raise ValueError(f"Trainer: unknown metric {fn!r}; built in: ['accuracy'] "
                                 "(or pass a function fn(y, t) -> float)")
            name, fn = name or "accuracy", Accuracy(getattr(net, "loss_layer", None))
        elif not callable(fn):
            raise TypeError(f"Trainer: a metric must be a name or a function fn(y, t) -> float, "
                            f"got {type(fn).__name__}")
        name = name or getattr(fn, "__name__", None) or type(fn).__name__
        if name in out or name in ("loss", "epoch", "step", "lr") or name.startswith("val_"):
            raise ValueError(f"Trainer: metric name {name!r} is reserved or used twice")
        out[name] = fn
    return out


def loss_parts(loss_layer):
    """The unweighted loss of each output in the last ``forward`` of a network with several losses, named
    ``"<output>_loss"``; ``{}`` for a single loss layer."""
    last = getattr(loss_layer, "last", None) if isinstance(loss_layer, WeightedLosses) else None
    return {f"{output}_loss": value for output, value in (last or {}).items()}


class Averager:
    """Batch-size-weighted running means of the loss, the per-output losses and the metrics over one pass."""

    def __init__(self, names):
        self.names = list(names)
        self.sums = {"loss": 0.0}
        self.parts = {}
        self.metric_sums = dict.fromkeys(self.names, 0.0)
        self.count = 0

    def add(self, loss, y, t, metrics, parts=None):
        """Add one batch: its mean ``loss``, outputs ``y``, targets ``t``, the metric functions and, for several
        outputs, ``parts`` (``"<output>_loss"`` -> that output's mean loss, see :func:`loss_parts`)."""
        n = n_rows(t)
        self.sums["loss"] += loss * n
        for name, value in (parts or {}).items():
            self.parts[name] = self.parts.get(name, 0.0) + value * n
        for name, fn in metrics.items():
            self.metric_sums[name] += float(fn(y, t)) * n
        self.count += n

    def result(self, prefix=""):
        """``{prefix + "loss": mean, prefix + "<output>_loss": mean, ..., prefix + "<metric>": mean, ...}``."""
        c = self.count or 1
        return {prefix + k: v / c for k, v in {**self.sums, **self.parts, **self.metric_sums}.items()}


def evaluate(net, x, t, *, batch_size=1000, metrics=("accuracy",), prefix=""):
    """Loss and metrics of *net* on ``(x, t)`` in inference mode, computed in batches of *batch_size* rows.

    Parameters
    ----------
    net : Sequential with a loss layer
    x : ndarray, shape (N, ...)
    t : ndarray, shape (N,) or (N, ...)
    batch_size : int, default 1000
        Rows per forward pass; memory use is bounded by it.
    metrics : see :func:`resolve_metrics`, or an already resolved dict
    prefix : str
        Prepended to every key (``"val_"``).

    Returns
    -------
    dict
        ``{"loss": float, "<metric>": float, ...}`` (means over the N samples); a network with several losses
        also gets each output's unweighted loss as ``"<output>_loss"``.
    """
    x, t = check_pair(x, t, "evaluate")
    if n_rows(x) == 0:
        raise ValueError("evaluate: 'x' holds no samples")
    batch_size = check_positive_int(batch_size, "batch_size", "evaluate")
    loss_layer = training_loss(net)
    if loss_layer is None:
        raise ValueError("evaluate: the network has no loss layer")
    fns = metrics if isinstance(metrics, dict) and all(callable(f) for f in metrics.values()) \
        else resolve_metrics(metrics, net)
    avg = Averager(fns)
    for i in range(0, n_rows(x), batch_size):
        xb, tb = take_rows(x, slice(i, i + batch_size)), take_rows(t, slice(i, i + batch_size))
        y = net.forward(xb, train=False)
        avg.add(float(loss_layer.forward(y, tb)), y, tb, fns, loss_parts(loss_layer))
    return avg.result(prefix)
