"""Optimizers, learning-rate schedules, weight decay and gradient clipping.

Every optimizer updates a dict of parameter arrays in place from a dict of gradients
with the same keys: ``opt.update(net.params, net.grads)``. Each update rule is a small
function in :mod:`layergraph.optim.rules` carrying its paper's equation; the classes
only hold per-parameter state (created lazily, keyed by parameter name).
"""

from . import rules, schedules
from .adam import Adam, Adamax, AdamW, NAdam, RAdam
from .adaptive import AdaDelta, AdaGrad, RMSprop
from .base import NONFINITE_POLICIES, Hyper, NonFiniteGradientError, Optimizer
from .clip import clip_grad_norm, clip_grad_value, global_norm
from .groups import NO_DECAY_PATTERNS, ParamGroup, no_decay
from .lion import Lion
from .schedules import (
    ConstantLR,
    CosineAnnealingLR,
    CosineWarmRestarts,
    ExponentialLR,
    InverseTimeLR,
    LRDriver,
    MultiStepLR,
    OneCycleLR,
    PolynomialLR,
    ReduceLROnPlateau,
    Schedule,
    StepLR,
    WarmupCosineLR,
    attach,
)
from .sgd import SGD, Momentum, Nesterov

#: Every optimizer class, by name.
OPTIMIZERS = {
    cls.__name__: cls
    for cls in (SGD, Momentum, Nesterov, AdaGrad, AdaDelta, RMSprop, Adam, Adamax, AdamW, NAdam, RAdam, Lion)
}

__all__ = [
    "rules",
    "schedules",
    "Optimizer",
    "Hyper",
    "OPTIMIZERS",
    "NonFiniteGradientError",
    "NONFINITE_POLICIES",
    "SGD",
    "Momentum",
    "Nesterov",
    "AdaGrad",
    "AdaDelta",
    "RMSprop",
    "Adam",
    "Adamax",
    "AdamW",
    "NAdam",
    "RAdam",
    "Lion",
    "ParamGroup",
    "no_decay",
    "NO_DECAY_PATTERNS",
    "clip_grad_norm",
    "clip_grad_value",
    "global_norm",
    "Schedule",
    "ConstantLR",
    "StepLR",
    "MultiStepLR",
    "ExponentialLR",
    "InverseTimeLR",
    "PolynomialLR",
    "CosineAnnealingLR",
    "CosineWarmRestarts",
    "WarmupCosineLR",
    "OneCycleLR",
    "ReduceLROnPlateau",
    "LRDriver",
    "attach",
]
