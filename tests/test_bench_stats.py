"""Confidence intervals against scipy's own interval, and performance profiles on hand-made tables."""

import math

import numpy as np
import pytest
from scipy import stats

from layergraph.bench import mean_ci, mean_ci_curves, performance_profile, performance_ratios


@pytest.mark.parametrize("n", [2, 3, 5, 10, 30])
def test_mean_ci_matches_scipy_interval(n):
    x = np.random.default_rng(n).normal(0.9, 0.03, size=n)
    mean, half = mean_ci(x)
    lo, hi = stats.t.interval(0.95, n - 1, loc=np.mean(x), scale=stats.sem(x))
    assert mean == pytest.approx(np.mean(x))
    assert mean - half == pytest.approx(lo) and mean + half == pytest.approx(hi)


def test_mean_ci_five_values_by_hand():
    x = [1.0, 2.0, 3.0, 4.0, 5.0]  # mean 3, s = sqrt(2.5), t_{0.975, 4} = 2.7764
    mean, half = mean_ci(x)
    assert mean == 3.0
    assert half == pytest.approx(2.7764451 * math.sqrt(2.5) / math.sqrt(5), rel=1e-6)
    assert mean_ci(x, confidence=0.99)[1] > half


def test_mean_ci_edge_cases():
    assert math.isnan(mean_ci([0.5])[1])
    assert mean_ci([2.0, 2.0, 2.0]) == (2.0, 0.0)
    with pytest.raises(ValueError, match="empty"):
        mean_ci([])
    with pytest.raises(ValueError, match="finite"):
        mean_ci([1.0, float("nan")])
    with pytest.raises(ValueError, match="confidence"):
        mean_ci([1.0, 2.0], confidence=1.5)


def test_mean_ci_curves_is_pointwise_mean_ci():
    c = np.random.default_rng(0).normal(size=(6, 4))
    mean, half = mean_ci_curves(c)
    for j in range(4):
        m, h = mean_ci(c[:, j])
        assert mean[j] == pytest.approx(m) and half[j] == pytest.approx(h)


def test_performance_profile_hand_made_table():
    inf = math.inf
    costs = {"A": [10, 20, inf, 5], "B": [20, 10, 30, inf], "C": [40, None, inf, 5]}
    r = performance_ratios(costs)
    assert list(r["A"]) == [1.0, 2.0, inf, 1.0]
    assert list(r["B"]) == [2.0, 1.0, 1.0, inf]
    assert list(r["C"]) == [4.0, inf, inf, 1.0]
    taus, rho = performance_profile(costs, [1, 1.5, 2, 4, 100])
    assert list(rho["A"]) == [0.5, 0.5, 0.75, 0.75, 0.75]
    assert list(rho["B"]) == [0.5, 0.5, 0.75, 0.75, 0.75]
    assert list(rho["C"]) == [0.25, 0.25, 0.25, 0.5, 0.5]
    taus, rho = performance_profile(costs)
    assert list(taus) == [1.0, 2.0, 4.0]


def test_performance_profile_all_fail_instance_and_errors():
    taus, rho = performance_profile({"A": [math.inf, 1], "B": [math.inf, 2]}, [1, 2])
    assert list(rho["A"]) == [0.5, 0.5] and list(rho["B"]) == [0.0, 0.5]
    with pytest.raises(ValueError, match="same lengths"):
        performance_ratios({"A": [1, 2], "B": [1]})
    with pytest.raises(ValueError, match="> 0"):
        performance_ratios({"A": [0, 2]})
