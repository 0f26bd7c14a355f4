"""Numerical gradient checks and the registry of built-in layer cases.

``layergraph.gradcheck`` (the function, as exported by the top-level package) also carries this subpackage's
public names as attributes, so ``lg.gradcheck.replay(...)`` and ``lg.gradcheck.register_case`` work too.
"""

from .batched_params import register_output_delta
from .check import gradcheck
from .copy_losses import register_copy_loss
from .registry import GradCase, GradCaseError, all_cases, cases_for, register_case
from .replay import load_case, replay
from .report import (DirectionalResult, GradCheckError, GradCheckReport, GradCheckReports, HygieneResult,
                     TensorReport)
from .tolerances import DEFAULTS, Tolerance

__all__ = ["gradcheck", "GradCheckReport", "GradCheckReports", "TensorReport", "DirectionalResult",
           "HygieneResult", "GradCheckError", "GradCase", "GradCaseError", "register_case", "all_cases", "cases_for",
           "Tolerance", "DEFAULTS", "replay", "load_case", "register_output_delta", "register_copy_loss"]

for _name in __all__:
    if _name != "gradcheck":
        setattr(gradcheck, _name, globals()[_name])
del _name
