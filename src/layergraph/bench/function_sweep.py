"""Optimizers on the 2-D test functions: the same learning-rate grid for all, best run per pair, plots.

For each (function, optimizer) every learning rate of one shared log-spaced grid
is run (one task each, on any executor, resumable); the run reaching the
tolerance in the fewest steps is kept, else the one ending closest to a
minimum.  The kept trajectories give the table (steps to tolerance, final
distance) and one contour plot per function.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

from .functions import function_names, get_function
from .runs import resolve_optimizer
from .tasks import Task, run_all, stable_id
from .trajectory import Trajectory, trajectory_table, trajectory_task

__all__ = ["DEFAULT_LRS", "function_tasks", "best_trajectories", "run_function_sweep"]

#: The shared learning-rate grid: 13 values, 1e-4 .. 1, three per decade.
DEFAULT_LRS = tuple(float(f"{v:.3g}") for v in np.logspace(-4, 0, 13))


def function_tasks(functions, optimizers, lrs=DEFAULT_LRS, *, steps=300, noise=0.0, seed=0, tol=1e-3,
                   condition=100.0) -> list[tuple[tuple[str, str], Task]]:
    """One task per (function, optimizer, lr); returns ``[((function, optimizer), Task), ...]``."""
    out = []
    for fname in functions:
        if fname not in function_names():
            raise ValueError(f"unknown test function {fname!r}; expected one of {function_names()}")
        fparams = {"condition": float(condition)} if fname == "quadratic" else {}
        for oname in optimizers:
            name, cls = resolve_optimizer(oname)
            for lr in lrs:
                kwargs = dict(function=fname, function_params=fparams, optimizer=functools.partial(cls, lr=lr),
                              steps=steps, noise=noise, tol=tol, label=name)
                tid = stable_id(f"{fname}-{name.lower()}", lr=lr, steps=steps, noise=noise, tol=tol, seed=seed,
                                fparams=fparams)
                out.append(((fname, name), Task(tid, trajectory_task, seed=seed, kwargs=kwargs)))
    return out


def _key(rec):
    reached, fd = rec["steps_to_tol_distance"], rec["final_distance"]
    return (reached is None, reached or 0, float("inf") if fd is None else fd)


def best_trajectories(groups_tasks, records) -> list[tuple[Trajectory, float]]:
    """For each (function, optimizer), the best record's trajectory and its learning rate, in task order."""
    best: dict = {}
    for group, task in groups_tasks:
        rec = records[task.id]
        if group not in best or _key(rec) < _key(best[group][0]):
            best[group] = (rec, task.kwargs["optimizer"].keywords["lr"])
    out = []
    for rec, lr in best.values():
        t = Trajectory.from_dict(rec)
        t.optimizer = f"{t.optimizer}(lr={lr:g})"
        out.append((t, lr))
    return out


def run_function_sweep(functions, optimizers, executor, out_dir, *, lrs=DEFAULT_LRS, steps=300, noise=0.0, seed=0,
                       tol=1e-3, condition=100.0, plots=True, progress=None) -> dict:
    """Run the sweep, write ``runs/*.json``, ``functions.md`` and (with matplotlib) ``<function>.png``.

    Returns
    -------
    dict
        ``{"table": str (Markdown), "trajectories": [Trajectory], "plots": [Path], "plot_error": str or None}``.
    """
    out = Path(out_dir)
    pairs = function_tasks(functions, optimizers, lrs, steps=steps, noise=noise, seed=seed, tol=tol,
                           condition=condition)
    hook = None if progress is None else (lambda done, total, tid: progress(tid))
    summary = run_all([t for _, t in pairs], executor, out / "runs", progress=hook)
    if progress is not None:
        for tid in summary.skipped:
            progress(tid)
    best = best_trajectories(pairs, summary.records)
    trajs = [t for t, _ in best]
    table = trajectory_table(trajs, tol=tol, fmt="markdown")
    header = (f"# Optimizers on test functions\n\n{steps} steps, gradient noise sigma {noise:g} (seed {seed}); "
              f"learning rate chosen per function and optimizer from the same {len(lrs)} values "
              f"{min(lrs):g} .. {max(lrs):g}: fewest steps to distance {tol:g} from a minimum, else the closest "
              "final point.\n\n")
    (out / "functions.md").write_text(header + table + "\n", encoding="utf-8")
    pngs, error = [], None
    if plots:
        try:
            from .plot import plot_trajectories

            for fname in functions:
                fparams = {"condition": float(condition)} if fname == "quadratic" else {}
                objective = get_function(fname, **fparams)
                mine = [t for t in trajs if t.function.removeprefix("noisy-") == fname]
                pngs.append(plot_trajectories(objective, mine, out / f"{fname}.png"))
        except ImportError as exc:
            error = str(exc)
    return {"table": table, "trajectories": trajs, "plots": pngs, "plot_error": error}
