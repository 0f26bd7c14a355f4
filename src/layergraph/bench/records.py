"""JSON records: conversion of results to plain JSON types and atomic writing."""

from __future__ import annotations

import functools
import json
import math
import os
import platform
from pathlib import Path

import numpy as np

from .._atomic import atomic_write

__all__ = ["jsonable", "qualified_name", "write_json_atomic", "read_records", "environment", "strip_timings",
           "TIMING_KEYS"]

#: Keys whose values are measured durations; they differ between two otherwise identical runs.
TIMING_KEYS = frozenset({"wall_seconds", "seconds", "seconds_to_target", "train_seconds"})


def jsonable(obj, *, lenient: bool = False, _where: str = "value"):
    """Convert ``obj`` to plain JSON types.

    NumPy scalars and arrays become Python numbers and (nested) lists, tuples
    become lists, non-finite floats become None (strict JSON has no NaN), objects
    with a ``describe()`` method become what it returns.

    Parameters
    ----------
    obj : object
    lenient : bool
        When True, callables become ``{"callable": "module:qualname", ...}`` (with
        the arguments of a ``functools.partial``) and any other object its
        ``repr``; when False such objects raise ``TypeError``.

    Returns
    -------
    object
        Made of dict (str keys), list, str, int, float, bool and None.
    """
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, (int, np.integer)) and not isinstance(obj, np.bool_):
        return int(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, (float, np.floating)):
        f = float(obj)
        return f if math.isfinite(f) else None
    if isinstance(obj, np.ndarray):
        return jsonable(obj.tolist(), lenient=lenient, _where=_where)
    if isinstance(obj, dict):
        out = {}
        for k, v in obj.items():
            if not isinstance(k, str):
                raise TypeError(f"jsonable: keys must be str, got {type(k).__name__} key {k!r} in {_where}")
            out[k] = jsonable(v, lenient=lenient, _where=f"{_where}[{k!r}]")
        return out
    if isinstance(obj, (list, tuple)):
        return [jsonable(v, lenient=lenient, _where=f"{_where}[{i}]") for i, v in enumerate(obj)]
    describe = getattr(obj, "describe", None)
    if callable(describe) and not isinstance(obj, type):
        return jsonable(describe(), lenient=lenient, _where=_where)
    if lenient:
        if isinstance(obj, functools.partial):
            return {
                "callable": qualified_name(obj.func),
                "args": jsonable(list(obj.args), lenient=True, _where=_where),
                "kwargs": jsonable(dict(obj.keywords), lenient=True, _where=_where),
            }
        if callable(obj):
            return {"callable": qualified_name(obj)}
        return repr(obj)
    raise TypeError(f"jsonable: {_where} has type {type(obj).__name__}, which has no JSON form")


def qualified_name(fn) -> str:
    """``"module:qualname"`` of a function or class."""
    return f"{getattr(fn, '__module__', '?')}:{getattr(fn, '__qualname__', type(fn).__name__)}"


def write_json_atomic(path, obj) -> None:
    """Write ``obj`` as JSON to ``path`` so that readers see the old file or the whole new one.

    The text goes to a temporary file in the same directory, is flushed to disk,
    then renamed over ``path`` with ``os.replace``.
    """
    path = Path(path)
    text = json.dumps(obj, indent=1, sort_keys=True, allow_nan=False)
    with atomic_write(path, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.write("\n")


def read_records(out_dir) -> dict:
    """Load every ``*.json`` record of a results directory.

    Returns
    -------
    dict
        Record id -> record, sorted by id.  Files that are not JSON objects with an
        ``"id"`` are ignored.
    """
    records = {}
    for p in sorted(Path(out_dir).glob("*.json")):
        try:
            with open(p, encoding="utf-8") as fh:
                rec = json.load(fh)
        except (OSError, ValueError):
            continue
        if isinstance(rec, dict) and isinstance(rec.get("id"), str):
            records[rec["id"]] = rec
    return dict(sorted(records.items()))


def environment() -> dict:
    """Library versions and a description of the machine, for the records.

    Returns
    -------
    dict
        ``{"versions": {"python", "numpy", "scipy", "layergraph"}, "machine": {"platform", "processor",
        "cpu_count", "hostname"}}``.  Nothing in it changes between two runs on the same machine.
    """
    import numpy
    import scipy

    from .. import __version__

    return {
        "versions": {
            "python": platform.python_version(),
            "numpy": numpy.__version__,
            "scipy": scipy.__version__,
            "layergraph": __version__,
        },
        "machine": {
            "platform": platform.platform(),
            "processor": platform.machine(),
            "cpu_count": os.cpu_count(),
            "hostname": platform.node(),
        },
    }


def strip_timings(obj):
    """A copy of a record without the measured durations (keys in :data:`TIMING_KEYS`, at any depth).

    Two runs of the same command differ only in these values, so
    ``strip_timings(a) == strip_timings(b)`` is the reproducibility check.
    """
    if isinstance(obj, dict):
        return {k: strip_timings(v) for k, v in obj.items() if k not in TIMING_KEYS}
    if isinstance(obj, list):
        return [strip_timings(v) for v in obj]
    return obj
