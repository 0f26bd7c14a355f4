"""Numerical gradient checks and the registry of built-in layer cases."""

from .check import gradcheck
from .registry import GradCase, all_cases, cases_for, register_case
from .report import GradCheckError, GradCheckReport, TensorReport

__all__ = ["gradcheck", "GradCheckReport", "TensorReport", "GradCheckError", "GradCase", "register_case",
           "all_cases", "cases_for"]
