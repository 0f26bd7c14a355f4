"""Lion (EvoLved Sign Momentum)."""

from __future__ import annotations

from ._checks import check_unit_interval
from .base import Hyper, Optimizer
from .rules_adam import lion_init, lion_step
from .sgd import _COMMON

__all__ = ["Lion"]


class Lion(Optimizer):
    __doc__ = (
        """Lion (Chen et al., 2023): sign of an interpolated momentum.

    ``c = beta1*m + (1-beta1)*g; p -= lr*sign(c); m = beta2*m + (1-beta2)*g``
    (:func:`~layergraph.optim.rules.lion_step`). Every coordinate moves by exactly ``lr``,
    so use a learning rate 3-10x smaller than AdamW's.

    Parameters
    ----------
    lr : float, default 1e-4
    beta1 : float in [0, 1), default 0.9
    beta2 : float in [0, 1), default 0.99
"""
        + _COMMON
        + """
    Notes
    -----
    As for every optimizer except :class:`AdamW`, ``weight_decay`` is coupled L2 (added to
    the gradient before the sign). The paper's decoupled decay is not provided here.
"""
    )

    beta1 = Hyper(check_unit_interval)
    beta2 = Hyper(check_unit_interval)
    n_work = 2

    def __init__(self, lr=1e-4, beta1=0.9, beta2=0.99, *, weight_decay=0.0, groups=(), on_nonfinite="raise"):
        super().__init__(lr, weight_decay=weight_decay, groups=groups, on_nonfinite=on_nonfinite)
        self.beta1 = beta1
        self.beta2 = beta2

    def _init_state(self, param):
        return lion_init(param)

    elementwise = True  # each element depends only on its own p, g and state: packed buffers allowed

    def _apply(self, param, grad, state, work, lr, weight_decay, hp):
        lion_step(param, grad, state, work, lr=lr, beta1=hp["beta1"], beta2=hp["beta2"])
