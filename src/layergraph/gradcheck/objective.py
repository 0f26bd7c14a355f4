"""The scalar a check differentiates, evaluated from a restored state every time.

* a plain layer: ``f = sum(forward(x) * R)`` with a fixed random ``R`` (standard normal, never all-ones), one
  ``R`` per output when forward returns a dict;
* a loss layer: ``f = loss(x, t)``;
* a container with a loss layer and targets: ``f = loss(forward(x), t)``;
* a container with several losses (``losses``: dict output name -> loss layer, ``loss_weights``) and targets as a
  dict by output name: ``f = sum_o w_o * loss_o(forward(x)[o], t[o])``.

``x`` may be one array, a list of arrays (merge layers) or a dict name -> array (graphs); see :mod:`.inputs`.

Numeric derivatives use *differences* of evaluations, ``phi = f(perturbed) - f(baseline)`` computed as
``sum(R * (y - y0))`` for plain layers, so outputs the perturbation does not reach cancel exactly.
"""

import numpy as np

from .inputs import SINGLE, Inputs, as_outputs, from_outputs, read_only  # noqa: F401 (re-export)
from .state import Snapshot




def hooked_layers(layer):
    """``[(top_index, layer)]`` for every layer reachable from *layer* that has a callable ``kink_branches``.

    ``top_index`` is the position of the top-level child of a container that holds the layer (0 otherwise).
    """
    found = []

    def visit(obj, top):
        if callable(getattr(obj, "kink_branches", None)):
            found.append((top, obj))
        children = getattr(obj, "layers", None)
        if hasattr(children, "values"):
            for child in children.values():
                visit(child, top)
        loss = getattr(obj, "loss_layer", None)
        if loss is not None:
            visit(loss, top)

    children = getattr(layer, "layers", None)
    if callable(getattr(layer, "kink_branches", None)):
        found.append((0, layer))
    if hasattr(children, "values"):
        for i, child in enumerate(children.values()):
            visit(child, i)
        loss = getattr(layer, "loss_layer", None)
        if loss is not None:
            visit(loss, len(children))
    return found


def _is_plain_sequential(layer):
    from ..network.sequential import Sequential

    return isinstance(layer, Sequential) and type(layer).forward is Sequential.forward


def _differs(a, b):
    if isinstance(a, dict):
        return a.keys() != b.keys() or any(_differs(a[k], b[k]) for k in a)
    a, b = np.asarray(a), np.asarray(b)
    return a.shape != b.shape or not np.array_equal(a, b, equal_nan=True)


