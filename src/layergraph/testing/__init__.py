"""Helpers for checking layers in test suites: :func:`assert_gradients`, layer discovery, hypothesis strategies
(:mod:`layergraph.testing.strategies`, needs hypothesis) and a pytest plugin (:mod:`layergraph.testing.plugin`,
registered automatically through the ``pytest11`` entry point)."""

from .asserts import assert_gradients, check_case
from .discovery import layer_classes, missing_cases

__all__ = ["assert_gradients", "check_case", "layer_classes", "missing_cases"]
