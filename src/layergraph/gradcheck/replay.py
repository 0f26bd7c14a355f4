"""Saving a failing gradient check to an ``.npz`` (no pickle) and running it again elsewhere.

The file holds the layer's architecture (the JSON description of :mod:`layergraph.train.architecture`), its
parameters and buffers, the states of its random generators, the inputs, targets, the upstream gradient
``dout`` the check used, the seed and every option of the check. :func:`replay` rebuilds the layer (classes
outside layergraph come from ``custom_objects``) and reruns the same check, so a failure seen in CI can be
reproduced on a laptop. Everything is stored as plain arrays and JSON text; loading never unpickles.
"""

import copy
import inspect
import json
import os
import warnings

import numpy as np

from .._atomic import atomic_write
from .state import walk_generators_and_buffers

FORMAT = "layergraph-gradcheck-case/1"

#: What a layer needs so that a saved case can rebuild it.
REBUILD_HINT = ("a layer's constructor arguments are recorded from its attributes of the same name, so keep each "
                "__init__ argument as self.<name> = <name> (a number, str, bool, None, dtype, tuple of ints or "
                "a layer) and save the case again")


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
    lost = unrecorded_arguments(net, desc)
    if lost:
        warnings.warn(f"GradCheckError.save: {'; '.join(lost)}; replay will not be able to rebuild the layer: "
                      f"{REBUILD_HINT}", UserWarning, stacklevel=3)
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


def _described_classes(desc, out=None):
    """Names of the classes a description rebuilds from a config (containers and graphs excluded)."""
    out = set() if out is None else out
    if isinstance(desc, dict):
        if "class" in desc and "config" in desc:
            out.add(desc["class"])
        for value in desc.values():
            _described_classes(value, out)
    elif isinstance(desc, list):
        for value in desc:
            _described_classes(value, out)
    return out


def unrecorded_arguments(net, desc):
    """``["Class: required constructor argument(s) 'a', 'b' not recorded", ...]`` for every layer of *net* that
    the description *desc* could not rebuild (a required ``__init__`` argument without an attribute of the same
    name holding a JSON-able value)."""
    from ..train.architecture import layer_config
    from .state import walk_named_layers

    names = _described_classes(desc)
    out = {}
    for _, obj in walk_named_layers(net):
        cls = type(obj)
        if cls.__name__ not in names or cls.__name__ in out:
            continue
        try:
            params = inspect.signature(cls.__init__).parameters.values()
        except (TypeError, ValueError):
            continue
        config = layer_config(obj)
        missing = [p.name for p in params if p.name != "self" and p.default is p.empty
                   and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
                   and p.name not in config]
        if missing:
            out[cls.__name__] = (f"{cls.__name__}: required constructor argument(s) "
                                 f"{', '.join(repr(m) for m in missing)} not recorded")
    return list(out.values())


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


class _Entries(dict):
    """The arrays of a saved case by entry name, with ``files`` as ``np.load``'s archives have."""

    @property
    def files(self):
        return list(self)


def load_case(path, custom_objects=None):
    """Read a saved case; return ``(layer, x, t, options)`` ready for :func:`~layergraph.gradcheck`."""
    from ..data.npy_files import DataFileError, read_npz
    from ..train.architecture import build_network

    try:   # every entry's declared size is checked against the file before anything is allocated
        data = _Entries(read_npz(os.fspath(path)))
    except DataFileError as err:
        raise ValueError(f"gradcheck.replay: {err}") from None
    if "format" not in data.files or str(data["format"]) != FORMAT:
        raise ValueError(f"gradcheck.replay: {os.fspath(path)!r} is not a {FORMAT} file")
    try:
        net = build_network(json.loads(str(data["architecture"])), custom_objects=custom_objects)
    except ValueError as err:
        if not isinstance(err.__cause__, TypeError):  # e.g. an unknown class: the message says what to pass
            raise
        raise ValueError(f"gradcheck.replay: cannot rebuild the layer saved in {os.fspath(path)!r}: {err}; "
                         f"{REBUILD_HINT}") from err
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
