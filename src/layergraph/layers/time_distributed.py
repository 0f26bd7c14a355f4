"""TimeDistributed: apply one layer to every time step of a sequence."""

import numpy as np

from ..errors import ShapeError, describe, shape_str
from ..gradcheck.registry import register_case
from .affine import Affine
from .composite import Composite, backward_part


class TimeDistributed(Composite):
    """Apply *layer* to every time step by folding time into the batch: ``(N, T, ...) -> (N*T, ...) -> (N, T, ...)``.

    The parameters are the wrapped layer's, shared across steps (keys ``"layer.<key>"``); their gradients sum
    over steps. ``TimeDistributed(Affine(H, C))`` is the usual per-step classifier after a recurrent layer.

    Parameters
    ----------
    layer : Layer
        Any layer taking ``(batch, ...)``; a layer that mixes samples (BatchNorm) sees all steps as one batch.

    Shapes
    ------
    x : ``(N, T, ...)``; y : ``(N, T, ...)`` with the wrapped layer's per-sample output shape.
    """

    def __init__(self, layer):
        if not (callable(getattr(layer, "forward", None)) and callable(getattr(layer, "backward", None))):
            raise TypeError(f"TimeDistributed: 'layer' must be a layer with forward() and backward(), "
                            f"got {type(layer).__name__}")
        self.layer = layer
        self._set_qualname(type(self).__name__)
        self._nt = None
        self._x_shape = None

    def _parts(self):
        yield "layer", self.layer

    def forward(self, x, train=True):
        x = np.asarray(x)
        if x.ndim < 3:
            raise ShapeError(f"{describe(self)}: argument 'x' must be laid out as (N, T, ...), "
                             f"got an array of shape {shape_str(x.shape)}")
        n, t = x.shape[:2]
        y = self.layer.forward(x.reshape(n * t, *x.shape[2:]), train=train)
        y = np.asarray(y)
        self._nt, self._x_shape = (n, t), x.shape
        return y.reshape(n, t, *y.shape[1:])

    def backward(self, dout):
        n, t = self._cached(self._nt)
        dout = np.asarray(dout)
        if dout.ndim < 2 or dout.shape[:2] != (n, t):
            raise ShapeError(f"{describe(self)}: argument 'dout' must start with (N, T) = ({n}, {t}), "
                             f"got shape {shape_str(dout.shape)}")
        dx = backward_part(self.layer, dout.reshape(n * t, *dout.shape[2:]), self.requires_input_grad)
        if dx is None or not self.requires_input_grad:
            return None
        return np.asarray(dx).reshape(self._x_shape)

    def extra_repr(self):
        return repr(self.layer)


@register_case(TimeDistributed, "affine")
def _td_affine(rng):
    return TimeDistributed(Affine(3, 2, dtype=np.float64, rng=rng)), rng.standard_normal((2, 4, 3)), None
