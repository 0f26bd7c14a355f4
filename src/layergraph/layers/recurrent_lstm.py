"""Long short-term memory layer (Hochreiter & Schmidhuber 1997), PyTorch's gate layout."""

import numpy as np

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
        dt = p["Wh"].dtype
        # sigmoid(a) = 1 / (1 + exp(-a)) for all four blocks at once, with tanh(a_g) = 2 sigmoid(2 a_g) - 1:
        # the weights are scaled by -1 (and -2 for the cell block) so one exp covers every gate
        scale = np.full(4 * h, -1.0, dtype=dt)
        scale[2 * h:3 * h] = -2.0
        gates = self._buffer("gates", (t, n, 4 * h), dt)
        np.matmul(x_tm.reshape(t * n, -1), p["Wx"] * scale, out=gates.reshape(t * n, 4 * h))
        gates += p["b"] * scale
        wh = p["Wh"] * scale
        hs = self._buffer("h", (t + 1, n, h), dt)
        cs = self._buffer("c", (t + 1, n, h), dt)
        tanh_c = self._buffer("tanh_c", (t, n, h), dt)
        hs[0], cs[0] = state0
        tmp = np.empty((n, 4 * h), dtype=dt)
        ig = tmp[:, :h]
        with np.errstate(over="ignore"):   # exp overflows to inf for saturated gates: 1 / (1 + inf) = 0 exactly
            for s in range(t):
                a = gates[s]
                np.matmul(hs[s], wh, out=tmp)
                a += tmp
                np.exp(a, out=a)
                a += 1.0
                np.reciprocal(a, out=a)
                g = a[:, 2 * h:3 * h]
                g *= 2.0
                g -= 1.0
                c = cs[s + 1]
                np.multiply(a[:, h:2 * h], cs[s], out=c)
                np.multiply(a[:, :h], g, out=ig)
                c += ig
                np.tanh(c, out=tanh_c[s])
                np.multiply(a[:, 3 * h:], tanh_c[s], out=hs[s + 1])
        self._cache = (x_tm, gates, hs, cs, tanh_c)
        return hs[1:], (hs[t], cs[t])

    def _bptt(self, dh_tm):
        x_tm, gates, hs, cs, tanh_c = self._cache
        t, n, h = dh_tm.shape
        dt = gates.dtype
        dg = self._buffer("dgates", (t, n, 4 * h), dt)
        wh_t = np.ascontiguousarray(self.params["Wh"].T)
        dh = np.empty((n, h), dtype=dt)
        dc = np.empty((n, h), dtype=dt)
        tmp = np.empty((n, h), dtype=dt)
        dh_next = np.zeros((n, h), dtype=dt)
        dc_next = np.zeros((n, h), dtype=dt)
        for s in range(t - 1, -1, -1):
            a, d, tc = gates[s], dg[s], tanh_c[s]
            i, f, g, o = a[:, :h], a[:, h:2 * h], a[:, 2 * h:3 * h], a[:, 3 * h:]
            d_i, d_f, d_g, d_o = d[:, :h], d[:, h:2 * h], d[:, 2 * h:3 * h], d[:, 3 * h:]
            np.add(dh_tm[s], dh_next, out=dh)
            np.subtract(1.0, a, out=d)                 # sigmoid'(a) = s (1 - s) for i, f, o
            d *= a
            np.multiply(g, g, out=d_g)                 # tanh'(a_g) = 1 - g^2
            np.subtract(1.0, d_g, out=d_g)
            d_i *= g                                   # d c / d a_i = g i (1 - i)
            d_f *= cs[s]                               # d c / d a_f = c_{t-1} f (1 - f)
            d_g *= i                                   # d c / d a_g = i (1 - g^2)
            d_o *= tc                                  # d h / d a_o = tanh(c) o (1 - o)
            d_o *= dh
            np.multiply(tc, tc, out=tmp)               # d h / d c = o (1 - tanh(c)^2)
            np.subtract(1.0, tmp, out=tmp)
            tmp *= o
            np.multiply(dh, tmp, out=dc)
            dc += dc_next
            d[:, :3 * h].reshape(n, 3, h)[...] *= dc[:, None, :]
            np.multiply(dc, f, out=dc_next)
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
