"""Containers of layers."""

from . import graph_cases  # noqa: F401  (registers the gradient-check cases of Graph)
from .graph import Graph
from .sequential import Sequential
from .summary import Summary

__all__ = ["Graph", "Sequential", "Summary"]
