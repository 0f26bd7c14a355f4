"""Numerical gradient checking by central differences with Richardson extrapolation, in float64 on copies."""

import copy

import numpy as np

from .report import GradCheckError, GradCheckReport, TensorReport
from .state import Snapshot

DEFAULT_EPS = 1e-4
"""Relative step: element ``v`` is perturbed by ``h = eps * max(1, |v|)`` (and ``h/2`` for the extrapolation)."""
DEFAULT_RTOL = 1e-7
"""Largest relative error ``|a - n| / max(|a|, |n|, floor)`` accepted."""
DEFAULT_ATOL = 1e-10
"""Absolute tolerance; the relative-error floor is ``atol / rtol`` (1e-3 by default)."""
FULL_LIMIT = 256
"""In ``auto`` mode, tensors with at most this many elements are checked in full."""
SAMPLE_SIZE = 48
SAMPLE_LARGEST = 16


def gradcheck(layer, x, t=None, *, mode="auto", eps=None, rtol=None, atol=None, seed=0, raise_on_fail=False,
              train=True):
    """Compare a layer's analytic gradients with central differences.

    Works on any object following the layer protocol (``forward(x, train)``, ``backward(dout)``, ``params``,
    ``grads``), on loss layers (``forward(x, t)``) and on containers with a loss layer. The check runs on a float64
    deep copy: the caller's layer, ``x`` and ``t`` are left exactly as they were.

    For a plain layer the checked scalar is ``sum(forward(x) * R)`` for a fixed standard-normal ``R`` (never
    all-ones), so backward receives ``dout = R``; for a loss layer, or a container with a loss layer and ``t``
    given, it is the loss.

    Parameters
    ----------
    layer : Layer
    x : array_like, shape (N, ...)
    t : array_like, optional
        Targets, for loss layers and containers with a loss.
    mode : {"auto", "full", "sampled"}
        ``full`` checks every element of every tensor; ``sampled`` checks the 16 largest-magnitude analytic
        gradients and 32 more drawn at random per tensor; ``auto`` checks small tensors (<= 256 elements) in full
        and samples the others.
    eps : float, default 1e-4
        Relative finite-difference step.
    rtol, atol : float, default 1e-7 and 1e-10
        An element passes when ``|a - n| <= max(rtol * max(|a|, |n|), atol)``, i.e. when its relative error with
        floor ``atol / rtol`` is at most ``rtol``.
    seed : int
        Seeds ``R`` and the sampled indices.
    raise_on_fail : bool
        Raise :class:`GradCheckError` (an ``AssertionError``) instead of returning a failing report.
    train : bool
        The ``train`` flag passed to forward.

    Returns
    -------
    GradCheckReport
    """
    if mode not in ("auto", "full", "sampled"):
        raise ValueError(f"gradcheck: 'mode' must be 'auto', 'full' or 'sampled', got {mode!r}")
    eps = DEFAULT_EPS if eps is None else float(eps)
    rtol = DEFAULT_RTOL if rtol is None else float(rtol)
    atol = DEFAULT_ATOL if atol is None else float(atol)
    if eps <= 0 or rtol <= 0 or atol < 0:
        raise ValueError(f"gradcheck: need eps > 0, rtol > 0, atol >= 0; got eps={eps}, rtol={rtol}, atol={atol}")
    report = GradCheckReport(getattr(layer, "name", type(layer).__name__), mode, train, rtol, atol, eps, seed)
    try:
        _run(report, layer, x, t, np.random.default_rng(seed))
    except Exception as err:  # a failure of the checked layer is a failed check, not an escaped error
        report.error = f"{type(err).__name__}: {err}"
    if raise_on_fail and not report.ok:
        raise GradCheckError(report)
    return report


def _run(report, layer, x, t, rng):
    work = _float64_copy(layer)
    x64 = np.array(x, dtype=np.float64, copy=True)
    t64 = None if t is None else np.array(t, copy=True)
    objective = _Objective(work, x64, t64, report.train, rng)
    dx, grads = objective.analytic()
    tensors = {"x": (x64, dx)}
    params = work.params
    for name, value in params.items():
        tensors[name] = (value, grads.get(name))
    for name, (value, analytic) in tensors.items():
        report.tensors[name] = _check_tensor(name, value, analytic, objective, report, rng)


