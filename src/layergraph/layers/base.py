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

    def get_rng_state(self):
        """The state of the layer's own random generator, or None when it draws no random numbers.

        A layer that draws random numbers while it runs (Dropout masks, noise) keeps its
        ``numpy.random.Generator`` in the attribute ``rng``; this returns ``self.rng.bit_generator.state`` (a dict
        of strings, ints and arrays). Checkpoints store it, and :meth:`set_rng_state` puts it back, so that a
        resumed run draws the same numbers. A layer keeping its generator elsewhere overrides both methods.
        """
        gen = getattr(self, "rng", None)
        return gen.bit_generator.state if isinstance(gen, np.random.Generator) else None

    def set_rng_state(self, state):
        """Restore a state returned by :meth:`get_rng_state`; nothing changes when it does not fit.

        Raises
        ------
        ValueError
            The layer has no generator in ``rng``, or *state* is not a state of its bit generator (one line, naming
            the layer).
        """
        gen = getattr(self, "rng", None)
        if not isinstance(gen, np.random.Generator):
            raise ValueError(f"{describe(self)}: set_rng_state: the layer has no random generator (attribute 'rng')")
        bit_gen = gen.bit_generator
        try:
            type(bit_gen)(0).state = state  # a throwaway generator first: a bad state changes nothing
        except (TypeError, ValueError, KeyError, IndexError, OverflowError, AttributeError) as err:
            text = str(err).splitlines()[0] if str(err) else type(err).__name__
            raise ValueError(f"{describe(self)}: set_rng_state: argument 'state' must be a "
                             f"{type(bit_gen).__name__} state dict, got one it rejects ({text})") from None
        bit_gen.state = state

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
