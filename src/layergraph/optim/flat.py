"""One update for many parameters: the fast path for parameters packed in one flat buffer.

When every parameter array is a view into one contiguous 1-D buffer (``Sequential.flatten_parameters()`` arranges
this) and every gradient is a view into another buffer with the same layout, an elementwise rule can run once on
the two whole buffers instead of once per parameter: the same arithmetic, element for element, in a handful of
large ufunc calls. Per-name state then lives in flat state buffers too, and ``opt.state["fc1.W"]["m"]`` is a view
into them, so state dicts and checkpoints look exactly as in the per-parameter path.
"""

import numpy as np


def packed_base(arrays):
    """Return ``(base, offsets)`` if *arrays* are C-contiguous views tiling one 1-D buffer exactly, else None.

    ``offsets`` are element offsets of each array in ``base``, in the order given.
    """
    if not arrays:
        return None
    base = arrays[0].base
    if not (isinstance(base, np.ndarray) and base.ndim == 1 and base.base is None and base.flags.c_contiguous):
        return None
    start = base.__array_interface__["data"][0]
    item = base.itemsize
    offsets, spans = [], []
    for a in arrays:
        if a.base is not base or a.dtype != base.dtype or not a.flags.c_contiguous:
            return None
        off, rem = divmod(a.__array_interface__["data"][0] - start, item)
        if rem:
            return None
        offsets.append(off)
        spans.append((off, off + a.size))
    spans.sort()
    position = 0
    for lo, hi in spans:
        if lo != position:
            return None
        position = hi
    return (base, offsets) if position == base.size else None


class FlatPlan:
    """A verified packing of ``params``/``grads`` and the flat state that goes with it.

    Built by :meth:`build`; :meth:`still_valid` re-checks, by identity only, that the caller passes the same arrays.
    """

    def __init__(self, names, p_arrays, g_arrays, p_flat, g_flat, state, scalar_keys, lr_scale, weight_decay, gen):
        self.names, self.p_arrays, self.g_arrays = names, p_arrays, g_arrays
        self.p_flat, self.g_flat, self.state = p_flat, g_flat, state
        self.scalar_keys, self.lr_scale, self.weight_decay, self.gen = scalar_keys, lr_scale, weight_decay, gen

    def still_valid(self, params, grads, gen):
        if gen != self.gen or len(params) != len(self.p_arrays):
            return False
        return (all(a is b for a, b in zip(params.values(), self.p_arrays))
                and all(a is b for a, b in zip(grads.values(), self.g_arrays))
                and tuple(params) == self.names)

    def sync_scalars(self, per_name):
        """Copy the flat state's scalars (step counts, ...) into every per-name state dict."""
        for key in self.scalar_keys:
            value = self.state[key]
            for name in self.names:
                per_name[name][key] = value

    @classmethod
    def build(cls, opt, params, grads, gen):
        """Return a plan for *params*/*grads*, adopting existing per-name state, or None when they do not pack."""
        names = tuple(params)
        p_arrays, g_arrays = tuple(params.values()), tuple(grads.values())
        packed_p, packed_g = packed_base(p_arrays), packed_base(g_arrays)
        if packed_p is None or packed_g is None or packed_p[1] != packed_g[1]:
            return None
        if packed_p[0].dtype == np.float16:
            return None  # half precision takes the per-parameter path, which computes in float32
        settings = {opt._settings(name) for name in names}
        if len(settings) != 1:
            return None
        (p_flat, offsets), (g_flat, _) = packed_p, packed_g
        state = opt._init_state(p_flat)
        scalar_keys = tuple(k for k, v in state.items() if not isinstance(v, np.ndarray))
        existing = [opt._state.get(name) for name in names]
        if any(s is not None for s in existing):
            if any(s is None for s in existing):
                return None  # some parameters are new: their state would start elsewhere than the others'
            for key in scalar_keys:
                values = {s[key] for s in existing}
                if len(values) != 1:
                    return None
                state[key] = values.pop()
        for name, p, off, old in zip(names, p_arrays, offsets, existing):
            per_name = {}
            for key, value in state.items():
                if isinstance(value, np.ndarray):
                    view = value[off:off + p.size].reshape(p.shape)
                    if old is not None:
                        view[...] = old[key]
                    per_name[key] = view
                else:
                    per_name[key] = value
            opt._state[name] = per_name
        lr_scale, wd = settings.pop()
        return cls(names, p_arrays, g_arrays, p_flat, g_flat, state, scalar_keys, lr_scale, wd, gen)
