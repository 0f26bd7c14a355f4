"""Statistics of the reports: Student-t confidence intervals and Dolan-Moré performance profiles."""

from __future__ import annotations

import math
from typing import Mapping, Sequence

import numpy as np

__all__ = ["mean_ci", "mean_ci_curves", "performance_ratios", "performance_profile"]


def _confidence(confidence) -> float:
    if isinstance(confidence, bool) or not isinstance(confidence, (int, float)):
        raise TypeError(f"confidence must be a number, got {type(confidence).__name__}")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
    return float(confidence)


def mean_ci(values, confidence: float = 0.95) -> tuple[float, float]:
    """Mean and half-width of the two-sided Student-t confidence interval of the mean.

    ``half = t_{(1 + confidence) / 2, n - 1} * s / sqrt(n)`` with ``s`` the sample
    standard deviation (``ddof=1``).

    Parameters
    ----------
    values : array_like, shape (n,)
        Finite numbers (e.g. one final accuracy per seed).
    confidence : float in (0, 1), default 0.95

    Returns
    -------
    (mean, half_width) : (float, float)
        ``half_width`` is nan when ``n == 1`` (no spread can be estimated).

    Raises
    ------
    ValueError
        Empty input or a non-finite value.
    """
    from scipy.stats import t as student_t

    conf = _confidence(confidence)
    x = np.asarray(values, dtype=np.float64).ravel()
    if x.size == 0:
        raise ValueError("mean_ci: values is empty; expected at least one number")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"mean_ci: values must be finite, got {x.tolist()}")
    mean = float(x.mean())
    if x.size == 1:
        return mean, math.nan
    sem = float(x.std(ddof=1)) / math.sqrt(x.size)
    return mean, float(student_t.ppf(0.5 + conf / 2.0, x.size - 1)) * sem


def mean_ci_curves(curves, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Pointwise mean and CI half-width of several curves of the same length.

    Parameters
    ----------
    curves : array_like, shape (n, E)
        One curve (e.g. per-epoch validation loss) per seed; n >= 2.

    Returns
    -------
    (mean, half) : ndarrays of shape (E,)
    """
    from scipy.stats import t as student_t

    conf = _confidence(confidence)
    c = np.asarray(curves, dtype=np.float64)
    if c.ndim != 2 or c.shape[0] < 2:
        raise ValueError(f"mean_ci_curves: curves must have shape (n >= 2, E), got {c.shape}")
    half = student_t.ppf(0.5 + conf / 2.0, c.shape[0] - 1) * c.std(axis=0, ddof=1) / math.sqrt(c.shape[0])
    return c.mean(axis=0), half


def performance_ratios(costs: Mapping[str, Sequence[float]]) -> dict[str, np.ndarray]:
    """Dolan-Moré performance ratios ``r[p, s] = cost[p, s] / min_s cost[p, s]``.

    Parameters
    ----------
    costs : mapping solver -> sequence of length P
        Cost of each solver on each of the same P instances (e.g. steps to reach the
        target); ``inf`` or None means the solver failed on that instance.  Costs
        must be > 0.

    Returns
    -------
    dict solver -> ndarray, shape (P,)
        ``inf`` where the solver failed, or where every solver failed.
    """
    names = list(costs)
    if not names:
        raise ValueError("performance_ratios: costs is empty; expected at least one solver")
    if len({len(costs[s]) for s in names}) != 1:
        raise ValueError("performance_ratios: every solver needs one cost per instance (same lengths), got "
                         f"{ {s: len(costs[s]) for s in names} }")
    table = np.array([[math.inf if v is None else float(v) for v in costs[s]] for s in names], dtype=np.float64)
    table = table.reshape(len(names), -1)
    if np.any(np.isnan(table)) or np.any(table <= 0):
        raise ValueError("performance_ratios: costs must be > 0 (or inf / None for a failure)")
    best = table.min(axis=0)
    with np.errstate(invalid="ignore"):
        ratios = np.where(np.isfinite(best), table / best, math.inf)
    return {s: ratios[i] for i, s in enumerate(names)}


def performance_profile(costs: Mapping[str, Sequence[float]], taus=None) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Dolan-Moré performance profile: ``rho_s(tau) = #{p : r[p, s] <= tau} / P``.

    Parameters
    ----------
    costs : mapping solver -> sequence of length P
        As in :func:`performance_ratios`.
    taus : array_like, optional
        Ratios at which to evaluate; default: 1 and every finite ratio that occurs, sorted.

    Returns
    -------
    taus : ndarray, shape (T,)
    rho : dict solver -> ndarray, shape (T,)
        Fraction of instances on which the solver is within a factor ``tau`` of the best.
    """
    ratios = performance_ratios(costs)
    if taus is None:
        finite = np.concatenate([r[np.isfinite(r)] for r in ratios.values()] + [np.array([1.0])])
        taus = np.unique(finite)
    taus = np.asarray(taus, dtype=np.float64).ravel()
    rho = {s: (r[None, :] <= taus[:, None]).mean(axis=1) for s, r in ratios.items()}
    return taus, rho
