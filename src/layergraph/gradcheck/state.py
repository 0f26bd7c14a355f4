"""Snapshots of a layer's random generators and buffers, restored before every evaluation of a check."""

import numpy as np


def _children(obj):
    if isinstance(obj, dict):
        return list(obj.values())
    if isinstance(obj, (list, tuple)):
        return list(obj)
    if hasattr(obj, "__dict__") and hasattr(obj, "forward"):
        return list(vars(obj).values())
    return []


def walk_generators_and_buffers(layer):
    """Yield ``("generator", gen)`` and ``("buffers", dict)`` for everything reachable from *layer*.

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
        stack.extend(reversed(_children(obj)))


class Snapshot:
    """Record every ``np.random.Generator`` state and buffer reachable from *layer*; :meth:`restore` puts them back.

    Restoring before every evaluation makes each forward see the same random draws (the same dropout mask) and the
    same buffers (the same running statistics), so finite differences compare like with like.
    """

    def __init__(self, layer):
        self.generators = []
        self.buffers = []
        for kind, obj in walk_generators_and_buffers(layer):
            if kind == "generator":
                self.generators.append((obj, obj.bit_generator.state))
            else:
                self.buffers.append((obj, {k: np.array(v, copy=True) for k, v in obj.items()}))

    @property
    def empty(self):
        """True when there is nothing to restore."""
        return not self.generators and not self.buffers

    def restore(self):
        """Put every recorded generator state and buffer back (buffers are copied into, or re-bound if resized)."""
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
    buffers, generators = [], []
    for kind, obj in walk_generators_and_buffers(layer):
        if kind == "generator":
            generators.append(obj.bit_generator.state)
        else:
            buffers.append({k: np.array(v, copy=True) for k, v in obj.items()})
    return {"params": params, "buffers": buffers, "generators": generators}


def same_fingerprint(a, b):
    """True when two :func:`fingerprint` results are bit-identical (same keys, dtypes, shapes and bytes)."""

    def same_arrays(d1, d2):
        return d1.keys() == d2.keys() and all(
            d1[k].dtype == d2[k].dtype and d1[k].shape == d2[k].shape and d1[k].tobytes() == d2[k].tobytes()
            for k in d1)

    return (same_arrays(a["params"], b["params"]) and len(a["buffers"]) == len(b["buffers"])
            and all(same_arrays(x, y) for x, y in zip(a["buffers"], b["buffers"]))
            and repr(a["generators"]) == repr(b["generators"]))
