"""The :class:`Sequential` container: named layers applied in order, optionally followed by a loss layer."""

from collections import OrderedDict
from collections.abc import Mapping
from types import MappingProxyType

import numpy as np

from ..errors import ShapeError, describe
from ..layers.base import Loss
from ..layers.composite import Composite, backward_part, set_qualname
from . import draw, state
from .packing import flatten_parameters
from .summary import Summary, summary_rows


class Sequential(Composite):
    """An ordered, named chain of layers; itself a :class:`~layergraph.Layer`, so containers nest.

    Parameters
    ----------
    *layers : Layer, or one mapping name -> layer, or one list of (name, layer) pairs
        Unnamed layers are named after their class with a counter: ``Affine1``, ``ReLU1``, ``Affine2``.
    loss : Loss, optional
        The loss layer used by :meth:`loss`, :meth:`gradient` and :meth:`accuracy`.

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
    """

    def __init__(self, *layers, loss=None):
        self._layers = OrderedDict()
        self.name = type(self).__name__
        self.loss_layer = None
        for name, layer in _named(layers):
            self.add(name, layer)
        if loss is not None:
            self.set_loss(loss)

    # -- container -------------------------------------------------------------------------------------------

    def add(self, name, layer=None):
        """Append *layer* under *name* (``add(layer)`` names it automatically); return self."""
        if layer is None and not isinstance(name, str):
            name, layer = None, name
        _check_layer(layer, name)
        if name is None:
            name = self._auto_name(layer)
        _check_name(name)
        if name in self._layers:
            raise ValueError(f"{describe(self)}: duplicate layer name {name!r}; names must be unique")
        if any(layer is other for other in self._walk()):
            raise ValueError(f"{describe(self)}: layer {name!r} is already in this network (one owner per layer)")
        self._layers[name] = layer
        set_qualname(layer, self._child_name(name))
        return self

    def set_loss(self, loss):
        """Set the loss layer (a :class:`~layergraph.Loss` or anything with ``forward(x, t)``/``backward``)."""
        _check_layer(loss, "loss")
        self.loss_layer = loss
        set_qualname(loss, self._child_name("loss"))
        return self

    @property
    def layers(self):
        """Read-only ordered mapping name -> layer."""
        return MappingProxyType(self._layers)

    def __getitem__(self, key):
        if isinstance(key, int):
            return list(self._layers.values())[key]
        return super().__getitem__(key)

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
        for layer in self._layers.values():
            x = layer.forward(x, train=train)
        return x

    def backward(self, dout):
        """Back-propagate ``dout`` (shape of :meth:`forward`'s output) through every layer; return ``dx``.

        When this container's ``requires_input_grad`` is False its first layer may skip ``dx`` (returns None).
        """
        layers = list(self._layers.values())
        for layer in reversed(layers[1:]):
            dout = layer.backward(dout)
        if not layers:
            return dout
        return backward_part(layers[0], dout, self.requires_input_grad)

    def predict(self, x, batch_size=None):
        """Inference output ``forward(x, train=False)``, computed in chunks of *batch_size* rows if given."""
        if batch_size is None or len(x) <= batch_size:
            return self.forward(x, train=False)
        return np.concatenate([self.forward(x[i:i + batch_size], train=False) for i in range(0, len(x), batch_size)])

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
        if len(x) != len(t):
            raise ShapeError(f"{describe(self)}.accuracy: 'x' has {len(x)} samples but 't' has {len(t)}")
        judge = self.loss_layer if isinstance(self.loss_layer, Loss) else Loss()
        correct = total = 0
        for i in range(0, len(x), batch_size):
            pred = judge.predicted_labels(self.forward(x[i:i + batch_size], train=False))
            true = judge.target_labels(t[i:i + batch_size])
            hit = pred == true.reshape(pred.shape)
            keep = getattr(judge, "valid_mask", lambda _: None)(t[i:i + batch_size])
            if keep is not None:  # positions whose target is ignore_index (padding) are not counted
                hit &= keep.reshape(pred.shape)
            correct += int(np.count_nonzero(hit))
            total += pred.size if keep is None else int(np.count_nonzero(keep))
        return correct / total if total else 0.0

    def summary(self, input_shape, dtype=None):
        """A table of each layer's name, class, output shape and parameter count, with the total.

        Parameters
        ----------
        input_shape : int or tuple
            Shape of one sample, without the batch axis, e.g. ``784`` or ``(1, 28, 28)``.
        """
        shape = (input_shape,) if isinstance(input_shape, int) else tuple(input_shape)
        dtype = dtype or next((p.dtype for p in self.params.values()), np.float32)
        rows, _ = summary_rows(self, np.zeros((1, *shape), dtype=dtype), prefix="")
        return Summary(rows, shape)

    def to_dot(self, input_shape=None):
        """Graphviz DOT text of the chain; output shapes shown when *input_shape* (one sample) is given."""
        return draw.to_dot(*draw.chain_records(self, input_shape), title=self.name)

    def to_mermaid(self, input_shape=None):
        """Mermaid flowchart text of the chain; output shapes shown when *input_shape* is given."""
        return draw.to_mermaid(*draw.chain_records(self, input_shape))

    # -- helpers -----------------------------------------------------------------------------------------------

    def _parts(self):
        yield from self._layers.items()
        if self.loss_layer is not None:
            yield "loss", self.loss_layer

    def _walk(self):
        for _, layer in self._parts():
            yield layer
            if isinstance(layer, Sequential):
                yield from layer._walk()

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


def _check_layer(layer, name):
    if not (callable(getattr(layer, "forward", None)) and callable(getattr(layer, "backward", None))):
        raise TypeError(f"Sequential: {name or 'layer'!r} must be a layer with forward() and backward(), "
                        f"got {type(layer).__name__}")


def _check_name(name):
    if not isinstance(name, str):
        raise TypeError(f"Sequential: layer names must be str, got {type(name).__name__}")
    if not name or "." in name or name == "loss":
        raise ValueError(f"Sequential: invalid layer name {name!r} (non-empty, no '.', and 'loss' is reserved)")
