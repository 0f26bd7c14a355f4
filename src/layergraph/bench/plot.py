"""Contour plots of a test function with one path per optimizer (PNG).

matplotlib is an optional dependency (``pip install layergraph[plot]``); it is
imported only when a plot is drawn, and only its object-oriented API with the
Agg canvas is used, so no global backend is switched and no window opens.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from .functions import Objective
from .trajectory import Trajectory

__all__ = ["plot_trajectories", "require_matplotlib"]

_INSTALL_HINT = "pip install layergraph[plot]"


def require_matplotlib():
    """Import matplotlib's ``Figure`` and Agg canvas, or raise ImportError with the install command.

    Returns
    -------
    (Figure, FigureCanvasAgg)
    """
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise ImportError(f"layergraph plotting needs matplotlib, which is not installed: {_INSTALL_HINT}") from exc
    return Figure, FigureCanvasAgg


def plot_trajectories(
    objective: Objective,
    trajectories: Sequence[Trajectory],
    path,
    *,
    resolution: int = 200,
    levels: int = 25,
    title: str | None = None,
    figsize: tuple[float, float] = (6.4, 5.0),
    dpi: int = 100,
) -> Path:
    """Draw ``objective``'s contours over its plot box and each trajectory on top.

    Contours are drawn on ``log10(f - f* + eps)`` so that valleys (Rosenbrock) and
    bowls both show structure; the known minima are marked with stars and each
    start with a circle.

    Parameters
    ----------
    objective : Objective
    trajectories : sequence of Trajectory
        One line per trajectory, labelled by its optimizer.
    path : str or Path
        Output file; the format follows the suffix (``.png`` recommended).
    resolution : int
        Grid points per axis for the contours.
    levels : int
        Number of contour levels.
    title : str, optional
        Defaults to the function name.
    figsize, dpi
        Passed to matplotlib.

    Returns
    -------
    Path
        The written file.
    """
    if not isinstance(objective, Objective):
        raise TypeError(f"plot_trajectories: objective must be an Objective, got {type(objective).__name__}")
    trajectories = list(trajectories)
    for i, t in enumerate(trajectories):
        if not isinstance(t, Trajectory):
            raise TypeError(f"plot_trajectories: trajectories[{i}] must be a Trajectory, got {type(t).__name__}")
    if isinstance(resolution, bool) or not isinstance(resolution, int) or resolution < 2:
        raise ValueError(f"plot_trajectories: resolution must be an int >= 2, got {resolution!r}")
    Figure, FigureCanvasAgg = require_matplotlib()

    x0, x1, y0, y1 = objective.box
    xs = np.linspace(x0, x1, resolution)
    ys = np.linspace(y0, y1, resolution)
    grid = np.stack(np.meshgrid(xs, ys), axis=-1)  # (res, res, 2)
    gap = objective.value(grid) - objective.min_value
    np.maximum(gap, 0.0, out=gap)
    eps = 1e-6 * max(float(gap.max()), 1e-12)
    z = np.log10(gap + eps)

    fig = Figure(figsize=figsize, dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    cs = ax.contour(xs, ys, z, levels=levels, cmap="viridis", linewidths=0.6)
    fig.colorbar(cs, ax=ax, label="log10(f - f*)")
    ax.plot(objective.minima[:, 0], objective.minima[:, 1], "*", color="black", ms=12, label="minimum", zorder=5)
    for t in trajectories:
        (line,) = ax.plot(t.path[:, 0], t.path[:, 1], "-", lw=1.2, marker=".", ms=2.5, label=t.optimizer, zorder=4)
        ax.plot(t.path[0, 0], t.path[0, 1], "o", color=line.get_color(), ms=5, zorder=6)
        if t.diverged:
            ax.plot(t.path[-1, 0], t.path[-1, 1], "x", color=line.get_color(), ms=8, zorder=6)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_title(title if title is not None else objective.name)
    ax.legend(loc="best", fontsize="small")
    fig.tight_layout()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out)
    return out
