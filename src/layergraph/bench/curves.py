"""PNG plots of the reports: step-resolved validation curves, sensitivity to the learning rate, profiles.

Needs matplotlib (``pip install layergraph[plot]``), imported lazily through
:func:`layergraph.bench.plot.require_matplotlib` (object-oriented API, Agg canvas).
Legends sit outside the axes so they never cover data, and lines are told apart by
marker and line style as well as colour.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from .plot import require_matplotlib
from .stats import mean_ci_curves, performance_profile

__all__ = ["plot_curves", "plot_loss_curves", "plot_sensitivity", "plot_profile", "line_styles"]

_MARKERS = ("o", "s", "^", "v", "D", "P", "X", "*", "<", ">", "h", "p")
_DASHES = ("-", "--", "-.", ":")


def line_styles(n: int) -> list[dict]:
    """``n`` distinct ``{"marker", "linestyle", "color"}`` combinations (marker and style change together)."""
    colors = [f"C{i}" for i in range(10)]
    return [{"marker": _MARKERS[i % len(_MARKERS)], "linestyle": _DASHES[i % len(_DASHES)],
             "color": colors[i % len(colors)]} for i in range(n)]


def _finish(fig, ax, path, legend=True):
    if legend:
        ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)
    fig.tight_layout()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out)
    return out


def _metric_of(runs):
    r = runs[0]
    return r.get("metric") or {"name": "accuracy", "higher_is_better": True, "target": r.get("target")}


def _epoch_ticks(ax, batches, max_step):
    """Integer epochs on the x axis (at most ~10 labels)."""
    epochs = max(1, int(math.ceil(max_step / batches)))
    stride = max(1, int(math.ceil(epochs / 10)))
    ticks = np.arange(0, epochs + 1, stride)
    ax.set_xticks(ticks * batches)
    ax.set_xticklabels([str(int(t)) for t in ticks])
    ax.set_xlabel("epoch (evaluations every few steps in between)")


def plot_curves(runs_by_optimizer: dict, path, *, title: str | None = None) -> Path:
    """Validation headline metric against steps, mean and 95% t-band over the seeds, integer epoch ticks.

    For a positive lower-is-better metric (a loss, an error) the curve is the geometric mean and the band the
    t-interval of the log values, drawn on a log axis, so the band stays above zero.

    Parameters
    ----------
    runs_by_optimizer : dict optimizer -> list of run records
        Final runs of one problem; diverged runs are left out.
    path : str or Path
    title : str, optional

    Returns
    -------
    Path
    """
    Figure, FigureCanvasAgg = require_matplotlib()
    fig = Figure(figsize=(9, 4.5), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    styles = line_styles(len(runs_by_optimizer))
    metric, batches, top = None, 1, 1
    for style, (opt, runs) in zip(styles, runs_by_optimizer.items()):
        full = [r for r in runs if not r["diverged"] and "curve" in r]
        if not full:
            continue
        metric = _metric_of(full)
        key = f"val_{metric['name']}"
        n = min(len(r["curve"]["step"]) for r in full)
        steps = np.asarray(full[0]["curve"]["step"][:n])
        curves = np.array([[np.nan if v is None else v for v in r["curve"][key][:n]] for r in full])
        log = not metric["higher_is_better"] and bool(np.all(curves > 0))  # errors: geometric mean, log band
        vals = np.log(curves) if log else curves
        mean, half = mean_ci_curves(vals) if len(full) >= 2 else (vals[0], np.zeros(n))
        lo, mid, hi = mean - half, mean, mean + half
        if log:
            lo, mid, hi = np.exp(lo), np.exp(mid), np.exp(hi)
        ax.plot(steps, mid, lw=1.4, markersize=4, markevery=max(1, n // 10), label=f"{opt} ({len(full)})",
                **style)
        ax.fill_between(steps, lo, hi, color=style["color"], alpha=0.15, lw=0)
        batches, top = full[0].get("batches_per_epoch") or 1, max(top, int(steps[-1]))
    if metric is not None:
        if metric.get("target") is not None:
            ax.axhline(metric["target"], color="k", lw=0.8, ls=":", label=f"target {metric['target']:g}")
        ax.set_ylabel(f"validation {metric['name']} ({'higher' if metric['higher_is_better'] else 'lower'} "
                      "is better)")
        if not metric["higher_is_better"]:
            ax.set_yscale("log")
        _epoch_ticks(ax, batches, top)
    ax.grid(True, alpha=0.3)
    if title:
        what = ("geometric mean and 95% interval of the log over seeds" if metric is not None and log
                else "mean and 95% interval over seeds")
        ax.set_title(f"{title}: {what}")
    return _finish(fig, ax, path)


plot_loss_curves = plot_curves


def plot_sensitivity(tuning_by_optimizer: dict, path, *, title: str | None = None) -> Path:
    """Final validation headline metric of every tuning trial against its learning rate (log axis).

    One marker per trial (mean over the tuning seeds), one line per optimizer through the trials in order of
    learning rate, as DeepOBS shows; diverged trials are drawn as crosses at the bottom (or top) of the axis.
    """
    Figure, FigureCanvasAgg = require_matplotlib()
    fig = Figure(figsize=(8, 4.5), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    styles = line_styles(len(tuning_by_optimizer))
    metric, bad_points = None, []
    for style, (opt, recs) in zip(styles, tuning_by_optimizer.items()):
        metric = _metric_of(recs)
        key = f"val_{metric['name']}"
        by_trial: dict = {}
        for r in recs:
            by_trial.setdefault(r.get("trial"), []).append(r)
        pts = []
        for rs in by_trial.values():
            lr = rs[0]["hyperparameters"].get("lr")
            vals = [(r.get("final") or {}).get(key) for r in rs]
            if lr is None:
                continue
            if any(r["diverged"] for r in rs) or any(v is None for v in vals):
                bad_points.append((lr, style))
            else:
                pts.append((lr, float(np.mean(vals))))
        pts.sort()
        if pts:
            ax.plot([p[0] for p in pts], [p[1] for p in pts], lw=1.0, markersize=5, label=opt, **style)
    ax.set_xscale("log")
    if metric is not None:
        if not metric["higher_is_better"]:
            ax.set_yscale("log")
        lo, hi = ax.get_ylim()
        for lr, style in bad_points:
            ax.plot([lr], [lo if metric["higher_is_better"] else hi], marker="x", color=style["color"], ls="none")
        ax.set_ylabel(f"final validation {metric['name']}")
    ax.set_xlabel("learning rate (every tuning trial; x = diverged)")
    ax.grid(True, alpha=0.3)
    if title:
        ax.set_title(f"{title}: sensitivity to the learning rate")
    return _finish(fig, ax, path)


def plot_profile(costs: dict, path, *, xlabel: str = "tau (ratio to the fastest, steps to target)") -> Path:
    """Step plot of the Dolan-Moré performance profile of ``costs`` (see :func:`performance_profile`)."""
    Figure, FigureCanvasAgg = require_matplotlib()
    taus, rho = performance_profile(costs)
    top = float(taus.max()) * 1.5 if taus.size else 2.0
    fig = Figure(figsize=(8, 4.5), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    xs = np.append(taus, max(top, 2.0))
    for style, (name, r) in zip(line_styles(len(rho)), rho.items()):
        ys = np.append(r, r[-1])
        ax.step(xs, ys, where="post", lw=1.4, linestyle=style["linestyle"], color=style["color"])
        every = max(1, len(xs) // 8)
        ax.plot(xs[::every], ys[::every], ls="none", marker=style["marker"], color=style["color"], markersize=5)
        ax.plot([], [], label=name, lw=1.4, markersize=5, **style)  # legend entry with line style and marker
    ax.set_xscale("log", base=2)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("fraction of instances")
    ax.grid(True, alpha=0.3)
    return _finish(fig, ax, path)


