"""Forward and backward passes of a :class:`~layergraph.Graph`, and the per-use clones of shared layers.

A layer added at several nodes runs its first use itself and every later use on a *clone*: a copy of the layer
whose parameter and buffer dicts are the very same objects (so the arrays are shared) but whose caches and
gradient arrays are its own. After backward, each clone's gradients are added into the layer's own. Clones are
kept out of the container's attributes walked by packing and state code, and rebuilt when the layer's arrays are
replaced (``astype``, ``flatten_parameters``).
"""

import copy

import numpy as np

from ..errors import ShapeError, describe, shape_str
from ..layers.composite import backward_part, set_qualname
from .membership import check_one_output, reachable_layers


class _Clones:
    """A plain holder of per-use clones (not a dict, so parameter walkers never descend into it)."""

    #: Made anew, empty, by ``type(obj)()`` while a probe sample runs (see :mod:`layergraph.network.probe`).
    SCRATCH = True

    def __init__(self):
        self.by_node = {}


def _signature(layer):
    return tuple(id(v) for store in (layer.params, layer.buffers) for v in store.values())


def make_clone(layer):
    """A copy of *layer* sharing its parameter/buffer dicts and arrays and its random generators, with its own
    caches and gradients."""
    memo = {}
    for leaf in reachable_layers(layer):
        own = vars(leaf)
        for value in own.values():      # one generator for every use (each draws its own masks, in node order)
            if isinstance(value, np.random.Generator):
                memo[id(value)] = value
        for kind in ("params", "buffers"):
            store = own.get(kind)
            if isinstance(store, dict):
                memo[id(store)] = store
                for value in store.values():
                    memo[id(value)] = value
    clone = copy.deepcopy(layer, memo)
    for leaf in reachable_layers(clone):
        grads = vars(leaf).get("grads")
        if isinstance(grads, dict):
            for key, value in list(grads.items()):
                grads[key] = np.zeros_like(value)
    return clone


