"""The layer protocol: :class:`Layer` and :class:`Loss`.

A layer maps a batch-first array ``x`` of shape ``(N, ...)`` to ``y`` in :meth:`Layer.forward` and maps the upstream
gradient ``dout`` (shape of ``y``) to ``dx`` (shape of ``x``) in :meth:`Layer.backward`, using what ``forward``
cached. Trainable arrays live in ``layer.params`` and their gradients in ``layer.grads`` (same keys and shapes);
non-trainable state such as running statistics lives in ``layer.buffers``.
"""

import numpy as np

from ..errors import CallOrderError, NonFiniteError, ShapeError, describe, shape_str

_LAZY_DICTS = ("params", "grads", "buffers")


class Layer:
    """Base class of every layer.

    A subclass that defines only ``forward`` and ``backward`` is a complete layer: the base supplies empty
    ``params``, ``grads`` and ``buffers`` dicts, a ``name``, ``astype`` and ``repr``.

    Attributes
    ----------
    params : dict[str, ndarray]
        Trainable arrays, owned by the layer. Optimizers update them in place.
    grads : dict[str, ndarray]
        Gradients of the loss with respect to ``params``; same keys and shapes. ``backward`` overwrites them.
    buffers : dict[str, ndarray]
        Non-trainable state (e.g. running statistics); saved in ``state_dict``, never touched by optimizers.
    name : str
        The layer's qualified name in its container (``"block1.fc1"``); the class name until it is added to one.
    requires_input_grad : bool
        When False the layer may skip computing ``dx`` and return None from ``backward``. A container sets it on
        its first layer while training, when nobody uses the gradient with respect to the network's input.
    """

    requires_input_grad = True

    def __init__(self):
        self.params = {}
        self.grads = {}
        self.buffers = {}

    def __getattr__(self, attr):
        # Only reached when normal lookup fails: subclasses that never call Layer.__init__ still get the dicts.
        if attr in _LAZY_DICTS:
            value = {}
            object.__setattr__(self, attr, value)
            return value
        if attr == "name":
            return type(self).__name__
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {attr!r}")

    def forward(self, x, train=True):
        """Compute the output for a batch ``x`` of shape ``(N, ...)``; ``train=False`` is inference."""
        raise NotImplementedError(f"{describe(self)} does not define forward()")

    def backward(self, dout):
        """Given ``dout = dL/dy`` (shape of the last output), set ``self.grads`` and return ``dL/dx``."""
        raise NotImplementedError(f"{describe(self)} does not define backward()")

    def __call__(self, x, train=True):
        return self.forward(x, train=train)

    def astype(self, dtype):
        """Cast every floating parameter, gradient and buffer to *dtype* in place of the old arrays; return self."""
        dtype = np.dtype(dtype)
        for store in (self.params, self.grads, self.buffers):
            for key, value in store.items():
                if np.issubdtype(value.dtype, np.floating) and value.dtype != dtype:
                    store[key] = value.astype(dtype)
        if hasattr(type(self), "dtype") or "dtype" in vars(self):
            self.dtype = dtype
        return self

    def extra_repr(self):
        """Text shown inside ``repr(layer)``'s parentheses; override to show hyperparameters."""
        return ""

    def __repr__(self):
        return f"{type(self).__name__}({self.extra_repr()})"

    # -- helpers for subclasses ---------------------------------------------------------------------------------

    def _cached(self, value, what="forward"):
        """Return *value* (something forward cached) or raise if forward has not run."""
        if value is None:
            raise CallOrderError(f"{describe(self)}: backward() called before {what}()")
        return value

    def _check_batch(self, x):
        """Raise a ShapeError naming the layer when ``x`` is an empty batch (``x.shape[0] == 0``)."""
        if x.ndim >= 1 and x.shape[0] == 0:
            raise ShapeError(f"{describe(self)}: argument 'x' is an empty batch (shape {shape_str(x.shape)}); "
                             "give at least one sample")

    def _check_dout(self, dout, shape):
        """Return ``dout`` as an array, checking that its shape equals the last output's *shape*."""
        dout = np.asarray(dout)
        if dout.shape != tuple(shape):
            raise ShapeError(
                f"{describe(self)}: argument 'dout' must have the shape of the last output "
                f"{shape_str(shape)}, got {shape_str(dout.shape)}"
            )
        return dout

    def _check_ndim(self, x, ndims, layout, arg="x"):
        """Raise a ShapeError naming the expected *layout* unless ``x.ndim`` is in *ndims*."""
        if x.ndim not in ndims:
            raise ShapeError(
                f"{describe(self)}: argument {arg!r} must be laid out as {layout}, "
                f"got an array of shape {shape_str(x.shape)}"
            )


class Loss(Layer):
    """Base class of loss layers: ``forward(x, t) -> float`` (mean over the batch) and ``backward(dout=1.0) -> dx``.

    Loss layers also say how network outputs and targets turn into labels for accuracy
    (:meth:`predicted_labels`, :meth:`target_labels`).
    """

    is_loss = True

    def forward(self, x, t):
        raise NotImplementedError(f"{describe(self)} does not define forward()")

    def backward(self, dout=1.0):
        raise NotImplementedError(f"{describe(self)} does not define backward()")

    def __call__(self, x, t):
        return self.forward(x, t)

    def predicted_labels(self, y):
        """Labels predicted from network outputs ``y`` ``(N, C)``: the arg-max over classes."""
        return np.argmax(y, axis=-1)

    def target_labels(self, t):
        """Labels from targets: integer labels ``(N,)`` as they are, one-hot / probability rows by arg-max."""
        t = np.asarray(t)
        return t if t.ndim == 1 else np.argmax(t, axis=-1)

    def _check_finite_input(self, x):
        """Raise NonFiniteError naming the layer if ``x`` holds NaN or infinity (a sum first: no allocation)."""
        if np.isfinite(np.sum(x)) or np.all(np.isfinite(x)):
            return x
        bad = int(np.size(x) - np.count_nonzero(np.isfinite(x)))
        raise NonFiniteError(f"{describe(self)}: argument 'x' has {bad} non-finite value(s) "
                             f"(NaN or infinity) among {np.size(x)}, shape {shape_str(np.shape(x))}")
