"""Paired comparisons of optimizers run on the same seeds, and the test-set sampling interval.

All optimizers of a sweep share their final seeds, so seed ``s`` means the same initial
weights and batch order for each; comparing two optimizers seed by seed removes that
shared variation.  This module holds the statistics of the report, written out here
(and tested against SciPy on fixed inputs):

* :func:`paired_t` - Student's t on the per-seed differences (``scipy.stats.ttest_rel``);
* :func:`wilcoxon_signed_rank` - the signed-rank test on the same differences, exact (given the
  mid-ranks of tied differences) for up to 50 seeds (``scipy.stats.wilcoxon`` with a permutation method);
* :func:`holm` - Holm's step-down adjustment of p-values over several comparisons;
* :func:`bootstrap_ci` - a percentile bootstrap interval of a mean, used over the *test
  examples* to show how precisely a fixed test set measures a metric or a difference
  (``scipy.stats.bootstrap(method="percentile")``).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

__all__ = ["paired_t", "wilcoxon_signed_rank", "holm", "bootstrap_ci", "PairedResult", "compare_paired"]


def _vec(x, who, name):
    a = np.asarray(x, dtype=np.float64).ravel()
    if a.size == 0 or not np.all(np.isfinite(a)):
        raise ValueError(f"{who}: {name} must be a non-empty array of finite numbers, got {a.tolist()}")
    return a


def paired_t(a, b, confidence: float = 0.95) -> tuple[float, float, float, float]:
    """Paired Student t-test of ``mean(a - b) = 0``, two-sided.

    Parameters
    ----------
    a, b : array_like, shape (n,)
        Values on the same n seeds, in the same order; n >= 2.
    confidence : float, default 0.95

    Returns
    -------
    (mean_difference, t, p_value, half_width)
        ``half_width`` of the confidence interval of the mean difference.  When every difference is equal,
        ``t`` is inf (or nan for all zeros) and ``p`` 0 (or 1).
    """
    from scipy.stats import t as student_t

    a, b = _vec(a, "paired_t", "a"), _vec(b, "paired_t", "b")
    if a.shape != b.shape or a.size < 2:
        raise ValueError(f"paired_t: a and b need the same length >= 2, got {a.size} and {b.size}")
    d = a - b
    n, mean = d.size, float(d.mean())
    sd = float(d.std(ddof=1))
    half = float(student_t.ppf(0.5 + confidence / 2, n - 1)) * sd / math.sqrt(n)
    if sd == 0.0:
        return mean, (math.nan if mean == 0 else math.copysign(math.inf, mean)), (1.0 if mean == 0 else 0.0), 0.0
    t = mean / (sd / math.sqrt(n))
    return mean, float(t), float(2.0 * student_t.sf(abs(t), n - 1)), half


def _ranks(x: np.ndarray) -> np.ndarray:
    """Average ranks (1-based), ties sharing the mean of their positions."""
    order = np.argsort(x, kind="mergesort")
    ranks = np.empty(x.size, dtype=np.float64)
    xs = x[order]
    i = 0
    while i < x.size:
        j = i
        while j + 1 < x.size and xs[j + 1] == xs[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2.0 + 1.0
        i = j + 1
    return ranks


def _exact_conditional_p(ranks, stat):
    """Two-sided p of the signed-rank statistic *stat* given the (mid-)ranks: ``P(min(R+, R-) <= stat)`` with
    every one of the ``2**n`` sign patterns equally likely, by dynamic programming over doubled rank sums (mid-ranks
    are multiples of 1/2)."""
    doubled = np.rint(2 * np.asarray(ranks)).astype(np.int64)
    counts = np.zeros(int(doubled.sum()) + 1)
    counts[0] = 1.0
    for r in doubled:                       # each rank is either in R+ (shift by r) or not
        counts[r:] = counts[r:] + counts[:-r].copy()
    total = counts.sum()
    low = counts[:int(round(2 * stat)) + 1].sum() / total
    return float(min(1.0, 2.0 * low))


def wilcoxon_signed_rank(d, method: str = "auto") -> tuple[float, float]:
    """Wilcoxon signed-rank test of the differences ``d`` (two-sided; zero differences dropped).

    Parameters
    ----------
    d : array_like, shape (n,)
    method : {"auto", "exact", "approx"}
        ``"exact"``: the null distribution of the rank sum given these ranks, every sign pattern equally likely
        (tied differences share their mid-rank; the exact conditional test); ``"approx"``: the normal
        approximation with the tie correction of the variance and no continuity correction; ``"auto"``: exact for
        at most 50 non-zero differences, else approximate.

    Returns
    -------
    (statistic, p_value)
        ``statistic = min(R+, R-)``, the smaller of the rank sums of positive and negative differences.
        ``p = 1`` when every difference is zero.
    """
    x = _vec(d, "wilcoxon_signed_rank", "d")
    x = x[x != 0]
    n = x.size
    if n == 0:
        return 0.0, 1.0
    ranks = _ranks(np.abs(x))
    r_plus, r_minus = float(ranks[x > 0].sum()), float(ranks[x < 0].sum())
    stat = min(r_plus, r_minus)
    if method not in ("auto", "exact", "approx"):
        raise ValueError(f"wilcoxon_signed_rank: method must be 'auto', 'exact' or 'approx', got {method!r}")
    if method == "exact" and n > 1000:
        raise ValueError(f"wilcoxon_signed_rank: the exact method counts 2**n sign patterns in floating point, "
                         f"at most 1000 non-zero differences; got {n} (use method='approx')")
    if method == "exact" or (method == "auto" and n <= 50):
        return stat, _exact_conditional_p(ranks, stat)
    from scipy.stats import norm

    _, counts = np.unique(np.abs(x), return_counts=True)
    var = n * (n + 1) * (2 * n + 1) / 24.0 - float(np.sum(counts ** 3 - counts)) / 48.0
    z = (r_plus - n * (n + 1) / 4.0) / math.sqrt(var)
    return stat, float(min(1.0, 2.0 * norm.sf(abs(z))))


def holm(pvalues) -> np.ndarray:
    """Holm's step-down adjusted p-values (family-wise error over the comparisons).

    With the m p-values sorted increasingly ``p(1) <= ... <= p(m)``, the adjusted value of ``p(i)`` is
    ``max over j <= i of min(1, (m - j + 1) p(j))``; returned in the input order.  Rejecting where the
    adjusted value is below alpha controls the probability of any false rejection at alpha.
    """
    p = np.asarray(pvalues, dtype=np.float64).ravel()
    if np.any(np.isnan(p)) or np.any((p < 0) | (p > 1)):
        raise ValueError(f"holm: p-values must be in [0, 1], got {p.tolist()}")
    m = p.size
    order = np.argsort(p, kind="mergesort")
    adj_sorted = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order]))
    out = np.empty(m)
    out[order] = adj_sorted
    return out


def bootstrap_ci(values, *, n_resamples: int = 2000, confidence: float = 0.95, seed=0) -> tuple[float, float, float]:
    """Percentile bootstrap interval of the mean of ``values`` (e.g. per-test-example metric values).

    Parameters
    ----------
    values : array_like, shape (N,)
    n_resamples : int, default 2000
        Resamples of N indices drawn with replacement.
    confidence : float, default 0.95
    seed : int or numpy.random.Generator

    Returns
    -------
    (mean, low, high)
    """
    v = _vec(values, "bootstrap_ci", "values")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    means = np.empty(n_resamples)
    chunk = max(1, 2_000_000 // max(v.size, 1))
    for i in range(0, n_resamples, chunk):
        k = min(chunk, n_resamples - i)
        means[i:i + k] = v[rng.integers(0, v.size, (k, v.size))].mean(axis=1)
    alpha = (1.0 - confidence) / 2.0
    low, high = np.quantile(means, [alpha, 1.0 - alpha])
    return float(v.mean()), float(low), float(high)


@dataclass(frozen=True)
class PairedResult:
    """One optimizer against the reference on the common seeds (``difference = optimizer - reference``)."""

    optimizer: str
    reference: str
    n: int
    difference: float
    half_width: float
    p_t: float
    p_wilcoxon: float
    p_t_holm: float = math.nan
    p_wilcoxon_holm: float = math.nan
    test_low: float | None = None
    test_high: float | None = None
    #: Seeds whose difference is not zero: what the Wilcoxon test counts.
    n_nonzero: int | None = None

    @property
    def distinguishable(self) -> bool:
        """Both Holm-adjusted p-values below 0.05."""
        return self.p_t_holm < 0.05 and self.p_wilcoxon_holm < 0.05


def compare_paired(values: dict, reference: str, *, per_example: dict | None = None, seed=0,
                   n_resamples: int = 2000) -> list[PairedResult]:
    """Every optimizer against ``reference``: paired t, Wilcoxon, Holm over the comparisons, test bootstrap.

    Parameters
    ----------
    values : dict optimizer -> dict seed -> float
        The final test metric of each seed.
    reference : str
        A key of ``values``.
    per_example : dict optimizer -> dict seed -> array (N,), optional
        Per-test-example metric values; the bootstrap interval of the difference resamples the examples
        (the same indices for both optimizers) with the seeds fixed, averaging over the common seeds.
    seed : int
        Seeds the bootstrap.

    Returns
    -------
    list of PairedResult
        One per optimizer other than the reference, in the order of ``values``.
    """
    ref = values[reference]
    out = []
    for opt, vals in values.items():
        if opt == reference:
            continue
        common = sorted(set(vals) & set(ref))
        if len(common) < 2:
            out.append(PairedResult(opt, reference, len(common), math.nan, math.nan, math.nan, math.nan))
            continue
        a = np.array([vals[s] for s in common])
        b = np.array([ref[s] for s in common])
        diff, _, p_t, half = paired_t(a, b)
        _, p_w = wilcoxon_signed_rank(a - b)
        nonzero = int(np.count_nonzero(a - b))
        low = high = None
        if per_example and opt in per_example and reference in per_example:
            pa, pb = per_example[opt], per_example[reference]
            if all(s in pa and s in pb and pa[s] is not None and pb[s] is not None for s in common):
                d = np.mean([np.asarray(pa[s], dtype=np.float64) - np.asarray(pb[s], dtype=np.float64)
                             for s in common], axis=0)
                _, low, high = bootstrap_ci(d, n_resamples=n_resamples, seed=seed)
        out.append(PairedResult(opt, reference, len(common), diff, half, p_t, p_w, test_low=low, test_high=high,
                                n_nonzero=nonzero))
    tested = [i for i, r in enumerate(out) if not math.isnan(r.p_t)]
    if tested:
        pt = holm([0.0 if math.isnan(out[i].p_t) else out[i].p_t for i in tested])
        pw = holm([out[i].p_wilcoxon for i in tested])
        for k, i in enumerate(tested):
            r = out[i]
            out[i] = dataclasses.replace(r, p_t_holm=float(pt[k]), p_wilcoxon_holm=float(pw[k]))
    return out
