"""Per-coordinate adaptive methods without momentum: AdaGrad, RMSprop, AdaDelta."""

from __future__ import annotations

from ._checks import check_positive, check_unit_interval
from .base import Hyper, Optimizer
from .rules_sgd import adadelta_init, adadelta_step, adagrad_init, adagrad_step, rmsprop_init, rmsprop_step
from .sgd import _COMMON

__all__ = ["AdaGrad", "RMSprop", "AdaDelta"]


class AdaGrad(Optimizer):
    __doc__ = (
        """AdaGrad (Duchi et al., 2011): ``h += g*g; p -= lr*g/(sqrt(h)+eps)``.

    Rule: :func:`~layergraph.optim.rules.adagrad_step`.

    Parameters
    ----------
    lr : float, default 0.01
    eps : float > 0, default 1e-8
"""
        + _COMMON
    )

    eps = Hyper(check_positive)
    n_work = 1

    def __init__(self, lr=0.01, eps=1e-8, *, weight_decay=0.0, groups=(), on_nonfinite="raise"):
        super().__init__(lr, weight_decay=weight_decay, groups=groups, on_nonfinite=on_nonfinite)
        self.eps = eps

    def _init_state(self, param):
        return adagrad_init(param)

    elementwise = True  # each element depends only on its own p, g and state: packed buffers allowed

    def _apply(self, param, grad, state, work, lr, weight_decay, hp):
        adagrad_step(param, grad, state, work, lr=lr, eps=hp["eps"])


class RMSprop(Optimizer):
    __doc__ = (
        """RMSprop (Tieleman & Hinton, 2012).

    ``h = decay_rate*h + (1-decay_rate)*g*g; p -= lr*g/(sqrt(h)+eps)``
    (:func:`~layergraph.optim.rules.rmsprop_step`).

    Parameters
    ----------
    lr : float, default 0.01
    decay_rate : float in [0, 1), default 0.99
    eps : float > 0, default 1e-8
"""
        + _COMMON
    )

    decay_rate = Hyper(check_unit_interval)
    eps = Hyper(check_positive)
    n_work = 1

    def __init__(self, lr=0.01, decay_rate=0.99, eps=1e-8, *, weight_decay=0.0, groups=(), on_nonfinite="raise"):
        super().__init__(lr, weight_decay=weight_decay, groups=groups, on_nonfinite=on_nonfinite)
        self.decay_rate = decay_rate
        self.eps = eps

    def _init_state(self, param):
        return rmsprop_init(param)

    elementwise = True  # each element depends only on its own p, g and state: packed buffers allowed

    def _apply(self, param, grad, state, work, lr, weight_decay, hp):
        rmsprop_step(param, grad, state, work, lr=lr, decay_rate=hp["decay_rate"], eps=hp["eps"])


class AdaDelta(Optimizer):
    __doc__ = (
        """ADADELTA (Zeiler, 2012); ``lr`` multiplies the paper's step (1.0 = the paper).

    Rule: :func:`~layergraph.optim.rules.adadelta_step`.

    Parameters
    ----------
    lr : float, default 1.0
    decay_rate : float in [0, 1), default 0.95
        The paper's :math:`\\rho`.
    eps : float > 0, default 1e-6
"""
        + _COMMON
    )

    decay_rate = Hyper(check_unit_interval)
    eps = Hyper(check_positive)
    n_work = 2

    def __init__(self, lr=1.0, decay_rate=0.95, eps=1e-6, *, weight_decay=0.0, groups=(), on_nonfinite="raise"):
        super().__init__(lr, weight_decay=weight_decay, groups=groups, on_nonfinite=on_nonfinite)
        self.decay_rate = decay_rate
        self.eps = eps

    def _init_state(self, param):
        return adadelta_init(param)

    elementwise = True  # each element depends only on its own p, g and state: packed buffers allowed

    def _apply(self, param, grad, state, work, lr, weight_decay, hp):
        adadelta_step(param, grad, state, work, lr=lr, decay_rate=hp["decay_rate"], eps=hp["eps"])
