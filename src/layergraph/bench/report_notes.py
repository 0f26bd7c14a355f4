"""The notes under a problem's table in the benchmark report: what the table cannot show, and why."""

import math
import re

_BOUNDS = re.compile(r"\[\s*([^,\]]+)\s*,\s*([^\]]+)\]")


def wilcoxon_floor(n_seeds: int, n_comparisons: int) -> float:
    """The smallest Holm-adjusted two-sided Wilcoxon p-value that *n_comparisons* comparisons can reach when the
    one with the most non-zero differences has *n_seeds* of them: ``m * 2 / 2**n`` (every difference of one sign;
    ties do not change it), at most 1."""
    return min(1.0, n_comparisons * 2.0 ** (1 - n_seeds))


def seeds_needed(n_comparisons: int, alpha: float = 0.05) -> int:
    """The fewest seeds with which *n_comparisons* Holm-adjusted Wilcoxon tests can reach ``p < alpha``."""
    return int(math.floor(1 + math.log2(n_comparisons / alpha))) + 1


def problem_notes(finals: dict, comparisons: dict) -> list:
    """Lines under the table of one problem.

    Parameters
    ----------
    finals : dict optimizer -> list of final-run records
    comparisons : dict optimizer -> PairedResult (the reference excluded)
    """
    notes = sorted({r["test_per_example_note"] for rs in finals.values() for r in rs if r.get("test_per_example_note")})
    lines = [f"Test-set intervals: {note}." for note in notes]
    early = sorted({r["seed"] for rs in finals.values() for r in rs if r.get("steps_to_target") == 0})
    if early:
        lines.append(f"The initial network already meets the target on seed(s) {', '.join(map(str, early))}: time "
                     "to target says nothing about the optimizers there; choose a stricter target.")
    tested = [c for c in comparisons.values() if not math.isnan(c.p_t)]
    if tested:
        n = max(c.n if c.n_nonzero is None else c.n_nonzero for c in tested)
        m = len(tested)
        floor = wilcoxon_floor(n, m)
        if floor >= 0.05:
            lines.append(f"With at most {n} non-zero paired differences and {m} comparison(s) the smallest "
                         f"Holm-adjusted Wilcoxon p-value "
                         f"is {floor:.3g}, so no optimizer can be shown different from the reference here (\"≈\" "
                         f"then means \"not shown different\", not \"equal\"); {seeds_needed(m)} seeds or more "
                         "(with non-zero differences) can separate them.")
    return lines


def at_edge(selected: dict, tuned: list, protocol: dict | None = None, optimizer: str | None = None) -> bool:
    """Whether the selected learning rate sits at the edge of what the search could try.

    With a random or quasi-random search (``protocol["method"]`` not ``"grid"``) and the optimizer's search
    range known from ``protocol["search_spaces"]``: the rate lies in the outer tenth of the range on a log scale.
    Otherwise (grid search): it is the smallest or largest of at least 3 distinct rates tried.
    """
    lr = selected.get("lr")
    if lr is None:
        return False
    described = ((protocol or {}).get("search_spaces") or {}).get(optimizer, {}).get("lr")
    found = _BOUNDS.search(described) if isinstance(described, str) and described.startswith("log-") else None
    if found and (protocol or {}).get("method") != "grid":
        low, high = float(found.group(1)), float(found.group(2))
        if 0 < low < high and lr > 0:
            where = math.log(lr / low) / math.log(high / low)
            return where < 0.1 or where > 0.9
    lrs = sorted({t["hyperparameters"].get("lr") for t in tuned} - {None})
    return len(lrs) >= 3 and lr in (lrs[0], lrs[-1])
