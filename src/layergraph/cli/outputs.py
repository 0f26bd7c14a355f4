"""Files a training run writes besides its checkpoint: history, results, learning curves; the confusion matrix."""

import json

import numpy as np

from .._atomic import atomic_write

PLOT_HINT = 'learning-curve plot skipped: matplotlib is not installed (pip install "layergraph[plot]")'


def write_json(path, obj):
    """Write *obj* as indented JSON to *path* (via a temporary file and ``os.replace``)."""
    with atomic_write(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2)
        f.write("\n")


def plot_history(history, path, title="", val_label="validation"):
    """Save learning curves (loss, accuracy when logged, and the learning rate) as a PNG.

    Uses matplotlib's Agg canvas directly (no pyplot, no global backend change), imported only here.

    Parameters
    ----------
    history : History or dict of lists
        With ``epoch`` and ``loss``; ``accuracy``, ``val_loss``, ``val_accuracy`` and ``lr`` are drawn when
        present.
    path : str
    title : str
    val_label : str, default "validation"
        Legend label of the ``val_*`` curves: say "test" when the held-out test set was used each epoch.

    Returns
    -------
    str or None
        *path*, or None when matplotlib is not installed.
    """
    fig = learning_curve_figure(history, title, val_label)
    if fig is None:
        return None
    with atomic_write(path, "wb") as fh:
        fig.savefig(fh, format="png", dpi=100)
    return path


def learning_curve_figure(history, title="", val_label="validation"):
    """The matplotlib ``Figure`` that :func:`plot_history` saves (None without matplotlib).

    One panel per quantity: loss (log scale), accuracy, learning rate (log scale, when the history has a
    positive ``lr``); epochs on the x axis with integer ticks.
    """
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        from matplotlib.ticker import MaxNLocator
    except ImportError:
        return None
    panels = [("loss", "loss")] + ([("accuracy", "accuracy")] if "accuracy" in history else [])
    lrs = _floats(history.get("lr", []))
    if len(lrs) and np.any(np.isfinite(lrs) & (lrs > 0)):
        panels.append(("lr", "learning rate"))
    fig = Figure(figsize=(4.5 * len(panels), 3.8), layout="constrained")
    FigureCanvasAgg(fig)
    epochs = history["epoch"]
    for i, (key, label) in enumerate(panels):
        ax = fig.add_subplot(1, len(panels), i + 1)
        if key == "lr":
            ax.plot(epochs, lrs, marker=".", color="C2", label="learning rate")
        else:
            ax.plot(epochs, _floats(history[key]), marker=".", label="train")
            if f"val_{key}" in history:
                ax.plot(epochs, _floats(history[f"val_{key}"]), marker=".", label=val_label)
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        if key in ("loss", "lr"):
            ax.set_yscale("log")
        ax.grid(True, alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    return fig


def _floats(values):
    return np.array([np.nan if v is None else float(v) for v in values], dtype=float)


def confusion_matrix(true, pred, n_classes):
    """Counts ``C[i, j]`` of samples of class *i* predicted as class *j*.

    Parameters
    ----------
    true, pred : ndarray of int, shape (N,)
    n_classes : int

    Returns
    -------
    ndarray of int64, shape (n_classes, n_classes)
    """
    true, pred = np.asarray(true, dtype=np.int64).ravel(), np.asarray(pred, dtype=np.int64).ravel()
    return np.bincount(true * n_classes + pred, minlength=n_classes * n_classes).reshape(n_classes, n_classes)


def format_confusion(cm):
    """The confusion matrix as text: one row per true class, one column per predicted class, recall at the end."""
    k = cm.shape[0]
    width = max(len(str(int(cm.max()))), len(str(k - 1)), 3)
    head = "true\\pred " + " ".join(f"{j:>{width}}" for j in range(k)) + "   recall"
    lines = [head]
    for i in range(k):
        total = int(cm[i].sum())
        recall = f"{cm[i, i] / total:8.1%}" if total else "       -"
        lines.append(f"{i:>9} " + " ".join(f"{int(c):>{width}}" for c in cm[i]) + " " + recall)
    return "\n".join(lines)
