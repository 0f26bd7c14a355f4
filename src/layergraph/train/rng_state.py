"""The random-generator states of a network's layers (Dropout masks and the like), for checkpoints and snapshots.

A layer takes part when its ``get_rng_state()`` returns something other than None (see
:meth:`layergraph.layers.base.Layer.get_rng_state`: by default, the state of the Generator in its ``rng``
attribute); ``set_rng_state(state)`` puts a state back. Layers are keyed by their dotted paths in the network, as
parameters are (``"Dropout1"``, ``"block.drop"``).
"""

from ..layers.base import Layer
from .checkpoint_validate import CheckpointError
from .serialize import copy_tree

__all__ = ["rng_layers", "collect", "snapshot", "put_back", "restore"]

_REJECTS = (ValueError, TypeError, KeyError, IndexError, OverflowError, AttributeError)


def _is_layer(obj):
    return isinstance(obj, Layer) or (callable(getattr(obj, "forward", None)) and hasattr(obj, "__dict__")
                                      and not isinstance(obj, type))


def rng_layers(net):
    """``[(key, layer)]`` of every distinct layer inside *net* (itself included) that has a generator state.

    The key is the layer's dotted path in *net*, as for parameters (``"block.drop"``): through the parts of
    containers and composite layers, and through the attributes (dicts, lists, tuples too) of other layers. A layer
    met again (shared) keeps its first path, so the same architecture always gives the same keys, whatever other
    networks the layers also serve.
    """
    found, seen = [], set()

    def visit(obj, path):
        if id(obj) in seen:
            return
        seen.add(id(obj))
        if isinstance(obj, dict):
            for key, value in obj.items():
                visit(value, f"{path}.{key}" if path else str(key))
            return
        if isinstance(obj, (list, tuple)):
            for i, value in enumerate(obj):
                visit(value, f"{path}.{i}" if path else str(i))
            return
        if not _is_layer(obj):
            return
        getter = getattr(obj, "get_rng_state", None)
        if callable(getter) and getter() is not None:
            found.append((path or type(obj).__name__, obj))
        parts = getattr(obj, "_parts", None)
        if callable(parts):
            for name, part in parts():
                visit(part, f"{path}.{name}" if path else name)
            return
        for key, value in vars(obj).items():
            if isinstance(value, (dict, list, tuple)) or _is_layer(value):
                visit(value, f"{path}.{key}" if path else key)

    visit(net, "")
    return found


def collect(net):
    """``{key: {"class": class name, "state": state}}`` for :func:`rng_layers` (what checkpoints store)."""
    return {key: {"class": type(layer).__name__, "state": layer.get_rng_state()} for key, layer in rng_layers(net)}


def snapshot(net):
    """The layers with their current states (copies), for :func:`put_back`."""
    return [(layer, copy_tree(layer.get_rng_state())) for _, layer in rng_layers(net)]


def put_back(saved):
    """Restore a :func:`snapshot`."""
    for layer, state in saved:
        layer.set_rng_state(copy_tree(state))


def restore(saved, net, path, strict=True):
    """Set the generator states *saved* (as read from a checkpoint) into *net*'s layers, all or nothing.

    Parameters
    ----------
    saved : dict or None
        The checkpoint's ``rngs`` entry; None (a file written before generator states were stored) changes nothing.
    net : network
    path : str
        Named in errors.
    strict : bool
        When True, every layer with a generator must have a state in the checkpoint and every state a layer of
        the same class; when False, states without a matching layer and layers without a state are skipped.

    Returns
    -------
    list
        A :func:`snapshot` of the states before, to undo with :func:`put_back`.

    Raises
    ------
    CheckpointError
        A malformed entry, a state the layer rejects, or (strict) a mismatch; nothing is changed.
    """
    if saved is None:
        return []
    if not isinstance(saved, dict):
        raise CheckpointError(f"{path}: the layers' generator states ('rngs') must be an object, got "
                              f"{type(saved).__name__}")
    for key, entry in saved.items():
        if not (isinstance(entry, dict) and isinstance(entry.get("class"), str) and "state" in entry):
            raise CheckpointError(f"{path}: the generator state of layer {key!r} is malformed (expected "
                                  "{'class': name, 'state': ...})")
    live = rng_layers(net)
    plan, problems = [], []
    for key, layer in live:
        entry = saved.get(key)
        if entry is None:
            problems.append(f"layer {key!r} ({type(layer).__name__}) has a random generator whose state is not "
                            "in the checkpoint")
        elif entry["class"] != type(layer).__name__:
            problems.append(f"the generator state of layer {key!r} is for a {entry['class']}, the network has "
                            f"a {type(layer).__name__}")
        else:
            plan.append((key, layer, entry["state"]))
    names = {key for key, _ in live}
    problems += [f"the checkpoint holds a generator state for layer {k!r}, which the network does not have (or "
                 "which draws no random numbers)" for k in saved if k not in names]
    if strict and problems:
        raise CheckpointError(f"{path}: the layers' generator states do not match the network: {problems[0]}"
                              + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""))
    before = snapshot(net)
    for key, layer, state in plan:
        try:
            layer.set_rng_state(copy_tree(state))
        except _REJECTS as err:
            put_back(before)
            text = str(err).splitlines()[0] if str(err) else type(err).__name__
            raise CheckpointError(f"{path}: the generator state of layer {key!r} is malformed ({text})") from None
    return before
