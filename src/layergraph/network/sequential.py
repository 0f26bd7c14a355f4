"""The :class:`Sequential` container: named layers applied in order, optionally followed by a loss layer."""

import numbers
from collections import OrderedDict
from collections.abc import Mapping
from types import MappingProxyType

import numpy as np

from ..errors import ShapeError, describe
from ..layers.composite import Composite, backward_part, set_qualname
from . import draw, lookup, membership, scoring, state
from .carried_state import CarriedStateMixin
from . import predict as _predict
from .packing import flatten_parameters
from .summary import Summary, summary_rows


class Sequential(CarriedStateMixin, membership.OwnedPartsMixin, Composite):
    """An ordered, named chain of layers; itself a :class:`~layergraph.Layer`, so containers nest.

    Parameters
    ----------
    *layers : Layer, or one mapping name -> layer, or one list of (name, layer) pairs
        Unnamed layers are named after their class with a counter: ``Affine1``, ``ReLU1``, ``Affine2``.
    loss : Loss, optional
        The loss layer used by :meth:`loss`, :meth:`gradient` and :meth:`accuracy`.

    Raises
    ------
    ValueError
        A layer added twice to one network, a container added into itself (directly or through nesting), or a
        graph with several outputs; the container is left unchanged.

    Examples
    --------
    >>> net = Sequential(Affine(784, 100), ReLU(), Affine(100, 10), loss=SoftmaxWithLoss())
    >>> net.params["Affine1.W"].shape
    (784, 100)

    Notes
    -----
    ``params``, ``grads`` and ``buffers`` are flat dicts with dotted keys (``"block1.fc1.W"``) built by traversal
    each time they are read; their values are the layers' own arrays, so an in-place change to
    ``net.params["fc1.W"]`` changes the layer.

    ``net[i]`` is the layer at position ``i`` (negative counts from the end) and ``net[a:b]`` a new ``Sequential``
    of those layers, as in PyTorch: a view that shares the layer objects (and their arrays) with ``net``, which
    keeps owning and naming them; the view has no loss layer.
    """

    def __init__(self, *layers, loss=None):
        self._layers = OrderedDict()
        self.name = type(self).__name__
        self.loss_layer = None
        try:
            for name, layer in _named(layers):
                self.add(name, layer)
            if loss is not None:
                self.set_loss(loss)
        except Exception:
            membership.release(self)   # the layers stay free for another container
            raise

    # -- container -------------------------------------------------------------------------------------------

    def add(self, name, layer=None):
        """Append *layer* under *name* (``add(layer)`` names it automatically); return self.

        The container becomes the layer's owner and names it, unless another live network named it first (a layer
        may serve several networks). Refused, leaving the container unchanged: a bad or duplicate name, a layer
        already in this network, a container that holds this one, a graph with several outputs.
        """
        if layer is None and not isinstance(name, str):
            name, layer = None, name
        _check_layer(layer, name, self)
        if name is None:
            name = self._auto_name(layer)
        check_name(self, name)
        if name in self._layers:
            raise ValueError(f"{describe(self)}: duplicate layer name {name!r}; names must be unique")
        membership.check_addable(self, name, layer)
        self._layers[name] = layer
        self._adopt(name, layer)
        return self

    def set_loss(self, loss):
        """Set the loss layer: a :class:`~layergraph.Loss`, or any object with ``forward(x, t)``,
        ``backward(dout=1.0)`` and ``is_loss = True``; return self. Anything else is a TypeError."""
        scoring.check_loss(self, loss, "argument 'loss'")
        self.loss_layer = loss
        set_qualname(loss, self._child_name("loss"))
        return self

    @property
    def layers(self):
        """Read-only ordered mapping name -> layer."""
        return MappingProxyType(self._layers)

    def __getitem__(self, key):
        """The layer named *key* (dotted through nested layers: ``"block1.fc1"``), at position *key* (an int,
        negative from the end), or a view ``Sequential`` of the layers in the slice *key*."""
        if isinstance(key, str):
            return lookup.by_path(self, key)
        if isinstance(key, slice):
            view = Sequential()
            view._layers.update(list(self._layers.items())[key])   # shared, not claimed: self keeps naming them
            return view
        if isinstance(key, numbers.Integral) and not isinstance(key, bool):
            return list(self._layers.values())[lookup.position(self, key)]
        raise TypeError(f"{describe(self)}: key must be a layer name (str), an int or a slice, got "
                        f"{type(key).__name__} {key!r}; layers: {list(self._layers)}")

    def __len__(self):
        return len(self._layers)

    def __iter__(self):
        return iter(self._layers.values())

    def __contains__(self, name):
        return name in self._layers

    # -- parameters, gradients, buffers, state ---------------------------------------------------------------

    def state_dict(self):
        """Copies of every parameter and buffer, keyed by dotted name."""
        return state.state_dict(self)

    def load_state_dict(self, state_dict, strict=True):
        """Copy arrays from *state_dict* into the network's arrays; see :func:`layergraph.network.state.load`."""
        return state.load_state_dict(self, state_dict, strict=strict)

    def flatten_parameters(self):
        """Pack all parameters (and gradients) into one contiguous buffer per dtype, for faster optimizer steps.

        Values, names and ownership are unchanged: each layer's arrays become views into the shared buffers, and
        optimizers then update every parameter in a few large operations. Call it again after ``astype``.
        Returns self.
        """
        return flatten_parameters(self)

    # -- computation -------------------------------------------------------------------------------------------

    def forward(self, x, train=True):
        """Apply every layer in order (not the loss). ``x`` ``(N, ...)``; ``train=False`` is inference."""
        if getattr(x, "ndim", 0) and x.shape[0] == 0:
            raise ShapeError(f"{describe(self)}: argument 'x' is an empty batch (shape {x.shape}); "
                             "give at least one sample")
        shapes = []
        for name, layer in self._layers.items():
            shapes.append(np.shape(x))
            x = layer.forward(x, train=train)
            if not isinstance(x, np.ndarray):
                if isinstance(x, dict):
                    membership.check_one_output(self, name, layer, x)
                raise TypeError(f"{describe(self)}: layer {name!r} ({type(layer).__name__}) returned "
                                f"{type(x).__name__} from forward, expected an array (N, ...)")
        self._input_shapes = shapes
        return x

    def backward(self, dout):
        """Back-propagate ``dout`` (shape of :meth:`forward`'s output) through every layer; return ``dx``.

        When this container's ``requires_input_grad`` is False its first layer may skip ``dx`` (returns None).
        """
        items = list(self._layers.items())
        shapes = self.__dict__.get("_input_shapes")
        shapes = shapes if shapes is not None and len(shapes) == len(items) else [None] * len(items)
        for (name, layer), shape in zip(reversed(items[1:]), reversed(shapes[1:])):
            dout = layer.backward(dout)
            _check_dx(self, name, layer, dout, shape)
        if not items:
            return dout
        dx = backward_part(items[0][1], dout, self.requires_input_grad)
        _check_dx(self, items[0][0], items[0][1], dx, shapes[0])
        return dx

    def predict(self, x, batch_size=None):
        """Inference output ``forward(x, train=False)``, computed in chunks of *batch_size* rows if given (a
        stateful layer carries its state from chunk to chunk, see :func:`layergraph.network.predict.chunked`)."""
        if not _predict.chunked(len(x), batch_size, f"{describe(self)}.predict"):
            return self.forward(x, train=False)
        return np.concatenate([self.forward(x[i:i + batch_size], train=False) for i in range(0, len(x), batch_size)])

    def predict_proba(self, x, batch_size=None):
        """Class probabilities ``(N, C)`` for a softmax or sigmoid head; see :func:`layergraph.network.predict`."""
        return _predict.predict_proba(self, x, batch_size)

    def predict_labels(self, x, batch_size=None, threshold=0.5):
        """Predicted labels ``(N,)`` (``(N, C)`` 0/1 for multi-label sigmoid heads); see ``network.predict``."""
        return _predict.predict_labels(self, x, batch_size, threshold)

    def loss(self, x, t, train=True):
        """Forward through the layers and the loss layer; return the loss (float)."""
        return self._require_loss().forward(self.forward(x, train=train), t)

    def loss_and_gradient(self, x, t):
        """Training forward, loss and backward; return ``(loss, grads)``. The input gradient is not computed."""
        value = self.loss(x, t, train=True)
        dout = self.loss_layer.backward(1.0)
        saved = self.requires_input_grad
        self.requires_input_grad = False
        try:
            self.backward(dout)
        finally:
            self.requires_input_grad = saved
        return value, self.grads

    def gradient(self, x, t):
        """Forward + loss + backward; return :attr:`grads` (dotted names -> the layers' gradient arrays)."""
        return self.loss_and_gradient(x, t)[1]

    def accuracy(self, x, t, batch_size=1000):
        """Fraction of correct predictions in [0, 1]; ``t`` as labels ``(N,)`` or one-hot rows ``(N, C)``.

        Sequence outputs count every position; positions the loss layer ignores (``ignore_index``) are skipped.

        Evaluated in chunks of *batch_size* rows, so large sets need no extra memory.
        """
        return scoring.accuracy(self, lambda i, j: self.forward(x[i:j], train=False), len(x), t, self.loss_layer,
                                batch_size)

    def summary(self, input_shape, dtype=None):
        """A table of each layer's name, class, output shape and parameter count, with the total.

        Parameters
        ----------
        input_shape : int or tuple
            Shape of one sample, without the batch axis, e.g. ``784`` or ``(1, 28, 28)``.
        dtype : dtype, optional
            Of the probe sample of zeros that finds the shapes (default: the parameters' dtype); an integer dtype
            for a network that starts with an ``Embedding``. The network is left as it was.
        """
        shape = (input_shape,) if isinstance(input_shape, int) else tuple(input_shape)
        dtype = dtype or next((p.dtype for p in self.params.values()), np.float32)
        rows, _ = summary_rows(self, np.zeros((1, *shape), dtype=dtype), prefix="")
        return Summary(rows, shape)

    def to_dot(self, input_shape=None, dtype=None):
        """Graphviz DOT text of the chain; output shapes shown when *input_shape* (one sample) is given, found with
        a probe sample of *dtype* as in :meth:`summary` (the network is left as it was)."""
        return draw.to_dot(*draw.chain_records(self, input_shape, dtype), title=self.name)

    def to_mermaid(self, input_shape=None, dtype=None):
        """Mermaid flowchart text of the chain; *input_shape* and *dtype* as in :meth:`to_dot`."""
        return draw.to_mermaid(*draw.chain_records(self, input_shape, dtype))

    # -- helpers -----------------------------------------------------------------------------------------------

    def _parts(self):
        yield from self._layers.items()
        if self.loss_layer is not None:
            yield "loss", self.loss_layer

    def _owned_parts(self):
        """``(name, layer)`` of the layers this container owns (see :mod:`.membership`); not the loss."""
        return self._layers.items()

    def _holds_part(self, name, layer):
        """True when *layer* is this container's layer *name*."""
        return self._layers.get(name) is layer

    def _require_loss(self):
        if self.loss_layer is None:
            raise ValueError(f"{describe(self)} has no loss layer; pass loss=... or call set_loss()")
        return self.loss_layer

    def _auto_name(self, layer):
        base, i = type(layer).__name__, 1
        while f"{base}{i}" in self._layers:
            i += 1
        return f"{base}{i}"


