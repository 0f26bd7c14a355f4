"""What RNN, LSTM and GRU share: arguments, initialisation, input checks and the carried-state protocol.

Carried state protocol
----------------------
A layer that carries state across forward calls (``stateful=True``) defines:

* ``get_state()`` -> a snapshot of the carried state (arrays, a tuple of arrays, or None when nothing is carried);
  the caller deep-copies it if it keeps it;
* ``set_state(state)`` restores a snapshot returned by ``get_state`` (None clears it);
* ``reset_state()`` forgets the state: the next forward starts from zeros.

The carried state is not in ``params``, not in ``buffers`` and not in ``state_dict``: its shape depends on the batch
size, and it belongs to a run, not to the model.
"""

import math
import numbers
import warnings

import numpy as np

from ..errors import ShapeError, describe, shape_str
from ..gradcheck.registry import register_case
from .._blas_threads import step_threads
from ._workspace import Workspace
from .base import Layer
from .init import as_float_dtype, as_generator, check_positive_int

INITS = ("uniform", "orthogonal")

def orthogonal(gen, n, dtype):
    """An ``(n, n)`` orthogonal matrix drawn uniformly (QR of a Gaussian matrix with the sign fix)."""
    q, r = np.linalg.qr(gen.standard_normal((n, n)))
    q *= np.sign(np.diag(r))
    return q.astype(dtype)


