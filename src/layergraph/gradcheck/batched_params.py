"""Stacked parameter perturbations: many perturbed copies of one layer's *output* run downstream in one batch.

For a parameter of a top-level layer ``k`` of a plain ``Sequential`` whose output is affine in that parameter
(``Affine``: moving ``W[i, j]`` by ``h`` adds ``h * x[:, i]`` to column ``j`` of the output), the output of each
perturbed copy is known without running layer ``k`` again: an *output-delta rule* gives it. The copies are
stacked along the batch axis and the layers after ``k`` (and the loss, one call per copy) run once per stack.

This is used only after two checks on the working copy: the layers after ``k`` are per-sample independent
(stacking copies changes nothing), and the rule agrees with layer ``k``'s own forward on sampled elements. Rules
are registered per layer type with :func:`register_output_delta`; users can add their own.
"""

import numpy as np

from .copy_losses import copy_losses_fn
from .inputs import SINGLE

MAX_ROWS = 2048
"""Rows per stacked downstream run."""
MIN_ELEMENTS = 1
"""Fewer elements than this are evaluated one by one (setting up a stacked run costs a few evaluations)."""
_RULES = {}


def register_output_delta(layer_type, rule):
    """Register ``rule(layer, key, x_in, flat) -> deltas`` for parameters of *layer_type*.

    ``x_in`` is the layer's input, ``flat`` flat indices into ``layer.params[key]``; ``deltas`` has shape
    ``(len(flat),) + output.shape``: the change of the layer's output per unit change of each element (the
    output must be affine in that parameter). Return None for a key the rule does not cover.
    """
    if not isinstance(layer_type, type) or not callable(rule):
        raise TypeError("register_output_delta: expected a layer class and a callable rule")
    _RULES[layer_type] = rule


def rule_for(layer):
    """The output-delta rule registered for *layer*'s class (or a base class), else None."""
    for cls in type(layer).__mro__:
        if cls in _RULES:
            return _RULES[cls]
    return None


def _affine_delta(layer, key, x_in, flat):
    w = layer.params["W"]
    n = x_in.shape[0]
    x2 = np.asarray(x_in).reshape(n, w.shape[0])
    out = np.zeros((len(flat), n, w.shape[1]), dtype=w.dtype)
    if key == "W":
        i, j = np.divmod(np.asarray(flat), w.shape[1])
        out[np.arange(len(flat))[:, None], np.arange(n)[None, :], j[:, None]] = x2[:, i].T
    elif key == "b":
        out[np.arange(len(flat)), :, np.asarray(flat)] = 1.0
    else:
        return None
    return out


def _install_defaults():
    from ..layers.affine import Affine

    _RULES.setdefault(Affine, _affine_delta)


_install_defaults()


class _Plan:
    """What a stacked run of parameters of top-level layer ``k`` needs; ``ok`` False when it cannot be used."""

    def __init__(self, obj, k):
        layers, inputs, snaps = obj._prefix
        self.k, self.layers, self.snaps = k, layers, snaps
        self.x_in = inputs[k]
        snaps[k].restore()
        self.out0 = np.array(layers[k].forward(self.x_in, train=obj.train), copy=True)
        self.hooked = [i for i, (top, _) in enumerate(obj.hooked) if top > k]
        self.ok = self._stackable(obj)
        if self.ok and obj.kind == "net-loss":
            y0 = np.array(self.downstream(obj, self.out0), copy=True)
            self.copy_losses = copy_losses_fn(obj.loss_layer, y0, obj.t, np.random.default_rng(11))

    def downstream(self, obj, h):
        """Run the layers after ``k`` on *h* from the restored state."""
        if self.k + 1 < len(self.layers):
            self.snaps[self.k + 1].restore()
        for layer in self.layers[self.k + 1:]:
            h = obj._fwd(layer, h, train=obj.train)
        return np.asarray(h)

    def _stackable(self, obj):
        try:
            n = self.out0.shape[0]
            rng = np.random.default_rng(7)
            other = self.out0 + 0.1 * rng.standard_normal(self.out0.shape) * (1.0 + np.abs(self.out0))
            y0 = np.array(self.downstream(obj, self.out0), copy=True)
            y1 = np.array(self.downstream(obj, other), copy=True)
            both = self.downstream(obj, np.concatenate([self.out0, other]))
            branches = [b.shape for b in obj._branches(self.k + 1)]
            if both.shape[0] != 2 * n or any(s[:1] != (2 * n,) for s in branches):
                return False
            tol = 1e3 * np.finfo(y0.dtype).eps * (1.0 + float(np.max(np.abs(y0))) + float(np.max(np.abs(y1))))
            return (np.max(np.abs(both[:n] - y0), initial=0.0) <= tol
                    and np.max(np.abs(both[n:] - y1), initial=0.0) <= tol)
        except Exception:
            return False


