"""Containers of layers."""

from .graph import Graph
from .sequential import Sequential
from .summary import Summary

__all__ = ["Graph", "Sequential", "Summary"]
