"""What the containers accept as a loss, and the accuracy they compute with it (shared by Sequential and Graph)."""

import numpy as np

from ..errors import ShapeError, describe
from ..layers.base import Loss


def check_loss(container, loss, where):
    """Raise TypeError unless *loss* is a loss layer: an :class:`~layergraph.Loss`, or any object with
    ``forward(x, t)``, ``backward(dout=1.0)`` and ``is_loss = True``. *where* names the argument in the message."""
    ok = callable(getattr(loss, "forward", None)) and callable(getattr(loss, "backward", None))
    if not (ok and getattr(loss, "is_loss", False) is True):
        raise TypeError(f"{describe(container)}.set_loss: {where} must be a loss layer (a subclass of lg.Loss, or "
                        f"an object with forward(x, t), backward(dout) and is_loss = True), got {describe(loss)}")


def check_distinct(container, losses):
    """Raise ValueError when one loss object serves two outputs (a loss keeps the cache of its last call)."""
    first = {}
    for output, loss in losses.items():
        if id(loss) in first:
            raise ValueError(f"{describe(container)}.set_loss: outputs {first[id(loss)]!r} and {output!r} are given "
                             f"the same {describe(loss)} object; a loss keeps the cache of its last call, so give "
                             f"each output its own loss")
        first[id(loss)] = output


def accuracy(net, outputs_of, n, t, loss, batch_size, what="the network"):
    """Fraction of correct predictions in [0, 1], evaluated in chunks of *batch_size* rows.

    Parameters
    ----------
    net : Sequential or Graph
        Named in error messages.
    outputs_of : callable ``(start, stop) -> ndarray``
        The judged output for rows ``start:stop`` (inference mode).
    n : int
        Number of samples in ``x``.
    t : array_like
        Labels ``(N,)`` / ``(N, T)`` or one-hot rows; positions the loss ignores (``ignore_index``) are skipped.
    loss : Loss or None
        Says how outputs and targets become labels (arg-max when it is not a :class:`~layergraph.Loss`).
    what : str
        The output's description in messages (``"output 'digit'"``).
    """
    if n != len(t):
        raise ShapeError(f"{describe(net)}.accuracy: 'x' has {n} samples but 't' has {len(t)}")
    if n == 0:
        raise ShapeError(f"{describe(net)}.accuracy: argument 'x' holds no samples")
    judge = loss if isinstance(loss, Loss) else Loss()
    valid_mask = getattr(judge, "valid_mask", lambda _: None)
    t = np.asarray(t)
    correct = total = 0
    for i in range(0, n, batch_size):
        y = outputs_of(i, i + batch_size)
        if i == 0:
            keep = valid_mask(t)
            check_label_range(net, t if keep is None else t[keep], y, what)
        pred = judge.predicted_labels(y)
        true = judge.target_labels(t[i:i + batch_size])
        hit = pred == true.reshape(pred.shape)
        keep = valid_mask(t[i:i + batch_size])
        if keep is not None:  # positions whose target is ignore_index (padding) are not counted
            hit &= keep.reshape(pred.shape)
        correct += int(np.count_nonzero(hit))
        total += pred.size if keep is None else int(np.count_nonzero(keep))
    return correct / total if total else 0.0


def check_label_range(net, t, y, what="the network"):
    """Integer labels must index the output columns (a softmax head with C > 1 outputs)."""
    if t.ndim != 1 or t.size == 0 or t.dtype.kind not in "iub" or getattr(y, "ndim", 0) != 2 or y.shape[1] < 2:
        return
    lo, hi = int(t.min()), int(t.max())
    if lo < 0 or hi >= y.shape[1]:
        raise ValueError(f"{describe(net)}.accuracy: argument 't' holds labels in [{lo}, {hi}] but {what} has "
                         f"{y.shape[1]} outputs (labels 0..{y.shape[1] - 1})")
