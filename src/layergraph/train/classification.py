"""Classification metrics on label arrays: confusion matrix, per-class precision / recall / F1, the text report.

Importable from :mod:`layergraph.train.metrics` (``lg.train.metrics.confusion_matrix`` ...). Labels are integers
``0 .. C-1``; every function checks its inputs and names the bad argument in a one-line error.
"""

import numbers

import numpy as np

from ..errors import ShapeError


def _labels(y, arg, owner):
    """*y* as a 1-D int64 array of non-negative labels (one-hot / score rows ``(N, C)`` become their arg-max)."""
    a = np.asarray(y)
    if a.ndim == 2:
        a = np.argmax(a, axis=1) if a.shape[1] else a.reshape(-1)
    if a.ndim != 1:
        raise ShapeError(f"{owner}: '{arg}' must be labels of shape (N,) or one-hot rows (N, C), got shape {a.shape}")
    if a.dtype.kind == "b" or a.dtype.kind not in "iuf":
        raise TypeError(f"{owner}: '{arg}' must hold integer class labels, got dtype {a.dtype}")
    if a.dtype.kind == "f":
        if not np.all(np.isfinite(a)) or np.any(a != np.round(a)):
            raise ValueError(f"{owner}: '{arg}' must hold integer class labels, got non-integer values")
    if a.size and a.min() < 0:
        raise ValueError(f"{owner}: '{arg}' holds the negative label {int(a.min())}; labels are 0 .. C-1")
    return a.astype(np.int64, copy=False)


def _pair(y_true, y_pred, owner):
    t, p = _labels(y_true, "y_true", owner), _labels(y_pred, "y_pred", owner)
    if len(t) != len(p):
        raise ShapeError(f"{owner}: 'y_true' has {len(t)} samples but 'y_pred' has {len(p)}")
    return t, p


def confusion_matrix(y_true, y_pred, num_classes=None):
    """Counts ``C[i, j]`` of the samples of true class *i* predicted as class *j* (true classes as rows).

    Parameters
    ----------
    y_true, y_pred : array of int, shape (N,)
        Labels in ``0 .. num_classes - 1`` (one-hot or score rows ``(N, C)`` are reduced to their arg-max).
    num_classes : int, optional
        Size of the matrix; default ``max(max(y_true), max(y_pred)) + 1``.

    Returns
    -------
    ndarray of int64, shape (num_classes, num_classes)
        Rows sum to each class's support, columns to the number of predictions of each class.

    Examples
    --------
    >>> confusion_matrix([0, 1, 1, 2], [0, 2, 1, 2])
    array([[1, 0, 0],
           [0, 1, 1],
           [0, 0, 1]])
    """
    t, p = _pair(y_true, y_pred, "confusion_matrix")
    seen = int(max(t.max(initial=-1), p.max(initial=-1))) + 1
    if num_classes is None:
        k = seen
    else:
        if not isinstance(num_classes, numbers.Integral) or isinstance(num_classes, bool) or num_classes < 1:
            raise ValueError(f"confusion_matrix: 'num_classes' must be an int >= 1, got {num_classes!r}")
        k = int(num_classes)
        if seen > k:
            arg = "y_true" if t.max(initial=-1) >= k else "y_pred"
            raise ValueError(f"confusion_matrix: '{arg}' holds the label {seen - 1}, out of range for "
                             f"num_classes={k}")
    return np.bincount(t * k + p, minlength=k * k).reshape(k, k).astype(np.int64, copy=False)


def _divide(num, den):
    num, den = np.asarray(num, dtype=np.float64), np.asarray(den, dtype=np.float64)
    out = np.zeros_like(num)
    np.divide(num, den, out=out, where=den > 0)
    return out


