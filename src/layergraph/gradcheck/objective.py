"""The scalar a check differentiates, evaluated from a restored state every time.

* a plain layer: ``f = sum(forward(x) * R)`` with a fixed random ``R`` (standard normal, never all-ones);
* a loss layer: ``f = loss(x, t)``;
* a container with a loss layer and targets: ``f = loss(forward(x), t)``.

Numeric derivatives use *differences* of evaluations, ``phi = f(perturbed) - f(baseline)`` computed as
``sum(R * (y - y0))`` for plain layers, so outputs the perturbation does not reach cancel exactly.
"""

import numpy as np

from .state import Snapshot


def read_only(array):
    """A read-only view of *array* (the layer under check may not write into what it is given)."""
    view = array.view()
    view.flags.writeable = False
    return view


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


class Objective:
    """Evaluate the checked scalar on a working copy of a layer.

    Parameters
    ----------
    work : Layer
        The working copy (already in the numeric dtype); it is perturbed and run many times.
    x : ndarray, shape (N, ...)
        Working copy of the input, in the numeric dtype.
    t : ndarray or None
        Targets, for loss layers and containers with a loss.
    train : bool
        Passed to forward.
    rng : numpy.random.Generator
        Draws the output weights ``R``.
    """

    def __init__(self, work, x, t, train, rng):
        self.work, self.x, self.t, self.train = work, x, t, train
        self.dtype = x.dtype
        is_loss = bool(getattr(work, "is_loss", False))
        loss_layer = getattr(work, "loss_layer", None) if t is not None else None
        if t is None and is_loss:
            raise ValueError("gradcheck: a loss layer needs targets 't'")
        if t is not None and not is_loss and loss_layer is None:
            raise ValueError("gradcheck: 't' given but the layer is neither a loss nor a container with a loss")
        self.kind = "loss" if is_loss else ("net-loss" if loss_layer is not None else "layer")
        self.loss_layer = loss_layer
        self.params = dict(work.params)
        self.hooked = hooked_layers(work)
        self.snapshot = Snapshot(work)
        self.evaluations = 0
        self.R = None
        y0 = self._run_all()
        if self.kind == "layer":
            self.R = rng.standard_normal(np.shape(y0)).astype(self.dtype)
            self.R.flags.writeable = False
            self.absRy0 = np.abs(self.R * y0)
        self.y0 = y0
        self.branches0 = self._branches(0)
        self.loss_scale = 0.0
        if self.kind != "layer":
            self.loss_scale = abs(float(y0)) + 1.0
        self._prefix = None

    # -- running forward ------------------------------------------------------------------------------------

    def _finish(self, out):
        """Turn the layers' output into what phi is computed from (an array, or the loss as a 0-d array)."""
        if self.kind == "net-loss":
            return np.asarray(self.loss_layer.forward(out, self.t), dtype=np.float64)
        out = np.array(out, copy=True)  # the output may be a view of x, which the next perturbation changes
        if not np.all(np.isfinite(out)):
            raise FloatingPointError(f"gradcheck: forward produced non-finite values ({out.size - np.count_nonzero(np.isfinite(out))} of {out.size})")
        return out

    def _run_all(self, x=None):
        self.snapshot.restore()
        self.evaluations += 1
        x = read_only(self.x if x is None else x)
        if self.kind == "loss":
            return np.asarray(self.work.forward(x, self.t), dtype=np.float64)
        return self._finish(self.work.forward(x, train=self.train))

    def layers_output(self, x):
        """The layers' output (before any loss) for input *x*, from the restored state."""
        self.snapshot.restore()
        self.evaluations += 1
        return np.array(self.work.forward(read_only(x), train=self.train), copy=True)

    def _setup_prefix(self):
        """Cache each top-level layer's input and the state before it, so a parameter of layer k re-runs k.. only."""
        layers = list(self.work.layers.values())
        self.snapshot.restore()
        inputs, snaps = [], []
        h = read_only(self.x)
        for layer in layers:
            snaps.append(Snapshot(self.work))
            inputs.append(read_only(np.array(h, copy=True)))
            h = layer.forward(inputs[-1], train=self.train)
        self._prefix = (layers, inputs, snaps)

    def owner_index(self, name):
        """Index of the top-level layer holding parameter *name* (0 when no prefix can be reused).

        Call it before perturbing anything: it caches the prefix activations from the unperturbed state.
        """
        if name == "x" or self.kind == "loss" or not _is_plain_sequential(self.work):
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
            h = layer.forward(h, train=self.train)
        return self._finish(h)

    def _branches(self, start):
        return [np.array(layer.kink_branches(), copy=True) for top, layer in self.hooked if top >= start]

    # -- phi ------------------------------------------------------------------------------------------------

    def phi(self, start=0):
        """Evaluate from layer *start* on; return ``(phi, scale, kinked)``.

        ``phi = f - f0``; ``scale`` is the magnitude of the output terms that changed (for the roundoff
        estimate); ``kinked`` is True when a layer's ``kink_branches()`` differs from the baseline.
        """
        y = self._run_from(start)
        if self.kind == "layer":
            diff = y - self.y0
            value = float(np.sum(diff * self.R))
            scale = float(np.sum(self.absRy0[diff != 0])) + float(np.sum(np.abs(diff * self.R)))
        else:
            value = float(y) - float(self.y0)
            scale = self.loss_scale
        kinked = False
        if self.hooked:
            base = self.branches0[len(self.branches0) - sum(1 for top, _ in self.hooked if top >= start):]
            kinked = any(b.shape != b0.shape or np.any(b != b0) for b, b0 in zip(self._branches(start), base))
        return value, scale, kinked

    def analytic(self, dout=None):
        """Restore, forward and backward with the objective's upstream gradient (or *dout* for a plain layer).

        Returns
        -------
        dx : ndarray or None
        grads : dict name -> ndarray (copies)
        """
        self._run_all()
        work = self.work
        if self.kind == "loss":
            dx = work.backward(1.0 if dout is None else dout)
        elif self.kind == "net-loss":
            dx = work.backward(self.loss_layer.backward(1.0 if dout is None else dout))
        else:
            dx = work.backward(read_only(self.R if dout is None else dout))
        grads = {k: np.array(v, copy=True) for k, v in work.grads.items()}
        return (None if dx is None else np.array(dx, copy=True)), grads
