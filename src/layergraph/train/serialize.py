"""Nested Python values <-> (JSON text, arrays) for ``.npz`` files that load with ``allow_pickle=False``.

A value tree of dicts, lists, tuples, ``None``, bools, ints, floats, strings, NumPy scalars and arrays is packed
into a JSON-compatible tree in which every array (and NumPy scalar) is replaced by a reference to an entry of a
separate ``name -> ndarray`` dict. Unpacking reverses it exactly: arrays keep their dtype and bytes, floats
round-trip through ``repr`` (bit for bit, NaN and infinities included), tuples stay tuples, dict keys may be
``str`` or ``int``.
"""

import json
import numbers

import numpy as np

_TAGS = ("__array__", "__scalar__", "__tuple__", "__items__")


class PackError(ValueError):
    """A value cannot be packed, or a packed tree is malformed."""


def pack(value, arrays, prefix):
    """Return a JSON-compatible version of *value*, moving arrays into *arrays* under ``prefix + str(n)``.

    Parameters
    ----------
    value : nested dict / list / tuple of None, bool, int, float, str, numpy scalars and arrays
    arrays : dict
        Receives the arrays (modified in place).
    prefix : str
        Key prefix of the arrays, e.g. ``"optimizer/"``.
    """
    return _Packer(arrays, prefix).pack(value, "value")


class _Packer:
    def __init__(self, arrays, prefix):
        self.arrays, self.prefix, self.count = arrays, prefix, 0

    def pack(self, value, where):
        return _pack(value, self, where)


def _pack(value, packer, where):
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, np.ndarray) or isinstance(value, np.generic):
        arr = np.asarray(value)
        if arr.dtype.kind not in "biufcUSmM":
            raise PackError(f"{where}: arrays of dtype {arr.dtype} cannot be stored without pickle")
        key = f"{packer.prefix}{packer.count}"
        packer.count += 1
        packer.arrays[key] = arr
        return {"__array__" if isinstance(value, np.ndarray) else "__scalar__": key}
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, tuple):
        return {"__tuple__": [_pack(v, packer, f"{where}[{i}]") for i, v in enumerate(value)]}
    if isinstance(value, list):
        return [_pack(v, packer, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, dict):
        plain = all(isinstance(k, str) and k not in _TAGS for k in value)
        if plain:
            return {k: _pack(v, packer, f"{where}[{k!r}]") for k, v in value.items()}
        items = []
        for k, v in value.items():
            if not (isinstance(k, (str, int)) and not isinstance(k, bool)):
                raise PackError(f"{where}: dict keys must be str or int, got {type(k).__name__}")
            items.append([k, _pack(v, packer, f"{where}[{k!r}]")])
        return {"__items__": items}
    raise PackError(f"{where}: cannot store a value of type {type(value).__name__} "
                    "(allowed: dict, list, tuple, None, bool, int, float, str, numpy arrays and scalars)")


def unpack(tree, arrays):
    """Inverse of :func:`pack`: rebuild the value from the JSON tree and the arrays (arrays are not copied)."""
    return _unpack(tree, arrays, "value")


def _unpack(tree, arrays, where):
    if tree is None or isinstance(tree, (bool, int, float, str)):
        return tree
    if isinstance(tree, list):
        return [_unpack(v, arrays, f"{where}[{i}]") for i, v in enumerate(tree)]
    if not isinstance(tree, dict):
        raise PackError(f"{where}: unexpected JSON value of type {type(tree).__name__}")
    if len(tree) == 1:
        (tag, body), = tree.items()
        if tag in ("__array__", "__scalar__"):
            if not isinstance(body, str) or body not in arrays:
                raise PackError(f"{where}: refers to array {body!r}, which is not in the file")
            return arrays[body] if tag == "__array__" else arrays[body][()]
        if tag == "__tuple__":
            if not isinstance(body, list):
                raise PackError(f"{where}: malformed tuple")
            return tuple(_unpack(v, arrays, f"{where}[{i}]") for i, v in enumerate(body))
        if tag == "__items__":
            if not isinstance(body, list) or not all(isinstance(p, list) and len(p) == 2 for p in body):
                raise PackError(f"{where}: malformed item list")
            return {k: _unpack(v, arrays, f"{where}[{k!r}]") for k, v in body}
    return {k: _unpack(v, arrays, f"{where}[{k!r}]") for k, v in tree.items()}


def to_json(tree):
    """Serialise a packed tree (NaN and infinities are written as JSON extensions, which :func:`from_json` reads)."""
    return json.dumps(tree, separators=(",", ":"))


def from_json(text, where="value"):
    """Parse JSON text written by :func:`to_json`."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise PackError(f"{where}: malformed JSON ({err})") from None


def copy_tree(value):
    """Deep copy of a value tree; arrays are copied, everything else rebuilt (for in-memory snapshots)."""
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, dict):
        return {k: copy_tree(v) for k, v in value.items()}
    if isinstance(value, list):
        return [copy_tree(v) for v in value]
    if isinstance(value, tuple):
        return tuple(copy_tree(v) for v in value)
    return value
