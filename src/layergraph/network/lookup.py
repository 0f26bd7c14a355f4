"""``container[key]``: layers looked up by name, by dotted path through nested layers, or (Sequential) by position."""

import numbers

from ..errors import describe
from ..layers.composite import Composite


def _named_parts(layer):
    """Name -> part of a layer made of parts (every node of a graph), or None for a plain layer."""
    nodes = getattr(layer, "nodes", None)
    if nodes is not None and hasattr(layer, "set_outputs"):
        return {name: node[0] for name, node in nodes.items()}
    if isinstance(layer, Composite):
        return dict(layer._parts())
    return None


def by_path(container, key, what="layer"):
    """The layer at the dotted name *key* (``"block1.fc1"``); KeyError naming the container and the valid names."""
    if not isinstance(key, str):
        raise TypeError(f"{describe(container)}: key must be a {what} name (str), got {type(key).__name__} {key!r}; "
                        f"{what}s: {list(_named_parts(container))}")
    layer, walked = container, []
    for head in key.split("."):
        parts = _named_parts(layer)
        if parts is None:
            raise KeyError(f"{describe(container)} has no {what} {key!r}: {describe(layer)} (at "
                           f"{'.'.join(walked)!r}) has no parts")
        if head not in parts:
            inner = "" if layer is container else f": {describe(layer)} has no part {head!r}"
            raise KeyError(f"{describe(container)} has no {what} {key!r}{inner}; "
                           f"{'parts' if inner else what + 's'}: {list(parts)}")
        layer = parts[head]
        walked.append(head)
    return layer


def position(container, key):
    """The index in ``range(len(container))`` for the int *key* (negative counts from the end); IndexError if out."""
    n = len(container)
    if isinstance(key, bool) or not isinstance(key, numbers.Integral):
        raise TypeError(f"{describe(container)}: index must be an int, got {type(key).__name__} {key!r}")
    if not -n <= key < n:
        valid = f"valid indices -{n}..{n - 1}" if n else "it has no layers"
        raise IndexError(f"{describe(container)}: index {key} is out of range for {n} layers ({valid})")
    return int(key) % n
