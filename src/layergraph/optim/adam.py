"""The Adam family: Adam (and AMSGrad), AdamW, Adamax, NAdam, RAdam."""

from __future__ import annotations

from ._checks import check_nonneg, check_positive, check_unit_interval
from .base import Hyper, Optimizer
from .rules_adam import (
    adam_init,
    adam_step,
    adamax_init,
    adamax_step,
    adamw_step,
    nadam_init,
    nadam_step,
    radam_init,
    radam_step,
)
from .sgd import _COMMON

__all__ = ["Adam", "AdamW", "Adamax", "NAdam", "RAdam"]

_BETAS = """    beta1 : float in [0, 1), default {b1}
        Decay of the first-moment average.
    beta2 : float in [0, 1), default {b2}
        Decay of the second-moment average.
    eps : float > 0, default 1e-8
"""


class _AdamLike(Optimizer):
    beta1 = Hyper(check_unit_interval)
    beta2 = Hyper(check_unit_interval)
    eps = Hyper(check_positive)
    n_work = 1

    def __init__(self, lr, beta1, beta2, eps, *, weight_decay, groups, on_nonfinite):
        super().__init__(lr, weight_decay=weight_decay, groups=groups, on_nonfinite=on_nonfinite)
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps


def _check_bool(owner, name, value):
    if not isinstance(value, bool):
        raise TypeError(f"{owner}: argument '{name}' must be a bool, got {type(value).__name__}")
    return value


class Adam(_AdamLike):
    __doc__ = (
        """Adam (Kingma & Ba, 2015, Algorithm 1), bias-corrected, eps added to sqrt(v_hat).

    Rule: :func:`~layergraph.optim.rules.adam_step`.

    Parameters
    ----------
    lr : float, default 1e-3
"""
        + _BETAS.format(b1=0.9, b2=0.999)
        + """    amsgrad : bool, default False
        Use the running maximum of ``v`` (Reddi et al., 2018). Fixed at construction.
"""
        + _COMMON
    )

    _config_names = ("amsgrad",)

    def __init__(self, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, amsgrad=False, *,
                 weight_decay=0.0, groups=(), on_nonfinite="raise"):
        super().__init__(lr, beta1, beta2, eps, weight_decay=weight_decay, groups=groups,
                         on_nonfinite=on_nonfinite)
        self._amsgrad = _check_bool(type(self).__name__, "amsgrad", amsgrad)

    @property
    def amsgrad(self) -> bool:
        """Whether the AMSGrad maximum is used (read-only: it fixes the state layout)."""
        return self._amsgrad

    def _init_state(self, param):
        return adam_init(param, self._amsgrad)

    elementwise = True  # each element depends only on its own p, g and state: packed buffers allowed

    def _apply(self, param, grad, state, work, lr, weight_decay, hp):
        adam_step(param, grad, state, work, lr=lr, beta1=hp["beta1"], beta2=hp["beta2"],
                  eps=hp["eps"], amsgrad=self._amsgrad)


class AdamW(Adam):
    __doc__ = (
        """AdamW (Loshchilov & Hutter, 2019): ``p *= 1 - lr*weight_decay`` before the Adam step.

    Here ``weight_decay`` is *decoupled*: it never enters the moment estimates.
    Rule: :func:`~layergraph.optim.rules.adamw_step`.

    Parameters
    ----------
    lr : float, default 1e-3
"""
        + _BETAS.format(b1=0.9, b2=0.999)
        + """    amsgrad : bool, default False
    weight_decay : float, default 1e-2
        Decoupled decay coefficient (per group overrides allowed, e.g. :func:`no_decay`).
    groups, on_nonfinite
        As for :class:`Adam`.
"""
    )

    decoupled_weight_decay = True

    def __init__(self, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, amsgrad=False, *,
                 weight_decay=1e-2, groups=(), on_nonfinite="raise"):
        super().__init__(lr, beta1, beta2, eps, amsgrad, weight_decay=weight_decay, groups=groups,
                         on_nonfinite=on_nonfinite)

    elementwise = True  # each element depends only on its own p, g and state: packed buffers allowed

    def _apply(self, param, grad, state, work, lr, weight_decay, hp):
        adamw_step(param, grad, state, work, lr=lr, beta1=hp["beta1"], beta2=hp["beta2"],
                   eps=hp["eps"], weight_decay=weight_decay, amsgrad=self._amsgrad)


