"""Finding the layer classes a module defines, and those without a registered gradient-check case."""

import importlib
import inspect
import pkgutil

from ..gradcheck.registry import all_cases
from ..layers.base import Layer, Loss
from ..layers.composite import Composite
from ..layers.merge import Merge

_BASES = (Layer, Loss, Composite, Merge)


def _modules(name, recursive):
    module = importlib.import_module(name)
    yield module
    if recursive and hasattr(module, "__path__"):
        for info in pkgutil.walk_packages(module.__path__, prefix=name + "."):
            yield importlib.import_module(info.name)


def layer_classes(module, *, recursive=True):
    """Public :class:`~layergraph.Layer` subclasses defined in *module* (a name or module object).

    Parameters
    ----------
    module : str or module
    recursive : bool
        Include subpackages.

    Returns
    -------
    list of type
        Classes whose ``__module__`` is *module* or one of its submodules, whose name has no leading underscore,
        and that are not the protocol bases ``Layer``/``Loss``/``Composite``/``Merge`` themselves; in a stable order.
    """
    name = module if isinstance(module, str) else module.__name__
    found = {}
    for mod in _modules(name, recursive):
        for attr, obj in vars(mod).items():
            if (inspect.isclass(obj) and issubclass(obj, Layer) and obj not in _BASES
                    and not obj.__name__.startswith("_")
                    and (obj.__module__ == name or obj.__module__.startswith(name + "."))):
                found[f"{obj.__module__}.{obj.__qualname__}"] = obj
    return [found[k] for k in sorted(found)]


def missing_cases(module, *, recursive=True):
    """The classes of :func:`layer_classes` that have no case in the gradient-check registry.

    Parameters
    ----------
    module : str or module
    recursive : bool
        Include subpackages.

    Returns
    -------
    list of type
        In the order of :func:`layer_classes`. The modules are imported (which registers their cases) before
        the registry is read, so a module not imported yet is judged on its own cases.
    """
    classes = layer_classes(module, recursive=recursive)     # imports the modules: their cases register now
    covered = {case.layer_type for case in all_cases()}
    return [cls for cls in classes if cls not in covered]
