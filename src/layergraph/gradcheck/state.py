"""Snapshots of a layer's random generators, buffers and carried state, restored before every evaluation.

Carried-state protocol: a layer that carries state from one forward call to the next (a recurrent layer's hidden
state, a streaming statistic) defines ``get_state()``, returning a snapshot (nested dicts/lists/tuples of arrays, or
None), and ``set_state(state)``, putting one back. The checker finds every such object reachable from the checked
layer, deep-copies its state before the check and restores it before every evaluation and at the end, so each
evaluation starts from the same carried state.
"""

import copy

import numpy as np


def _children(obj):
    if isinstance(obj, dict):
        return list(obj.values())
    if isinstance(obj, (list, tuple)):
        return list(obj)
    if hasattr(obj, "__dict__") and hasattr(obj, "forward"):
        return list(vars(obj).values())
    return []


def carries_state(obj):
    """True when *obj* follows the carried-state protocol (callable ``get_state`` and ``set_state``)."""
    return (not isinstance(obj, type) and callable(getattr(obj, "get_state", None))
            and callable(getattr(obj, "set_state", None)))


def walk_generators_and_buffers(layer):
    """Yield ``("generator", gen)``, ``("buffers", dict)`` and ``("state", obj)`` for everything reachable from
    *layer* (``"state"`` for objects following the carried-state protocol).

    Walks attributes of layer-like objects, dicts, lists and tuples, so composite and user-written layers are
    covered too. Each object is visited once.
    """
    seen = set()
    stack = [layer]
    while stack:
        obj = stack.pop()
        if id(obj) in seen or isinstance(obj, np.ndarray):
            continue
        seen.add(id(obj))
        if isinstance(obj, np.random.Generator):
            yield "generator", obj
            continue
        if hasattr(obj, "__dict__") and hasattr(obj, "forward"):
            store = vars(obj).get("buffers")
            if isinstance(store, dict):
                yield "buffers", store
        if carries_state(obj) and not isinstance(obj, (dict, list, tuple)):
            yield "state", obj
        stack.extend(reversed(_children(obj)))


def walk_named_layers(layer):
    """Yield ``(path, obj)`` for *layer* (path ``""``) and every layer-like object reachable from it.

    ``path`` joins attribute names, dict keys and list positions with dots (``"_layers.fc1"``). Each object is
    visited once.
    """
    seen = set()
    stack = [("", layer)]
    while stack:
        path, obj = stack.pop()
        if id(obj) in seen or isinstance(obj, (np.ndarray, np.random.Generator, str, bytes)):
            continue
        seen.add(id(obj))
        if isinstance(obj, dict):
            items = [(str(k), v) for k, v in obj.items()]
        elif isinstance(obj, (list, tuple)):
            items = [(str(i), v) for i, v in enumerate(obj)]
        elif hasattr(obj, "__dict__") and hasattr(obj, "forward"):
            yield path, obj
            items = [(k, v) for k, v in vars(obj).items() if k not in ("params", "grads", "buffers")]
        else:
            continue
        stack.extend((f"{path}.{k}" if path else k, v) for k, v in reversed(items))


class Snapshot:
    """Record every ``np.random.Generator`` state and buffer reachable from *layer*; :meth:`restore` puts them back.

    Restoring before every evaluation makes each forward see the same random draws (the same dropout mask) and the
    same buffers (the same running statistics), so finite differences compare like with like.
    """

    def __init__(self, layer):
        self.generators = []
        self.buffers = []
        self.states = []
        for kind, obj in walk_generators_and_buffers(layer):
            if kind == "generator":
                self.generators.append((obj, obj.bit_generator.state))
            elif kind == "state":
                self.states.append((obj, copy.deepcopy(obj.get_state())))
            else:
                self.buffers.append((obj, {k: np.array(v, copy=True) for k, v in obj.items()}))

    @property
    def empty(self):
        """True when there is nothing to restore."""
        return not self.generators and not self.buffers and not self.states

    def restore(self):
        """Put every recorded generator state, carried state and buffer back (buffers are copied into, or re-bound
        if resized; carried states are handed over as fresh deep copies)."""
        for obj, st in self.states:
            obj.set_state(copy.deepcopy(st))
        for gen, st in self.generators:
            gen.bit_generator.state = st
        for store, saved in self.buffers:
            for key, value in saved.items():
                current = store.get(key)
                if isinstance(current, np.ndarray) and current.shape == value.shape and current.flags.writeable:
                    np.copyto(current, value)
                else:
                    store[key] = value.copy()


def fingerprint(layer):
    """Copies of everything a check must leave untouched: params, grads, buffers and generator states.

    Returns
    -------
    dict
        ``{"params": {...}, "buffers": [...], "generators": [...]}``; compare two with :func:`same_fingerprint`.
    """
    params = {k: np.array(v, copy=True) for k, v in getattr(layer, "params", {}).items()}
    buffers, generators, states = [], [], []
    for kind, obj in walk_generators_and_buffers(layer):
        if kind == "generator":
            generators.append(obj.bit_generator.state)
        elif kind == "state":
            states.append(copy.deepcopy(obj.get_state()))
        else:
            buffers.append({k: np.array(v, copy=True) for k, v in obj.items()})
    return {"params": params, "buffers": buffers, "generators": generators, "states": states}


def same_nested(a, b):
    """True when two nested dict/list/tuple structures of arrays and scalars are bit-identical."""
    if isinstance(a, dict) or isinstance(b, dict):
        return (isinstance(a, dict) and isinstance(b, dict) and a.keys() == b.keys()
                and all(same_nested(a[k], b[k]) for k in a))
    if isinstance(a, (list, tuple)) or isinstance(b, (list, tuple)):
        return (type(a) is type(b) and len(a) == len(b) and all(same_nested(x, y) for x, y in zip(a, b)))
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()
    return a is b or a == b


def same_fingerprint(a, b):
    """True when two :func:`fingerprint` results are bit-identical (same keys, dtypes, shapes and bytes)."""

    def same_arrays(d1, d2):
        return d1.keys() == d2.keys() and all(
            d1[k].dtype == d2[k].dtype and d1[k].shape == d2[k].shape and d1[k].tobytes() == d2[k].tobytes()
            for k in d1)

    return (same_arrays(a["params"], b["params"]) and len(a["buffers"]) == len(b["buffers"])
            and all(same_arrays(x, y) for x, y in zip(a["buffers"], b["buffers"]))
            and repr(a["generators"]) == repr(b["generators"]) and same_nested(a["states"], b["states"]))
