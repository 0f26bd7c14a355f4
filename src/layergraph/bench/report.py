"""Turn a results directory into ``results.csv``, ``report.md`` and PNG plots.

The report has, per problem, in the problem's own headline metric and direction:
the selected hyperparameters; over the final runs the mean and 95% seed interval of
the test metric, a 95% test-set interval (bootstrap over the test examples); the
paired comparison of every optimizer with the best one (or ``baseline``) on the
common seeds (paired t and Wilcoxon, Holm-adjusted, and the group not distinguishable
from the reference); time to target (median steps and seconds over the seeds, how
many seeds reached it); then a Dolan-Moré performance profile over all (problem,
seed) instances with steps to target as the cost, and the number of ties in it.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np

from .pairwise import bootstrap_ci, compare_paired
from .records import read_records
from .report_notes import at_edge, problem_notes
from .space import format_value
from .stats import mean_ci, performance_profile
from .table import format_table

__all__ = ["load_runs", "csv_rows", "write_csv", "summarize", "profile_costs", "profile_ties", "markdown_report",
           "write_report", "PROFILE_TAUS", "CSV_COLUMNS", "INTERVALS_TEXT"]

#: Ratios at which the report tabulates the performance profile.
PROFILE_TAUS = (1.0, 1.25, 1.5, 2.0, 4.0, 8.0)
CSV_COLUMNS = ("id", "problem", "optimizer", "phase", "trial", "seed", "hyperparameters", "epochs", "steps",
               "diverged", "metric", "train_metric", "val_metric", "test_metric", "train_loss", "val_loss",
               "test_loss", "steps_to_target", "steps_to_target_interp", "seconds_to_target", "train_seconds",
               "wall_seconds", "baseline")

#: What each interval of the report covers, in words (printed in every report).
INTERVALS_TEXT = (
    "**What the intervals cover.** *Seed interval*: mean ± half-width of the 95% Student-t interval over the "
    "final seeds; it covers the variation due to the training seed (initial weights and mini-batch order) with "
    "the test set held fixed. *Test-set interval*: 95% percentile bootstrap over the test examples with the "
    "seeds held fixed; it covers the sampling error of the fixed test set, i.e. how precisely this many test "
    "examples measure the metric. *Difference*: optimizer minus reference on the same seeds (paired), with the "
    "half-width of its 95% paired-t interval; *p (t)* and *p (W)* are the paired t-test and Wilcoxon "
    "signed-rank p-values, Holm-adjusted over the comparisons of the problem; *test-set diff.* is the bootstrap "
    "interval of the difference over the test examples. An optimizer is marked **≈** (not shown different from "
    "the reference) unless both adjusted p-values are below 0.05.")


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


def _metric(r) -> dict:
    return r.get("metric") or {"name": "accuracy", "higher_is_better": True, "target": r.get("target")}


def _value(r, split):
    return (r.get("final") or {}).get(f"{split}_{_metric(r)['name']}")


def csv_rows(records) -> list[dict]:
    """One flat dict per run, keys :data:`CSV_COLUMNS` (hyperparameters as compact JSON)."""
    rows = []
    for r in records:
        f = r["final"]
        rows.append({
            "id": r["id"], "problem": r["problem"]["name"], "optimizer": r["optimizer"], "phase": r["phase"],
            "trial": r.get("trial"), "seed": r["seed"],
            "hyperparameters": json.dumps(r["hyperparameters"], sort_keys=True, separators=(",", ":")),
            "epochs": r["epochs"], "steps": r["steps"], "diverged": r["diverged"], "metric": _metric(r)["name"],
            "train_metric": _value(r, "train"), "val_metric": _value(r, "val"), "test_metric": _value(r, "test"),
            **{k: f.get(k) for k in ("train_loss", "val_loss", "test_loss")},
            **{k: r.get(k) for k in ("steps_to_target", "steps_to_target_interp", "seconds_to_target",
                                     "train_seconds", "wall_seconds")},
            "baseline": bool(r.get("baseline", False)),
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
    from .registry import optimizer_names

    names = optimizer_names()
    return (names.index(name) if name in names else len(names), name)


def _by(records, phase):
    """``{problem: {optimizer: [records]}}`` of one phase, optimizers in registry order."""
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
    """Per problem and optimizer, statistics of the final runs in the problem's headline metric.

    Returns
    -------
    dict
        ``{problem: {optimizer: {"n", "diverged", "seeds", "hyperparameters", "metric", "test": (mean, half),
        "test_loss": (mean, half), "test_set": (low, high) or None, "reached", "median_steps_to_target",
        "median_seconds_to_target", "target", "epochs", "baseline"}}}``; medians count a miss (or a diverged run) as infinite
        (None when at most half the seeds reached the target).
    """
    out: dict = {}
    for prob, by_opt in _by(records, "final").items():
        out[prob] = {}
        for opt, runs in by_opt.items():
            runs = sorted(runs, key=lambda r: r["seed"])
            ok = [r for r in runs if not r["diverged"]]
            hit = [r for r in runs if _reached(r)]
            steps = [r["steps_to_target"] if _reached(r) else math.inf for r in runs]
            secs = [r["seconds_to_target"] if _reached(r) else math.inf for r in runs]
            med_steps, med_secs = float(np.median(steps)), float(np.median(secs))
            rows = [r.get("test_per_example") for r in ok]
            test_set = None
            if ok and all(v is not None for v in rows):
                _, lo, hi = bootstrap_ci(np.mean(np.asarray(rows, dtype=np.float64), axis=0), seed=0)
                test_set = (lo, hi)
            out[prob][opt] = {
                "n": len(runs), "diverged": len(runs) - len(ok), "seeds": [r["seed"] for r in runs],
                "hyperparameters": runs[0]["hyperparameters"], "metric": _metric(runs[0]),
                "test": _ci([_value(r, "test") for r in ok]), "test_loss": _ci([r["final"]["test_loss"] for r in ok]),
                "test_set": test_set, "reached": len(hit),
                "median_steps_to_target": med_steps if math.isfinite(med_steps) else None,
                "median_seconds_to_target": med_secs if math.isfinite(med_secs) else None,
                "target": runs[0]["target"], "epochs": runs[0]["epochs"],
                "baseline": any(r.get("baseline") for r in runs),
            }
    return out


def _reached(record) -> bool:
    """The run met the target and did not diverge (a run that blew up after meeting it counts as a miss)."""
    return record.get("steps_to_target") is not None and not record.get("diverged")


def profile_costs(records, key: str = "steps_to_target_interp") -> dict:
    """Costs for :func:`~layergraph.bench.stats.performance_profile`: solver -> cost per instance.

    The instances are the (problem, seed) pairs run by every optimizer.  The cost is the step at which the
    validation metric crossed the target, interpolated between the evaluation that first met it and the one
    before, so two runs that meet the target at the same evaluation are still ordered by how far past the
    target they were; a run that missed the target (or diverged) costs ``inf``.
    """
    finals = _by(records, "final")
    opts = sorted({o for by_opt in finals.values() for o in by_opt}, key=_order)
    costs: dict = {o: [] for o in opts}
    for prob in sorted(finals):
        by_seed = {o: {r["seed"]: r for r in finals[prob].get(o, [])} for o in opts}
        common = sorted(set.intersection(*(set(s) for s in by_seed.values())))
        for seed in common:
            for o in opts:
                r = by_seed[o][seed]
                v = None if r.get("diverged") else r.get(key, r.get("steps_to_target"))
                costs[o].append(math.inf if v is None else max(float(v), 1.0))  # at least one step
    return costs


def profile_ties(costs: dict) -> int:
    """Instances on which two or more optimizers share the smallest finite cost (all of them count as fastest)."""
    if not costs:
        return 0
    table = np.array([costs[o] for o in costs], dtype=np.float64).reshape(len(costs), -1)
    best = table.min(axis=0)
    return int(np.sum(np.isfinite(best) & ((table == best).sum(axis=0) >= 2)))


def _pm(mc, digits=4):
    mean, half = mc
    if mean is None:
        return "-"
    if half is None or math.isnan(half):
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} ± {half:.{digits}f}"


def _p(v):
    return "-" if v is None or math.isnan(v) else (f"{v:.3f}" if v >= 0.001 else f"{v:.1e}")


def _problem_section(prob, by_opt, records, tuning, baseline, plots, protocol=None) -> list[str]:
    any_run = next(iter(by_opt.values()))
    m = any_run["metric"]
    spec = next(r for r in records if r["problem"]["name"] == prob)["problem"]
    word = "higher" if m["higher_is_better"] else "lower"
    target = "" if m.get("target") is None else f"; target (validation) {m['name']} " + \
        (">= " if m["higher_is_better"] else "<= ") + f"{m['target']:g}"
    lines = [f"## {prob}", "", f"{spec['description']}. Headline metric: {m['name']} ({word} is better){target}"
             f" (epochs run: {any_run['epochs']}).", ""]
    finals = _by(records, "final")[prob]
    values = {o: {r["seed"]: _value(r, "test") for r in rs if not r["diverged"] and _value(r, "test") is not None}
              for o, rs in finals.items()}
    per_ex = {o: {r["seed"]: r.get("test_per_example") for r in rs if not r["diverged"]} for o, rs in finals.items()}
    means = {o: float(np.mean(list(v.values()))) for o, v in values.items() if v}
    ref = baseline if baseline in means else None
    if ref is None and means:
        ref = (max if m["higher_is_better"] else min)(means, key=means.get)
    comp = {c.optimizer: c for c in compare_paired({o: values[o] for o in means}, ref, per_example=per_ex)} \
        if ref is not None and len(means) > 1 else {}
    rows = []
    for opt, s in by_opt.items():
        tuned = tuning.get(prob, {}).get(opt, [])
        trials = len({r.get("trial") for r in tuned})
        hp = ", ".join(f"{k}={format_value(v)}" for k, v in s["hyperparameters"].items())
        if at_edge(s["hyperparameters"], tuned, protocol, opt):
            hp += " (edge)"
        ts = "-" if s["test_set"] is None else f"[{s['test_set'][0]:.4f}, {s['test_set'][1]:.4f}]"
        c = comp.get(opt)
        if opt == ref:
            diff, pt, pw, tsd, mark = "reference", "-", "-", "-", "**ref**"
        elif c is None or math.isnan(c.difference):
            diff, pt, pw, tsd, mark = "-", "-", "-", "-", ""
        else:
            diff = f"{c.difference:+.4f} ± {c.half_width:.4f}"
            pt, pw = _p(c.p_t_holm), _p(c.p_wilcoxon_holm)
            tsd = "-" if c.test_low is None else f"[{c.test_low:+.4f}, {c.test_high:+.4f}]"
            mark = "≈" if not c.distinguishable else ""
        secs = s["median_seconds_to_target"]
        secs = None if secs is None else float(f"{secs:.3g}")
        name = opt + (" (stored baseline)" if s["baseline"] else "")
        rows.append([name, trials, hp, f"{s['n'] - s['diverged']}/{s['n']}", _pm(s["test"]), ts, diff, pt, pw,
                     tsd, mark, _pm(s["test_loss"]), f"{s['reached']}/{s['n']}", s["median_steps_to_target"],
                     "-" if s["baseline"] else secs])
    lines += [f"Final runs on the test set; reference for the paired comparison: **{ref}**"
              + (" (given with --baseline)" if baseline and ref == baseline else f" (the best mean {m['name']})")
              + ". \"(edge)\": the selected learning rate is in the outer tenth of its log-scale search range "
              "(random and sobol search) or the smallest or largest tried (grid), so the range may be too narrow.",
              "",
              format_table(["optimizer", "trials", "selected", "ok", f"test {m['name']} (seed interval)",
                            "test-set interval", "difference", "p (t)", "p (W)", "test-set diff.", "≈ ref",
                            "test loss", "reached", "median steps to target", "median seconds to target"],
                           rows, fmt="markdown"), ""]
    notes = problem_notes(finals, comp)
    lines += notes + ([""] if notes else [])
    if plots:
        for key, what in ((f"curves-{prob}", "validation curves"), (f"sensitivity-{prob}", "sensitivity")):
            if key in plots:
                lines += [f"![{what} of {prob}]({plots[key]})", ""]
    return lines


def _resolve_baseline(baseline, records):
    """The optimizer named *baseline* (any case) as the records spell it; None stays None."""
    if baseline is None:
        return None
    names = sorted({r["optimizer"] for r in records})
    found = {n.lower(): n for n in names}.get(str(baseline).strip().lower())
    if found is None:
        raise ValueError(f"report: baseline {baseline!r} is not an optimizer of these runs; they ran "
                         f"{', '.join(names)} (any case)")
    return found


def markdown_report(records, protocol: dict | None = None, plots: dict | None = None,
                    baseline: str | None = None) -> str:
    """The Markdown report of a set of run records (see the module docstring).

    Parameters
    ----------
    records : list of dict
    protocol : dict, optional
        The sweep's ``protocol.json``.
    plots : dict, optional
        Plot key -> file name, linked from the report.
    baseline : str, optional
        Optimizer every other one is compared with (default: the best mean per problem).
    """
    baseline = _resolve_baseline(baseline, records)
    summary = summarize(records)
    tuning = _by(records, "tune")
    lines = ["# Optimizer benchmark", ""]
    if protocol:
        lines += [f"Protocol: {protocol.get('budget')} tuning trials per optimizer ({protocol.get('method')} "
                  f"search; tuning seeds {protocol.get('tune_seed_list', [protocol.get('tune_seed')])}), selection "
                  f"on the validation headline metric, then {protocol.get('seeds')} final seeds "
                  f"{protocol.get('seed_list')} at the selected setting (disjoint from the tuning seeds).", ""]
    if any(r.get("baseline") for r in records):
        lines += ["Rows marked \"stored baseline\" come from the records shipped with layergraph, measured on "
                  "another machine: their wall-clock seconds are not comparable with this machine's, so only "
                  "step figures (steps to target, the performance profile) and metrics are compared.", ""]
    lines += [INTERVALS_TEXT, ""]
    for prob, by_opt in summary.items():
        lines += _problem_section(prob, by_opt, records, tuning, baseline, plots, protocol)
    costs = profile_costs(records)
    n_inst = len(next(iter(costs.values()), []))
    if n_inst and len(costs) > 1:
        _, rho = performance_profile(costs, PROFILE_TAUS)
        ties = profile_ties(costs)
        rows = [[o] + [f"{v:.2f}" for v in rho[o]] for o in costs]
        lines += ["## Performance profile", "",
                  f"Dolan-Moré profile over {n_inst} (problem, seed) instances, cost = steps to the target "
                  "validation value of each problem's headline metric, interpolated between the evaluation that "
                  "first met it and the one before (a miss costs infinity): the fraction of instances on which "
                  "each optimizer is within a factor tau of the fastest. Tied instances (several optimizers "
                  f"equally fastest): {ties} of {n_inst} ({100.0 * ties / n_inst:.1f}%); tied optimizers all "
                  "count as fastest, none is preferred by its order.", "",
                  format_table(["optimizer"] + [f"tau={t:g}" for t in PROFILE_TAUS], rows, fmt="markdown"), ""]
        if plots and "profile" in plots:
            lines += [f"![performance profile]({plots['profile']})", ""]
    env = next((r for r in records if not r.get("baseline")), records[0])
    lines += ["## Environment", "",
              "versions: " + ", ".join(f"{k} {v}" for k, v in env["versions"].items()) + "; machine: "
              + ", ".join(f"{k} {v}" for k, v in env["machine"].items() if k != "hostname") + ".", ""]
    return "\n".join(lines)


def write_report(results_dir, *, plots: bool = True, baseline: str | None = None, extra_records=()) -> dict:
    """Write ``results.csv``, ``report.md`` and (with matplotlib, when ``plots``) PNGs into ``results_dir``.

    Parameters
    ----------
    results_dir : str or Path
    plots : bool, default True
    baseline : str, optional
        Reference optimizer of the paired comparisons.
    extra_records : sequence of dict
        Records to report along with the directory's (the stored baselines), marked ``"baseline": true``.

    Returns
    -------
    dict
        ``{"csv": Path, "report": Path, "plots": [Path, ...], "plot_error": str or None,
        "baseline_records": [...]}``.
    """
    d = Path(results_dir)
    records = load_runs(d)
    extra_records = list(extra_records)
    from .baselines import MARKER, load_baselines

    if (d / MARKER).is_file() and not extra_records:  # a sweep compared with the stored baselines
        extra_records = load_baselines({r["problem"]["name"] for r in records}, {r["optimizer"] for r in records})
    records = records + extra_records
    protocol = None
    if (d / "protocol.json").is_file():
        protocol = json.loads((d / "protocol.json").read_text(encoding="utf-8"))
    csv_path = write_csv(records, d / "results.csv")
    pngs, links, error = [], {}, None
    if plots:
        try:
            from .curves import plot_curves, plot_profile, plot_sensitivity
        except ImportError as exc:  # pragma: no cover - depends on the environment
            error = str(exc)
        else:
            try:
                tuning = _by(records, "tune")
                for prob, by_opt in _by(records, "final").items():
                    pngs.append(plot_curves(by_opt, d / f"curves-{prob}.png", title=prob))
                    links[f"curves-{prob}"] = pngs[-1].name
                    if tuning.get(prob):
                        pngs.append(plot_sensitivity(tuning[prob], d / f"sensitivity-{prob}.png", title=prob))
                        links[f"sensitivity-{prob}"] = pngs[-1].name
                costs = profile_costs(records)
                if len(costs) > 1 and len(next(iter(costs.values()))):
                    pngs.append(plot_profile(costs, d / "profile.png"))
                    links["profile"] = pngs[-1].name
            except ImportError as exc:
                error = str(exc)
    md = d / "report.md"
    md.write_text(markdown_report(records, protocol, links, baseline=baseline) + "\n", encoding="utf-8")
    return {"csv": csv_path, "report": md, "plots": pngs, "plot_error": error, "baseline_records": extra_records}
