"""Argument types for the command-line parsers: bad values become one-line argparse errors."""

import argparse
import math


def _int_at_least(text, low, expected):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
    if value < low:
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
    return value


def positive_int(text):
    """``type=`` for options that take an int >= 1."""
    return _int_at_least(text, 1, "a positive integer")


def nonneg_float(text):
    """``type=`` for options that take a finite float >= 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text!r}") from None
    if not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(f"expected a finite number >= 0, got {text!r}")
    return value


def fraction(text):
    """``type=`` for options that take a fraction in [0, 1)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a fraction in [0, 1), got {text!r}") from None
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError(f"expected a fraction in [0, 1), got {text!r}")
    return value


def optimizer_name(text):
    """``type=`` for ``--optimizer``: any case of a :mod:`layergraph.optim` class name -> the class name."""
    from .build import resolve_optimizer

    try:
        return resolve_optimizer(text).__name__
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err).removeprefix("--optimizer: ")) from None


def arch_spec(text):
    """``type=`` for ``--arch``: a preset name, or widths (``64-100-10``) returned normalised."""
    from .build import parse_arch
    from .presets import is_preset

    if is_preset(text):
        return text.lower()
    try:
        return "-".join(map(str, parse_arch(text)))
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err).removeprefix("--arch: ")) from None


def nonneg_int(text):
    """``type=`` for options that take an int >= 0 (``--seed``, ``--early-stopping``)."""
    return _int_at_least(text, 0, "an integer >= 0")


def positive_float(text):
    """``type=`` for options that take a finite float > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"expected a finite number > 0, got {text!r}")
    return value
