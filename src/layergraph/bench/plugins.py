"""Plugins: modules that register optimizers and problems, imported before a sweep and in every worker.

A plugin is a dotted module name (``my_package.my_opt``, importable as it is or from the
current directory, as with ``python -m``) or the path of a ``.py`` file (imported with its
directory on ``sys.path``, so it can import the modules beside it, as a script can); importing it runs
its :func:`~layergraph.bench.register_optimizer` / :func:`~layergraph.bench.register_problem`
calls.  Installed packages can also
declare entry points in the group ``layergraph.bench`` (a module, or a function
called without arguments); they are loaded automatically.  The sweep passes its
plugin list inside each task, and the task imports it on the worker before
running, so process-pool and Dask workers know the same names as the main process.
A plugin that cannot be imported raises :class:`PluginImportError`, one line naming the
plugin and the original exception (chained).
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import os
import sys
import threading
from pathlib import Path

from ..errors import one_line

__all__ = ["load_plugins", "load_entry_points", "ENTRY_POINT_GROUP", "loaded_plugins", "normalize_plugin",
           "is_path", "import_module_or_path", "PluginImportError"]

#: The entry-point group scanned by :func:`load_entry_points`.
ENTRY_POINT_GROUP = "layergraph.bench"

_LOCK = threading.RLock()
_LOADED: dict[str, object] = {}
_ENTRY_POINTS_DONE: list = []


class PluginImportError(ImportError):
    """A plugin (or a module named by path or dotted name) could not be imported.

    The message names the plugin and the original exception's type and message on one line; the original
    exception is chained as ``__cause__``.
    """


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


def _names_missing_spec(exc: ModuleNotFoundError, spec: str) -> bool:
    """True when *exc* says *spec* itself (or one of its parent packages) is missing, not one of its imports."""
    return bool(exc.name) and (spec == exc.name or spec.startswith(exc.name + "."))


def _on_path(directory: str) -> bool:
    """Put *directory* at the end of ``sys.path`` unless it is on it already; return True when it was added.

    At the end, so that nothing the host process already imports from elsewhere is shadowed by a file of the same
    name beside a plugin."""
    for entry in sys.path:
        try:
            if Path(entry or ".").resolve() == Path(directory).resolve():
                return False
        except OSError:
            continue
    sys.path.append(directory)
    importlib.invalidate_caches()
    return True


def _cwd_on_path() -> bool:
    """Put the current directory on ``sys.path`` (at the end, see :func:`_on_path`) unless it is there already.

    Returns True when it was added.
    """
    return _on_path(os.getcwd())


def _import_name(spec: str):
    try:
        return importlib.import_module(spec)
    except ModuleNotFoundError as exc:
        if not _names_missing_spec(exc, spec) or not _cwd_on_path():
            raise
    try:  # a module next to the caller: retry with the current directory on the path
        return importlib.import_module(spec)
    except ModuleNotFoundError as exc:
        if _names_missing_spec(exc, spec):
            sys.path.remove(os.getcwd())
        raise


def _import_path(path: Path):
    """Import the file *path* so that it can import the modules beside it.

    While it is imported its directory is first on ``sys.path`` (as for a script, so its own siblings win over
    modules of the same name elsewhere); afterwards the directory stays at the end of ``sys.path`` (for imports
    its functions make later), where it shadows nothing the host process imports. It is taken off again when
    the import fails and it was not on the path before."""
    name = _module_name_for_path(path)
    folder = str(path.parent)
    added = _on_path(folder)
    if name in sys.modules and _same_file(getattr(sys.modules[name], "__file__", None), path):
        return sys.modules[name]
    module_spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[name] = module  # before exec: classes defined there pickle by this module name
    sys.path.insert(0, folder)
    try:
        module_spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        if added and sys.path[-1] == folder:
            del sys.path[-1]
        raise
    finally:
        if sys.path and sys.path[0] == folder:
            del sys.path[0]          # the entry at the end (from _on_path) stays
    return module


def import_module_or_path(spec: str, what: str = "plugin"):
    """Import a dotted module name or a ``.py`` file, the way ``--plugin`` does.

    Parameters
    ----------
    spec : str
        A dotted module name, importable as it is or from the current directory (which is then put on
        ``sys.path``, at its end, so worker processes find it too), or the path of a ``.py`` file
        (anything ending in ``.py`` or containing a path separator), imported under its file name's stem with
        its directory on ``sys.path`` (at the end, so nothing is shadowed), so that it can import the modules
        beside it (worker processes import it the same way).
    what : str, default "plugin"
        How error messages name the thing imported (e.g. ``"--module"``).

    Returns
    -------
    module

    Raises
    ------
    ValueError
        *spec* is not a non-empty str.
    FileNotFoundError
        A path that is not a file.
    ModuleNotFoundError
        A module name importable neither as it is nor from the current directory.
    PluginImportError
        The module was found but raised while it was imported (the message names *spec* and the original
        exception, which is chained).
    """
    if not isinstance(spec, str) or not spec.strip():
        raise ValueError(f"{what}: expected a dotted module name or a path to a .py file, got {spec!r}")
    spec = spec.strip()
    path = Path(spec).expanduser().resolve() if is_path(spec) else None
    if path is not None and not path.is_file():
        raise FileNotFoundError(f"{what} {spec!r}: no such file {str(path)!r}")
    try:
        return _import_path(path) if path is not None else _import_name(spec)
    except ModuleNotFoundError as exc:
        if path is None and _names_missing_spec(exc, spec):
            raise ModuleNotFoundError(f"cannot import {what} {spec!r}: no module named {exc.name!r}, neither "
                                      f"importable as it is nor from the current directory {os.getcwd()!r} (give "
                                      "a dotted module name or the path to a .py file)", name=exc.name) from exc
        raise PluginImportError(f"{what} {spec!r} failed to import: {one_line(exc)}") from exc
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:
        raise PluginImportError(f"{what} {spec!r} failed to import: {one_line(exc)}") from exc


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

    Raises
    ------
    PluginImportError
        A plugin (or an entry point) raised while it was imported; the message names it.
    FileNotFoundError, ModuleNotFoundError
        A plugin that does not exist.
    """
    if isinstance(plugins, str):
        plugins = [plugins]
    out = []
    with _LOCK:
        if entry_points:
            load_entry_points()
        for spec in plugins or ():
            if spec not in _LOADED:
                _LOADED[spec] = import_module_or_path(spec)
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
            try:
                obj = ep.load()
                if callable(obj) and not isinstance(obj, type(sys)):
                    obj()
            except (KeyboardInterrupt, SystemExit):
                raise
            except BaseException as exc:
                raise PluginImportError(f"entry point {ep.name!r} ({getattr(ep, 'value', '?')}) of group "
                                        f"{ENTRY_POINT_GROUP!r} failed to load: {one_line(exc)}") from exc
            loaded.append(ep.name)
        _ENTRY_POINTS_DONE.append(loaded)
        return loaded


def loaded_plugins() -> list[str]:
    """The plugin specifications imported so far in this process."""
    return list(_LOADED)
