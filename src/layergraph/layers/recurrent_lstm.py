"""Long short-term memory layer (Hochreiter & Schmidhuber 1997), PyTorch's gate layout."""

import numpy as np
from scipy.special import expit

from ..gradcheck.registry import register_case
from .recurrent_base import _RecurrentBase, check_real, stateful_probe


class LSTM(_RecurrentBase):
    """LSTM over a batch-first sequence, with backpropagation through time.

    With gate pre-activations ``a_t = x_t Wx + h_{t-1} Wh + b`` split into four blocks of ``H`` columns in the
    order input, forget, cell, output (PyTorch's ``i, f, g, o``)::

        i = sigmoid(a_i)   f = sigmoid(a_f)   g = tanh(a_g)   o = sigmoid(a_o)
        c_t = f * c_{t-1} + i * g
        h_t = o * tanh(c_t)

    The initial state ``(h_0, c_0)`` is zero (or, with ``stateful=True``, the state the previous forward ended in).

    Parameters
    ----------
    input_size, hidden_size : int
        ``D`` and ``H``.
    return_sequences : bool, default True
        Return every hidden state ``(N, T, H)``; when False only the last one ``(N, H)``.
    stateful : bool, default False
        Carry ``(h, c)`` from the end of one forward call to the start of the next (truncated backpropagation
        through time); :meth:`reset_state` forgets it. A different batch size resets it with a warning.
    forget_bias : float, default 0.0
        Initial value of the forget gate's block of ``b`` (1.0 is a common choice for long sequences).
    init : {"uniform", "orthogonal"}, default "uniform"
        Every parameter is drawn uniform on ``[-1/sqrt(H), 1/sqrt(H)]`` like PyTorch; ``"orthogonal"`` makes each
        gate block of ``Wh`` an orthogonal matrix instead.
    dtype : floating dtype, default float32
    rng : int or numpy.random.Generator, optional
        Source of the initial weights.

    Shapes
    ------
    x : ``(N, T, D)``; y : ``(N, T, H)`` or ``(N, H)``. Params ``Wx (D, 4H)``, ``Wh (H, 4H)``, ``b (4H,)``.
    """

    blocks = 4
    state_names = ("h", "c")

    def __init__(self, input_size, hidden_size, return_sequences=True, stateful=False, *, forget_bias=0.0,
                 init="uniform", dtype=np.float32, rng=None):
        super().__init__(input_size, hidden_size, return_sequences, stateful, init=init, dtype=dtype, rng=rng)
        self.forget_bias = check_real(forget_bias, "forget_bias", type(self).__name__)
        self._init_weights()
        h = self.hidden_size
        self.params["b"][h:2 * h] = self.forget_bias

    def _run(self, x_tm, state0):
        t, n, _ = x_tm.shape
        h = self.hidden_size
        p = self.params
        gates = (x_tm.reshape(t * n, -1) @ p["Wx"]).reshape(t, n, 4 * h)
        gates += p["b"]
        hs = np.empty((t + 1, n, h), dtype=gates.dtype)
        cs = np.empty((t + 1, n, h), dtype=gates.dtype)
        tanh_c = np.empty((t, n, h), dtype=gates.dtype)
        hs[0], cs[0] = state0
        tmp = np.empty((n, 4 * h), dtype=gates.dtype)
        ig = tmp[:, :h]
        wh = p["Wh"]
        for s in range(t):
            a = gates[s]
            np.matmul(hs[s], wh, out=tmp)
            a += tmp
            expit(a[:, :2 * h], out=a[:, :2 * h])
            np.tanh(a[:, 2 * h:3 * h], out=a[:, 2 * h:3 * h])
            expit(a[:, 3 * h:], out=a[:, 3 * h:])
            c = cs[s + 1]
            np.multiply(a[:, h:2 * h], cs[s], out=c)
            np.multiply(a[:, :h], a[:, 2 * h:3 * h], out=ig)
            c += ig
            np.tanh(c, out=tanh_c[s])
            np.multiply(a[:, 3 * h:], tanh_c[s], out=hs[s + 1])
        self._cache = (x_tm, gates, hs, cs, tanh_c)
        return hs[1:], (hs[t], cs[t])

    def _bptt(self, dh_tm):
        x_tm, gates, hs, cs, tanh_c = self._cache
        t, n, h = dh_tm.shape
        i, f, g, o = (gates[:, :, k * h:(k + 1) * h] for k in range(4))
        # everything that does not depend on the recursion, computed over all steps at once
        q = np.empty((t, n, 3, h), dtype=gates.dtype)
        np.multiply(g, i * (1 - i), out=q[:, :, 0])             # d a_i / d c
        np.multiply(cs[:-1], f * (1 - f), out=q[:, :, 1])       # d a_f / d c
        np.multiply(i, 1 - g * g, out=q[:, :, 2])               # d a_g / d c
        dc_dh = o * (1 - tanh_c * tanh_c)                       # d c_t / d h_t (through h = o tanh c)
        do_dh = tanh_c * o * (1 - o)                            # d a_o / d h_t
        f = np.ascontiguousarray(f)
        dg = np.empty_like(gates)
        wh_t = np.ascontiguousarray(self.params["Wh"].T)
        dh = np.empty((n, h), dtype=gates.dtype)
        dc = np.empty((n, h), dtype=gates.dtype)
        dh_next = np.zeros((n, h), dtype=gates.dtype)
        dc_next = np.zeros((n, h), dtype=gates.dtype)
        for s in range(t - 1, -1, -1):
            d = dg[s]
            np.add(dh_tm[s], dh_next, out=dh)
            np.multiply(dh, dc_dh[s], out=dc)
            dc += dc_next
            np.multiply(dh, do_dh[s], out=d[:, 3 * h:])
            np.multiply(q[s], dc[:, None, :], out=d[:, :3 * h].reshape(n, 3, h))
            np.multiply(dc, f[s], out=dc_next)
            np.matmul(d, wh_t, out=dh_next)
        return self._weight_grads(x_tm, hs[:-1], dg)

    def extra_repr(self):
        extra = f", forget_bias={self.forget_bias}" if self.forget_bias else ""
        return super().extra_repr() + extra


@register_case(LSTM, "sequences")
def _lstm_seq(rng):
    return LSTM(3, 4, forget_bias=1.0, dtype=np.float64, rng=rng), rng.standard_normal((2, 3, 3)), None


@register_case(LSTM, "last-state")
def _lstm_last(rng):
    layer = LSTM(2, 3, return_sequences=False, init="orthogonal", dtype=np.float64, rng=rng)
    return layer, rng.standard_normal((3, 4, 2)), None


@register_case(LSTM, "stateful")
def _lstm_stateful(rng):
    layer = LSTM(3, 3, stateful=True, dtype=np.float64, rng=rng)
    return stateful_probe(layer, rng, 2, 3), rng.standard_normal((2, 2, 3)), None


@register_case(LSTM, "one-step")
def _lstm_one_step(rng):
    return LSTM(2, 3, dtype=np.float64, rng=rng), rng.standard_normal((1, 1, 2)), None
