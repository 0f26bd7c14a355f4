"""Turn a results directory into ``results.csv``, ``report.md`` and PNG plots.

The report has, per problem: the tuning outcome (selected hyperparameters), a
table of the final runs with the mean and 95% Student-t confidence interval of
the test accuracy, test loss and final training loss, time-to-target (median
steps and training seconds over the seeds, and how many seeds reached it), and a
Dolan-Moré performance profile over all (problem, seed) instances with steps to
target as the cost.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np

from .records import read_records
from .stats import mean_ci, performance_profile
from .table import format_table

__all__ = ["load_runs", "csv_rows", "write_csv", "summarize", "profile_costs", "markdown_report", "write_report",
           "PROFILE_TAUS", "CSV_COLUMNS"]

#: Ratios at which the report tabulates the performance profile.
PROFILE_TAUS = (1.0, 1.25, 1.5, 2.0, 4.0, 8.0)
CSV_COLUMNS = ("id", "problem", "optimizer", "phase", "trial", "seed", "hyperparameters", "epochs", "steps",
               "diverged", "train_loss", "train_accuracy", "val_loss", "val_accuracy", "test_loss", "test_accuracy",
               "steps_to_target", "seconds_to_target", "train_seconds", "wall_seconds")


def load_runs(results_dir) -> list[dict]:
    """The run records of ``results_dir`` (its ``runs/`` folder, or the directory itself), sorted by id."""
    d = Path(results_dir)
    if not d.is_dir():
        raise FileNotFoundError(f"results directory {str(d)!r} does not exist")
    runs = d / "runs" if (d / "runs").is_dir() else d
    records = [r for r in read_records(runs).values() if isinstance(r.get("problem"), dict) and "final" in r]
    if not records:
        raise ValueError(f"no benchmark run records (*.json) in {str(runs)!r}")
    return records


def csv_rows(records) -> list[dict]:
    """One flat dict per run, keys :data:`CSV_COLUMNS` (hyperparameters as compact JSON)."""
    rows = []
    for r in records:
        f = r["final"]
        rows.append({
            "id": r["id"], "problem": r["problem"]["name"], "optimizer": r["optimizer"], "phase": r["phase"],
            "trial": r.get("trial"), "seed": r["seed"],
            "hyperparameters": json.dumps(r["hyperparameters"], sort_keys=True, separators=(",", ":")),
            "epochs": r["epochs"], "steps": r["steps"], "diverged": r["diverged"],
            **{k: f.get(k) for k in ("train_loss", "train_accuracy", "val_loss", "val_accuracy", "test_loss",
                                     "test_accuracy")},
            "steps_to_target": r.get("steps_to_target"), "seconds_to_target": r.get("seconds_to_target"),
            "train_seconds": r.get("train_seconds"), "wall_seconds": r.get("wall_seconds"),
        })
    return rows


def write_csv(records, path) -> Path:
    """Write :func:`csv_rows` to ``path``; returns the path."""
    path = Path(path)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=CSV_COLUMNS)
        w.writeheader()
        for row in csv_rows(records):
            w.writerow({k: "" if v is None else v for k, v in row.items()})
    return path


def _order(name):
    from ..optim import OPTIMIZERS

    names = list(OPTIMIZERS)
    return (names.index(name) if name in names else len(names), name)


def _by(records, phase):
    """``{problem: {optimizer: [records]}}`` of one phase, optimizers in the order of ``OPTIMIZERS``."""
    out: dict = {}
    for r in records:
        if r["phase"] == phase:
            out.setdefault(r["problem"]["name"], {}).setdefault(r["optimizer"], []).append(r)
    return {p: dict(sorted(by_opt.items(), key=lambda kv: _order(kv[0]))) for p, by_opt in out.items()}


def _ci(values):
    vals = [v for v in values if v is not None and math.isfinite(v)]
    if not vals:
        return None, None
    return mean_ci(vals)


def summarize(records) -> dict:
    """Per problem and optimizer, statistics of the final runs.

    Returns
    -------
    dict
        ``{problem: {optimizer: {"n", "diverged", "hyperparameters", "test_accuracy": (mean, half),
        "test_loss": (...), "train_loss": (...), "reached", "median_steps_to_target",
        "median_seconds_to_target", "seeds"}}}``; medians count a miss as infinite (None when
        at most half the seeds reached the target).
    """
    out: dict = {}
    for prob, by_opt in _by(records, "final").items():
        out[prob] = {}
        for opt, runs in by_opt.items():
            runs = sorted(runs, key=lambda r: r["seed"])
            ok = [r for r in runs if not r["diverged"]]
            steps = [r["steps_to_target"] if r["steps_to_target"] is not None else math.inf for r in runs]
            secs = [r["seconds_to_target"] if r["seconds_to_target"] is not None else math.inf for r in runs]
            med_steps, med_secs = float(np.median(steps)), float(np.median(secs))
            out[prob][opt] = {
                "n": len(runs), "diverged": len(runs) - len(ok), "seeds": [r["seed"] for r in runs],
                "hyperparameters": runs[0]["hyperparameters"],
                "test_accuracy": _ci([r["final"]["test_accuracy"] for r in ok]),
                "test_loss": _ci([r["final"]["test_loss"] for r in ok]),
                "train_loss": _ci([r["final"]["train_loss"] for r in ok]),
                "reached": sum(r["steps_to_target"] is not None for r in runs),
                "median_steps_to_target": med_steps if math.isfinite(med_steps) else None,
                "median_seconds_to_target": med_secs if math.isfinite(med_secs) else None,
                "target": runs[0]["target"], "epochs": runs[0]["epochs"],
            }
    return out


def profile_costs(records, key: str = "steps_to_target") -> dict:
    """Costs for :func:`~layergraph.bench.stats.performance_profile`: solver -> cost per instance.

    The instances are the (problem, seed) pairs run by every optimizer; a run that
    missed the target (or diverged) costs ``inf``.
    """
    finals = _by(records, "final")
    opts = sorted({o for by_opt in finals.values() for o in by_opt}, key=_order)
    costs: dict = {o: [] for o in opts}
    for prob in sorted(finals):
        by_seed = {o: {r["seed"]: r for r in finals[prob].get(o, [])} for o in opts}
        common = sorted(set.intersection(*(set(s) for s in by_seed.values())))
        for seed in common:
            for o in opts:
                v = by_seed[o][seed].get(key)
                costs[o].append(math.inf if v is None else float(v))
    return costs


def _at_edge(selected: dict, tuned: list) -> bool:
    """True when ``selected["lr"]`` is the smallest or largest of at least 3 distinct tried rates."""
    lrs = sorted({t["hyperparameters"].get("lr") for t in tuned} - {None})
    return len(lrs) >= 3 and selected.get("lr") in (lrs[0], lrs[-1])


def _pm(mc, digits=4):
    mean, half = mc
    if mean is None:
        return "-"
    if half is None or math.isnan(half):
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} ± {half:.{digits}f}"


def markdown_report(records, protocol: dict | None = None, plots: dict | None = None) -> str:
    """The Markdown report of a set of run records (see the module docstring)."""
    summary = summarize(records)
    tuning = _by(records, "tune")
    lines = ["# Optimizer benchmark", ""]
    if protocol:
        lines += [f"Protocol: {protocol.get('budget')} tuning trials per optimizer ({protocol.get('method')} search, "
                  f"run seed {protocol.get('tune_seed')}), selection on validation accuracy, then "
                  f"{protocol.get('seeds')} seeds {protocol.get('seed_list')} at the selected setting.", ""]
    for prob, by_opt in summary.items():
        any_run = next(iter(by_opt.values()))
        spec = next(r for r in records if r["problem"]["name"] == prob)["problem"]
        lines += [f"## {prob}", "", f"{spec['description']}; target validation accuracy {spec['target']}"
                  f" (epochs run: {any_run['epochs']}).", ""]
        rows = []
        for opt, s in by_opt.items():
            tuned = tuning.get(prob, {}).get(opt, [])
            trials = len(tuned)
            hp = ", ".join(f"{k}={v:g}" for k, v in s["hyperparameters"].items())
            if _at_edge(s["hyperparameters"], tuned):
                hp += " (edge)"
            secs = s["median_seconds_to_target"]
            rows.append([opt, trials, hp, f"{s['n'] - s['diverged']}/{s['n']}", _pm(s["test_accuracy"]),
                         _pm(s["test_loss"]), _pm(s["train_loss"]), f"{s['reached']}/{s['n']}",
                         s["median_steps_to_target"], None if secs is None else float(f"{secs:.3g}")])
        lines += ["Final runs: mean ± 95% confidence half-width (Student t over the seeds). \"(edge)\": the "
                  "selected learning rate is the smallest or largest tried, so the search range may be too narrow.",
                  "",
                  format_table(["optimizer", "trials", "selected", "ok", "test accuracy", "test loss",
                                "final train loss", "reached", "median steps to target",
                                "median seconds to target"], rows, fmt="markdown"), ""]
        if plots and prob in plots:
            lines += [f"![loss curves of {prob}]({plots[prob]})", ""]
    costs = profile_costs(records)
    n_inst = len(next(iter(costs.values()), []))
    if n_inst:
        _, rho = performance_profile(costs, PROFILE_TAUS)
        rows = [[o] + [f"{v:.2f}" for v in rho[o]] for o in costs]
        lines += ["## Performance profile", "",
                  f"Dolan-Moré profile over {n_inst} (problem, seed) instances, cost = steps to the target "
                  "validation accuracy (a miss costs infinity): the fraction of instances on which each optimizer "
                  "is within a factor tau of the fastest.", "",
                  format_table(["optimizer"] + [f"tau={t:g}" for t in PROFILE_TAUS], rows, fmt="markdown"), ""]
        if plots and "profile" in plots:
            lines += [f"![performance profile]({plots['profile']})", ""]
    env = records[0]
    lines += ["## Environment", "",
              "versions: " + ", ".join(f"{k} {v}" for k, v in env["versions"].items()) + "; machine: "
              + ", ".join(f"{k} {v}" for k, v in env["machine"].items() if k != "hostname") + ".", ""]
    return "\n".join(lines)


def write_report(results_dir, *, plots: bool = True) -> dict:
    """Write ``results.csv``, ``report.md`` and (with matplotlib, when ``plots``) PNGs into ``results_dir``.

    Returns
    -------
    dict
        ``{"csv": Path, "report": Path, "plots": [Path, ...], "plot_error": str or None}``.
    """
    d = Path(results_dir)
    records = load_runs(d)
    protocol = None
    if (d / "protocol.json").is_file():
        protocol = json.loads((d / "protocol.json").read_text(encoding="utf-8"))
    csv_path = write_csv(records, d / "results.csv")
    pngs, links, error = [], {}, None
    if plots:
        try:
            from .curves import plot_loss_curves, plot_profile
        except ImportError as exc:  # pragma: no cover - depends on the environment
            error = str(exc)
        else:
            try:
                for prob, by_opt in _by(records, "final").items():
                    pngs.append(plot_loss_curves(by_opt, d / f"curves-{prob}.png", title=prob))
                    links[prob] = pngs[-1].name
                costs = profile_costs(records)
                if costs and len(next(iter(costs.values()))):
                    pngs.append(plot_profile(costs, d / "profile.png"))
                    links["profile"] = pngs[-1].name
            except ImportError as exc:
                error = str(exc)
    md = d / "report.md"
    md.write_text(markdown_report(records, protocol, links) + "\n", encoding="utf-8")
    return {"csv": csv_path, "report": md, "plots": pngs, "plot_error": error}
