"""Saving a failing gradient check to an ``.npz`` (no pickle) and running it again elsewhere.

The file holds the layer's architecture (the JSON description of :mod:`layergraph.train.architecture`), its
parameters and buffers, the states of its random generators, the inputs, targets, the upstream gradient
``dout`` the check used, the seed and every option of the check. :func:`replay` rebuilds the layer (classes
outside layergraph come from ``custom_objects``) and reruns the same check, so a failure seen in CI can be
reproduced on a laptop. Everything is stored as plain arrays and JSON text; loading never unpickles.
"""

import copy
import json
import os

import numpy as np

from .._atomic import atomic_write
from .state import walk_generators_and_buffers

FORMAT = "layergraph-gradcheck-case/1"


def _wrap(layer):
    """The layer inside a Sequential (a copy, so the caller's layer keeps its name), and how to unwrap it."""
    from ..network.sequential import Sequential

    layer = copy.deepcopy(layer)
    if isinstance(layer, Sequential):
        return layer, "net"
    if getattr(layer, "is_loss", False):
        return Sequential(loss=layer), "loss"
    return Sequential([("layer", layer)]), "layer"


def _unwrap(net, how):
    if how == "net":
        return net
    if how == "loss":
        return net.loss_layer
    return net["layer"]


def save_case(path, case):
    """Write *case* (``layer, x, t, options, dout``) to *path* (``.npz``), atomically.

    Raises
    ------
    ValueError
        When the layer's architecture cannot be described (e.g. a container without a description).
    """
    from ..train.architecture import describe_network

    layer, x, t, options, dout = case
    net, how = _wrap(layer)
    try:
        desc = describe_network(net)
    except Exception as err:
        raise ValueError(f"GradCheckError.save: cannot describe the architecture of "
                         f"{type(layer).__name__}: {err}") from err
    arrays = {"format": np.array(FORMAT), "architecture": np.array(json.dumps(desc)), "wrap": np.array(how),
              "name": np.array(str(getattr(layer, "name", type(layer).__name__))),
              "options": np.array(json.dumps(options))}
    for key, value in net.state_dict().items():
        arrays[f"state/{key}"] = np.asarray(value)
    gens = [obj.bit_generator.state for kind, obj in walk_generators_and_buffers(net) if kind == "generator"]
    arrays["generators"] = np.array(json.dumps(gens))
    _put(arrays, "x", x)
    if t is not None:
        _put(arrays, "t", t)
    if dout is not None:
        _put(arrays, "dout", dout)
    path = os.fspath(path)
    with atomic_write(path, "wb") as fh:
        np.savez(fh, **arrays)
    return path


def _put(arrays, prefix, value):
    if isinstance(value, dict):
        arrays[f"{prefix}:kind"] = np.array("dict")
        for k, v in value.items():
            arrays[f"{prefix}/{k}"] = np.asarray(v)
    elif isinstance(value, (list, tuple)):
        arrays[f"{prefix}:kind"] = np.array("list")
        for i, v in enumerate(value):
            arrays[f"{prefix}/{i:04d}"] = np.asarray(v)
    else:
        arrays[f"{prefix}:kind"] = np.array("array")
        arrays[prefix] = np.asarray(value)


def _get(data, prefix):
    if f"{prefix}:kind" not in data.files:
        return None
    kind = str(data[f"{prefix}:kind"])
    if kind == "array":
        return data[prefix]
    keys = sorted(k for k in data.files if k.startswith(prefix + "/"))
    if kind == "list":
        return [data[k] for k in keys]
    return {k[len(prefix) + 1:]: data[k] for k in keys}


def load_case(path, custom_objects=None):
    """Read a saved case; return ``(layer, x, t, options)`` ready for :func:`~layergraph.gradcheck`."""
    from ..train.architecture import build_network

    with np.load(os.fspath(path), allow_pickle=False) as data:
        if "format" not in data.files or str(data["format"]) != FORMAT:
            raise ValueError(f"gradcheck.replay: {os.fspath(path)!r} is not a {FORMAT} file")
        net = build_network(json.loads(str(data["architecture"])), custom_objects=custom_objects)
        state = {k[len("state/"):]: data[k] for k in data.files if k.startswith("state/")}
        net.load_state_dict(state)
        gens = [obj for kind, obj in walk_generators_and_buffers(net) if kind == "generator"]
        saved = json.loads(str(data["generators"]))
        if len(gens) != len(saved):
            raise ValueError(f"gradcheck.replay: the rebuilt layer has {len(gens)} random generators, the file "
                             f"saved {len(saved)}")
        for gen, st in zip(gens, saved):
            gen.bit_generator.state = st
        x, t = _get(data, "x"), _get(data, "t")
        options = json.loads(str(data["options"]))
        layer = _unwrap(net, str(data["wrap"]))
        if "name" in data.files and layer is not net:
            from ..layers.composite import set_qualname

            set_qualname(layer, str(data["name"]))
    return layer, x, t, options


def replay(path, custom_objects=None, **overrides):
    """Rerun a gradient check saved by :meth:`GradCheckError.save` (or ``--save-failures``).

    Parameters
    ----------
    path : str or os.PathLike
        The ``.npz`` file.
    custom_objects : dict name -> class, optional
        Your own layer classes (layergraph's are found by name).
    **overrides
        Options to change (e.g. ``mode="full"``).

    Returns
    -------
    GradCheckReport or GradCheckReports
        The report of the rerun check (``raise_on_fail`` is False unless overridden).
    """
    from .check import gradcheck

    layer, x, t, options = load_case(path, custom_objects)
    options.update(overrides)
    return gradcheck(layer, x, t, **options)
