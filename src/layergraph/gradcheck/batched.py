"""Vectorised input perturbations: many perturbed copies of ``x`` stacked along the batch axis.

Valid only when the checked function is per-sample independent (sample ``n`` of the output depends on sample ``n``
of the input alone, and stacking copies changes nothing else) and, with a loss, when the loss is the mean of
per-sample losses. :func:`batching_ok` verifies both on the working copy before the fast path is used, so
BatchNorm-like layers (samples interact) and Dropout-like layers (the random draw depends on the batch size) fall
back to one evaluation per perturbation.

Each stacked copy perturbs at most one element per sample, so a copy's per-sample output differences give one
finite difference per perturbed element.
"""

import numpy as np

from .copy_losses import copy_losses_fn
from .inputs import SINGLE

OFFSETS = (1.0, -1.0, 0.5, -0.5)
MAX_ROWS = 512


def batching_ok(obj, rng):
    """True when input perturbations of *obj* (an :class:`Objective`) may be stacked along the batch axis."""
    x = obj.x
    if x is None or obj.kind not in ("layer", "net-loss") or x.ndim == 0 or x.shape[0] < 2:
        return False
    if obj.kind == "layer" and set(obj.y0) != {SINGLE}:
        return False
    n = x.shape[0]
    try:
        y0 = obj.layers_output(x)
        x2 = x + 0.1 * rng.standard_normal(x.shape) * (1.0 + np.abs(x))
        x3 = x.copy()
        x3[0] = x2[0]
        y2, y3 = obj.layers_output(x2), obj.layers_output(x3)
        before = [b.shape for b in obj._branches(0)]
        stacked = obj.layers_output(np.concatenate([x, x2, x3]))
        after = [b.shape for b in obj._branches(0)]
        if isinstance(stacked, dict) or stacked.shape[0] != 3 * n or any(
                a[:1] != (3 * n,) or a[1:] != b[1:] for a, b in zip(after, before)):
            return False
        tol = 1e3 * np.finfo(y0.dtype).eps * (1.0 + float(np.max(np.abs(y0))) + float(np.max(np.abs(y2))))
        same = [(stacked[:n], y0), (stacked[n:2 * n], y2), (stacked[2 * n:], y3), (y3[1:], y0[1:])]
        if any(a.shape != b.shape or np.max(np.abs(a - b), initial=0.0) > tol for a, b in same):
            return False
        if obj.kind == "net-loss":
            rows = row_losses(obj, y0)
            total = float(obj.loss_layer.forward(y0, obj.t))
            if abs(float(np.sum(rows)) - total) > 1e-9 * (1.0 + abs(total)):
                return False
            obj.row_losses0 = rows
        return True
    except Exception:  # a layer that cannot take a stacked batch simply is not batched
        return False


def row_losses(obj, out, rows=None):
    """``loss(out[r:r+1], t[s:s+1]) / N`` for each ``(copy_row r, sample s)`` pair (default: every sample)."""
    n = obj.x.shape[0]
    if rows is None:
        rows = [(i, i) for i in range(n)]
    r, s = (np.array(v, dtype=np.int64) for v in zip(*rows)) if len(rows) else (np.zeros(0, np.int64),) * 2
    fn = getattr(obj, "_row_loss_fn", None)
    if fn is None:
        y0 = np.asarray(out)
        fn = copy_losses_fn(obj.loss_layer, y0[:1], np.asarray(obj.t)[:1], np.random.default_rng(5))
        obj._row_loss_fn = fn
    y = np.asarray(out)[r][:, None]
    t = np.asarray(obj.t)[s][:, None]
    return fn(y, t) / n


def batched_phis(obj, flat, steps, offsets=OFFSETS):
    """Finite-difference evaluations of input elements *flat* (flat indices into ``x``), stacked.

    Returns
    -------
    phi, scale : ndarray, shape (len(flat), len(offsets))
        ``f - f0`` and the roundoff scale at ``offsets * h`` (``h = steps``).
    kinked : ndarray of int, shape (len(flat), len(offsets))
        Entries of the kink signature (``kink_branches()``) the perturbation changed.
    """
    x = obj.x
    n = x.shape[0]
    per = x.size // n
    sample, within = np.divmod(np.asarray(flat), per)
    copy_of = np.empty(len(flat), dtype=np.int64)
    counts = np.zeros(n, dtype=np.int64)
    for i, s in enumerate(sample):
        copy_of[i] = counts[s]
        counts[s] += 1
    ncopies = int(counts.max()) if len(flat) else 0
    jobs = [(c, o) for c in range(ncopies) for o in range(len(offsets))]
    phi = np.zeros((len(flat), len(offsets)))
    scale = np.zeros((len(flat), len(offsets)))
    kinked = np.zeros((len(flat), len(offsets)), dtype=np.int64)
    keys = np.zeros((len(flat), len(offsets)), dtype=np.int64)
    by_copy = [np.flatnonzero(copy_of == c) for c in range(ncopies)]
    x2 = x.reshape(n, per)
    chunk = max(1, MAX_ROWS // n)
    for start in range(0, len(jobs), chunk):
        part = jobs[start:start + chunk]
        stack = np.repeat(x2[None], len(part), axis=0)
        for p, (c, o) in enumerate(part):
            els = by_copy[c]
            stack[p, sample[els], within[els]] += offsets[o] * steps[els]
        out = obj.layers_output(stack.reshape((len(part) * n,) + x.shape[1:]))
        out = out.reshape((len(part), n) + out.shape[1:])
        changed, changed_keys = _branch_changes(obj, len(part), n)
        for p, (c, o) in enumerate(part):
            els = by_copy[c]
            s = sample[els]
            if obj.kind == "layer":
                diff = (out[p, s] - obj.y0[SINGLE][s]).reshape(len(els), -1)
                R = obj.R[SINGLE][s].reshape(len(els), -1)
                phi[els, o] = np.sum(diff * R, axis=1)
                ay0 = obj.absRy0[SINGLE][s].reshape(len(els), -1)
                scale[els, o] = np.sum(ay0 * (diff != 0), axis=1) + np.sum(np.abs(diff * R), axis=1)
            else:
                flat_out = out[p]
                phi[els, o] = row_losses(obj, flat_out, list(zip(s, s))) - obj.row_losses0[s]
                scale[els, o] = obj.loss_scale
            if changed is not None:
                kinked[els, o] = changed[p, s]
                keys[els, o] = changed_keys[p, s]
    return phi, scale, kinked, keys


def _branch_changes(obj, copies, n):
    if not obj.hooked:
        return None, None
    changed = np.zeros((copies, n), dtype=np.int64)
    keys = np.zeros((copies, n), dtype=np.int64)
    for i, (b, b0) in enumerate(zip(obj._branches(0), obj.branches0)):
        b = b.reshape(copies, n, -1)
        diff = b != b0.reshape(1, n, -1)
        changed += np.count_nonzero(diff, axis=2)
        pos = np.arange(1, diff.shape[2] + 1) + np.arange(n)[:, None] * diff.shape[2]
        keys += np.sum(diff * pos[None], axis=2) * (i + 1)
    return changed, keys