class Objective:
    """Evaluate the checked scalar on a working copy of a layer.

    Parameters
    ----------
    work : Layer
        The working copy (already in the numeric dtype); it is perturbed and run many times.
    inputs : Inputs
        Working copies of the inputs, in the numeric dtype (see :class:`~.inputs.Inputs`).
    t : ndarray, dict or None
        Targets (read-only), for loss layers and containers with losses; a dict by output name for several.
    train : bool
        Passed to forward.
    rng : numpy.random.Generator
        Draws the output weights ``R``.
    """

    def __init__(self, work, inputs, t, train, rng):
        if isinstance(inputs, np.ndarray):
            inputs = Inputs(inputs, inputs.dtype)
        self.work, self.inputs, self.t, self.train = work, inputs, t, train
        self.x = inputs.single
        self.dtype = inputs.dtype
        is_loss = bool(getattr(work, "is_loss", False))
        loss_layer = getattr(work, "loss_layer", None) if t is not None else None
        losses = getattr(work, "losses", None) if t is not None else None
        if t is None and is_loss:
            raise ValueError("gradcheck: a loss layer needs targets 't'")
        if is_loss:
            self.kind = "loss"
        elif isinstance(t, dict) or (t is not None and loss_layer is None and isinstance(losses, dict) and losses):
            if not isinstance(losses, dict) or not losses:
                raise ValueError("gradcheck: 't' is a dict but the layer has no 'losses' (dict output name -> "
                                 "loss layer)")
            self.kind = "net-losses"
        elif loss_layer is not None:
            self.kind = "net-loss"
        elif t is not None:
            raise ValueError("gradcheck: 't' given but the layer is neither a loss nor a container with a loss")
        else:
            self.kind = "layer"
        self.loss_layer = loss_layer
        self.losses = dict(losses) if self.kind == "net-losses" else {}
        self.loss_weights = dict(getattr(work, "loss_weights", None) or {})
        self.params = dict(work.params)
        self.hooked = hooked_layers(work)
        self.snapshot = Snapshot(work)
        self.evaluations = 0
        self.R = None
        y0 = self._run_all()
        if _differs(self._run_all(), y0):
            raise RuntimeError(f"{getattr(work, 'name', type(work).__name__)}: forward gives different outputs "
                               f"from the same inputs and state: the layer's random draws are not reproducible "
                               f"from its Generator: pass rng=... and draw only from it (not from np.random or "
                               f"a generator hidden in a helper object)")
        if self.kind == "layer":
            self.R = {k: rng.standard_normal(np.shape(v)).astype(v.dtype if v.dtype.kind == "f" else self.dtype)
                      for k, v in y0.items()}
            for r in self.R.values():
                r.flags.writeable = False
            self.absRy0 = {k: np.abs(self.R[k] * v) for k, v in y0.items()}
        self.y0 = y0
        self.branches0 = self._branches(0)
        self.loss_scale = 0.0
        if self.kind != "layer":
            self.loss_scale = abs(float(y0)) + 1.0
        self._prefix = None

    phase = "forward"
    change_key = 0
    """Positions of the kink-signature entries the last :meth:`phi` changed, summed (tells two entries apart)."""

    def _fwd(self, layer, *args, **kwargs):
        self.phase = "forward"
        return layer.forward(*args, **kwargs)

    def _bwd(self, dout):
        self.phase = "backward"
        return self.work.backward(dout)

    def _bwd_loss(self, dout):
        self.phase = "backward"
        return self.loss_layer.backward(dout)

    @property
    def dout(self):
        """The upstream gradient of a plain layer (``R``, an array or a dict by output name)."""
        return None if self.R is None else from_outputs(self.R)

    def is_input(self, name):
        """True when *name* is one of the checked inputs (not a parameter)."""
        return name in self.inputs.arrays

    # -- running forward ------------------------------------------------------------------------------------

    def _loss_total(self, out):
        """The weighted sum of the losses of a net with several outputs."""
        outs = out if isinstance(out, dict) else {next(iter(self.losses)): out}
        total = 0.0
        for name, loss in self.losses.items():
            if name not in outs:
                raise ValueError(f"gradcheck: the layer has a loss for output {name!r} but forward returned "
                                 f"outputs {sorted(outs)}")
            if name not in self.t:
                raise ValueError(f"gradcheck: argument 't' has no target for output {name!r} "
                                 f"(keys {sorted(self.t)})")
            total += self.loss_weights.get(name, 1.0) * float(loss.forward(outs[name], self.t[name]))
        return np.asarray(total, dtype=np.float64)

    def _finish(self, out):
        """Turn the layers' output into what phi is computed from (a dict of arrays, or the loss as 0-d)."""
        if self.kind == "net-loss":
            return np.asarray(self._fwd(self.loss_layer, out, self.t), dtype=np.float64)
        if self.kind == "net-losses":
            return self._loss_total(out)
        outs = as_outputs(out)  # copies: an output may be a view of x, which the next perturbation changes
        for key, value in outs.items():
            if not np.all(np.isfinite(value)):
                where = f" {key!r}" if key != SINGLE else ""
                raise FloatingPointError(f"gradcheck: forward produced non-finite values in output{where} "
                                         f"({value.size - np.count_nonzero(np.isfinite(value))} of {value.size})")
        return outs

    def _run_all(self):
        self.snapshot.restore()
        self.evaluations += 1
        feed = self.inputs.feed()
        if self.kind == "loss":
            return np.asarray(self._fwd(self.work, feed, self.t), dtype=np.float64)
        return self._finish(self._fwd(self.work, feed, train=self.train))

    def layers_output(self, x=None):
        """The layers' output (before any loss) for the inputs (or the single input replaced by *x*)."""
        self.snapshot.restore()
        self.evaluations += 1
        out = self._fwd(self.work, self.inputs.feed(x), train=self.train)
        return as_outputs(out) if isinstance(out, dict) else np.array(out, copy=True)

    def _setup_prefix(self):
        """Cache each top-level layer's input and the state before it, so a parameter of layer k re-runs k.. only."""
        layers = list(self.work.layers.values())
        self.snapshot.restore()
        inputs, snaps = [], []
        h = self.inputs.feed()
        for layer in layers:
            snaps.append(Snapshot(self.work))
            inputs.append(read_only(np.array(h, copy=True)))
            h = self._fwd(layer, inputs[-1], train=self.train)
        self._prefix = (layers, inputs, snaps)

    def owner_index(self, name):
        """Index of the top-level layer holding parameter *name* (0 when no prefix can be reused).

        Call it before perturbing anything: it caches the prefix activations from the unperturbed state.
        """
        if self.is_input(name) or self.kind in ("loss", "net-losses") or self.x is None \
                or not _is_plain_sequential(self.work):
            return 0
        head = name.split(".", 1)[0]
        names = list(self.work.layers)
        start = names.index(head) if head in names else 0
        if start and self._prefix is None:
            self._setup_prefix()
        return start

    def _run_from(self, start):
        if start == 0:
            return self._run_all()
        layers, inputs, snaps = self._prefix
        snaps[start].restore()
        self.evaluations += 1
        h = inputs[start]
        for layer in layers[start:]:
            h = self._fwd(layer, h, train=self.train)
        return self._finish(h)

    def _branches(self, start):
        return [np.array(layer.kink_branches(), copy=True) for top, layer in self.hooked if top >= start]

    # -- phi ------------------------------------------------------------------------------------------------

    def phi(self, start=0):
        """Evaluate from layer *start* on; return ``(phi, scale, kinked)``.

        ``phi = f - f0``; ``scale`` is the magnitude of the output terms that changed (for the roundoff
        estimate); ``kinked`` counts the entries of the layers' ``kink_branches()`` that differ from the baseline.
        """
        y = self._run_from(start)
        if self.kind == "layer":
            value = scale = 0.0
            for key, y0 in self.y0.items():
                diff = y[key] - y0
                R = self.R[key]
                value += float(np.sum(diff * R))
                scale += float(np.sum(self.absRy0[key][diff != 0])) + float(np.sum(np.abs(diff * R)))
        else:
            value = float(y) - float(self.y0)
            scale = self.loss_scale
        kinked = 0
        self.change_key = 0
        if self.hooked:
            base = self.branches0[len(self.branches0) - sum(1 for top, _ in self.hooked if top >= start):]
            for i, (b, b0) in enumerate(zip(self._branches(start), base)):
                if b.shape != b0.shape:
                    kinked += max(b.size, b0.size, 1)
                    continue
                where = np.flatnonzero(b != b0)
                kinked += len(where)
                self.change_key += int(np.sum(where + 1)) * (i + 1)
        return value, scale, kinked

    def loss_douts(self, out):
        """``dout`` of the layers' outputs for a net with several losses (zeros for outputs without a loss)."""
        outs = as_outputs(out) if isinstance(out, dict) else {next(iter(self.losses)): out}
        douts = {}
        for name, value in outs.items():
            if name in self.losses:
                d = self.losses[name].backward(1.0)
                douts[name] = np.asarray(d) * self.loss_weights.get(name, 1.0)
            else:
                douts[name] = np.zeros_like(value)
        return douts if isinstance(out, dict) else douts[next(iter(self.losses))]

    def analytic(self, dout=None, before=None):
        """Restore, forward and backward with the objective's upstream gradient (or *dout* for a plain layer).

        With *before* (a feed of other inputs), forward first runs on it, then everything proceeds as usual: the
        state is restored, so only caches the layer forgot to overwrite can carry over.

        Returns
        -------
        dx : dict input name -> ndarray or None
        grads : dict name -> ndarray (copies)
        """
        work = self.work
        if before is not None:
            self.snapshot.restore()
            self.evaluations += 1
            if self.kind == "loss":
                self._fwd(work, before, self.t)
            else:
                self._fwd(work, before, train=self.train)
        if self.kind == "net-losses":
            self.snapshot.restore()
            self.evaluations += 1
            out = self._fwd(work, self.inputs.feed(), train=self.train)
            self._loss_total(out)
            self.last_output = out
            douts = self.loss_douts(out)
            if dout is not None:
                douts = {k: v * dout for k, v in douts.items()} if isinstance(douts, dict) else douts * dout
            dx = self._bwd(douts)
        else:
            self._run_all()
            if self.kind == "loss":
                dx = self._bwd(1.0 if dout is None else dout)
            elif self.kind == "net-loss":
                dx = self._bwd(self._bwd_loss(1.0 if dout is None else dout))
            else:
                d = self.dout if dout is None else dout
                dx = self._bwd({k: read_only(v) for k, v in d.items()} if isinstance(d, dict) else read_only(d))
        grads = {k: np.array(v, copy=True) for k, v in work.grads.items()}
        return self.inputs.gradients(dx), grads

    def backward_layers(self, dout):
        """Backward of the layers alone (no loss) with upstream *dout*, after the last forward.

        Returns ``(dx dict, grads)`` as float64 copies; for a loss layer *dout* is the scalar upstream gradient.
        """
        work = self.work
        if self.kind == "loss":
            dx = self._bwd(dout)
        else:
            dx = self._bwd({k: read_only(np.asarray(v)) for k, v in dout.items()} if isinstance(dout, dict)
                               else read_only(np.asarray(dout)))
        grads = {k: np.array(v, dtype=np.float64, copy=True) for k, v in work.grads.items()}
        dx = {k: None if v is None else v.astype(np.float64) for k, v in self.inputs.gradients(dx).items()}
        return dx, grads
