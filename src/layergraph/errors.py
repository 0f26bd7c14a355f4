"""Exception types raised by layergraph.

Every error that concerns a layer names it by its qualified name in its container (``"block1.fc1"``), the argument
at fault, and what was expected against what was given.
"""


class ShapeError(ValueError):
    """An array argument has the wrong shape, size or layout."""


class NonFiniteError(ValueError):
    """An array argument or a computed value contains NaN or infinity."""


class CallOrderError(ValueError, RuntimeError):
    """A method was called out of order, e.g. ``backward`` before ``forward``."""


class StateDictError(ValueError):
    """A state dict does not match the network: missing or unexpected keys, wrong shapes or dtypes."""


def describe(layer):
    """Return ``"ClassName 'name'"`` for messages about *layer*."""
    cls = type(layer).__name__
    name = getattr(layer, "name", None) or cls
    return cls if name == cls else f"{cls} {name!r}"


def shape_str(shape):
    """Format a shape tuple the way messages show it, e.g. ``(N, 784)``."""
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def one_line(exc):
    """An exception as one line: ``"TypeName: its message"``, the message's lines joined by ``"; "``."""
    text = "; ".join(line.strip() for line in str(exc).splitlines() if line.strip())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
