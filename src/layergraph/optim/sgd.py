"""SGD, heavy-ball momentum and Nesterov momentum."""

from __future__ import annotations

from ._checks import check_unit_interval
from .base import Hyper, Optimizer
from .rules_sgd import momentum_init, momentum_step, nesterov_init, nesterov_step, sgd_init, sgd_step

__all__ = ["SGD", "Momentum", "Nesterov"]

_COMMON = """
    weight_decay : float, default 0
        Coupled L2 coefficient (the rule sees ``g + weight_decay * p``).
    groups : sequence of ParamGroup, optional
        Per-name ``lr_scale`` / ``weight_decay`` overrides.
    on_nonfinite : {"raise", "skip", "ignore"}, default "raise"
        Behaviour on NaN/inf gradients (see :class:`~layergraph.optim.base.Optimizer`).
"""


class SGD(Optimizer):
    __doc__ = (
        """Plain SGD: ``p -= lr * g`` (rule :func:`~layergraph.optim.rules.sgd_step`).

    Parameters
    ----------
    lr : float, default 0.01
"""
        + _COMMON
    )

    n_work = 1

    def __init__(self, lr=0.01, *, weight_decay=0.0, groups=(), on_nonfinite="raise"):
        super().__init__(lr, weight_decay=weight_decay, groups=groups, on_nonfinite=on_nonfinite)

    def _init_state(self, param):
        return sgd_init(param)

    elementwise = True  # each element depends only on its own p, g and state: packed buffers allowed

    def _apply(self, param, grad, state, work, lr, weight_decay, hp):
        sgd_step(param, grad, state, work, lr=lr)


class Momentum(Optimizer):
    __doc__ = (
        """Heavy-ball momentum: ``v = momentum*v - lr*g; p += v`` (:func:`~layergraph.optim.rules.momentum_step`).

    Parameters
    ----------
    lr : float, default 0.01
    momentum : float in [0, 1), default 0.9
"""
        + _COMMON
    )

    momentum = Hyper(check_unit_interval)
    n_work = 1

    def __init__(self, lr=0.01, momentum=0.9, *, weight_decay=0.0, groups=(), on_nonfinite="raise"):
        super().__init__(lr, weight_decay=weight_decay, groups=groups, on_nonfinite=on_nonfinite)
        self.momentum = momentum

    def _init_state(self, param):
        return momentum_init(param)

    elementwise = True  # each element depends only on its own p, g and state: packed buffers allowed

    def _apply(self, param, grad, state, work, lr, weight_decay, hp):
        momentum_step(param, grad, state, work, lr=lr, momentum=hp["momentum"])


class Nesterov(Optimizer):
    __doc__ = (
        """Nesterov momentum, Sutskever et al. (2013) form as in PyTorch ``SGD(nesterov=True)``.

    ``b = momentum*b + g; p -= lr*(g + momentum*b)`` (:func:`~layergraph.optim.rules.nesterov_step`).

    Parameters
    ----------
    lr : float, default 0.01
    momentum : float in [0, 1), default 0.9
"""
        + _COMMON
    )

    momentum = Hyper(check_unit_interval)
    n_work = 1

    def __init__(self, lr=0.01, momentum=0.9, *, weight_decay=0.0, groups=(), on_nonfinite="raise"):
        super().__init__(lr, weight_decay=weight_decay, groups=groups, on_nonfinite=on_nonfinite)
        self.momentum = momentum

    def _init_state(self, param):
        return nesterov_init(param)

    elementwise = True  # each element depends only on its own p, g and state: packed buffers allowed

    def _apply(self, param, grad, state, work, lr, weight_decay, hp):
        nesterov_step(param, grad, state, work, lr=lr, momentum=hp["momentum"])
