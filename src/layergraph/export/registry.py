"""The exporter registry: which function writes a layer class as ONNX nodes.

Lookup walks the class's method resolution order, so a subclass of a registered class uses its parent's exporter
unless it registers its own.
"""

_EXPORTERS = {}


class ExportError(ValueError):
    """A network cannot be exported: a layer without an exporter, an unknown input shape, a bad argument."""


def register_exporter(layer_class, function):
    """Register ``function(ctx, layer, inputs) -> list of output tensor names`` as the exporter of *layer_class*.

    Parameters
    ----------
    layer_class : type
        The layer class; its subclasses use the same exporter unless they have their own.
    function : callable
        Called as ``function(ctx, layer, inputs)`` with ``ctx`` an
        :class:`~layergraph.export.context.ExportContext` and ``inputs`` the list of incoming tensor names;
        returns the list of the layer's output tensor names. A later registration for the same class replaces
        the earlier one.

    Returns
    -------
    callable
        *function*, so the call also works as a decorator factory's result.
    """
    if not isinstance(layer_class, type):
        raise TypeError(f"register_exporter: 'layer_class' must be a class, got {type(layer_class).__name__}")
    if not callable(function):
        raise TypeError(f"register_exporter: 'function' must be callable, got {type(function).__name__}")
    _EXPORTERS[layer_class] = function
    return function


def exporter(layer_class):
    """Decorator form of :func:`register_exporter`."""

    def decorate(function):
        return register_exporter(layer_class, function)

    return decorate


def find_exporter(layer_class):
    """The exporter registered for *layer_class* or its nearest base class, or None."""
    for klass in layer_class.__mro__:
        function = _EXPORTERS.get(klass)
        if function is not None:
            return function
    return None


def exporter_for(layer, qualname):
    """The exporter of *layer*, or an :class:`ExportError` naming the layer and its class."""
    function = find_exporter(type(layer))
    if function is None:
        cls = type(layer)
        raise ExportError(f"export: layer {qualname!r} of class {cls.__module__}.{cls.__qualname__} has no ONNX "
                          f"exporter; register one with lg.export.register_exporter({cls.__name__}, function)")
    return function
