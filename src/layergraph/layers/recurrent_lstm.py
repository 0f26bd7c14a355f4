"""Long short-term memory layer (Hochreiter & Schmidhuber 1997), PyTorch's gate layout."""

import numpy as np

from ..gradcheck.registry import register_case
from .recurrent_base import _RecurrentBase, check_real, register_common_cases


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
    step_layout = "FN"

    def __init__(self, input_size, hidden_size, return_sequences=True, stateful=False, *, forget_bias=0.0,
                 init="uniform", dtype=np.float32, rng=None):
        super().__init__(input_size, hidden_size, return_sequences, stateful, init=init, dtype=dtype, rng=rng)
        self.forget_bias = check_real(forget_bias, "forget_bias", type(self).__name__)
        self._init_weights()
        h = self.hidden_size
        self.params["b"][h:2 * h] = self.forget_bias

    def _run(self, x_st, state0):
        t, _, n = x_st.shape
        h = self.hidden_size
        p = self.params
        dt = p["Wh"].dtype
        # sigmoid(a) = 1 / (1 + exp(-a)) for all four blocks at once, with tanh(a_g) = 2 sigmoid(2 a_g) - 1:
        # the weights are scaled by -1 (and -2 for the cell block) so one exp covers every gate
        scale = np.full((4 * h, 1), -1.0, dtype=dt)
        scale[2 * h:3 * h] = -2.0
        gates = self._buffer("gates", (t, 4 * h, n), dt)              # step s: one (4H, N) array, gate-major
        np.matmul(p["Wx"].T * scale, x_st, out=gates)
        gates += p["b"][:, None] * scale
        wh_t = p["Wh"].T * scale
        hs = self._buffer("h", (t + 1, h, n), dt)
        cs = self._buffer("c", (t + 1, h, n), dt)
        tanh_c = self._buffer("tanh_c", (t, h, n), dt)
        hs[0], cs[0] = state0[0].T, state0[1].T
        tmp = np.empty((4 * h, n), dtype=dt)
        ig = tmp[:h]
        with np.errstate(over="ignore"):   # exp overflows to inf for saturated gates: 1 / (1 + inf) = 0 exactly
            for s in range(t):
                a = gates[s]
                np.matmul(wh_t, hs[s], out=tmp)
                a += tmp
                np.exp(a, out=a)
                a += 1.0
                np.reciprocal(a, out=a)
                i, f, g, o = a[:h], a[h:2 * h], a[2 * h:3 * h], a[3 * h:]
                g *= 2.0
                g -= 1.0
                np.multiply(f, cs[s], out=cs[s + 1])
                np.multiply(i, g, out=ig)
                cs[s + 1] += ig
                np.tanh(cs[s + 1], out=tanh_c[s])
                np.multiply(o, tanh_c[s], out=hs[s + 1])
        self._cache = (x_st, gates, hs, cs, tanh_c)
        return hs[1:], (hs[t].T, cs[t].T)

    def _local_grads(self, gates, cs, tanh_c):
        """Per-step factors of backpropagation through time that do not depend on the incoming gradient.

        Returns ``k`` ``(T, 4H, N)``, the derivatives of ``c_t`` (blocks i, f, g) and of ``h_t`` (block o) with
        respect to the gate pre-activations, and ``k_c`` ``(T, H, N)`` = d h_t / d c_t, for all steps at once.
        """
        h = self.hidden_size
        i, f, g, o = (gates[:, j * h:(j + 1) * h] for j in range(4))
        k = self._buffer("dgates", gates.shape, gates.dtype)
        np.subtract(1.0, gates, out=k)                 # sigmoid'(a) = s (1 - s) for i, f, o
        k *= gates
        k[:, :h] *= g                                  # d c / d a_i = g i (1 - i)
        k[:, h:2 * h] *= cs[:-1]                       # d c / d a_f = c_{t-1} f (1 - f)
        k_g = k[:, 2 * h:3 * h]
        np.multiply(g, g, out=k_g)                     # d c / d a_g = i (1 - g^2)
        np.subtract(1.0, k_g, out=k_g)
        k_g *= i
        k[:, 3 * h:] *= tanh_c                         # d h / d a_o = tanh(c) o (1 - o)
        k_c = self._buffer("k_c", tanh_c.shape, gates.dtype)
        np.multiply(tanh_c, tanh_c, out=k_c)           # d h / d c = o (1 - tanh(c)^2)
        np.subtract(1.0, k_c, out=k_c)
        k_c *= o
        return k, k_c

    def _bptt(self, dh_st):
        x_st, gates, hs, cs, tanh_c = self._cache
        dg, k_c = self._local_grads(gates, cs, tanh_c)   # dg holds the factors; the loop scales them in place
        self._bptt_loop(dh_st, gates, dg, k_c)
        return self._weight_grads_fn(x_st, hs[:-1], dg)

    def _bptt_loop(self, dh_st, gates, dg, k_c):
        """Scale the factors ``dg`` into the gate pre-activation gradients, last step first."""
        t, h, n = dh_st.shape
        dt = dg.dtype
        wh = self.params["Wh"]
        dh = np.empty((h, n), dtype=dt)
        dc = np.empty((h, n), dtype=dt)
        dh_next = np.zeros((h, n), dtype=dt)
        dc_next = np.zeros((h, n), dtype=dt)
        for s in range(t - 1, -1, -1):
            d = dg[s]
            np.add(dh_st[s], dh_next, out=dh)
            d[3 * h:] *= dh                            # d a_o
            np.multiply(k_c[s], dh, out=dc)
            dc += dc_next                              # d c_t, through h_t and c_{t+1}
            d[:3 * h].reshape(3, h, n)[...] *= dc      # d a_i, d a_f, d a_g
            if s:
                np.multiply(gates[s, h:2 * h], dc, out=dc_next)
                np.matmul(wh, d, out=dh_next)

    def extra_repr(self):
        extra = f", forget_bias={self.forget_bias}" if self.forget_bias else ""
        return super().extra_repr() + extra


register_common_cases(LSTM, forget_bias=1.0)


@register_case(LSTM, "one-step")
def _lstm_one_step(rng):
    return LSTM(2, 3, dtype=np.float64, rng=rng), rng.standard_normal((1, 1, 2)), None
