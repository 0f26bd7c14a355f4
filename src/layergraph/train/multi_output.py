"""Training networks with several outputs: the weighted loss as one loss layer, and per-output metrics."""

import numpy as np

from ..errors import describe


class WeightedLosses:
    """The loss of a network with several outputs, as one loss layer over dicts.

    ``forward(y, t)`` takes dicts output name -> array and returns ``sum(weights[o] * losses[o](y[o], t[o]))``
    (per-output values in :attr:`last`); ``backward(1.0)`` returns the dict of output gradients, zeros for outputs
    without a loss.

    Parameters
    ----------
    net : Graph
        Supplies ``outputs``, ``losses`` and ``loss_weights``.
    """

    def __init__(self, net):
        self.net = net
        self.last = {}
        self._ys = {}

    def forward(self, y, t):
        net = self.net
        if not isinstance(y, dict):
            y = {net.outputs[0]: y}
        targets = net._targets(t)
        self._ys = {o: (np.shape(v), np.asarray(v).dtype) for o, v in y.items()}
        self.last = {o: float(net.losses[o].forward(y[o], tt)) for o, tt in targets.items()}
        return float(sum(net.loss_weights.get(o, 1.0) * v for o, v in self.last.items()))

    def backward(self, dout=1.0):
        net, out = self.net, {}
        for o in net.outputs:
            if o in net.losses:
                d = net.losses[o].backward(dout)
                w = net.loss_weights.get(o, 1.0)
                out[o] = d if w == 1.0 else d * np.asarray(w, dtype=np.asarray(d).dtype)
            else:
                shape, dtype = self._ys[o]
                out[o] = np.zeros(shape, dtype=dtype)
        return out if len(net.outputs) > 1 else out[net.outputs[0]]


def training_loss(net):
    """The loss layer the trainer drives: ``net.loss_layer``, or :class:`WeightedLosses` for several outputs."""
    layer = getattr(net, "loss_layer", None)
    if layer is None and getattr(net, "losses", None):
        return WeightedLosses(net)
    return layer


def check_trainable(net):
    """Raise unless *net* has a loss layer (or per-output losses) and a ``forward`` method."""
    if training_loss(net) is None or not callable(getattr(net, "forward", None)):
        raise ValueError(f"Trainer: 'net' must be a network with a loss layer, got {describe(net)} "
                         "without one (pass loss=... to Sequential, or call set_loss on a Graph)")


def per_output(fn, output):
    """A metric ``fn(y, t)`` applied to one output of dict outputs/targets (with ``fn.weight`` passed on)."""
    def metric(y, t):
        return fn(y[output], t[output])
    metric.__name__ = f"{output}_{getattr(fn, '__name__', type(fn).__name__)}"
    weight = getattr(fn, "weight", None)
    if callable(weight):
        metric.weight = lambda t: weight(t[output])
    return metric
