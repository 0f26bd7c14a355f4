"""A JSON-able description of a network's structure, stored in checkpoints and used to rebuild the network.

The description lists every layer with its name, class, constructor hyperparameters (the ``__init__``
arguments the layer keeps as attributes of the same name, e.g. ``in_features``, ``alpha``, ``dtype``; sub-layers
of composites such as ``Residual(block, projection)`` are described recursively) and parameter shapes, plus the
loss layer. It is data only: :func:`build_network` instantiates classes found in
``layergraph.layers`` / ``layergraph.network`` or given explicitly, never anything named by the file alone.
"""

import inspect
import numbers

import numpy as np

from . import architecture_graph as _graphs

FORMAT = "layergraph-architecture/1"


def describe_network(net):
    """Return the structure of *net* as a dict of plain values.

    Returns
    -------
    dict
        ``{"format": ..., "layers": [layer, ...], "loss": layer or None}`` where a layer is
        ``{"name", "class", "config", "params": {key: [shape, dtype]}, "buffers": {...}}`` and a nested
        container has ``"layers"`` (and ``"loss"``) instead of params.
    """
    if _graphs.is_graph(net):
        return {"format": FORMAT, **_graphs.describe_graph("", net, _describe_layer)}
    return {"format": FORMAT, **_describe_container(net)}


def _describe_container(net):
    layers = [_describe_layer(name, layer) for name, layer in net.layers.items()]
    loss = getattr(net, "loss_layer", None)
    return {"layers": layers, "loss": None if loss is None else _describe_layer("loss", loss)}


def _describe_layer(name, layer):
    if _graphs.is_graph(layer):
        return _graphs.describe_graph(name, layer, _describe_layer)
    out = {"name": name, "class": type(layer).__name__}
    if getattr(layer, "layers", None) is not None and hasattr(layer, "_parts"):
        out.update(_describe_container(layer))
        return out
    out["config"] = layer_config(layer)
    for kind in ("params", "buffers"):
        store = getattr(layer, kind, {}) or {}
        out[kind] = {k: [list(np.shape(v)), str(np.asarray(v).dtype)] for k, v in store.items()}
    return out


def layer_config(layer):
    """Constructor arguments of *layer* recoverable from its attributes of the same name (JSON-able ones)."""
    config = {}
    try:
        sig = inspect.signature(type(layer).__init__)
    except (TypeError, ValueError):
        return config
    for pname, param in sig.parameters.items():
        if pname == "self" or param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        if pname not in vars(layer) and not hasattr(type(layer), pname):
            continue
        value = getattr(layer, pname)
        if isinstance(value, (np.dtype, type)) and pname == "dtype":
            config[pname] = np.dtype(value).name
        elif value is None or isinstance(value, (bool, str)):
            config[pname] = value
        elif isinstance(value, numbers.Integral):
            config[pname] = int(value)
        elif isinstance(value, numbers.Real):
            config[pname] = float(value)
        elif isinstance(value, tuple) and all(isinstance(v, numbers.Integral) for v in value):
            config[pname] = [int(v) for v in value]
        elif callable(getattr(value, "forward", None)) and callable(getattr(value, "backward", None)):
            config[pname] = {"layer": _describe_layer(pname, value)}  # a composite's sub-layer (Residual.block)
    return config


def flat_layers(desc, prefix=""):
    """``[(qualified name, class name)]`` of every leaf layer (and loss) in a description, in order."""
    out = []
    for layer in desc.get("layers", []):
        qual = prefix + layer["name"]
        if "layers" in layer:
            out += flat_layers(layer, qual + ".")
        else:
            out.append((qual, layer["class"]))
    if desc.get("loss"):
        out.append((prefix + "loss", desc["loss"]["class"]))
    return out


def compare(saved, current):
    """Lines describing layers whose class differs, or which exist in only one of two descriptions."""
    a, b = dict(flat_layers(saved)), dict(flat_layers(current))
    lines = []
    for name in [*a, *(k for k in b if k not in a)]:
        if name not in b:
            lines.append(f"layer {name!r} ({a[name]}) is in the checkpoint but not in the network")
        elif name not in a:
            lines.append(f"layer {name!r} ({b[name]}) is in the network but not in the checkpoint")
        elif a[name] != b[name]:
            lines.append(f"layer {name!r}: checkpoint has {a[name]}, network has {b[name]}")
    return lines


def build_network(desc, custom_objects=None):
    """Instantiate a network from :func:`describe_network` output (weights are not set; load them after).

    Parameters
    ----------
    desc : dict
    custom_objects : dict name -> class, optional
        Classes that are not part of layergraph (your own layers), looked up first.

    Raises
    ------
    ValueError
        Unknown class name or a constructor that rejects the stored hyperparameters.
    """
    from .. import layers as _layers
    from .. import network as _network

    def resolve(name):
        for space in (custom_objects or {}, vars(_layers), vars(_network)):
            cls = space.get(name)
            if isinstance(cls, type):
                return cls
        raise ValueError(f"build_network: unknown layer class {name!r}; pass it in custom_objects={{{name!r}: cls}}")

    def make(layer):
        cls = resolve(layer["class"])
        if "graph" in layer:
            return _graphs.build_graph(layer, cls, make)
        if "layers" in layer:
            return _container(cls, layer)
        config = {k: make(v["layer"]) if isinstance(v, dict) and "layer" in v else v
                  for k, v in layer.get("config", {}).items()}
        try:
            return cls(**config)
        except (TypeError, ValueError) as err:
            raise ValueError(f"build_network: cannot build layer {layer['name']!r} as "
                             f"{layer['class']}(**{config}): {err}") from err

    def _container(cls, d):
        net = cls([(layer["name"], make(layer)) for layer in d["layers"]])
        if d.get("loss"):
            net.set_loss(make(d["loss"]))
        return net

    if not isinstance(desc, dict) or desc.get("format") != FORMAT:
        raise ValueError(f"build_network: not a {FORMAT} description")
    if "graph" in desc:
        return _graphs.build_graph(desc, resolve(desc.get("class", "Graph")), make)
    return _container(_network.Sequential, desc)
