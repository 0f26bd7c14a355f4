"""Plugins: modules that register optimizers and problems, imported before a sweep and in every worker.

A plugin is a dotted module name (``my_package.my_opt``) or the path of a ``.py``
file; importing it runs its :func:`~layergraph.bench.register_optimizer` /
:func:`~layergraph.bench.register_problem` calls.  Installed packages can also
declare entry points in the group ``layergraph.bench`` (a module, or a function
called without arguments); they are loaded automatically.  The sweep passes its
plugin list inside each task, and the task imports it on the worker before
running, so process-pool and Dask workers know the same names as the main process.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import sys
import threading
from pathlib import Path

__all__ = ["load_plugins", "load_entry_points", "ENTRY_POINT_GROUP", "loaded_plugins", "normalize_plugin",
           "is_path"]

#: The entry-point group scanned by :func:`load_entry_points`.
ENTRY_POINT_GROUP = "layergraph.bench"

_LOCK = threading.RLock()
_LOADED: dict[str, object] = {}
_ENTRY_POINTS_DONE: list = []


def _module_name_for_path(path: Path) -> str:
    """The file's stem (so ``my_opt.py`` and ``--plugin my_opt`` are one module), unless another module of that
    name is already imported; then a name made unique by a hash of the path."""
    stem = path.stem
    known = sys.modules.get(stem)
    if stem.isidentifier() and (known is None or _same_file(getattr(known, "__file__", None), path)):
        return stem
    digest = hashlib.sha256(str(path).encode()).hexdigest()[:10]
    return f"layergraph_plugin_{stem}_{digest}"


def _same_file(a, b) -> bool:
    try:
        return a is not None and Path(a).resolve() == Path(b).resolve()
    except OSError:
        return False


def is_path(spec: str) -> bool:
    """True when a plugin specification is a file path rather than a dotted module name."""
    return spec.endswith(".py") or "/" in spec or "\\" in spec


def normalize_plugin(spec: str) -> str:
    """A plugin specification workers can use anywhere: file paths made absolute, module names unchanged."""
    if not isinstance(spec, str) or not spec.strip():
        raise ValueError(f"plugin: expected a dotted module name or a path to a .py file, got {spec!r}")
    spec = spec.strip()
    return str(Path(spec).expanduser().resolve()) if is_path(spec) else spec


def _import_one(spec: str):
    if not isinstance(spec, str) or not spec.strip():
        raise ValueError(f"plugin: expected a dotted module name or a path to a .py file, got {spec!r}")
    spec = spec.strip()
    if is_path(spec):
        path = Path(spec).expanduser().resolve()
        if not path.is_file():
            raise FileNotFoundError(f"plugin {spec!r}: no such file {str(path)!r}")
        name = _module_name_for_path(path)
        if name in sys.modules and _same_file(getattr(sys.modules[name], "__file__", None), path):
            return sys.modules[name]
        module_spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(module_spec)
        sys.modules[name] = module  # before exec: classes defined there pickle by this module name
        try:
            module_spec.loader.exec_module(module)
        except BaseException:
            sys.modules.pop(name, None)
            raise
        return module
    try:
        return importlib.import_module(spec)
    except ModuleNotFoundError as exc:
        if exc.name and spec.startswith(exc.name):
            raise ModuleNotFoundError(f"plugin {spec!r}: no module named {exc.name!r} (give a dotted module name "
                                      "importable here, or the path to a .py file)") from exc
        raise


def load_plugins(plugins=(), *, entry_points: bool = True) -> list:
    """Import plugin modules once each (and the ``layergraph.bench`` entry points).

    Parameters
    ----------
    plugins : sequence of str
        Dotted module names or paths to ``.py`` files, imported in order.  Importing the same plugin again
        does nothing.
    entry_points : bool, default True
        Also load the entry points of the group :data:`ENTRY_POINT_GROUP` (once per process).

    Returns
    -------
    list of module
    """
    if isinstance(plugins, str):
        plugins = [plugins]
    out = []
    with _LOCK:
        if entry_points:
            load_entry_points()
        for spec in plugins or ():
            if spec not in _LOADED:
                _LOADED[spec] = _import_one(spec)
            out.append(_LOADED[spec])
    return out


def load_entry_points() -> list:
    """Load every entry point of :data:`ENTRY_POINT_GROUP` once; callables among them are called."""
    with _LOCK:
        if _ENTRY_POINTS_DONE:
            return list(_ENTRY_POINTS_DONE[0])
        from importlib.metadata import entry_points

        loaded = []
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            obj = ep.load()
            if callable(obj) and not isinstance(obj, type(sys)):
                obj()
            loaded.append(ep.name)
        _ENTRY_POINTS_DONE.append(loaded)
        return loaded


def loaded_plugins() -> list[str]:
    """The plugin specifications imported so far in this process."""
    return list(_LOADED)
