"""Gated recurrent unit (Cho et al. 2014), PyTorch's formulation and gate layout."""

import numpy as np

from .recurrent_base import _RecurrentBase, register_common_cases

_BIASES = ("bx", "bh")


class GRU(_RecurrentBase):
    """GRU over a batch-first sequence, with backpropagation through time.

    With blocks of ``H`` columns in the order reset, update, new (PyTorch's ``r, z, n``)::

        r = sigmoid(x_t Wx_r + bx_r + h_{t-1} Wh_r + bh_r)
        z = sigmoid(x_t Wx_z + bx_z + h_{t-1} Wh_z + bh_z)
        n = tanh(x_t Wx_n + bx_n + r * (h_{t-1} Wh_n + bh_n))
        h_t = (1 - z) * n + z * h_{t-1}

    Two bias vectors because ``bh_n`` sits inside the reset gate's product. The initial state is zero (or the carried
    state with ``stateful=True``).

    Parameters
    ----------
    input_size, hidden_size : int
        ``D`` and ``H``.
    return_sequences : bool, default True
        Return every hidden state ``(N, T, H)``; when False only the last one ``(N, H)``.
    stateful : bool, default False
        Carry ``h`` across forward calls (truncated backpropagation through time); :meth:`reset_state` forgets it.
    init : {"uniform", "orthogonal"}, default "uniform"
        Uniform on ``[-1/sqrt(H), 1/sqrt(H)]`` like PyTorch; ``"orthogonal"`` makes each block of ``Wh`` orthogonal.
    dtype : floating dtype, default float32
    rng : int or numpy.random.Generator, optional

    Shapes
    ------
    x : ``(N, T, D)``; y : ``(N, T, H)`` or ``(N, H)``.
    Params ``Wx (D, 3H)``, ``Wh (H, 3H)``, ``bx (3H,)``, ``bh (3H,)``.
    """

    blocks = 3

    def __init__(self, input_size, hidden_size, return_sequences=True, stateful=False, *, init="uniform",
                 dtype=np.float32, rng=None):
        super().__init__(input_size, hidden_size, return_sequences, stateful, init=init, dtype=dtype, rng=rng)
        self._init_weights(_BIASES)

    def _run(self, x_tm, state0):
        t, n, _ = x_tm.shape
        h = self.hidden_size
        p = self.params
        dt = p["Wh"].dtype
        gx = self._buffer("gates", (t, n, 3 * h), dt)
        np.matmul(x_tm.reshape(t * n, -1), p["Wx"], out=gx.reshape(t * n, 3 * h))
        gx += p["bx"]
        hs = self._buffer("h", (t + 1, n, h), dt)
        hs[0] = state0[0]
        hn = self._buffer("hn", (t, n, h), dt)       # h_{t-1} Wh_n + bh_n, needed for d r
        tmp = np.empty((n, 3 * h), dtype=gx.dtype)
        wh, bh = p["Wh"], p["bh"]
        with np.errstate(over="ignore"):   # exp overflows to inf for saturated gates: 1 / (1 + inf) = 0 exactly
            for s in range(t):
                a = gx[s]                                  # becomes [r, z, n] in place
                np.matmul(hs[s], wh, out=tmp)
                tmp += bh
                rz = a[:, :2 * h]
                rz += tmp[:, :2 * h]
                np.negative(rz, out=rz)                    # sigmoid(a) = 1 / (1 + exp(-a))
                np.exp(rz, out=rz)
                rz += 1.0
                np.reciprocal(rz, out=rz)
                hn[s] = tmp[:, 2 * h:]
                np.multiply(a[:, :h], tmp[:, 2 * h:], out=tmp[:, :h])
                a[:, 2 * h:] += tmp[:, :h]
                np.tanh(a[:, 2 * h:], out=a[:, 2 * h:])
                out = hs[s + 1]
                np.subtract(hs[s], a[:, 2 * h:], out=out)
                out *= a[:, h:2 * h]
                out += a[:, 2 * h:]
        self._cache = (x_tm, gx, hs, hn)
        return hs[1:], (hs[t],)

    def _bptt(self, dh_tm):
        x_tm, gates, hs, hn = self._cache
        t, n, h = dh_tm.shape
        dt = gates.dtype
        dgx = self._buffer("dgx", gates.shape, dt)
        dgh = self._buffer("dgh", gates.shape, dt)
        wh_t = np.ascontiguousarray(self.params["Wh"].T)
        dh = np.empty((n, h), dtype=dt)
        tmp = np.empty((n, h), dtype=dt)
        one_minus = np.empty((n, h), dtype=dt)
        dh_next = np.zeros((n, h), dtype=dt)
        for s in range(t - 1, -1, -1):
            a, dx_s, dh_s = gates[s], dgx[s], dgh[s]
            r, z, nn = a[:, :h], a[:, h:2 * h], a[:, 2 * h:]
            dar, daz, dan = dx_s[:, :h], dx_s[:, h:2 * h], dx_s[:, 2 * h:]
            np.add(dh_tm[s], dh_next, out=dh)
            np.subtract(1.0, z, out=one_minus)
            np.multiply(nn, nn, out=tmp)                # d a_n = dh (1 - z) (1 - n^2)
            np.subtract(1.0, tmp, out=tmp)
            tmp *= dh
            np.multiply(tmp, one_minus, out=dan)
            np.subtract(hs[s], nn, out=tmp)             # d a_z = dh (h_{t-1} - n) z (1 - z)
            tmp *= dh
            tmp *= z
            np.multiply(tmp, one_minus, out=daz)
            np.multiply(dan, hn[s], out=tmp)            # d a_r = d a_n (h_{t-1} Wh_n + bh_n) r (1 - r)
            tmp *= r
            np.subtract(1.0, r, out=one_minus)
            np.multiply(tmp, one_minus, out=dar)
            dh_s[:, :2 * h] = dx_s[:, :2 * h]
            np.multiply(dan, r, out=dh_s[:, 2 * h:])
            np.matmul(dh_s, wh_t, out=dh_next)
            dh *= z
            dh_next += dh
        t_n = t * n
        np.matmul(hs[:-1].reshape(t_n, h).T, dgh.reshape(t_n, 3 * h), out=self.grads["Wh"])
        np.sum(dgh.reshape(t_n, 3 * h), axis=0, out=self.grads["bh"])
        np.matmul(x_tm.reshape(t_n, -1).T, dgx.reshape(t_n, 3 * h), out=self.grads["Wx"])
        np.sum(dgx.reshape(t_n, 3 * h), axis=0, out=self.grads["bx"])
        if not self.requires_input_grad:
            return None
        return (dgx.reshape(t_n, 3 * h) @ self.params["Wx"].T).reshape(t, n, self.input_size)


register_common_cases(GRU)