def precision_recall_f1(y_true, y_pred, num_classes=None):
    """Per-class precision, recall, F1 and support, with their macro and weighted averages.

    ``precision[c] = TP / (TP + FP)``, ``recall[c] = TP / (TP + FN)``, ``f1[c] = 2 P R / (P + R)``; a ratio whose
    denominator is 0 is reported as 0 (no prediction of the class, no sample of it).

    Parameters
    ----------
    y_true, y_pred : array of int, shape (N,)
    num_classes : int, optional
        Number of classes; default ``max label + 1``.

    Returns
    -------
    dict
        ``"precision"``, ``"recall"``, ``"f1"``: float64 arrays ``(C,)``; ``"support"``: int64 array ``(C,)``
        (samples of each true class); ``"macro"`` and ``"weighted"``: dicts with ``"precision"``, ``"recall"``,
        ``"f1"`` (floats). The macro average is the plain mean over the classes that occur in *y_true* or
        *y_pred*; the weighted average weighs each class by its support.
    """
    cm = confusion_matrix(y_true, y_pred, num_classes)
    if cm.sum() == 0:
        raise ValueError("precision_recall_f1: 'y_true' holds no samples")
    tp = np.diag(cm).astype(np.float64)
    support, predicted = cm.sum(axis=1), cm.sum(axis=0)
    precision, recall = _divide(tp, predicted), _divide(tp, support)
    f1 = _divide(2 * precision * recall, precision + recall)
    present = (support + predicted) > 0
    out = {"precision": precision, "recall": recall, "f1": f1, "support": support.astype(np.int64)}
    out["macro"] = {k: float(np.mean(out[k][present])) for k in ("precision", "recall", "f1")}
    out["weighted"] = {k: float(np.sum(out[k] * support) / support.sum()) for k in ("precision", "recall", "f1")}
    return out


def classification_report(y_true, y_pred, class_names=None, num_classes=None, digits=3):
    """The per-class table printed by ``layergraph evaluate``: precision, recall, F1 and support per class, then
    the accuracy and the macro and weighted averages.

    Parameters
    ----------
    y_true, y_pred : array of int, shape (N,)
    class_names : sequence of str, optional
        One name per class (default: the class numbers).
    num_classes : int, optional
        Default ``len(class_names)`` when given, else ``max label + 1``.
    digits : int, default 3
        Decimals of the ratios.

    Returns
    -------
    str
        One line per class, a blank line, then ``accuracy``, ``macro avg`` and ``weighted avg`` lines.
    """
    if class_names is not None:
        class_names = [str(c) for c in class_names]
        if num_classes is None:
            num_classes = len(class_names)
        elif len(class_names) != num_classes:
            raise ValueError(f"classification_report: {len(class_names)} 'class_names' for {num_classes} classes")
    scores = precision_recall_f1(y_true, y_pred, num_classes)
    k = len(scores["support"])
    if class_names is not None and len(class_names) != k:
        raise ValueError(f"classification_report: 'class_names' has {len(class_names)} names but the labels "
                         f"need {k}")
    names = class_names or [str(i) for i in range(k)]
    total = int(scores["support"].sum())
    correct = int(np.trace(confusion_matrix(y_true, y_pred, k)))
    w = max(12, *(len(n) for n in names))
    col = max(digits + 3, 9)
    fmt = f"{{:>{col}.{digits}f}}"
    lines = [" " * w + "".join(f"{h:>{col}}" for h in ("precision", "recall", "f1-score", "support"))]
    for i, name in enumerate(names):
        row = [fmt.format(scores[m][i]) for m in ("precision", "recall", "f1")]
        lines.append(f"{name:>{w}}" + "".join(row) + f"{int(scores['support'][i]):>{col}}")
    lines.append("")
    lines.append(f"{'accuracy':>{w}}" + " " * (2 * col) + fmt.format(correct / total) + f"{total:>{col}}")
    for label, key in (("macro avg", "macro"), ("weighted avg", "weighted")):
        avg = scores[key]
        lines.append(f"{label:>{w}}" + "".join(fmt.format(avg[m]) for m in ("precision", "recall", "f1"))
                     + f"{total:>{col}}")
    return "\n".join(lines)
