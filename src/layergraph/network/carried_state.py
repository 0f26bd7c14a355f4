"""Carried state of the stateful layers in a container (``stateful=True`` recurrent layers, nesting included).

A container's ``reset_state``, ``get_state`` and ``set_state`` follow the layers' protocol
(:mod:`layergraph.layers.recurrent_base`), with one entry per stateful layer keyed by its dotted name in the
container (``"encoder.lstm"``). A stateful layer carries one state, so it cannot be shared by two graph nodes.
"""

from collections.abc import Mapping

from ..errors import describe
from ..layers.composite import Composite
from .membership import reachable_layers


def is_stateful(layer):
    """True for a layer that carries state across forward calls."""
    return getattr(layer, "stateful", False) is True and callable(getattr(layer, "reset_state", None))


def stateful_layers(container, prefix=""):
    """``(dotted name, layer)`` of every stateful layer inside *container*, nested composites included."""
    for name, part in container._parts():
        if is_stateful(part):
            yield prefix + name, part
        elif isinstance(part, Composite):
            yield from stateful_layers(part, f"{prefix}{name}.")


def check_not_shared(graph, name, layer, first):
    """Raise ValueError when node *name* would share *layer*, which is or holds a stateful layer, with *first*."""
    found = next((part for part in [layer, *reachable_layers(layer)] if is_stateful(part)), None)
    if found is not None:
        raise ValueError(f"{describe(graph)}: node {name!r} would share {describe(found)} (stateful=True) with node "
                         f"{first!r}; a stateful layer carries one state, so give each node its own layer")


def reset_state(container):
    """Forget the carried state of every stateful layer inside *container*."""
    for _, layer in stateful_layers(container):
        layer.reset_state()


def get_state(container):
    """Dict dotted name -> ``layer.get_state()`` for every stateful layer (copy it if you keep it)."""
    return {key: layer.get_state() for key, layer in stateful_layers(container)}


def set_state(container, state):
    """Restore a snapshot from :func:`get_state` (None resets every layer); all or nothing."""
    layers = dict(stateful_layers(container))
    if state is None:
        state = dict.fromkeys(layers)
    if not isinstance(state, Mapping):
        raise TypeError(f"{describe(container)}.set_state: argument 'state' must be a dict name -> state as returned "
                        f"by get_state(), got {type(state).__name__}")
    missing = [k for k in layers if k not in state]
    unexpected = [k for k in state if k not in layers]
    if missing or unexpected:
        raise ValueError(f"{describe(container)}.set_state: argument 'state' must have keys {list(layers)}: "
                         + ", ".join(([f"missing {missing}"] if missing else [])
                                     + ([f"unexpected {unexpected}"] if unexpected else [])))
    before = {key: layer.get_state() for key, layer in layers.items()}
    try:
        for key, layer in layers.items():
            layer.set_state(state[key])
    except Exception:
        for key, layer in layers.items():
            layer.set_state(before[key])
        raise


class CarriedStateMixin:
    """``reset_state`` / ``get_state`` / ``set_state`` of a container (:class:`~layergraph.Sequential`,
    :class:`~layergraph.Graph`), over every stateful layer inside it."""

    def reset_state(self):
        """Forget the carried state of every stateful layer (``stateful=True``), nested containers included."""
        reset_state(self)

    def get_state(self):
        """Dict dotted layer name -> carried state of every stateful layer (``layer.get_state()``, not copied)."""
        return get_state(self)

    def set_state(self, state):
        """Restore a snapshot from :meth:`get_state` (None resets every layer); on any error nothing changes."""
        set_state(self, state)
