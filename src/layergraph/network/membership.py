"""Which container a layer belongs to, and what a container may hold.

Rules checked when a layer is added to a :class:`~layergraph.Sequential` or :class:`~layergraph.Graph`:

* no container inside itself, directly or through any nesting (``Sequential``, ``Graph``, ``Residual``, ...);
* a layer appears once in one network, except at several nodes of one ``Graph`` (sharing);
* a nested graph has exactly one output.

A layer may belong to several networks at once, as in Keras (an encoder used by a training network and by an
inference network, say). It keeps the name the first of them gave it (``"block1.fc1"``), which its errors use,
while that container is alive; the others do not rename it.

The owner of each layer is kept in a registry of weak references, so nothing is stored on the layers themselves
(they stay picklable) and a layer whose container is gone is free again. A container copied with
``copy.deepcopy`` owns the copies of its layers (see :func:`claim_all`).
"""

import weakref

from ..errors import describe
from ..layers.base import Layer
from ..layers.composite import set_qualname

_OWNERS = weakref.WeakKeyDictionary()   # layer -> (weak reference to its container, its name there)


_ARRAYS_ONLY = frozenset(("params", "grads", "buffers"))   # by the layer protocol these dicts hold arrays


def reachable_layers(layer):
    """Every :class:`~layergraph.Layer` reachable from *layer* (itself included) through attributes, dicts, lists
    and tuples; a ``Sequential`` or ``Graph`` through its parts only."""
    kinds = (Layer, dict, list, tuple)
    seen, stack, out = set(), [layer], []
    while stack:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, Layer):
            out.append(obj)
            if hasattr(type(obj), "_owned_parts"):
                stack.extend(part for _, part in obj._parts())
                continue
            items = [v for k, v in vars(obj).items() if k not in _ARRAYS_ONLY]
        else:
            items = obj.values() if isinstance(obj, dict) else obj
        stack.extend(item for item in items if isinstance(item, kinds))
    return out


def claim(container, name, layer):
    """Record *container* as the owner of *layer*, which it holds under *name*, unless a live container owns it."""
    if owner_of(layer) is not None:
        return
    try:
        _OWNERS[layer] = (weakref.ref(container), name)
    except TypeError:   # not weak-referenceable or not hashable: such a layer is not tracked
        pass


def claim_all(container):
    """Record *container* as the owner of every layer it holds that has no owner (after ``copy.deepcopy`` or
    unpickling: the copies; a shallow ``copy.copy`` leaves the layers to their owner)."""
    for name, layer in container._owned_parts():
        if owner_of(layer) is None:
            claim(container, name, layer)


def release(container):
    """Forget that *container* owns its layers and give them back their own names (a construction that failed)."""
    for _, layer in list(container._owned_parts()):
        owner = owner_of(layer)
        if owner is not None and owner[0] is container:
            del _OWNERS[layer]
            set_qualname(layer, type(layer).__name__)


def owner_of(layer):
    """``(container, name)`` of the live container that owns *layer* and still holds it, or None."""
    try:
        entry = _OWNERS.get(layer)
    except TypeError:
        return None
    container = entry[0]() if entry else None
    if container is None or not container._holds_part(entry[1], layer):
        return None
    return container, entry[1]


def owned_by(container, layer):
    """True when *layer* is owned by *container*, or by no container at all."""
    owner = owner_of(layer)
    return owner is None or owner[0] is container


def _root(container):
    """The outermost live container that holds *container*, following the owners."""
    seen = {id(container)}
    while True:
        owner = owner_of(container)
        if owner is None or id(owner[0]) in seen:
            return container
        container = owner[0]
        seen.add(id(container))


def parts_of(container):
    """Every layer inside *container* (itself included), through the parts of composites."""
    seen, stack = set(), [container]
    while stack:
        layer = stack.pop()
        if id(layer) in seen:
            continue
        seen.add(id(layer))
        yield layer
        parts = getattr(layer, "_parts", None)
        if callable(parts):
            stack.extend(part for _, part in parts())


def check_addable(container, name, layer, what="layer", shared=False):
    """Raise ValueError unless *layer* may be added to *container* under *name* (see the module docstring).

    *shared*: the layer is already at a node of *container* (a ``Graph`` sharing it), which passes; the caller
    checks the rest.
    """
    where = f"{describe(container)}: {what} {name!r}"
    if layer is container:
        raise ValueError(f"{where}: a {type(container).__name__} cannot contain itself")
    inside = reachable_layers(layer)
    if any(part is container for part in inside):
        raise ValueError(f"{where}: {describe(layer)} contains this {type(container).__name__}, and a container "
                         f"cannot contain itself")
    if shared:
        return
    # a layer that no live container owns is in no network (every add claims its layer when it is free)
    owned = [part for part in inside if part is not container and owner_of(part) is not None]
    root = _root(container)
    mine = {id(part) for part in parts_of(root)} if owned else set()
    again = next((part for part in owned if id(part) in mine), None)
    if again is not None:
        where_net = "this network" if root is container else f"the network {describe(root)} that holds it"
        raise ValueError(f"{where}: {describe(again)} is already in {where_net} (a layer appears once in a "
                         "network; share it between nodes of a Graph, or add a copy.deepcopy of it)")
    outputs = getattr(layer, "outputs", None) if hasattr(layer, "set_outputs") else None
    if outputs is not None and len(outputs) > 1:
        raise ValueError(f"{where}: {describe(layer)} has outputs {list(outputs)}, but only a graph with one output "
                         f"is a layer; call set_outputs on it with one node")


def check_one_output(container, name, layer, out):
    """Raise ValueError when *layer* (a nested graph) returned a dict of several outputs during forward."""
    if isinstance(out, dict) and len(getattr(layer, "outputs", ())) > 1:
        raise ValueError(f"{describe(container)}: {describe(layer)} at {name!r} returned outputs "
                         f"{list(layer.outputs)}, but a nested graph must have one output; call set_outputs on it "
                         f"with one node")


class OwnedPartsMixin:
    """What :class:`~layergraph.Sequential` and :class:`~layergraph.Graph` share about owning their layers: a part
    is named by the container only when the container owns it (a layer shared with a live network keeps the name
    it got there), and a copy (``copy.deepcopy``, unpickling) owns the copies of its layers."""

    def _adopt(self, name, layer):
        """Record this container as the owner of *layer*, held under *name*, and name it when it is ours."""
        claim(self, name, layer)
        if owned_by(self, layer):
            set_qualname(layer, self._child_name(name))

    def _set_qualname(self, qualname):
        self.name = qualname
        for name, part in self._parts():
            if owned_by(self, part):   # a view's (slice's) or another network's layers keep their names
                set_qualname(part, self._child_name(name))

    def __setstate__(self, state):
        self.__dict__.update(state)
        claim_all(self)