class GraphExecMixin:
    """forward / backward of :class:`~layergraph.Graph`."""

    def _init_exec(self):
        self._clones = _Clones()
        self._shapes = {}
        self._in_shapes = {}
        self._plan = self._static = self._needs = None

    def _reset_exec(self):
        self._clones.by_node.clear()
        self._plan = None

    # -- plan: which layer object runs each node ----------------------------------------------------------------

    def _runners(self):
        """``[(name, runner, inputs)]`` in execution order; clones run the later uses of a shared layer."""
        if self._plan is None:
            owners = {}
            for name, (layer, _) in self._nodes.items():
                owners.setdefault(id(layer), name)
            self._plan = [(name, layer, ins, owners[id(layer)] != name)
                          for name, (layer, ins) in self._nodes.items()]
            self._static = None if any(p[3] for p in self._plan) else [p[:3] for p in self._plan]
            self._needs = {flag: self._needs_grad(flag) for flag in (False, True)}
        if self._static is not None:
            return self._static
        return [(name, self._clone_for(name, layer) if is_reuse else layer, ins)
                for name, layer, ins, is_reuse in self._plan]

    def _clone_for(self, name, layer):
        entry = self._clones.by_node.get(name)
        sig = _signature(layer)
        if entry is None or entry[1] != sig:
            clone = make_clone(layer)
            set_qualname(clone, self._child_name(name))
            entry = (clone, sig)
            self._clones.by_node[name] = entry
        return entry[0]

    # -- forward -------------------------------------------------------------------------------------------------

    def _feed(self, x):
        """The graph inputs as a dict name -> array, checking names."""
        names = self.inputs
        if isinstance(x, dict):
            return {name: np.asarray(v) for name, v in _match_keys(self, x, names, "x").items()}
        if isinstance(x, (list, tuple)) and not (len(names) == 1 and not _holds_arrays(x)):
            if len(x) != len(names):
                raise ValueError(f"{describe(self)}: argument 'x' must hold {len(names)} arrays for inputs "
                                 f"{list(names)}, got {len(x)}")
            return {name: np.asarray(v) for name, v in zip(names, x)}
        if len(names) != 1:
            raise ValueError(f"{describe(self)}: argument 'x' must be a dict (or list) of arrays for inputs "
                             f"{list(names)}, got {type(x).__name__}")
        return {names[0]: np.asarray(x)}

    def forward(self, x, train=True):
        """Run every node in order.

        Parameters
        ----------
        x : ndarray ``(N, ...)``, or dict input name -> array, or list/tuple in :attr:`inputs` order
        train : bool

        Returns
        -------
        ndarray (one output) or dict output name -> array
        """
        outputs = self.outputs
        if not outputs:
            raise ValueError(f"{describe(self)} has no nodes")
        values = self._feed(x)
        shapes = self._shapes
        shapes.clear()
        self._in_shapes = {k: (v.shape, v.dtype) for k, v in values.items()}
        runners = self._runners()
        for name, runner, ins in runners:
            if isinstance(ins, str):
                out = runner.forward(values[ins], train=train)
            else:
                xs = [values[i] for i in ins]
                try:
                    out = runner.forward(xs, train=train)
                except ShapeError as err:
                    got = ", ".join(f"{i!r} {shape_str(np.shape(v))}" for i, v in zip(ins, xs))
                    raise ShapeError(f"{describe(self)}: node {name!r} cannot merge its inputs {got}: "
                                     f"{err}") from None
            if isinstance(out, dict):
                check_one_output(self, name, runner, out)
            values[name] = out
            shapes[name] = (out.shape, out.dtype)
        if len(outputs) == 1:
            return values[outputs[0]]
        return {o: values[o] for o in outputs}

    # -- backward ------------------------------------------------------------------------------------------------

    def _check_dx(self, name, layer, src, dx):
        """Raise when node *name*'s backward returned, for its input *src*, a gradient of another shape."""
        known = self._shapes.get(src) or self._in_shapes.get(src)
        if dx is not None and known is not None and np.shape(dx) != tuple(known[0]):
            raise ShapeError(f"{describe(self)}: node {name!r} ({type(layer).__name__}) returned a gradient of shape "
                             f"{np.shape(dx)} for its input {src!r} from backward, expected {tuple(known[0])}")

    def backward(self, dout):
        """Back-propagate; ``dout`` is an array (one output) or a dict by output name.

        Returns ``dx``: an array (one input) or a dict by input name; None when :attr:`requires_input_grad` is
        False. A node feeding several nodes gets the sum of their gradients (no array still in use is modified).
        """
        if not self._shapes:
            raise ValueError(f"{describe(self)}: backward() called before forward()")
        outputs = self.outputs
        if isinstance(dout, dict) or len(outputs) > 1:
            if not isinstance(dout, dict):
                raise ValueError(f"{describe(self)}: argument 'dout' must be a dict by output name "
                                 f"{list(outputs)}, got {type(dout).__name__}")
            dout = _match_keys(self, dout, outputs, "dout")
        else:
            dout = {outputs[0]: dout}
        need_x = self.requires_input_grad
        grads = {}
        owned = set()
        for o, d in dout.items():
            _accumulate(grads, owned, o, d)
        runners = self._runners()
        needs = self._needs[bool(need_x)]
        for name, runner, ins in reversed(runners):
            g = grads.pop(name, None)
            if g is None:
                shape, dtype = self._shapes[name]
                g = np.zeros(shape, dtype=dtype)
            needed = needs[name]
            dx = backward_part(runner, g, needed)
            if not needed:
                continue
            if isinstance(ins, str):
                self._check_dx(name, runner, ins, dx)
                _accumulate(grads, owned, ins, dx)
            else:
                if isinstance(dx, dict):
                    dx = [dx[k] for k in runner.inputs]
                for src, d in zip(ins, dx):
                    self._check_dx(name, runner, src, d)
                    _accumulate(grads, owned, src, d)
        self._sum_shared_grads()
        if not need_x:
            return None if len(self.inputs) == 1 else {k: None for k in self.inputs}
        dxs = {}
        for name in self.inputs:
            d = grads.get(name)
            if d is None:
                shape, dtype = self._in_shapes[name]
                d = np.zeros(shape, dtype=dtype if dtype.kind == "f" else np.float64)
            dxs[name] = d
        return dxs[self.inputs[0]] if len(self.inputs) == 1 else dxs

    def _needs_grad(self, need_x):
        """Node name -> whether its input gradient is used (by an earlier node or the graph's caller)."""
        needs = {}
        for name, (_, ins) in self._nodes.items():
            srcs = [ins] if isinstance(ins, str) else ins
            needs[name] = need_x or any(s in self._nodes for s in srcs)
        return needs

    def _sum_shared_grads(self):
        if self._static is not None:
            return
        for name, (clone, _) in self._clones.by_node.items():
            owner = self._nodes[name][0]
            target = owner.grads
            for key, value in clone.grads.items():
                if key in target:
                    np.add(target[key], value, out=target[key])


def _holds_arrays(seq):
    return len(seq) > 0 and all(isinstance(v, np.ndarray) for v in seq)


def _accumulate(grads, owned, name, d):
    """grads[name] += d without writing into an array someone else may still hold."""
    if d is None:
        return
    prev = grads.get(name)
    if prev is None:
        grads[name] = d
    elif name in owned:
        np.add(prev, d, out=prev)
    else:
        grads[name] = prev + d
        owned.add(name)


def _match_keys(graph, given, expected, arg):
    """Check a dict has exactly the *expected* keys; KeyError naming missing/unexpected ones."""
    missing = [k for k in expected if k not in given]
    unexpected = [k for k in given if k not in expected]
    if missing or unexpected:
        parts = ([f"missing {missing}"] if missing else []) + ([f"unexpected {unexpected}"] if unexpected else [])
        raise KeyError(f"{describe(graph)}: argument {arg!r} keys must be {list(expected)}: " + ", ".join(parts))
    return {k: given[k] for k in expected}
