"""state_dict / load_state_dict for containers: copies out, strict and complete checks in."""

from collections import OrderedDict
from collections.abc import Mapping

import numpy as np

from ..errors import StateDictError, describe, shape_str


def state_dict(net):
    """Return an ``OrderedDict`` of copies of ``net.params`` and ``net.buffers`` (dotted keys)."""
    out = OrderedDict()
    for store in (net.params, net.buffers):
        for key, value in store.items():
            out[key] = np.array(value, copy=True)
    return out


def load_state_dict(net, state, strict=True):
    """Copy the arrays of *state* into the network's own parameter and buffer arrays.

    Parameters
    ----------
    net : Sequential or Graph
    state : mapping str -> array_like
    strict : bool, default True
        When True, missing or unexpected keys are an error. Shape mismatches and non-numeric values are always
        an error. Nothing is copied unless every key checks out.

    Returns
    -------
    dict
        ``{"missing": [...], "unexpected": [...]}`` (both empty when strict).

    Raises
    ------
    StateDictError
        Listing every missing key, unexpected key and shape/dtype mismatch at once.
    TypeError
        When *state* is not a mapping.
    """
    if not isinstance(state, Mapping):
        raise TypeError(f"{describe(net)}.load_state_dict: argument 'state_dict' must be a mapping name -> array "
                        f"(as returned by state_dict()), got {type(state).__name__}")
    targets = {**net.params, **net.buffers}
    missing = [k for k in targets if k not in state]
    unexpected = [k for k in state if k not in targets]
    problems = []
    for key in targets.keys() & state.keys():
        value = np.asarray(state[key])
        if value.shape != targets[key].shape:
            problems.append(f"{key}: expected shape {shape_str(targets[key].shape)}, got {shape_str(value.shape)}")
        elif value.dtype.kind not in "biuf":
            problems.append(f"{key}: expected a numeric array, got dtype {value.dtype}")
    if strict:
        problems += [f"missing key {k!r}" for k in missing] + [f"unexpected key {k!r}" for k in unexpected]
    if problems:
        raise StateDictError(f"{describe(net)}: state dict does not match the network:\n  " + "\n  ".join(problems))
    for key in targets.keys() & state.keys():
        np.copyto(targets[key], np.asarray(state[key]), casting="unsafe")
    return {"missing": missing, "unexpected": unexpected}
