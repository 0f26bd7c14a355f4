"""Metrics and evaluation in batches.

A metric is a function ``fn(y, t) -> float`` of a batch's network outputs ``y`` ``(B, ...)`` and targets ``t``
returning the batch mean; an epoch's (or a data set's) value is the batch-size-weighted mean of the batch values,
so any per-sample mean (accuracy, squared error, ...) comes out exact whatever the batch size. When the loss layer
ignores some positions (``SoftmaxWithLoss(ignore_index=...)`` on padded sequences), the loss and the built-in
accuracy are means over the positions that count, so their batches are weighted by those counts instead; a
metric ``fn`` with a method ``fn.weight(t)`` (the count behind its batch value, or None for the batch size) is
weighted the same way.
"""

from collections.abc import Mapping

import numpy as np

from ..layers.base import Loss
from ..errors import ShapeError
from ..layers.init import check_positive_int
from .batches import n_rows, network_pair, take_rows
from .classification import (_labels, classification_report, confusion_matrix,  # noqa: F401 (public here)
                             precision_recall_f1)
from .multi_output import WeightedLosses, per_output, training_loss


def judges_labels(loss_layer):
    """Whether *loss_layer* is a classification loss, whose outputs and targets turn into labels (accuracy).

    A loss layer says so with a ``judges_labels`` attribute; without one it is taken for a classification loss
    (labels by arg-max, as :class:`~layergraph.layers.base.Loss` gives them). Regression losses set
    ``judges_labels = False`` (``MeanSquaredError`` does; so should a user's own regression loss).
    """
    return bool(getattr(loss_layer, "judges_labels", True))


def counted_positions(loss_layer, t):
    """Number of target positions of *t* that *loss_layer* counts (from its ``valid_mask``), or None when every
    position counts (no ``valid_mask``, or it returns None)."""
    mask_fn = getattr(loss_layer, "valid_mask", None)
    mask = mask_fn(t) if callable(mask_fn) else None
    return None if mask is None else int(np.count_nonzero(mask))


