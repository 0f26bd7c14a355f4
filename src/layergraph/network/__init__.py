"""Containers of layers."""

from .sequential import Sequential
from .summary import Summary

__all__ = ["Sequential", "Summary"]