def _named(layers):
    if len(layers) == 1 and isinstance(layers[0], Mapping):
        return list(layers[0].items())
    if len(layers) == 1 and isinstance(layers[0], (list, tuple)):
        items = layers[0]
        if not all(isinstance(i, tuple) and len(i) == 2 and isinstance(i[0], str) for i in items):
            raise TypeError("Sequential: a list argument must hold (name, layer) pairs")
        return list(items)
    return [(None, layer) for layer in layers]


def _check_dx(container, name, layer, dx, shape):
    """Raise when layer *name*'s backward returned something other than None or an array of its input's *shape*."""
    if dx is None or shape is None:
        return
    if np.shape(dx) != shape:
        raise ShapeError(f"{describe(container)}: layer {name!r} ({type(layer).__name__}) returned dx of shape "
                         f"{np.shape(dx)} from backward, expected the shape of its input {shape}")


def _check_layer(layer, name, container):
    if not (callable(getattr(layer, "forward", None)) and callable(getattr(layer, "backward", None))):
        raise TypeError(f"{describe(container)}: {name or 'layer'!r} must be a layer with forward() and backward(), "
                        f"got {type(layer).__name__}")


def check_name(container, name, what="layer"):
    """Raise unless *name* is a valid name of a part of *container* (non-empty str, no ``"."``, not ``"loss"``)."""
    if not isinstance(name, str):
        raise TypeError(f"{describe(container)}: {what} names must be str, got {type(name).__name__}")
    if not name or "." in name or name == "loss":
        raise ValueError(f"{describe(container)}: invalid {what} name {name!r} (non-empty, no '.', and 'loss' is "
                         f"reserved)")
