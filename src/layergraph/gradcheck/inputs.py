"""Inputs, outputs and targets of several arrays: lists (merge layers) and dicts (graphs with named inputs).

The checker keeps every input as a named float array it owns (``"x"`` for a single array, ``"x[0]"``, ``"x[1]"``
... for a list, the keys of a dict), perturbs them in place, and hands the layer read-only views assembled back
into the structure it was given. Outputs are handled as a dict (``""`` for a single array).
"""

import numpy as np

SINGLE = ""
"""Key of the one output of a layer that returns a single array."""


def read_only(array):
    """A read-only view of *array* (the layer under check may not write into what it is given)."""
    view = array.view()
    view.flags.writeable = False
    return view


class Inputs:
    """The checked inputs: ``kind`` is ``"array"``, ``"list"`` or ``"dict"``; ``arrays`` maps name -> array.

    Parameters
    ----------
    x : array_like, list/tuple of ndarrays, or dict str -> array_like
        A list or tuple counts as several inputs when every item is an ndarray; a nested list of numbers is one
        array.
    dtype : numpy.dtype
        Dtype of the working copies (floating inputs only; integer inputs such as token ids are kept as they are
        and not checked).
    """

    def __init__(self, x, dtype):
        if isinstance(x, dict):
            self.kind, items = "dict", list(x.items())
            for key, _ in items:
                if not isinstance(key, str):
                    raise TypeError(f"gradcheck: input dict keys must be str, got {type(key).__name__} {key!r}")
        elif isinstance(x, (list, tuple)) and len(x) and all(isinstance(v, np.ndarray) for v in x):
            self.kind, items = "list", [(f"x[{i}]", v) for i, v in enumerate(x)]
            self.sequence = type(x)
        else:
            self.kind, items = "array", [("x", x)]
        if not items:
            raise ValueError("gradcheck: argument 'x' holds no arrays")
        self.dtype = np.dtype(dtype)
        self.arrays = {}
        self.checked = []
        for name, value in items:
            arr = np.asarray(value)
            if arr.dtype.kind in "biu":
                self.arrays[name] = np.array(arr, copy=True)
            else:
                self.arrays[name] = np.array(arr, dtype=dtype, copy=True)
                self.checked.append(name)

    def feed(self, replace=None):
        """The forward argument: read-only views in the caller's structure (*replace* swaps the single array)."""
        if self.kind == "array":
            return read_only(self.arrays["x"] if replace is None else replace)
        if self.kind == "list":
            return self.sequence(read_only(v) for v in self.arrays.values())
        return {k: read_only(v) for k, v in self.arrays.items()}

    @property
    def single(self):
        """The one input array (``kind == "array"``), else None."""
        return self.arrays["x"] if self.kind == "array" else None

    def gradients(self, dx, where="backward"):
        """Name -> copy of the input gradient from what backward returned (None entries where it gave none).

        Raises
        ------
        ValueError
            When the structure of *dx* does not match the inputs (wrong type, length or keys).
        """
        names = list(self.arrays)
        if self.kind == "array":
            if isinstance(dx, (list, tuple, dict)):
                raise ValueError(f"gradcheck: {where} returned a {type(dx).__name__} for a single input array")
            return {"x": None if dx is None else np.array(dx, copy=True)}
        if dx is None:
            return {k: None for k in names}
        if self.kind == "list":
            if isinstance(dx, dict) or not isinstance(dx, (list, tuple)) or len(dx) != len(names):
                got = f"{len(dx)} gradients" if isinstance(dx, (list, tuple)) else f"a {type(dx).__name__}"
                raise ValueError(f"gradcheck: {where} must return a list of {len(names)} input gradients "
                                 f"(one per input), got {got}")
            return {k: None if d is None else np.array(d, copy=True) for k, d in zip(names, dx)}
        if not isinstance(dx, dict) or set(dx) != set(names):
            got = sorted(dx) if isinstance(dx, dict) else type(dx).__name__
            raise ValueError(f"gradcheck: {where} must return a dict of input gradients with keys {names}, "
                             f"got {got}")
        return {k: None if dx[k] is None else np.array(dx[k], copy=True) for k in names}


def as_outputs(y):
    """The layer's output as a dict name -> float64-comparable copy (``""`` for a single array)."""
    if isinstance(y, dict):
        return {k: np.array(v, copy=True) for k, v in y.items()}
    return {SINGLE: np.array(y, copy=True)}


def from_outputs(d):
    """Inverse of :func:`as_outputs`: a single array back from ``{"": a}``, else the dict."""
    if set(d) == {SINGLE}:
        return d[SINGLE]
    return dict(d)


def frozen_targets(t):
    """Read-only copies of the targets (an array, or a dict by output name)."""
    if t is None:
        return None
    if isinstance(t, dict):
        return {k: read_only(np.array(v, copy=True)) for k, v in t.items()}
    return read_only(np.array(t, copy=True))
