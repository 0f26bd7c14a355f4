"""Paired statistics against SciPy on fixed inputs, and Holm against a hand-computed example."""

import numpy as np
import pytest
from scipy import stats

from layergraph.bench.pairwise import bootstrap_ci, compare_paired, holm, paired_t, wilcoxon_signed_rank

A = np.array([0.912, 0.905, 0.921, 0.899, 0.915, 0.908, 0.917, 0.903, 0.911, 0.920])
B = np.array([0.901, 0.907, 0.910, 0.893, 0.902, 0.900, 0.913, 0.896, 0.905, 0.909])


def test_paired_t_matches_scipy_ttest_rel_and_its_interval():
    diff, t, p, half = paired_t(A, B)
    ref = stats.ttest_rel(A, B)
    assert t == pytest.approx(ref.statistic, rel=1e-12) and p == pytest.approx(ref.pvalue, rel=1e-10)
    low, high = ref.confidence_interval(0.95)
    assert diff - half == pytest.approx(low, rel=1e-10) and diff + half == pytest.approx(high, rel=1e-10)


def test_wilcoxon_exact_matches_scipy_without_ties():
    d = np.array([0.3, -1.2, 2.5, 0.7, 1.9, -0.4, 3.1, 1.1, 0.2, 2.2])
    stat, p = wilcoxon_signed_rank(d, method="exact")
    ref = stats.wilcoxon(d, method="exact")
    assert stat == ref.statistic and p == pytest.approx(ref.pvalue, rel=1e-12)
    assert wilcoxon_signed_rank(d) == (stat, p)  # auto: exact for 10 untied differences


def test_wilcoxon_approx_matches_scipy_with_ties_and_zeros():
    d = np.array([1.0, 1.0, -2.0, 3.0, 0.0, 2.0, 4.0, -1.0, 5.0, 3.0, 0.0, 6.0])
    stat, p = wilcoxon_signed_rank(d, method="approx")
    ref = stats.wilcoxon(d, zero_method="wilcox", correction=False, method="approx")
    assert stat == ref.statistic and p == pytest.approx(ref.pvalue, rel=1e-12)


@pytest.mark.parametrize("d", [[-.01, -.01, -.02, -.03, -.04],                   # the smallest p with 5: 1/16
                               [1.0, 1.0, -2.0, 3.0, 0.0, 2.0, 4.0, -1.0, 5.0, 3.0, 0.0, 6.0],
                               [0.1, 0.1, 0.1, -0.1, 0.2, 0.2, 0.3]])
def test_wilcoxon_with_ties_is_the_exact_conditional_test(d):
    d = np.asarray(d)
    stat, p = wilcoxon_signed_rank(d)                   # auto: exact for at most 50 differences, ties or not
    ref = stats.wilcoxon(d, zero_method="wilcox", method=stats.PermutationMethod(n_resamples=np.inf))
    assert p == pytest.approx(ref.pvalue, rel=1e-12)
    n = d[d != 0].size
    ranks = stats.rankdata(np.abs(d[d != 0]))
    flips = np.array(np.meshgrid(*[[0.0, 1.0]] * n)).reshape(n, -1).T @ ranks
    low = np.mean(flips <= stat + 1e-9)                 # P(R+ <= min(R+, R-)), by enumeration
    assert p == pytest.approx(min(1.0, 2 * low), rel=1e-12)


def test_holm_on_a_hand_computed_example():
    # sorted: 0.01 (x4 = 0.04), 0.02 (x3 = 0.06), 0.03 (x2 = 0.06), 0.2 (x1 = 0.2)
    assert holm([0.03, 0.2, 0.01, 0.02]).tolist() == pytest.approx([0.06, 0.2, 0.04, 0.06])
    # a later product below an earlier one is raised to it (monotone), and values cap at 1
    assert holm([0.04, 0.5, 0.3]).tolist() == pytest.approx([0.12, 0.6, 0.6])
    assert holm([0.6, 0.9]).tolist() == pytest.approx([1.0, 1.0])


def test_bootstrap_percentile_interval_agrees_with_scipy():
    rng = np.random.default_rng(5)
    v = (rng.uniform(size=400) < 0.9).astype(float)  # per-example correctness of a 400-image test set
    mean, low, high = bootstrap_ci(v, n_resamples=20000, seed=1)
    ref = stats.bootstrap((v,), np.mean, method="percentile", n_resamples=20000, rng=np.random.default_rng(2))
    assert mean == v.mean()
    assert low == pytest.approx(ref.confidence_interval.low, abs=2e-3)
    assert high == pytest.approx(ref.confidence_interval.high, abs=2e-3)
    assert bootstrap_ci(v, seed=3) == bootstrap_ci(v, seed=3)  # seeded: the same interval


def test_compare_paired_uses_common_seeds_and_holm():
    values = {"Best": dict(enumerate(A)), "Other": dict(enumerate(B)), "Same": dict(enumerate(A + 1e-4 * (
        np.arange(10) % 3 - 1)))}
    res = {r.optimizer: r for r in compare_paired(values, "Best")}
    _, _, p_other, _ = paired_t(B, A)
    _, _, p_same, _ = paired_t(list(values["Same"].values()), A)
    adj = holm([p_other, p_same])
    assert res["Other"].p_t_holm == pytest.approx(adj[0]) and res["Same"].p_t_holm == pytest.approx(adj[1])
    assert res["Other"].distinguishable and not res["Same"].distinguishable