class _RecurrentBase(Layer):
    """Base class of the recurrent layers; subclasses set ``blocks`` (gates per step) and implement the cell.

    Subclasses implement ``_run(x_st, state0)`` and ``_bptt(dh_st)`` on time-major arrays whose last two axes
    follow ``step_layout``: ``"NF"`` (the default) gives steps ``(T, N, D)`` and ``(T, N, H)``; ``"FN"`` gives
    ``(T, D, N)`` and ``(T, H, N)``, so that each gate block of one step is one contiguous ``(H, N)`` array.
    ``_run`` gets the input in the layer dtype and the initial state as ``(N, H)`` arrays; it returns the hidden
    states and the final carried state as ``(N, H)`` arrays. ``_bptt`` gets the output gradient, fills
    ``self.grads`` and returns ``dx`` (or None).
    """

    blocks = 1
    state_names = ("h",)
    step_layout = "NF"

    def __init__(self, input_size, hidden_size, return_sequences=True, stateful=False, *, init="uniform",
                 dtype=np.float32, rng=None):
        super().__init__()
        owner = type(self).__name__
        self.input_size = check_positive_int(input_size, "input_size", owner)
        self.hidden_size = check_positive_int(hidden_size, "hidden_size", owner)
        for arg, value in (("return_sequences", return_sequences), ("stateful", stateful)):
            if not isinstance(value, (bool, np.bool_)):
                raise TypeError(f"{owner}: {arg!r} must be a bool, got {type(value).__name__}")
        self.return_sequences = bool(return_sequences)
        self.stateful = bool(stateful)
        if init not in INITS:
            raise ValueError(f"{owner}: 'init' must be one of {INITS}, got {init!r}")
        self.init = init
        self.dtype = as_float_dtype(dtype, owner)
        self._gen = as_generator(rng, owner)
        self._state = None
        self._cache = None

    # -- initialisation ---------------------------------------------------------------------------------------

    def _uniform(self, shape):
        bound = 1.0 / math.sqrt(self.hidden_size)
        return self._gen.uniform(-bound, bound, shape).astype(self.dtype)

    def _init_weights(self, bias_keys=("b",)):
        d, h, k = self.input_size, self.hidden_size, self.blocks
        params = {"Wx": self._uniform((d, k * h))}
        if self.init == "orthogonal":
            params["Wh"] = np.concatenate([orthogonal(self._gen, h, self.dtype) for _ in range(k)], axis=1)
        else:
            params["Wh"] = self._uniform((h, k * h))
        for key in bias_keys:
            params[key] = self._uniform((k * h,))
        self.params = params
        self.grads = {key: np.zeros_like(v) for key, v in params.items()}
        del self._gen  # only needed at construction; the layer draws nothing afterwards

    # -- carried state ----------------------------------------------------------------------------------------

    def get_state(self):
        """The carried state: None, or a tuple of arrays ``(N, H)`` (``(h,)``, or ``(h, c)`` for LSTM)."""
        return self._state

    def set_state(self, state):
        """Restore a snapshot from :meth:`get_state` (None forgets the state)."""
        if state is None:
            self._state = None
            return
        state = tuple(np.asarray(s) for s in state)
        if len(state) != len(self.state_names) or any(
                s.ndim != 2 or s.shape[1] != self.hidden_size for s in state):
            raise ShapeError(f"{describe(self)}: argument 'state' must be {len(self.state_names)} array(s) "
                             f"(N, {self.hidden_size}), got shapes {[shape_str(np.shape(s)) for s in state]}")
        self._state = tuple(np.array(s, dtype=self.params["Wh"].dtype) for s in state)

    def reset_state(self):
        """Forget the carried state: the next forward starts from zero."""
        self._state = None

    def astype(self, dtype):
        super().astype(dtype)
        if self._state is not None:
            self._state = tuple(s.astype(self.dtype) for s in self._state)
        return self

    # -- forward / backward -----------------------------------------------------------------------------------

    def _buffer(self, name, shape, dtype):
        """A work array reused across calls while its shape and dtype stay the same (no fresh pages each step)."""
        store = self.__dict__.get("_work")
        if store is None:
            store = self._work = Workspace()
        return store.get(name, shape, dtype)

    def _check_input(self, x):
        x = np.asarray(x)
        if x.ndim != 3 or x.shape[2] != self.input_size:
            raise ShapeError(f"{describe(self)}: argument 'x' must be laid out as (N, T, D) with D = "
                             f"{self.input_size}, got an array of shape {shape_str(x.shape)}")
        self._check_batch(x)
        if x.shape[1] == 0:
            raise ShapeError(f"{describe(self)}: argument 'x' must have at least one time step, "
                             f"got shape {shape_str(x.shape)}")
        return x

    def _initial_state(self, n, dtype):
        state = self._state if self.stateful else None
        if state is not None and state[0].shape[0] != n:
            warnings.warn(f"{describe(self)}: batch size changed from {state[0].shape[0]} to {n}; "
                          f"the carried state is reset to zero", RuntimeWarning, stacklevel=3)
            state = None
        if state is None:
            state = tuple(np.zeros((n, self.hidden_size), dtype=dtype) for _ in self.state_names)
        return state

    def forward(self, x, train=True):
        """Run the sequence ``x`` ``(N, T, D)``; return ``(N, T, H)`` or, without ``return_sequences``, ``(N, H)``."""
        x = self._check_input(x)
        dtype = self.params["Wh"].dtype
        n, t = x.shape[:2]
        state0 = self._initial_state(n, dtype)
        to_steps, from_steps = self._axes()
        x_st = self._to_steps(x, to_steps, dtype)
        with step_threads(n, self.hidden_size, self.blocks):
            hs, final = self._run(x_st, state0)
        if self.stateful:
            self._state = tuple(np.array(s, copy=True) for s in final)
        self._cache_shape = (n, t)
        if self.return_sequences:
            return hs.transpose(from_steps).copy()   # never a view of the reused work arrays (N = 1, T = 1)
        return hs[-1:].transpose(from_steps)[:, 0].copy()

    def _to_steps(self, x, to_steps, dtype):
        """The input ``(N, T, D)`` in step order (``to_steps``) and the layer dtype, in a reused work array."""
        x_st = self._buffer("x", tuple(x.shape[a] for a in to_steps), dtype)
        np.copyto(x_st, x.transpose(to_steps), casting="unsafe")
        return x_st

    def _axes(self):
        """Axis orders ``(N, T, F) -> steps`` and ``steps -> (N, T, F)`` for :attr:`step_layout`."""
        return ((1, 0, 2), (1, 0, 2)) if self.step_layout == "NF" else ((1, 2, 0), (2, 0, 1))

    def backward(self, dout):
        """Backpropagation through the whole sequence (the carried initial state is a constant)."""
        self._cached(self._cache)
        n, t = self._cache_shape
        h = self.hidden_size
        dout = self._check_dout(dout, (n, t, h) if self.return_sequences else (n, h))
        dtype = self.params["Wh"].dtype
        to_steps, from_steps = self._axes()
        dh_st = self._buffer("dh", tuple((n, t, h)[a] for a in to_steps), dtype)
        if self.return_sequences:
            np.copyto(dh_st, dout.transpose(to_steps), casting="unsafe")
        else:
            dh_st[:-1] = 0
            np.copyto(dh_st[-1:], dout[:, None].transpose(to_steps), casting="unsafe")
        with step_threads(n, h, self.blocks):
            dx_st = self._bptt(dh_st)
        if dx_st is None:
            return None
        return np.ascontiguousarray(dx_st.transpose(from_steps))

    def _weight_grads(self, x_tm, h_prev, dg, bias_keys=("b",)):
        """One GEMM each for ``dWx`` (over all steps) and ``dWh`` (over the stacked previous states)."""
        t, n, _ = x_tm.shape
        dg2 = dg.reshape(t * n, -1)
        np.matmul(x_tm.reshape(t * n, -1).T, dg2, out=self.grads["Wx"])
        np.matmul(h_prev.reshape(t * n, -1).T, dg2, out=self.grads["Wh"])
        for key in bias_keys:
            np.sum(dg2, axis=0, out=self.grads[key])
        if not self.requires_input_grad:
            return None
        return (dg2 @ self.params["Wx"].T).reshape(t, n, self.input_size)

    def _weight_grads_fn(self, x_st, h_prev, dg, bias_keys=("b",), order=None):
        """:meth:`_weight_grads` for the ``"FN"`` layout: ``x_st (T, D, N)``, ``h_prev (T, H, N)``, ``dg (T, G, N)``.

        The steps are gathered feature-major once (``[x; h; 1]`` as ``(D + H + 1, T*N)`` and ``dg`` as
        ``(G, T*N)``), so ``dWx``, ``dWh`` and the bias gradient (the row of ones) are one GEMM over all steps;
        ``dx`` comes back laid out ``(T, N, D)`` in memory. When the gate blocks of ``dg`` are stored in another
        order than the parameters' columns, ``order[k]`` is the block of ``dg`` that holds parameter block ``k``.
        """
        t, g, n = dg.shape
        d, hs = x_st.shape[1], h_prev.shape[1]
        dg2 = self._buffer("dg_fn", (g, t, n), dg.dtype)
        order = (0,) if order is None else order      # (0,): all of dg as one block, in its own order
        size = g // len(order)
        for k, src in enumerate(order):
            np.copyto(dg2[k * size:(k + 1) * size], dg[:, src * size:(src + 1) * size].transpose(1, 0, 2))
        dg2 = dg2.reshape(g, t * n)
        xh = self._buffer("xh_fn", (d + hs + 1, t, n), dg.dtype)
        np.copyto(xh[:d], x_st.transpose(1, 0, 2))
        np.copyto(xh[d:d + hs], h_prev.transpose(1, 0, 2))
        xh[d + hs] = 1.0
        dw = xh.reshape(-1, t * n) @ dg2.T
        np.copyto(self.grads["Wx"], dw[:d])
        np.copyto(self.grads["Wh"], dw[d:d + hs])
        for key in bias_keys:
            np.copyto(self.grads[key], dw[d + hs])
        if not self.requires_input_grad:
            return None
        return (dg2.T @ self.params["Wx"].T).reshape(t, n, d).transpose(0, 2, 1)

    def extra_repr(self):
        extra = "" if self.return_sequences else ", return_sequences=False"
        extra += ", stateful=True" if self.stateful else ""
        return f"{self.input_size}, {self.hidden_size}{extra}, dtype={self.dtype}"


