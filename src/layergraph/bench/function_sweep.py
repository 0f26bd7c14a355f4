"""Optimizers on the 2-D test functions: the same learning-rate grid for all, best run per pair, plots.

For each (function, optimizer) every learning rate of one shared log-spaced grid
is run (one task each, on any executor, resumable); the run reaching the
tolerance in the fewest steps is kept, else the one ending closest to a
minimum.  The kept trajectories give the table (steps to tolerance, final
distance) and one contour plot per function.  A kept learning rate at either end
of the grid is flagged ("edge"): the best rate may lie outside the grid.  Weight
decay is not tuned here, so optimizers whose factory defaults to a non-zero
``weight_decay`` (AdamW) run with ``weight_decay`` (default 0), which does not pull
the point away from the minima.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .functions import function_names, get_function
from .plugins import normalize_plugin
from .registry import OptimizerFactory, nonzero_default, resolve_optimizer
from .tasks import Task, run_all, stable_id
from .trajectory import Trajectory, trajectory_table, trajectory_task

__all__ = ["DEFAULT_LRS", "function_tasks", "best_trajectories", "run_function_sweep"]

#: The shared learning-rate grid: 13 values, 1e-4 .. 1, three per decade.
DEFAULT_LRS = tuple(float(f"{v:.3g}") for v in np.logspace(-4, 0, 13))


def function_tasks(functions, optimizers, lrs=DEFAULT_LRS, *, steps=300, noise=0.0, seed=0, tol=1e-3,
                   condition=100.0, weight_decay=0.0, plugins=()) -> list[tuple[tuple[str, str], Task]]:
    """One task per (function, optimizer, lr); returns ``[((function, optimizer), Task), ...]``.

    Optimizers whose factory has a non-zero default ``weight_decay`` get ``weight_decay`` instead (default 0).
    """
    out = []
    for fname in functions:
        if fname not in function_names():
            raise ValueError(f"unknown test function {fname!r}; expected one of {function_names()}")
        fparams = {"condition": float(condition)} if fname == "quadratic" else {}
        for oname in optimizers:
            name, cls = resolve_optimizer(oname)
            extra = {"weight_decay": float(weight_decay)} if nonzero_default(cls, "weight_decay") else {}
            for lr in lrs:
                kwargs = dict(function=fname, function_params=fparams,
                              optimizer=OptimizerFactory(name, {"lr": lr, **extra}, plugins),
                              steps=steps, noise=noise, tol=tol, label=name)
                tid = stable_id(f"{fname}-{name.lower()}", lr=lr, steps=steps, noise=noise, tol=tol, seed=seed,
                                fparams=fparams, **extra)
                out.append(((fname, name), Task(tid, trajectory_task, seed=seed, kwargs=kwargs)))
    return out


def _key(rec):
    reached, fd = rec["steps_to_tol_distance"], rec["final_distance"]
    return (reached is None, reached or 0, float("inf") if fd is None else fd)


def best_trajectories(groups_tasks, records) -> list[tuple[Trajectory, float]]:
    """For each (function, optimizer), the best record's trajectory and its learning rate, in task order.

    The label reads ``Name(lr=...)``, with ``, edge`` when the rate is the smallest or largest of the grid
    tried for that pair, and the weight decay when one was set.
    """
    best: dict = {}
    tried: dict = {}
    for group, task in groups_tasks:
        rec = records[task.id]
        kw = task.kwargs["optimizer"].keywords
        tried.setdefault(group, []).append(kw["lr"])
        if group not in best or _key(rec) < _key(best[group][0]):
            best[group] = (rec, kw)
    out = []
    for group, (rec, kw) in best.items():
        lr, lrs = kw["lr"], tried[group]
        t = Trajectory.from_dict(rec)
        wd = f", weight_decay={kw['weight_decay']:g}" if "weight_decay" in kw else ""
        edge = ", edge" if len(lrs) >= 3 and lr in (min(lrs), max(lrs)) else ""
        t.optimizer = f"{t.optimizer}(lr={lr:g}{wd}{edge})"
        out.append((t, lr))
    return out


def run_function_sweep(functions, optimizers, executor, out_dir, *, lrs=DEFAULT_LRS, steps=300, noise=0.0, seed=0,
                       tol=1e-3, condition=100.0, plots=True, progress=None, weight_decay=0.0, plugins=()) -> dict:
    """Run the sweep, write ``runs/*.json``, ``functions.md`` and (with matplotlib) ``<function>.png``.

    Returns
    -------
    dict
        ``{"table": str (Markdown), "trajectories": [Trajectory], "plots": [Path], "plot_error": str or None}``.
    """
    out = Path(out_dir)
    plugins = tuple(normalize_plugin(p) for p in plugins)
    pairs = function_tasks(functions, optimizers, lrs, steps=steps, noise=noise, seed=seed, tol=tol,
                           condition=condition, weight_decay=weight_decay, plugins=plugins)
    hook = None if progress is None else (lambda done, total, tid: progress(tid))
    summary = run_all([t for _, t in pairs], executor, out / "runs", progress=hook)
    if progress is not None:
        for tid in summary.skipped:
            progress(tid)
    best = best_trajectories(pairs, summary.records)
    trajs = [t for t, _ in best]
    table = trajectory_table(trajs, tol=tol, fmt="markdown")
    n_edge = sum(t.optimizer.endswith(", edge)") for t in trajs)
    header = (f"# Optimizers on test functions\n\n{steps} steps, gradient noise sigma {noise:g} (seed {seed}); "
              f"learning rate chosen per function and optimizer from the same {len(lrs)} values "
              f"{min(lrs):g} .. {max(lrs):g}: fewest steps to distance {tol:g} from a minimum, else the closest "
              f"final point. \"edge\": the kept rate is the first or last of the grid ({n_edge} of {len(trajs)} "
              "pairs), so a better rate may lie outside it. Weight decay (not tuned here) is "
              f"{weight_decay:g} for the optimizers that default to a non-zero one.\n\n")
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
