"""Learning-rate schedules and the driver that applies them to an optimizer.

Pure schedules (``sched(t) -> lr``): :class:`ConstantLR`, :class:`StepLR`,
:class:`MultiStepLR`, :class:`ExponentialLR`, :class:`InverseTimeLR`,
:class:`PolynomialLR`, :class:`CosineAnnealingLR`, :class:`CosineWarmRestarts`,
:class:`WarmupCosineLR`, :class:`OneCycleLR`. Stateful: :class:`ReduceLROnPlateau`.
"""

from .base import Schedule
from .cosine import CosineAnnealingLR, CosineWarmRestarts, OneCycleLR, WarmupCosineLR
from .decay import ConstantLR, ExponentialLR, InverseTimeLR, MultiStepLR, PolynomialLR, StepLR
from .driver import LRDriver, attach
from .plateau import ReduceLROnPlateau

__all__ = [
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
