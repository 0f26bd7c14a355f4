"""Snapshots of a layer's random generators and buffers, restored before every evaluation of a check."""

import numpy as np


class Snapshot:
    """Record every ``np.random.Generator`` and buffer reachable from *layer*; :meth:`restore` puts them back.

    Walks attributes, dicts, lists and tuples, so composite and user-written layers are covered too.
    """

    def __init__(self, layer):
        self.generators = []
        self.buffers = []
        self._walk(layer, set())

    def _walk(self, obj, seen):
        if id(obj) in seen:
            return
        seen.add(id(obj))
        if isinstance(obj, np.random.Generator):
            self.generators.append((obj, obj.bit_generator.state))
            return
        if isinstance(obj, np.ndarray):
            return
        if isinstance(obj, dict):
            children = obj.values()
        elif isinstance(obj, (list, tuple)):
            children = obj
        elif hasattr(obj, "__dict__") and hasattr(obj, "forward"):
            store = vars(obj).get("buffers")
            if isinstance(store, dict):
                self.buffers.append((store, {k: np.array(v, copy=True) for k, v in store.items()}))
            children = vars(obj).values()
        else:
            return
        for child in children:
            self._walk(child, seen)

    def restore(self):
        for gen, st in self.generators:
            gen.bit_generator.state = st
        for store, saved in self.buffers:
            for key, value in saved.items():
                store[key] = value.copy()