def _rule_agrees(obj, plan, layer, key, value, rule, h):
    """The rule's output deltas match layer ``k``'s own forward on three spread-out elements."""
    flat = np.unique(np.array([0, value.size // 2, value.size - 1]))
    deltas = rule(layer, key, plan.x_in, flat)
    if deltas is None or deltas.shape != (len(flat),) + plan.out0.shape:
        return False
    view_index = np.unravel_index(flat, value.shape)
    for e in range(len(flat)):
        where = tuple(int(i[e]) for i in view_index)
        original = value[where].copy()
        step = h * max(1.0, abs(float(original)))
        try:
            value[where] = original + step
            plan.snaps[plan.k].restore()
            out = np.asarray(layer.forward(plan.x_in, train=obj.train))
        finally:
            value[where] = original
        actual = (out - plan.out0) / step
        tol = 1e3 * np.finfo(out.dtype).eps * (1.0 + float(np.max(np.abs(plan.out0)))) / step
        if np.max(np.abs(actual - deltas[e]), initial=0.0) > tol:
            return False
    return True


def _plan_for(obj, name):
    from .objective import _is_plain_sequential

    if obj.kind not in ("layer", "net-loss") or obj.x is None or not _is_plain_sequential(obj.work):
        return None
    if obj.kind == "layer" and set(obj.y0) != {SINGLE}:
        return None
    head, _, key = name.partition(".")
    names = list(obj.work.layers)
    if head not in names or not key:
        return None
    k = names.index(head)
    layer = obj.work.layers[head]
    if key not in layer.params or callable(getattr(layer, "kink_branches", None)) or rule_for(layer) is None:
        return None
    cache = obj.__dict__.setdefault("_param_plans", {})
    if name not in cache:
        if obj._prefix is None:
            obj._setup_prefix()
        plan = _Plan(obj, k)
        value = layer.params[key]
        plan.ok = plan.ok and _rule_agrees(obj, plan, layer, key, value, rule_for(layer), 1e-3)
        cache[name] = plan
    plan = cache[name]
    return (plan, layer, key) if plan.ok else None


def param_phis(obj, name, value, flat, steps, offsets):
    """Stacked finite-difference evaluations for parameter elements *flat*, or None when not applicable.

    Returns ``(phi, scale, changes)`` each of shape ``(len(flat), len(offsets))`` (see
    :func:`~.numeric.evaluate`).
    """
    if 0 < len(flat) < MIN_ELEMENTS:
        return None
    found = _plan_for(obj, name)
    if found is None:
        return None
    plan, layer, key = found
    rule = rule_for(layer)
    out0 = plan.out0
    n = out0.shape[0]
    jobs = [(e, o) for e in range(len(flat)) for o in range(len(offsets))]
    phi = np.zeros((len(flat), len(offsets)))
    scale = np.zeros((len(flat), len(offsets)))
    changes = np.zeros((len(flat), len(offsets)), dtype=np.int64)
    keys = np.zeros((len(flat), len(offsets)), dtype=np.int64)
    chunk = max(1, MAX_ROWS // max(1, n))
    base = [obj.branches0[i] for i in plan.hooked]
    for start in range(0, len(jobs), chunk):
        part = jobs[start:start + chunk]
        els = np.array([e for e, _ in part])
        offs = np.array([offsets[o] for _, o in part]) * steps[els]
        deltas = rule(layer, key, plan.x_in, np.asarray(flat)[els])
        stack = out0[None] + offs.reshape((-1,) + (1,) * out0.ndim) * deltas
        y = plan.downstream(obj, stack.reshape((len(part) * n,) + out0.shape[1:]))
        obj.evaluations += len(part)
        y = y.reshape((len(part), n) + y.shape[1:])
        cols = np.array([o for _, o in part])
        if obj.kind == "layer":
            diff = (y - obj.y0[SINGLE][None]).reshape(len(part), -1)
            R = obj.R[SINGLE].reshape(1, -1)
            phi[els, cols] = np.sum(diff * R, axis=1)
            scale[els, cols] = (np.sum(obj.absRy0[SINGLE].reshape(1, -1) * (diff != 0), axis=1)
                                + np.sum(np.abs(diff * R), axis=1))
        else:
            targets = np.broadcast_to(np.asarray(obj.t), (len(part),) + np.shape(obj.t))
            phi[els, cols] = plan.copy_losses(y, targets) - float(obj.y0)
            scale[els, cols] = obj.loss_scale
        if plan.hooked:
            now = obj._branches(plan.k + 1)
            for i, b, b0 in zip(plan.hooked, now, base):
                diff = b.reshape(len(part), -1) != b0.reshape(1, -1)
                changes[els, cols] += np.count_nonzero(diff, axis=1)
                keys[els, cols] += np.sum(diff * np.arange(1, diff.shape[1] + 1), axis=1) * (i + 1)
    return phi, scale, changes, keys
