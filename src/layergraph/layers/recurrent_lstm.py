"""Long short-term memory layer (Hochreiter & Schmidhuber 1997), PyTorch's gate layout."""

import numpy as np

from ..gradcheck.registry import register_case
from .recurrent_base import _RecurrentBase, check_real, register_common_cases


#: Gate blocks of a step's work arrays, as blocks of the parameters (i, f, g, o = 0, 1, 2, 3): o, i, f, g, so the
#: three sigmoid gates are contiguous and so are the three blocks that scale with the cell gradient.
STEP_ORDER = (3, 0, 1, 2)
#: Where each parameter block sits in the step order.
PARAM_BLOCKS = tuple(STEP_ORDER.index(k) for k in range(4))


def step_columns(w, h):
    """A C-ordered copy of ``w (..., 4H)`` with its gate blocks in step order."""
    return np.concatenate([w[..., k * h:(k + 1) * h] for k in STEP_ORDER], axis=-1)


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

    def _to_steps(self, x, to_steps, dtype):
        """``x`` as ``(T, D + 1, N)``: each step feature-major, with a row of ones that carries the bias through the
        input product."""
        n, t, d = x.shape
        x_st = self._buffer("x1", (t, d + 1, n), dtype)
        np.copyto(x_st[:, :d], x.transpose(to_steps), casting="unsafe")
        x_st[:, d] = 1.0
        return x_st

    def _step_weights(self):
        """``[Wx; b]^T`` ``(4H, D + 1)`` and ``Wh^T`` ``(4H, H)`` with the gate blocks in step order (o, i, f, g) and
        the sigmoid blocks halved: ``sigmoid(a) = (1 + tanh(a / 2)) / 2``, so one ``tanh`` covers every gate.

        ``[Wx; b]^T`` is a transposed view of a C-ordered copy (it takes part in one product); ``Wh^T``, used by
        every step's product, is C-ordered: built block by block by a scaling, transposing copy (about 0.07 ms),
        it makes each step's ``(4H, H) x (H, N)`` product faster than a transposed view would (about 21 against
        24 us on the benchmark's shape, with OpenBLAS's AVX-512 kernels)."""
        h = self.hidden_size
        p = self.params
        scale = np.full(4 * h, 0.5, dtype=p["Wh"].dtype)
        scale[3 * h:] = 1.0
        wxb = step_columns(np.concatenate([p["Wx"], p["b"][None]]), h)
        wxb *= scale
        wh_t = np.empty((4 * h, h), dtype=p["Wh"].dtype)
        for j, k in enumerate(STEP_ORDER):
            np.multiply(p["Wh"][:, k * h:(k + 1) * h].T, scale[j * h], out=wh_t[j * h:(j + 1) * h])
        return wxb.T, wh_t

    def _run(self, x_st, state0):
        t, _, n = x_st.shape
        h = self.hidden_size
        dt = self.params["Wh"].dtype
        wxb, wh_s = self._step_weights()
        gates = self._buffer("gates", (t, 4 * h, n), dt)     # step s: one (4H, N) array, blocks o, i, f, g
        np.matmul(wxb, x_st, out=gates)
        hs = self._buffer("h", (t + 1, h, n), dt)
        cs = self._buffer("c", (t + 1, h, n), dt)
        tanh_c = self._buffer("tanh_c", (t, h, n), dt)
        hs[0], cs[0] = state0[0].T, state0[1].T
        tmp = np.empty((4 * h, n), dtype=dt)
        ig = tmp[:h]
        for s in range(t):
            a = gates[s]
            np.matmul(wh_s, hs[s], out=tmp)
            a += tmp
            np.tanh(a, out=a)
            sig = a[:3 * h]
            sig *= 0.5
            sig += 0.5
            o, i, f, g = a[:h], a[h:2 * h], a[2 * h:3 * h], a[3 * h:]
            np.multiply(f, cs[s], out=cs[s + 1])
            np.multiply(i, g, out=ig)
            cs[s + 1] += ig
            np.tanh(cs[s + 1], out=tanh_c[s])
            np.multiply(o, tanh_c[s], out=hs[s + 1])
        self._cache = (x_st, gates, hs, cs, tanh_c)
        return hs[1:], (hs[t].T, cs[t].T)

    def _local_grads(self, gates, cs, tanh_c):
        """Per-step factors of backpropagation through time that do not depend on the incoming gradient.

        Returns ``k`` ``(T, 4H, N)`` in step order, the derivatives of ``h_t`` (block o) and of ``c_t`` (blocks i,
        f, g) with respect to the gate pre-activations, and ``k_c`` ``(T, H, N)`` = d h_t / d c_t, for all steps
        at once.
        """
        h = self.hidden_size
        o, i, f, g = (gates[:, j * h:(j + 1) * h] for j in range(4))
        k = self._buffer("dgates", gates.shape, gates.dtype)
        np.subtract(1.0, gates, out=k)                 # sigmoid'(a) = s (1 - s) for o, i, f
        k *= gates
        k[:, :h] *= tanh_c                             # d h / d a_o = tanh(c) o (1 - o)
        k[:, h:2 * h] *= g                             # d c / d a_i = g i (1 - i)
        k[:, 2 * h:3 * h] *= cs[:-1]                   # d c / d a_f = c_{t-1} f (1 - f)
        k_g = k[:, 3 * h:]
        np.multiply(g, g, out=k_g)                     # d c / d a_g = i (1 - g^2)
        np.subtract(1.0, k_g, out=k_g)
        k_g *= i
        k_c = self._buffer("k_c", tanh_c.shape, gates.dtype)
        np.multiply(tanh_c, tanh_c, out=k_c)           # d h / d c = o (1 - tanh(c)^2)
        np.subtract(1.0, k_c, out=k_c)
        k_c *= o
        return k, k_c

    def _bptt(self, dh_st):
        x_st, gates, hs, cs, tanh_c = self._cache
        dg, k_c = self._local_grads(gates, cs, tanh_c)   # dg holds the factors; the loop scales them in place
        self._bptt_loop(dh_st, gates, dg, k_c)
        d = self.input_size
        return self._weight_grads_fn(x_st[:, :d], hs[:-1], dg, order=PARAM_BLOCKS)

    def _bptt_loop(self, dh_st, gates, dg, k_c):
        """Scale the factors ``dg`` into the gate pre-activation gradients, last step first."""
        t, h, n = dh_st.shape
        dt = dg.dtype
        wh = step_columns(self.params["Wh"], h)
        dh = np.empty((h, n), dtype=dt)
        dc = np.empty((h, n), dtype=dt)
        dh_next = np.zeros((h, n), dtype=dt)
        dc_next = np.zeros((h, n), dtype=dt)
        for s in range(t - 1, -1, -1):
            d = dg[s]
            np.add(dh_st[s], dh_next, out=dh)
            d[:h] *= dh                                # d a_o
            np.multiply(k_c[s], dh, out=dc)
            dc += dc_next                              # d c_t, through h_t and c_{t+1}
            d[h:].reshape(3, h, n)[...] *= dc          # d a_i, d a_f, d a_g
            if s:
                np.multiply(gates[s, 2 * h:3 * h], dc, out=dc_next)
                np.matmul(wh, d, out=dh_next)

    def extra_repr(self):
        extra = f", forget_bias={self.forget_bias}" if self.forget_bias else ""
        return super().extra_repr() + extra


register_common_cases(LSTM, forget_bias=1.0)


@register_case(LSTM, "one-step")
def _lstm_one_step(rng):
    return LSTM(2, 3, dtype=np.float64, rng=rng), rng.standard_normal((1, 1, 2)), None