class _Objective:
    """The scalar being differentiated, evaluated from a restored state every time."""

    def __init__(self, work, x, t, train, rng):
        self.work, self.x, self.t, self.train = work, x, t, train
        self.is_loss = bool(getattr(work, "is_loss", False))
        self.loss_layer = getattr(work, "loss_layer", None) if t is not None else None
        if t is None and self.is_loss:
            raise ValueError("gradcheck: a loss layer needs targets 't'")
        if t is not None and not self.is_loss and self.loss_layer is None:
            raise ValueError("gradcheck: 't' given but the layer is neither a loss nor a container with a loss")
        self.snapshot = Snapshot(work)
        self.weights = None
        out = self.outputs()
        if not (self.is_loss or self.loss_layer is not None):
            self.weights = rng.standard_normal(np.shape(out))
            self.weights.flags.writeable = False

    def outputs(self):
        """Restore state, run forward and return the output array (the loss as a 0-d array for losses)."""
        self.snapshot.restore()
        x = self.x.view()
        x.flags.writeable = False
        if self.is_loss:
            return np.asarray(self.work.forward(x, self.t), dtype=np.float64)
        out = self.work.forward(x, train=self.train)
        if self.loss_layer is not None:
            return np.asarray(self.loss_layer.forward(out, self.t), dtype=np.float64)
        # A copy: an output may be a view of x (identity, reshape), which the next perturbation would change.
        return np.array(out, dtype=np.float64, copy=True)

    def directional(self, plus, minus):
        """``sum((plus - minus) * R)``: a difference of outputs, so unchanged outputs cancel exactly."""
        diff = plus - minus
        return float(np.sum(diff if self.weights is None else diff * self.weights))

    def analytic(self):
        self.outputs()
        if self.is_loss:
            dx = self.work.backward(1.0)
        elif self.loss_layer is not None:
            dx = self.work.backward(self.loss_layer.backward(1.0))
        else:
            dx = self.work.backward(self.weights)
        grads = {k: np.array(v, dtype=np.float64, copy=True) for k, v in self.work.grads.items()}
        return (None if dx is None else np.array(dx, dtype=np.float64, copy=True)), grads


def _check_tensor(name, value, analytic, objective, report, rng):
    rep = TensorReport(name, value.shape)
    if analytic is None:
        rep.ok, rep.problem = False, "no gradient returned" if name == "x" else "no gradient in grads"
        return rep
    if analytic.shape != value.shape:
        rep.ok, rep.problem = False, f"gradient shape {analytic.shape} != {value.shape}"
        return rep
    if not np.all(np.isfinite(analytic)):
        rep.ok, rep.problem = False, "non-finite analytic gradient"
        return rep
    floor = report.atol / report.rtol
    for flat in _indices(analytic, report.mode, rng):
        idx = np.unravel_index(flat, value.shape)
        num = _numeric(value, idx, objective, report.eps)
        a = float(analytic[idx])
        abs_err = abs(a - num)
        rel_err = abs_err / max(abs(a), abs(num), floor) if np.isfinite(num) else float("inf")
        rep.checked += 1
        rep.max_abs_err = max(rep.max_abs_err, abs_err)
        if rel_err > rep.max_rel_err or rep.worst_index is None:
            rep.max_rel_err = rel_err
            rep.worst_index, rep.analytic, rep.numeric = tuple(int(i) for i in idx), a, num
    rep.ok = rep.max_rel_err <= report.rtol
    return rep


def _indices(analytic, mode, rng):
    size = analytic.size
    if mode == "full" or (mode == "auto" and size <= FULL_LIMIT) or size <= SAMPLE_SIZE:
        return range(size)
    magnitude = np.abs(analytic).ravel()
    largest = np.argpartition(magnitude, -SAMPLE_LARGEST)[-SAMPLE_LARGEST:]
    rest = np.setdiff1d(np.arange(size), largest)
    others = rng.choice(rest, size=SAMPLE_SIZE - SAMPLE_LARGEST, replace=False)
    return np.sort(np.concatenate([largest, others]))


def _numeric(value, idx, objective, eps):
    """Richardson-extrapolated central difference ``D(h/2) + (D(h/2) - D(h)) / 3`` at one element."""
    original = value[idx]
    h = eps * max(1.0, abs(float(original)))
    estimates = []
    for step in (h, h / 2):
        value[idx] = original + step
        plus = objective.outputs()
        value[idx] = original - step
        minus = objective.outputs()
        value[idx] = original
        estimates.append(objective.directional(plus, minus) / (2 * step))
    d_h, d_half = estimates
    return d_half + (d_half - d_h) / 3.0


def _float64_copy(layer):
    work = copy.deepcopy(layer)
    if callable(getattr(work, "astype", None)):
        work.astype(np.float64)
    else:
        for store in (work.params, work.grads):
            for key, value in store.items():
                store[key] = np.asarray(value, dtype=np.float64)
    return work