class Adamax(_AdamLike):
    __doc__ = (
        """AdaMax (Kingma & Ba, 2015, Algorithm 2): Adam with an infinity-norm denominator.

    Rule: :func:`~layergraph.optim.rules.adamax_step`.

    Parameters
    ----------
    lr : float, default 2e-3
"""
        + _BETAS.format(b1=0.9, b2=0.999)
        + _COMMON
    )

    def __init__(self, lr=2e-3, beta1=0.9, beta2=0.999, eps=1e-8, *,
                 weight_decay=0.0, groups=(), on_nonfinite="raise"):
        super().__init__(lr, beta1, beta2, eps, weight_decay=weight_decay, groups=groups,
                         on_nonfinite=on_nonfinite)

    def _init_state(self, param):
        return adamax_init(param)

    elementwise = True  # each element depends only on its own p, g and state: packed buffers allowed

    def _apply(self, param, grad, state, work, lr, weight_decay, hp):
        adamax_step(param, grad, state, work, lr=lr, beta1=hp["beta1"], beta2=hp["beta2"], eps=hp["eps"])


class NAdam(_AdamLike):
    __doc__ = (
        """NAdam (Dozat, 2016): Adam with Nesterov momentum and a momentum warm-up schedule.

    Rule: :func:`~layergraph.optim.rules.nadam_step`.

    Parameters
    ----------
    lr : float, default 2e-3
"""
        + _BETAS.format(b1=0.9, b2=0.999)
        + """    momentum_decay : float >= 0, default 4e-3
        The paper's :math:`\\psi` in :math:`\\mu_t = \\beta_1(1 - 0.5\\cdot 0.96^{t\\psi})`.
"""
        + _COMMON
    )

    momentum_decay = Hyper(check_nonneg)
    n_work = 2

    def __init__(self, lr=2e-3, beta1=0.9, beta2=0.999, eps=1e-8, momentum_decay=4e-3, *,
                 weight_decay=0.0, groups=(), on_nonfinite="raise"):
        super().__init__(lr, beta1, beta2, eps, weight_decay=weight_decay, groups=groups,
                         on_nonfinite=on_nonfinite)
        self.momentum_decay = momentum_decay

    def _init_state(self, param):
        return nadam_init(param)

    elementwise = True  # each element depends only on its own p, g and state: packed buffers allowed

    def _apply(self, param, grad, state, work, lr, weight_decay, hp):
        nadam_step(param, grad, state, work, lr=lr, beta1=hp["beta1"], beta2=hp["beta2"],
                   eps=hp["eps"], momentum_decay=hp["momentum_decay"])


class RAdam(_AdamLike):
    __doc__ = (
        """Rectified Adam (Liu et al., 2020): un-adapted momentum steps while the variance of
    the adaptive rate is intractable (rho_t <= 4), rectified Adam steps afterwards.

    Rule: :func:`~layergraph.optim.rules.radam_step`.

    Parameters
    ----------
    lr : float, default 1e-3
"""
        + _BETAS.format(b1=0.9, b2=0.999)
        + _COMMON
    )

    def __init__(self, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, *,
                 weight_decay=0.0, groups=(), on_nonfinite="raise"):
        super().__init__(lr, beta1, beta2, eps, weight_decay=weight_decay, groups=groups,
                         on_nonfinite=on_nonfinite)

    def _init_state(self, param):
        return radam_init(param)

    elementwise = True  # each element depends only on its own p, g and state: packed buffers allowed

    def _apply(self, param, grad, state, work, lr, weight_decay, hp):
        radam_step(param, grad, state, work, lr=lr, beta1=hp["beta1"], beta2=hp["beta2"], eps=hp["eps"])
