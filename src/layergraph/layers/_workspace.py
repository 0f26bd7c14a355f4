"""Scratch arrays a layer keeps between calls, so that hot paths do not ask the allocator for fresh pages."""

import numpy as np


class Workspace:
    """Named scratch arrays reused across calls while their shape and dtype stay the same."""

    #: Made anew, empty, by ``type(obj)()`` while a probe sample runs (see :mod:`layergraph.network.probe`).
    SCRATCH = True

    def __init__(self):
        self._arrays = {}

    def get(self, name, shape, dtype):
        """Return an uninitialised array of *shape* and *dtype* (the same object as last time when they match)."""
        return self._array(name, shape, dtype, np.empty)

    def zeros(self, name, shape, dtype):
        """Like :meth:`get`, but a newly made array starts as zeros (a reused one keeps its contents)."""
        return self._array(name, shape, dtype, np.zeros)

    def _array(self, name, shape, dtype, make):
        a = self._arrays.get(name)
        if a is None or a.shape != tuple(shape) or a.dtype != dtype:
            a = self._arrays[name] = make(shape, dtype=dtype)
        return a
