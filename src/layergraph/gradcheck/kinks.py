"""Checking elements that sit at kinks, instead of skipping them.

At a kink the two-sided difference is meaningless, but the one-sided differences are not: a valid subgradient
lies between the left and right derivatives. For an element whose perturbations change at most one entry of the
kink signature (``kink_branches()``; or, without that hook, the generic second-difference indicator), the
one-sided differences ``phi(+-h) / +-h`` and ``phi(+-h/2) / +-h/2`` span an interval; the analytic value must lie
in it, within ``atol + rtol * scale + c * (roundoff + spread)`` where ``spread`` is how much each side's value
moves between ``h`` and ``h/2`` (the one-sided truncation error). Elements where one perturbation changes several
signature entries (``relu(x) - relu(-x)`` at 0: backpropagation may legitimately leave the interval) are skipped.

Ties are also checked jointly: the elements of a tie set (kinked elements of exactly equal value) moved together
cross no kink (``max(x + s, x + s)`` is smooth in ``s``), so the analytic directional derivative along that move
must match the finite difference. That is what catches a max-pool backward that hands every tied maximum the full
gradient.
"""

from dataclasses import dataclass

import numpy as np


@dataclass
class KinkFailure:
    """An element at a kink whose analytic value is outside the one-sided interval (or a failing tie set)."""

    index: tuple
    left: float
    right: float
    analytic: float
    allowed: float
    what: str = "one-sided"

    def describe(self):
        """One line: the element, both one-sided values, the analytic value."""
        if self.what == "tie":
            return (f"tie set {self.index}: analytic derivative along the joint move {self.analytic:.6g} vs "
                    f"numeric {self.right:.6g} (allowed error {self.allowed:.3g})")
        return (f"kink at {self.index}: analytic {self.analytic:.6g} outside the one-sided interval "
                f"[left {self.left:.6g}, right {self.right:.6g}] (allowed error {self.allowed:.3g})")


def one_sided(est, rows):
    """Left and right one-sided differences (at ``h`` and ``h/2``) of estimate rows *rows*."""
    phi, h = est.phi[rows], est.h[rows]
    right = np.stack([phi[:, 0] / h, phi[:, 2] / (h / 2)], axis=1)
    left = np.stack([-phi[:, 1] / h, -phi[:, 3] / (h / 2)], axis=1)
    return left, right


def judge_kinks(tol, a, est, rows):
    """Judge kinked estimate rows *rows* (analytic values ``a[rows]``).

    Returns
    -------
    checked, skipped, failed : ndarray of bool, each len(rows)
        Skipped: several signature entries changed by one perturbation. Failed: outside the interval.
    allowed : ndarray
        The allowed distance from the interval.
    left, right : ndarray (len(rows), 2)
    """
    rows = np.asarray(rows, dtype=np.int64)
    ch, keys = est.changes[rows], est.keys[rows]
    several = np.max(ch, axis=1) > 1
    changed = ch > 0
    for r in np.flatnonzero(~several):      # one entry per perturbation, but the same entry every time?
        ks = keys[r][changed[r]]
        several[r] = len(ks) > 1 and np.any(ks != ks[0])
    left, right = one_sided(est, rows)
    values = np.concatenate([left, right], axis=1)
    lo, hi = values.min(axis=1), values.max(axis=1)
    av = a[rows]
    spread = np.abs(left[:, 0] - left[:, 1]) + np.abs(right[:, 0] - right[:, 1])
    scale = np.maximum(np.abs(av), np.max(np.abs(values), axis=1))
    allowed = tol.atol + tol.rtol * scale + tol.c * (2 * est.roundoff[rows] + spread)
    outside = (av < lo - allowed) | (av > hi + allowed)
    failed = outside & ~several
    return ~several & ~failed, several, failed, allowed, left, right


def tie_sets(value, flat):
    """Groups (arrays of flat indices, at least 2 each) of the elements *flat* with exactly equal values."""
    vals = value.reshape(-1)[flat] if value.flags.c_contiguous else np.ascontiguousarray(value).reshape(-1)[flat]
    groups = []
    order = np.argsort(vals, kind="stable")
    sorted_vals = vals[order]
    start = 0
    for i in range(1, len(order) + 1):
        if i == len(order) or sorted_vals[i] != sorted_vals[start]:
            if i - start >= 2:
                groups.append(np.sort(flat[order[start:i]]))
            start = i
    return groups
