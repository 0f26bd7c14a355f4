"""Optimizer trajectories on the two-dimensional test functions.

:func:`run_trajectory` starts an optimizer at a point and records every iterate;
the resulting :class:`Trajectory` answers "how many steps to get within ``tol`` of
a minimum" and "how far from the nearest minimum did it end".
:func:`trajectory_table` puts several trajectories side by side as text or
Markdown, and :func:`trajectory_task` is the picklable unit of work for
:func:`layergraph.bench.executor.run_all`.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from .functions import Objective, get_function
from .table import format_table

__all__ = [
    "Trajectory",
    "run_trajectory",
    "trajectory_table",
    "trajectory_task",
    "optimizer_label",
]

#: Iterates with a coordinate larger than this in magnitude count as diverged.
DIVERGENCE_RADIUS = 1e8
_KINDS = ("distance", "value")


def optimizer_label(factory) -> str:
    """A short human-readable name for an optimizer factory.

    ``functools.partial(Adam, lr=0.01)`` gives ``"Adam(lr=0.01)"``; a class or
    function gives its ``__name__``.
    """
    if isinstance(factory, functools.partial):
        inner = optimizer_label(factory.func)
        args = [repr(a) for a in factory.args] + [f"{k}={v!r}" for k, v in factory.keywords.items()]
        return f"{inner}({', '.join(args)})"
    name = getattr(factory, "__name__", None)
    return name if isinstance(name, str) else type(factory).__name__


@dataclass
class Trajectory:
    """The iterates of one optimizer run on one test function.

    Attributes
    ----------
    function : str
        Name of the objective.
    optimizer : str
        Label of the optimizer.
    path : ndarray, shape (K + 1, 2)
        ``path[0]`` is the start, ``path[k]`` the point after ``k`` updates.  Shorter
        than ``steps + 1`` when the run diverged.
    values : ndarray, shape (K + 1,)
        True (noise-free) function value at every iterate.
    distances : ndarray, shape (K + 1,)
        Distance from every iterate to the nearest known minimum.
    min_value : float
        Value of the function at its minima.
    steps : int
        Number of updates requested.
    diverged : bool
        True when an iterate became non-finite or had a coordinate beyond
        ``DIVERGENCE_RADIUS`` (1e8) in magnitude;
        the run stopped there and the offending iterate is not in ``path``.
    """

    function: str
    optimizer: str
    path: np.ndarray
    values: np.ndarray
    distances: np.ndarray
    min_value: float
    steps: int
    diverged: bool = False

    @property
    def steps_taken(self) -> int:
        """Number of updates whose result is in ``path``."""
        return len(self.path) - 1

    @property
    def final_distance(self) -> float:
        """Distance to the nearest minimum at the end; ``inf`` if the run diverged."""
        return math.inf if self.diverged else float(self.distances[-1])

    @property
    def final_gap(self) -> float:
        """``f(last) - f*``; ``inf`` if the run diverged."""
        return math.inf if self.diverged else float(self.values[-1] - self.min_value)

    def steps_to_tolerance(self, tol: float, kind: str = "distance") -> int | None:
        """First step from which on the run stays within ``tol`` of a minimum.

        A run that only passes near a minimum and moves away again has not
        reached it: the answer is the step after the last iterate outside ``tol``.

        Parameters
        ----------
        tol : float, > 0
        kind : {"distance", "value"}
            ``"distance"``: Euclidean distance to the nearest minimizer;
            ``"value"``: ``f(x_k) - f*``.

        Returns
        -------
        int or None
            The smallest ``k`` (0 = the start) such that iterates ``k, k+1, ...`` all
            meet the tolerance, or None when the last iterate does not (or the run
            diverged).
        """
        if not (isinstance(tol, (int, float)) and not isinstance(tol, bool)):
            raise TypeError(f"Trajectory.steps_to_tolerance: tol must be a number, got {type(tol).__name__}")
        if not tol > 0:
            raise ValueError(f"Trajectory.steps_to_tolerance: tol must be > 0, got {tol!r}")
        if kind not in _KINDS:
            raise ValueError(f"Trajectory.steps_to_tolerance: kind must be one of {_KINDS}, got {kind!r}")
        err = self.distances if kind == "distance" else self.values - self.min_value
        if self.diverged or not err.size or not err[-1] <= tol:
            return None
        outside = np.flatnonzero(~(err <= tol))
        return int(outside[-1]) + 1 if outside.size else 0

    def to_dict(self) -> dict:
        """JSON-friendly dict (lists of floats)."""
        return {
            "function": self.function,
            "optimizer": self.optimizer,
            "path": self.path.tolist(),
            "values": self.values.tolist(),
            "distances": self.distances.tolist(),
            "min_value": float(self.min_value),
            "steps": int(self.steps),
            "diverged": bool(self.diverged),
        }

    @classmethod
    def from_dict(cls, d: dict) -> "Trajectory":
        """Inverse of :meth:`to_dict`."""
        return cls(
            function=d["function"],
            optimizer=d["optimizer"],
            path=np.asarray(d["path"], dtype=np.float64).reshape(-1, 2),
            values=np.asarray(d["values"], dtype=np.float64),
            distances=np.asarray(d["distances"], dtype=np.float64),
            min_value=float(d["min_value"]),
            steps=int(d["steps"]),
            diverged=bool(d["diverged"]),
        )


def run_trajectory(
    objective: Objective,
    optimizer: Callable[[], object],
    steps: int = 200,
    *,
    start=None,
    label: str | None = None,
) -> Trajectory:
    """Run an optimizer on a test function and record the path.

    The point is held as ``params = {"xy": array of shape (2,)}``; each step puts
    the gradient into ``grads = {"xy": ...}`` and calls
    ``opt.update(params, grads)``, which must update ``params["xy"]`` in place.

    Parameters
    ----------
    objective : Objective
        A noisy objective is replayed from its seed (see :meth:`Objective.restarted`),
        so the same arguments always give the same trajectory.
    optimizer : callable
        Factory returning a fresh optimizer, e.g. ``functools.partial(Adam, lr=0.1)``.
    steps : int, >= 0
        Number of updates.
    start : array_like, shape (2,), optional
        Defaults to ``objective.start``.  Not modified.
    label : str, optional
        Optimizer name stored in the result; defaults to :func:`optimizer_label`.

    Returns
    -------
    Trajectory
    """
    if not isinstance(objective, Objective):
        raise TypeError(f"run_trajectory: objective must be an Objective, got {type(objective).__name__}")
    if not callable(optimizer):
        raise TypeError(f"run_trajectory: optimizer must be a factory (callable), got {type(optimizer).__name__}")
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)):
        raise TypeError(f"run_trajectory: steps must be an int, got {type(steps).__name__}")
    if steps < 0:
        raise ValueError(f"run_trajectory: steps must be >= 0, got {steps}")
    x0 = objective.start if start is None else start
    x = np.array(x0, dtype=np.float64)  # a private copy: the caller's start is never touched
    if x.shape != (2,):
        raise ValueError(f"run_trajectory: start must have shape (2,), got {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"run_trajectory: start must be finite, got {x.tolist()}")

    fn = objective.restarted()
    opt = optimizer()
    if not callable(getattr(opt, "update", None)):
        raise TypeError(f"run_trajectory: optimizer factory returned {type(opt).__name__}, "
                        "which has no update(params, grads)")

    path = np.empty((steps + 1, 2))
    path[0] = x
    params = {"xy": x}
    grads = {"xy": np.zeros(2)}
    taken = steps
    diverged = False
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(1, steps + 1):
            grads["xy"][...] = fn.grad(x)
            opt.update(params, grads)
            if params["xy"] is not x:
                raise RuntimeError("run_trajectory: the optimizer replaced params['xy'] "
                                   "instead of updating it in place")
            # "not <=" is also true for nan
            if not (abs(x[0]) <= DIVERGENCE_RADIUS and abs(x[1]) <= DIVERGENCE_RADIUS):
                taken, diverged = k - 1, True
                break
            path[k] = x
    path = path[: taken + 1]
    return Trajectory(
        function=objective.name,
        optimizer=label if label is not None else optimizer_label(optimizer),
        path=path,
        values=fn.value(path),
        distances=fn.distance_to_minimum(path),
        min_value=float(fn.min_value),
        steps=int(steps),
        diverged=diverged,
    )


TABLE_HEADERS = ("function", "optimizer", "steps", "final f - f*", "final distance", "steps to tol")


def trajectory_table(
    trajectories: Sequence[Trajectory], tol: float = 1e-3, kind: str = "distance", fmt: str = "text"
) -> str:
    """Summarise trajectories: final gap, final distance and steps to tolerance.

    Parameters
    ----------
    trajectories : sequence of Trajectory
    tol : float
        Tolerance for the "steps to tol" column (``-`` when never reached).
    kind : {"distance", "value"}
        What the tolerance applies to, see :meth:`Trajectory.steps_to_tolerance`.
    fmt : {"text", "markdown"}

    Returns
    -------
    str
    """
    rows = []
    for t in trajectories:
        if not isinstance(t, Trajectory):
            raise TypeError(f"trajectory_table: expected Trajectory items, got {type(t).__name__}")
        steps = f"{t.steps_taken} (diverged)" if t.diverged else t.steps_taken
        rows.append([t.function, t.optimizer, steps, t.final_gap, t.final_distance, t.steps_to_tolerance(tol, kind)])
    return format_table(TABLE_HEADERS, rows, fmt=fmt)


def trajectory_task(
    *,
    seed: int,
    function: str,
    optimizer: Callable[[], object],
    steps: int = 200,
    function_params: dict | None = None,
    noise: float = 0.0,
    start=None,
    tol: float = 1e-3,
    label: str | None = None,
) -> dict:
    """Build a function by name, run one trajectory and return a JSON-friendly result.

    This is the unit of work for :func:`layergraph.bench.executor.run_all`; it is
    a module-level function so that process pools and Dask can pickle it.

    Parameters
    ----------
    seed : int
        Seed of the gradient noise (used only when ``noise > 0``, recorded always).
    function : str
        A name from :func:`layergraph.bench.functions.function_names`.
    optimizer : callable
        Picklable optimizer factory.
    steps, start, label
        As in :func:`run_trajectory`.
    function_params : dict, optional
        Constructor parameters of the function.
    noise : float
        Gradient noise sigma.
    tol : float
        Tolerance for the steps-to-tolerance metrics.

    Returns
    -------
    dict
        The trajectory (:meth:`Trajectory.to_dict`) plus ``steps_to_tol_distance``,
        ``steps_to_tol_value``, ``final_distance``, ``final_gap`` (None when diverged)
        and ``tol``.
    """
    objective = get_function(function, noise=noise, seed=seed if noise else None, **(function_params or {}))
    traj = run_trajectory(objective, optimizer, steps, start=start, label=label)
    out = traj.to_dict()
    out.update(
        objective=objective.describe(),
        tol=float(tol),
        steps_to_tol_distance=traj.steps_to_tolerance(tol, "distance"),
        steps_to_tol_value=traj.steps_to_tolerance(tol, "value"),
        final_distance=None if traj.diverged else traj.final_distance,
        final_gap=None if traj.diverged else traj.final_gap,
    )
    return out
