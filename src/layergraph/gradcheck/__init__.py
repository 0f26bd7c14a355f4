"""Numerical gradient checks and the registry of built-in layer cases."""

from .check import gradcheck
from .registry import GradCase, all_cases, cases_for, register_case
from .report import (DirectionalResult, GradCheckError, GradCheckReport, GradCheckReports, HygieneResult,
                     TensorReport)
from .tolerances import DEFAULTS, Tolerance

__all__ = ["gradcheck", "GradCheckReport", "GradCheckReports", "TensorReport", "DirectionalResult",
           "HygieneResult", "GradCheckError", "GradCase", "register_case", "all_cases", "cases_for", "Tolerance",
           "DEFAULTS"]