def check_real(value, arg, owner):
    """Return *value* as a finite float or raise a one-line TypeError / ValueError."""
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise TypeError(f"{owner}: {arg!r} must be a float, got {type(value).__name__}")
    if not math.isfinite(value):
        raise ValueError(f"{owner}: {arg!r} must be finite, got {value}")
    return float(value)


class _CarriedStateProbe(Layer):
    """Gradient-check probe for a stateful layer: restores one carried state before every forward.

    Built from a layer that already carries a (non-zero) state from a warm-up call, so the check covers the
    gradients of a chunk that starts from a carried state, however many times the checker runs forward.
    """

    def __init__(self, layer):
        self.layer = layer
        self.saved = layer.get_state()
        self.params = layer.params
        self.grads = layer.grads

    def forward(self, x, train=True):
        n, rows = self.saved[0].shape[0], np.shape(x)[0]
        copies = rows // n if rows % n == 0 else 1   # copies of the batch stacked by the checker share the state
        self.layer.set_state(tuple(np.tile(s, (copies, 1)) for s in self.saved))
        return self.layer.forward(x, train)

    def backward(self, dout):
        self.layer.requires_input_grad = self.requires_input_grad
        return self.layer.backward(dout)

    def astype(self, dtype):
        self.layer.astype(dtype)
        self.saved = tuple(np.asarray(s, dtype=dtype) for s in self.saved)
        self.params, self.grads = self.layer.params, self.layer.grads
        return self


def stateful_probe(layer, rng, n, t):
    """Warm *layer* (``stateful=True``) up on a random chunk and wrap it in a :class:`_CarriedStateProbe`."""
    layer.forward(rng.standard_normal((n, t, layer.input_size)))
    return _CarriedStateProbe(layer)


def register_common_cases(cls, prefix="", **kwargs):
    """Register the gradient-check cases every recurrent layer shares, labelled ``{prefix}sequences``,
    ``{prefix}last-state`` and ``stateful``: every hidden state; only the last one (orthogonal ``Wh``); a chunk
    starting from a carried state. *kwargs* go to the layer of the first case."""

    @register_case(cls, f"{prefix}sequences")
    def _sequences(rng):
        return cls(3, 4, dtype=np.float64, rng=rng, **kwargs), rng.standard_normal((2, 3, 3)), None

    @register_case(cls, f"{prefix}last-state")
    def _last_state(rng):
        layer = cls(2, 3, return_sequences=False, init="orthogonal", dtype=np.float64, rng=rng)
        return layer, rng.standard_normal((3, 4, 2)), None

    @register_case(cls, "stateful")
    def _stateful(rng):
        layer = cls(3, 3, stateful=True, dtype=np.float64, rng=rng)
        return stateful_probe(layer, rng, 2, 3), rng.standard_normal((2, 2, 3)), None
