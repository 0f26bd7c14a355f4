"""PNG plots of the reports: loss curves with confidence bands, and performance profiles.

Needs matplotlib (``pip install layergraph[plot]``), imported lazily through
:func:`layergraph.bench.plot.require_matplotlib` (object-oriented API, Agg canvas).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .plot import require_matplotlib
from .stats import mean_ci_curves, performance_profile

__all__ = ["plot_loss_curves", "plot_profile"]


def _band(ax, epochs, curves, label):
    """Geometric mean over the seeds and the 95% CI computed on log(loss), drawn on a log axis."""
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.log(np.maximum(np.asarray(curves, dtype=np.float64), 1e-300))
    if logs.shape[0] >= 2:
        mean, half = mean_ci_curves(logs)
    else:
        mean, half = logs[0], np.zeros(logs.shape[1])
    (line,) = ax.plot(epochs, np.exp(mean), lw=1.5, label=label)
    ax.fill_between(epochs, np.exp(mean - half), np.exp(mean + half), color=line.get_color(), alpha=0.2, lw=0)


def plot_loss_curves(runs_by_optimizer: dict, path, *, title: str | None = None) -> Path:
    """Training and validation loss per epoch over the seeds, on a log scale, with a 95% confidence band.

    The curve is the geometric mean of the seeds' losses and the band the Student-t
    interval of the mean of ``log(loss)``, mapped back (losses are positive and
    spread multiplicatively, so the band stays above zero).

    Parameters
    ----------
    runs_by_optimizer : dict optimizer -> list of run records
        Final runs of one problem; diverged or shorter runs are left out of the band.
    path : str or Path
        Output PNG.
    title : str, optional

    Returns
    -------
    Path
    """
    Figure, FigureCanvasAgg = require_matplotlib()
    fig = Figure(figsize=(10, 4), dpi=100)
    FigureCanvasAgg(fig)
    axes = [fig.add_subplot(1, 2, i + 1) for i in range(2)]
    for opt, runs in runs_by_optimizer.items():
        full = [r for r in runs if not r["diverged"] and len(r["history"]["epoch"]) == r["epochs"]]
        if not full:
            continue
        epochs = full[0]["history"]["epoch"]
        for ax, key in zip(axes, ("train_loss", "val_loss")):
            curves = [[np.nan if v is None else v for v in r["history"][key]] for r in full]
            _band(ax, epochs, curves, f"{opt} ({len(full)})")
    for ax, name in zip(axes, ("training loss", "validation loss")):
        ax.set_xlabel("epoch")
        ax.set_ylabel(name)
        ax.set_yscale("log")
        ax.grid(True, alpha=0.3)
    axes[1].legend(fontsize="small")
    if title:
        fig.suptitle(f"{title}: geometric mean and 95% CI over seeds")
    fig.tight_layout()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out)
    return out


def plot_profile(costs: dict, path, *, xlabel: str = "tau (ratio to the fastest, steps to target)") -> Path:
    """Step plot of the Dolan-Moré performance profile of ``costs`` (see :func:`performance_profile`)."""
    Figure, FigureCanvasAgg = require_matplotlib()
    taus, rho = performance_profile(costs)
    top = float(taus.max()) * 1.5 if taus.size else 2.0
    fig = Figure(figsize=(6, 4), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    xs = np.append(taus, max(top, 2.0))
    for name, r in rho.items():
        ax.step(xs, np.append(r, r[-1]), where="post", label=name, lw=1.5)
    ax.set_xscale("log", base=2)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("fraction of instances")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small", loc="lower right")
    fig.tight_layout()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out)
    return out
