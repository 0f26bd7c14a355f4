"""All update rules as small functions of ``(param, grad, state, work, **hyperparameters)``.

See :mod:`layergraph.optim.rules_sgd` and :mod:`layergraph.optim.rules_adam` for the
calling convention; each function's docstring carries its paper's equation.
"""

from __future__ import annotations

from . import rules_adam as _adam
from . import rules_sgd as _sgd
from .rules_adam import (
    adam_init,
    adam_step,
    adamax_init,
    adamax_step,
    adamw_step,
    lion_init,
    lion_step,
    nadam_init,
    nadam_step,
    radam_init,
    radam_step,
)
from .rules_sgd import (
    adadelta_init,
    adadelta_step,
    adagrad_init,
    adagrad_step,
    momentum_init,
    momentum_step,
    nesterov_init,
    nesterov_step,
    rmsprop_init,
    rmsprop_step,
    sgd_init,
    sgd_step,
)

#: Number of full-size scratch arrays each rule needs (``work`` argument).
N_WORK = {**_sgd.N_WORK, **_adam.N_WORK}

__all__ = [
    "N_WORK",
    "sgd_init",
    "sgd_step",
    "momentum_init",
    "momentum_step",
    "nesterov_init",
    "nesterov_step",
    "adagrad_init",
    "adagrad_step",
    "rmsprop_init",
    "rmsprop_step",
    "adadelta_init",
    "adadelta_step",
    "adam_init",
    "adam_step",
    "adamw_step",
    "adamax_init",
    "adamax_step",
    "nadam_init",
    "nadam_step",
    "radam_init",
    "radam_step",
    "lion_init",
    "lion_step",
]
