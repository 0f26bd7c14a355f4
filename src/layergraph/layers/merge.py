"""Merge layers: layers whose input is a list of arrays (the joins of a :class:`~layergraph.Graph`).

A merge layer subclasses :class:`Merge`: ``forward(xs, train=True)`` takes a list of arrays and returns one array;
``backward(dout)`` returns a list with one gradient per input, in the order of ``xs``. Shapes must agree exactly
(except along :class:`Concat`'s axis): there is no silent broadcasting.
"""

import numbers

import numpy as np

from ..errors import ShapeError, describe, shape_str
from ..gradcheck.registry import register_case
from .base import Layer


class Merge(Layer):
    """Base class of layers that join several inputs into one output.

    Subclasses implement ``forward(xs, train=True)`` (``xs`` a list of at least two arrays ``(N, ...)``) and
    ``backward(dout)`` returning a list of gradients, one per input. The helpers :meth:`_inputs` and
    :meth:`_check_equal_shapes` give the uniform checks and one-line errors.

    Attributes
    ----------
    takes_list : bool
        Always True: a :class:`~layergraph.Graph` gives this layer a list of node outputs.
    """

    takes_list = True
    min_inputs = 2

    def _inputs(self, xs):
        """``xs`` as a list of arrays, checking it is a list/tuple of at least :attr:`min_inputs` arrays."""
        if isinstance(xs, np.ndarray) or not isinstance(xs, (list, tuple)):
            raise TypeError(f"{describe(self)}: argument 'xs' must be a list of arrays, got {type(xs).__name__}")
        if len(xs) < self.min_inputs:
            raise ValueError(f"{describe(self)}: argument 'xs' must hold at least {self.min_inputs} arrays, "
                             f"got {len(xs)}")
        return [np.asarray(x) for x in xs]

    def _check_equal_shapes(self, xs):
        shapes = [x.shape for x in xs]
        if any(s != shapes[0] for s in shapes[1:]):
            raise ShapeError(f"{describe(self)}: inputs must have equal shapes, got "
                             + ", ".join(shape_str(s) for s in shapes))
        return shapes[0]


class Add(Merge):
    """Element-wise sum ``y = x_1 + ... + x_k``; every input's gradient is ``dout`` itself."""

    def __init__(self):
        super().__init__()
        self._shape = None
        self._count = 0

    def forward(self, xs, train=True):
        xs = self._inputs(xs)
        self._shape = self._check_equal_shapes(xs)
        self._count = len(xs)
        out = xs[0] + xs[1]
        for x in xs[2:]:
            out += x
        return out

    def backward(self, dout):
        dout = self._check_dout(dout, self._cached(self._shape))
        return [dout] * self._count


class Average(Add):
    """Element-wise mean ``y = (x_1 + ... + x_k) / k``; every input's gradient is ``dout / k``."""

    def forward(self, xs, train=True):
        out = super().forward(xs, train)
        out *= self._scale(out.dtype)
        return out

    def backward(self, dout):
        dout = self._check_dout(dout, self._cached(self._shape))
        return [dout * self._scale(dout.dtype)] * self._count

    def _scale(self, dtype):
        return dtype.type(1.0 / self._count) if dtype.kind == "f" else 1.0 / self._count


class Multiply(Merge):
    """Element-wise product ``y = x_1 * ... * x_k``; input ``i`` gets ``dout`` times the product of the others."""

    def __init__(self):
        super().__init__()
        self._xs = None

    def forward(self, xs, train=True):
        xs = self._inputs(xs)
        self._check_equal_shapes(xs)
        self._xs = xs
        out = xs[0] * xs[1]
        for x in xs[2:]:
            out *= x
        return out

    def backward(self, dout):
        xs = self._cached(self._xs)
        dout = self._check_dout(dout, xs[0].shape)
        grads = []
        for i in range(len(xs)):
            g = None
            for j, x in enumerate(xs):
                if j != i:
                    g = dout * x if g is None else np.multiply(g, x, out=g)
            grads.append(g)
        return grads


class Concat(Merge):
    """Concatenation along *axis* (counted with the batch axis: ``axis=1`` is the channel/feature axis).

    Parameters
    ----------
    axis : int, default 1
        Negative values count from the end (``-1``: the last axis). It may not resolve to the batch axis 0.
        Inputs must agree on every other axis. ``backward`` returns views of ``dout`` split along the axis.
    """

    def __init__(self, axis=1):
        super().__init__()
        if not isinstance(axis, numbers.Integral) or isinstance(axis, bool):
            raise TypeError(f"Concat: 'axis' must be an int, got {type(axis).__name__}")
        if axis == 0:
            raise ValueError("Concat: 'axis' must not be the batch axis 0")
        self.axis = int(axis)
        self._splits = None
        self._shape = None

    def extra_repr(self):
        return f"axis={self.axis}"

    def forward(self, xs, train=True):
        xs = self._inputs(xs)
        ndim = xs[0].ndim
        ax = self.axis + ndim if self.axis < 0 else self.axis
        shapes = [x.shape for x in xs]
        if not 0 < ax < ndim or any(len(s) != ndim for s in shapes) or \
                any(s[:ax] + s[ax + 1:] != shapes[0][:ax] + shapes[0][ax + 1:] for s in shapes):
            raise ShapeError(f"{describe(self)}: inputs must agree on every axis but axis {self.axis} (which must "
                             f"exist and not be the batch axis), got " + ", ".join(shape_str(s) for s in shapes))
        self._splits = np.cumsum([s[ax] for s in shapes])[:-1]
        out = np.concatenate(xs, axis=ax)
        self._shape, self._ax = out.shape, ax
        return out

    def backward(self, dout):
        dout = self._check_dout(dout, self._cached(self._shape))
        return np.split(dout, self._splits, axis=self._ax)


# -- gradient-check cases ----------------------------------------------------------------------------------------

@register_case(Add, "three-inputs")
def _add3(rng):
    return Add(), [rng.standard_normal((3, 4)) for _ in range(3)], None


@register_case(Average, "two-inputs-4d")
def _avg2(rng):
    return Average(), [rng.standard_normal((2, 3, 2, 2)) for _ in range(2)], None


@register_case(Multiply, "three-inputs")
def _mul3(rng):
    return Multiply(), [rng.standard_normal((3, 4)) for _ in range(3)], None


@register_case(Concat, "channels")
def _concat_channels(rng):
    return Concat(1), [rng.standard_normal((2, c, 3, 3)) for c in (1, 2, 3)], None


@register_case(Concat, "last-axis")
def _concat_last(rng):
    return Concat(-1), [rng.standard_normal((3, 2, k)) for k in (2, 4)], None
