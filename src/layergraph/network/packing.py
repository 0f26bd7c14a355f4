"""Packing a network's parameters and gradients into one contiguous buffer per dtype."""

import numpy as np

from ..layers.base import Layer


def leaf_stores(root):
    """Yield every layer reachable from *root* (itself included) that owns ``params``/``grads`` dicts.

    Layers are found through attributes, dicts, lists and tuples, so any composite layer is covered.
    """
    seen = set()
    stack = [root]
    while stack:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, Layer):
            own = vars(obj)
            if isinstance(own.get("params"), dict) and own["params"]:
                yield obj
            stack.extend(reversed(list(own.values())))
        elif isinstance(obj, dict):
            stack.extend(reversed(list(obj.values())))
        elif isinstance(obj, (list, tuple)):
            stack.extend(reversed(obj))


def flatten_parameters(net):
    """Move every parameter and gradient of *net* into one contiguous buffer per dtype; return *net*.

    Each layer keeps its own arrays, now views into the buffers, with the same values, so nothing changes for the
    layers; optimizers detect the packing and update all parameters in a few large operations
    (:mod:`layergraph.optim.flat`). A layer that later rebinds an array simply drops out of the fast path.
    """
    slots = [(layer, key) for layer in leaf_stores(net) for key in layer.params]
    by_dtype = {}
    for layer, key in slots:
        by_dtype.setdefault(layer.params[key].dtype, []).append((layer, key))
    for dtype, group in by_dtype.items():
        total = sum(layer.params[key].size for layer, key in group)
        p_buf = np.empty(total, dtype=dtype)
        g_buf = np.zeros(total, dtype=dtype)
        offset = 0
        for layer, key in group:
            value = layer.params[key]
            end = offset + value.size
            p_view = p_buf[offset:end].reshape(value.shape)
            p_view[...] = value
            g_view = g_buf[offset:end].reshape(value.shape)
            old_grad = layer.grads.get(key)
            if old_grad is not None and old_grad.shape == value.shape:
                g_view[...] = old_grad
            layer.params[key], layer.grads[key] = p_view, g_view
            offset = end
    return net