class Accuracy:
    """Fraction of samples (positions, for sequences) whose predicted label equals the target label.

    Labels come from the loss layer's ``predicted_labels`` / ``target_labels`` (arg-max of logits for
    softmax, ``y > 0`` for sigmoid, integer labels or one-hot rows for targets); positions the loss layer ignores
    (``valid_mask``) are not counted, and :meth:`weight` gives the number that are.
    """

    def __init__(self, loss_layer=None):
        self.judge = loss_layer if isinstance(loss_layer, Loss) else Loss()
        self._last = (None, None)   # (targets, their mask): weight(t) and the call that follows share one mask

    def _keep(self, t):
        if self._last[0] is not t:
            self._last = (t, getattr(self.judge, "valid_mask", lambda _: None)(t))
        return self._last[1]

    def weight(self, t):
        """Positions of targets *t* that count, or None when all do (then the batch counts by its size)."""
        keep = self._keep(t)
        return None if keep is None else int(np.count_nonzero(keep))

    def __call__(self, y, t):
        pred = self.judge.predicted_labels(y)
        true = self.judge.target_labels(t)
        hit = pred == true.reshape(pred.shape)
        keep = self._keep(t)
        self._last = (None, None)          # kept only from weight(t) to this call
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
    spec : "auto", sequence of (str or callable), mapping name -> callable, or None
        ``"auto"`` (the default of :class:`Trainer` and :func:`evaluate`) is ``["accuracy"]`` when the loss layer
        is a classification loss (:func:`judges_labels`) and nothing otherwise (a regression loss).
        ``"accuracy"`` is built in (bound to *net*'s loss layer, which must be a classification loss); a callable
        is named by its ``__name__``. For a network with several outputs each metric is reported per output that
        has a loss, named ``"<output>_<metric>"`` (``aux_accuracy``), accuracy only for the outputs with a
        classification loss; ``"<output>_loss"`` names that output's loss.
    net : Sequential or Graph

    Raises
    ------
    ValueError
        An unknown metric name, a reserved or repeated name, or ``"accuracy"`` without a classification loss.
    """
    if spec is None:
        return {}
    if isinstance(spec, str):
        spec = (["accuracy"] if _any_classifier(net) else []) if spec == "auto" else [spec]
    losses = getattr(net, "losses", None) or {}
    if getattr(net, "loss_layer", None) is None and losses:
        out, taken = {}, {f"{output}_loss" for output in losses}
        wants_accuracy = not isinstance(spec, Mapping) and "accuracy" in spec
        if wants_accuracy and not any(judges_labels(loss) for loss in losses.values()):
            raise ValueError(_no_labels_message(", ".join(f"{o!r} {type(v).__name__}" for o, v in losses.items()),
                                                "no output has one"))
        for output, loss in losses.items():
            holder = type("_Net", (), {"loss_layer": loss})()
            own = spec if judges_labels(loss) or not wants_accuracy else [s for s in spec if s != "accuracy"]
            for name, fn in resolve_metrics(own, holder).items():
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
            loss = getattr(net, "loss_layer", None)
            if not judges_labels(loss):
                raise ValueError(_no_labels_message(type(loss).__name__, "it is a regression loss"))
            name, fn = name or "accuracy", Accuracy(loss)
        elif not callable(fn):
            raise TypeError(f"Trainer: a metric must be a name or a function fn(y, t) -> float, "
                            f"got {type(fn).__name__}")
        name = name or getattr(fn, "__name__", None) or type(fn).__name__
        if name in out or name in ("loss", "epoch", "step", "lr") or name.startswith("val_"):
            raise ValueError(f"Trainer: metric name {name!r} is reserved or used twice")
        out[name] = fn
    return out


def _any_classifier(net):
    losses = getattr(net, "losses", None) or {}
    if getattr(net, "loss_layer", None) is None and losses:
        return any(judges_labels(loss) for loss in losses.values())
    return judges_labels(getattr(net, "loss_layer", None))


def _no_labels_message(what, why):
    return (f"Trainer: metric 'accuracy' needs a classification loss (one that turns outputs into labels, like "
            f"SoftmaxWithLoss or SigmoidWithLoss), got the loss {what}: {why}; drop 'accuracy' from metrics (the "
            "default 'auto' adds it only for classification losses) or pass a function fn(y, t) -> float")


def loss_parts(loss_layer):
    """The unweighted loss of each output in the last ``forward`` of a network with several losses, named
    ``"<output>_loss"``; ``{}`` for a single loss layer."""
    last = getattr(loss_layer, "last", None) if isinstance(loss_layer, WeightedLosses) else None
    return {f"{output}_loss": value for output, value in (last or {}).items()}


def _number(name, value):
    """*value* (what metric *name* returned) as a float; one line naming the metric when it is not a number."""
    try:
        return float(value)
    except (TypeError, ValueError):
        raise TypeError(f"metric {name!r} must return one number (the batch mean), got {type(value).__name__} of "
                        f"shape {np.shape(value)}") from None


class Averager:
    """Weighted running means of the loss, the per-output losses and the metrics over one pass.

    A batch counts by its number of samples, or, when the loss layer ignores some target positions (padding), by
    the number of positions that count: the loss by its loss layer's count, each output's loss by that output's,
    a metric by ``fn.weight(t)`` when it has one (the built-in accuracy does). The mean over the pass is then the
    mean over every counted position, whatever the batch size. With several outputs and ignored positions, the
    total loss is the weighted sum of the outputs' means, as the network's own loss over the whole set.
    """

    def __init__(self, names):
        names = list(names)
        self.sums, self.parts, self.metric_sums = {"loss": 0.0}, {}, dict.fromkeys(names, 0.0)
        self.weights = {"loss": 0, **dict.fromkeys(names, 0)}
        self._combine = None  # {part key: loss weight} once some output ignores positions

    def _add(self, store, key, value, w):
        store[key] = store.get(key, 0.0) + value * w
        self.weights[key] = self.weights.get(key, 0) + w

    def add(self, loss, y, t, metrics, parts=None, loss_layer=None):
        """Add one batch: its mean ``loss``, outputs ``y``, targets ``t``, the metric functions, for several
        outputs ``parts`` (``"<output>_loss"`` -> that output's mean loss, see :func:`loss_parts`) and the
        *loss_layer* that computed ``loss`` (for the positions it counts)."""
        n = n_rows(t)
        own, part_weights = _loss_weights(loss_layer, t, parts or {})
        self._add(self.sums, "loss", loss, n if own is None else own)
        for name, value in (parts or {}).items():
            w = part_weights.get(name)
            if w is not None and self._combine is None:
                net = loss_layer.net
                self._combine = {f"{o}_loss": net.loss_weights.get(o, 1.0) for o in net.losses}
            self._add(self.parts, name, value, n if w is None else w)
        for name, fn in metrics.items():
            weight = getattr(fn, "weight", None)
            w = weight(t) if callable(weight) else None
            self._add(self.metric_sums, name, _number(name, fn(y, t)), n if w is None else w)

    def result(self, prefix=""):
        """``{prefix + "loss": mean, prefix + "<output>_loss": mean, ..., prefix + "<metric>": mean, ...}``."""
        out = {prefix + k: v / (self.weights[k] or 1)
               for k, v in {**self.sums, **self.parts, **self.metric_sums}.items()}
        if self._combine is not None:
            out[prefix + "loss"] = float(sum(w * out[prefix + k] for k, w in self._combine.items()
                                             if prefix + k in out))
        return out


def _loss_weights(loss_layer, t, parts):
    """``(count of the loss layer or None, {part key: count or None})`` of one batch's targets *t*."""
    if isinstance(loss_layer, WeightedLosses):
        if not isinstance(t, dict):
            return None, {}
        losses = loss_layer.net.losses
        return None, {name: counted_positions(losses[name[:-5]], t[name[:-5]]) for name in parts
                      if name[:-5] in losses and name[:-5] in t}
    return counted_positions(loss_layer, t), {}


def evaluate(net, x, t, *, batch_size=1000, metrics="auto", prefix=""):
    """Loss and metrics of *net* on ``(x, t)`` in inference mode, computed in batches of *batch_size* rows.

    Parameters
    ----------
    net : Sequential with a loss layer
    x : ndarray, shape (N, ...), or the dict / list of arrays a graph with several inputs takes
    t : ndarray, shape (N,) or (N, ...), or a dict by output name
    batch_size : int, default 1000
        Rows per forward pass; memory use is bounded by it.
    metrics : see :func:`resolve_metrics` (default "auto": accuracy for a classification loss), or an already
        resolved dict
    prefix : str
        Prepended to every key (``"val_"``).

    Returns
    -------
    dict
        ``{"loss": float, "<metric>": float, ...}`` (means over the N samples, or over the target positions that
        count when the loss layer ignores some; see :class:`Averager`); a network with several losses also gets
        each output's unweighted loss as ``"<output>_loss"``.
    """
    x, t = network_pair(net, x, t, "evaluate")
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
        avg.add(float(loss_layer.forward(y, tb)), y, tb, fns, loss_parts(loss_layer), loss_layer=loss_layer)
    return avg.result(prefix)
