"""Vectorised losses of many stacked copies of a batch, for the stacked finite differences.

A stacked run gives the network output of ``P`` perturbed copies of the batch at once, shape ``(P, N, ...)``;
each copy's loss is needed. Calling the loss layer once per copy costs more than the network itself on small
layers, so a *copy-loss rule* ``rule(loss_layer, y, t) -> (P,)`` computes them all at once. A rule is used only
after it reproduces the loss layer's own ``forward`` on the baseline and on perturbed copies; otherwise the
checker calls the loss layer per copy. Rules are registered per loss class with :func:`register_copy_loss`.
"""

import numpy as np

_RULES = {}


def register_copy_loss(loss_type, rule):
    """Register ``rule(loss_layer, y, t) -> ndarray (P,)``: the loss of each copy ``y[p]`` (shape (N, ...)) with
    targets ``t[p]`` (targets carry the copy axis too)."""
    if not isinstance(loss_type, type) or not callable(rule):
        raise TypeError("register_copy_loss: expected a loss class and a callable rule")
    _RULES[loss_type] = rule


def _softmax_ce(layer, y, t):
    if y.ndim != 3:
        return None
    n = y.shape[1]
    z = y - np.max(y, axis=2, keepdims=True)
    log_s = np.log(np.sum(np.exp(z), axis=2))
    t = np.asarray(t)
    if t.ndim == 2:
        picked = np.take_along_axis(z, t.astype(np.int64)[..., None], axis=2)[..., 0]
        return (np.sum(log_s, axis=1) - np.sum(picked, axis=1)) / n
    t = t.astype(y.dtype)
    return (np.sum(np.sum(t, axis=2) * log_s, axis=1) - np.sum(t * z, axis=(1, 2))) / n


def _mse(layer, y, t):
    d = y - np.asarray(t, dtype=y.dtype).reshape(y.shape)
    return np.mean(d.reshape(y.shape[0], -1) ** 2, axis=1)


def _sigmoid_ce(layer, y, t):
    t = np.asarray(t).reshape(y.shape).astype(y.dtype)
    v = np.maximum(y, 0) - y * t + np.log1p(np.exp(-np.abs(y)))
    return np.mean(v.reshape(y.shape[0], -1), axis=1)


def _install_defaults():
    from ..layers.losses import MeanSquaredError, SigmoidWithLoss, SoftmaxWithLoss

    for cls, rule in ((SoftmaxWithLoss, _softmax_ce), (MeanSquaredError, _mse), (SigmoidWithLoss, _sigmoid_ce)):
        _RULES.setdefault(cls, rule)


def copy_losses_fn(loss_layer, out0, t, rng):
    """A function ``(y (P, N, ...), t (P, N, ...)) -> (P,)`` of copy losses for *loss_layer*, checked against
    the layer's own forward on the baseline *out0* (targets *t*) and a perturbed copy; per-copy calls otherwise."""
    _install_defaults()
    rule = next((_RULES[c] for c in type(loss_layer).__mro__ if c in _RULES), None)

    def per_copy(y, tt):
        return np.array([float(loss_layer.forward(y[i], tt[i])) for i in range(y.shape[0])])

    if rule is None:
        return per_copy
    try:
        other = out0 + 0.3 * rng.standard_normal(out0.shape) * (1.0 + np.abs(out0))
        y = np.stack([out0, other])
        tt = np.stack([t, t])
        fast = np.asarray(rule(loss_layer, y, tt), dtype=np.float64)
        slow = per_copy(y, tt)
        if fast.shape == slow.shape and np.allclose(fast, slow, rtol=1e-12, atol=1e-14):
            return lambda y, tt: np.asarray(rule(loss_layer, y, tt), dtype=np.float64)
    except Exception:
        pass
    return per_copy
