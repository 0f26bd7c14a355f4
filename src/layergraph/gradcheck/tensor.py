"""Checking one tensor (the input or one parameter): element-wise, sampled, directional, and localisation."""

import numpy as np

from .batched import batching_ok
from .numeric import directional_estimate, element_estimates
from .kinks import KinkFailure, judge_kinks, tie_sets
from .report import DirectionalResult, TensorReport
from .tolerances import unit_roundoff

FULL_LIMIT = 256
"""In ``auto`` mode, tensors with at most this many elements are checked element by element in full."""
DIRECTION_SHRINK = 32.0
"""Factor by which the step of a directional derivative shrinks when the first attempt crosses a kink."""
KINK_FRACTION = 0.5
"""A tensor fails when more than this fraction of its (at least 4) checked elements sit at several kinks at once
(skipped elements)."""
MAX_TIE_SETS = 16
"""Tie sets checked jointly per tensor (each costs one directional derivative)."""


def sample_indices(analytic, k, rng):
    """Flat indices of *k* elements: the largest-magnitude quarter, the largest and smallest values, the first
    and last element, and random others. All indices when the tensor has at most *k* elements."""
    size = analytic.size
    if size <= k:
        return np.arange(size)
    flat = analytic.reshape(-1)
    top = max(1, k // 4)
    chosen = set(np.argpartition(np.abs(flat), -top)[-top:].tolist())
    chosen.update((int(np.argmax(flat)), int(np.argmin(flat)), 0, size - 1))
    while len(chosen) < k:
        chosen.update(rng.choice(size, size=k - len(chosen), replace=False).tolist())
    return np.array(sorted(chosen)[:size], dtype=np.int64)


class TensorChecker:
    """Checks tensors of one :class:`~.objective.Objective` with tolerance *tol* in *mode*."""

    def __init__(self, obj, tol, mode, samples, rng, batch_rng):
        self.obj, self.tol, self.mode, self.samples, self.rng = obj, tol, mode, samples, rng
        self.u = unit_roundoff(obj.dtype)
        self._batch_rng = batch_rng
        self._batched = None

    def batched(self, count):
        """Whether input perturbations are stacked (decided once, when worth it)."""
        if self._batched is None and count >= 8:
            self._batched = batching_ok(self.obj, self._batch_rng)
        return bool(self._batched)

    def check(self, name, value, analytic):
        """Return the :class:`TensorReport` of tensor *name* (array *value*, analytic gradient *analytic*)."""
        rep = TensorReport(name, tuple(value.shape))
        if not self._valid(rep, value, analytic):
            return rep
        g = analytic.astype(np.float64)
        start = self.obj.evaluations
        elements, steps = None, []
        size = value.size
        if self.mode == "full" or (self.mode == "auto" and size <= FULL_LIMIT):
            elements, steps = np.arange(size), ["full"]
        elif self.mode in ("sampled", "auto"):
            elements, steps = sample_indices(g, self.samples, self.rng), ["sampled"]
        if self.mode in ("directional", "auto") and size:
            direction = self.rng.standard_normal(value.shape)
            rep.directional = self._directional(name, value, g, direction, None)
            steps.insert(0, "directional")
            if rep.directional.kinked and elements is None:
                elements = sample_indices(g, self.samples, self.rng)
                steps.append("sampled")
            elif not rep.directional.ok:
                rep.ok = False
                worst = self._localise(name, value, g, direction, rep.directional)
                elements = np.union1d(elements if elements is not None else [], [worst]).astype(np.int64)
                steps.append("localised")
        if elements is not None and len(elements):
            self._elements(rep, name, value, g, elements)
        rep.strategy = "+".join(steps) or "empty"
        rep.evaluations = self.obj.evaluations - start
        return rep

    def _valid(self, rep, value, analytic):
        if analytic is None:
            rep.fail("no gradient returned by backward" if self.obj.is_input(rep.name) else "no gradient in grads")
            return False
        if analytic.shape != value.shape:
            rep.fail(f"gradient shape {analytic.shape} != tensor shape {value.shape}")
            return False
        if analytic.dtype != value.dtype:
            rep.fail(f"gradient dtype {analytic.dtype} != tensor dtype {value.dtype}")
        if not np.all(np.isfinite(analytic)):
            rep.fail(f"{analytic.size - np.count_nonzero(np.isfinite(analytic))} non-finite analytic gradient(s)")
            return False
        return True

    def _elements(self, rep, name, value, g, flat):
        gflat = g.reshape(-1)
        est = element_estimates(self.obj, name, value, flat, self.tol, self.u,
                                name == "x" and self.batched(len(flat)), gflat)
        a = gflat[flat]
        n = est.numeric
        allowed = self.tol.allowed(a, n, est.estimate)
        kink = ~est.quick & (est.hooked_kink | (est.kappa > self.tol.kink_threshold(a, n, est.roundoff)))
        keep = ~kink
        rep.add_elements(flat[keep], a[keep], n[keep], est.estimate[keep], allowed[keep], self.tol.floor)
        rows = np.flatnonzero(kink)
        if len(rows):
            self._kinks(rep, name, value, g, flat, a, est, rows)
        if len(flat) >= 4 and rep.kinks_skipped > KINK_FRACTION * len(flat):
            rep.fail(f"{rep.kinks_skipped} of {len(flat)} checked elements sit at several kinks at once "
                     f"(non-smooth almost everywhere)")

    def _kinks(self, rep, name, value, g, flat, a, est, rows):
        checked, skipped, failed, allowed, left, right = judge_kinks(self.tol, a, est, rows)
        rep.kinks += len(rows)
        rep.kinks_checked += int(np.count_nonzero(checked))
        rep.kinks_skipped += int(np.count_nonzero(skipped))
        rep.kinks_failed += int(np.count_nonzero(failed))
        for r in np.flatnonzero(failed)[:1]:
            index = tuple(int(i) for i in np.unravel_index(int(flat[rows[r]]), value.shape))
            rep.kink_failures.append(KinkFailure(index, float(np.mean(left[r])), float(np.mean(right[r])),
                                                 float(a[rows[r]]), float(allowed[r])))
        for group in tie_sets(value, flat[rows])[:MAX_TIE_SETS]:
            mask = np.zeros(value.size)
            mask[group] = 1.0
            mask = mask.reshape(value.shape)
            res = self._directional(name, value, g, np.ones(value.shape), mask)
            if res.kinked:
                continue
            rep.ties_checked += 1
            if not res.ok:
                index = tuple(tuple(int(i) for i in np.unravel_index(int(e), value.shape)) for e in group)
                rep.kink_failures.append(KinkFailure(index, float("nan"), res.numeric, res.analytic, res.allowed,
                                                     "tie"))
        if rep.kink_failures:
            rep.fail("; ".join(f.describe() for f in rep.kink_failures[:2]))

    def _judge_direction(self, g, v, est):
        a = float(np.sum(g * v))
        n = float(est.numeric[0])
        size = max(1, v.size)
        magnitude = max(abs(a), abs(n), float(np.sum(np.abs(g * v))) / np.sqrt(size))
        atol = self.tol.atol * float(np.sqrt(np.sum(v * v)))
        base = atol + self.tol.rtol * magnitude
        allowed = base + self.tol.c * float(est.estimate[0])
        round_off = float(est.roundoff[0])
        kinked = bool(est.hooked_kink[0]) or float(est.kappa[0]) > self.tol.kink * base + 2 * self.tol.c * round_off
        ok = kinked or abs(a - n) <= allowed
        return DirectionalResult(a, n, float(est.estimate[0]), allowed, kinked, ok)

    def _directional(self, name, value, g, direction, mask):
        """Judge the derivative along ``direction * mask``; a direction that crosses a kink is retried once with
        a step ``DIRECTION_SHRINK`` times smaller (a whole-tensor move reaches many kinks at once)."""
        v = direction if mask is None else direction * mask
        result = None
        for shrink in (1.0, DIRECTION_SHRINK):
            est = directional_estimate(self.obj, name, value, direction, mask, self.tol, self.u, shrink)
            result = self._judge_direction(g, v, est)
            if not result.kinked:
                break
        return result

    def _localise(self, name, value, g, direction, whole):
        """Bisect a failing direction: keep the half whose derivative disagrees more; return one flat index."""
        current = np.arange(value.size)
        gv = (g * direction).reshape(-1)
        a_cur, n_cur = whole.analytic, whole.numeric
        mask = np.zeros(value.size)
        while len(current) > 1:
            half, other = current[: len(current) // 2], current[len(current) // 2:]
            mask[:] = 0.0
            mask[half] = 1.0
            res = self._directional(name, value, g, direction, mask.reshape(value.shape))
            if res.kinked:
                break
            a2, n2 = a_cur - res.analytic, n_cur - res.numeric
            if abs(res.analytic - res.numeric) >= abs(a2 - n2):
                current, a_cur, n_cur = half, res.analytic, res.numeric
            else:
                current, a_cur, n_cur = other, a2, n2
        return int(current[np.argmax(np.abs(gv[current]))])
