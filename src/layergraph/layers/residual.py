"""Residual connection: a composite layer ``y = x + block(x)`` or ``y = projection(x) + block(x)``."""

import numpy as np

from ..errors import ShapeError, describe, shape_str
from ..gradcheck.registry import register_case
from .composite import Composite, backward_part

class Residual(Composite):
    """Residual connection ``y = block(x) + skip(x)``, with ``skip`` the identity or a ``projection`` layer.

    Backward adds the two paths: ``dx = block.backward(dout) + (dout or projection.backward(dout))``.
    Both parts may be any layer, including a :class:`~layergraph.Sequential`.

    Parameters
    ----------
    block : Layer
        The residual branch; its output must have the shape of the skip path's output.
    projection : Layer, optional
        Applied on the skip path (e.g. a 1x1 :class:`Conv2D` with stride 2 when the block changes the shape).

    Notes
    -----
    ``params``, ``grads`` and ``buffers`` are flat dicts rebuilt on every read whose keys are the parts' keys
    prefixed by ``"block."`` or ``"projection."`` (``"block.conv1.W"`` for a ``Sequential`` block, ``"block.W"``
    for a single layer) and whose values are the parts' own arrays. Inside a container under the name ``"res"``
    they appear as ``"res.block.conv1.W"``, and the parts are named ``"res.block"`` and ``"res.projection"``.
    ``res["block.conv1"]`` looks a sub-layer up.
    """

    def __init__(self, block, projection=None):
        for arg, part in (("block", block), ("projection", projection)):
            if part is None and arg == "projection":
                continue
            if not (callable(getattr(part, "forward", None)) and callable(getattr(part, "backward", None))):
                raise TypeError(f"Residual: {arg!r} must be a layer with forward() and backward(), "
                                f"got {type(part).__name__}")
        if block is projection:
            raise ValueError("Residual: 'block' and 'projection' must be different layer objects")
        self.block = block
        self.projection = projection
        self._set_qualname(type(self).__name__)
        self._shape = None

    def _parts(self):
        yield "block", self.block
        if self.projection is not None:
            yield "projection", self.projection

    # -- computation -------------------------------------------------------------------------------------------

    def forward(self, x, train=True):
        x = np.asarray(x)
        out = self.block.forward(x, train=train)
        skip = x if self.projection is None else self.projection.forward(x, train=train)
        if np.shape(out) != np.shape(skip):
            what = "the input" if self.projection is None else "the projection's output"
            raise ShapeError(f"{describe(self)}: the block's output {shape_str(np.shape(out))} must have the shape "
                             f"of {what} {shape_str(np.shape(skip))}")
        self._shape = np.shape(out)
        if isinstance(out, np.ndarray) and out.dtype.kind == "f" and np.result_type(out, skip) != out.dtype:
            return out + np.asarray(skip, dtype=out.dtype)   # the block's dtype, as the layers cast their input
        return out + skip

    def backward(self, dout):
        shape = self._cached(self._shape)
        dout = self._check_dout(dout, shape)
        need = self.requires_input_grad
        d_block = backward_part(self.block, dout, need)
        d_skip = dout if self.projection is None else backward_part(self.projection, dout, need)
        if not need:
            return None
        return d_block + d_skip


@register_case(Residual, "identity")
def _res_identity(rng):
    from ..network import Sequential
    from .activations import Tanh
    from .affine import Affine

    block = Sequential([("fc1", Affine(5, 4, dtype=np.float64, rng=rng)), ("act", Tanh()),
                        ("fc2", Affine(4, 5, dtype=np.float64, rng=rng))])
    return Residual(block), rng.standard_normal((3, 5)), None


@register_case(Residual, "conv-projection")
def _res_projection(rng):
    from ..network import Sequential
    from .activations import Tanh
    from .conv import Conv2D

    block = Sequential([("conv1", Conv2D(2, 3, 3, stride=2, pad=1, dtype=np.float64, rng=rng)), ("act", Tanh()),
                        ("conv2", Conv2D(3, 3, 3, pad=1, dtype=np.float64, rng=rng))])
    projection = Conv2D(2, 3, 1, stride=2, dtype=np.float64, rng=rng)
    return Residual(block, projection), rng.standard_normal((2, 2, 4, 4)), None
