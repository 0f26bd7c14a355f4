"""Gated recurrent unit (Cho et al. 2014), PyTorch's formulation and gate layout."""

import numpy as np
from scipy.special import expit

from ..gradcheck.registry import register_case
from .recurrent_base import _RecurrentBase, stateful_probe

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
        gx = (x_tm.reshape(t * n, -1) @ p["Wx"]).reshape(t, n, 3 * h)
        gx += p["bx"]
        hs = np.empty((t + 1, n, h), dtype=gx.dtype)
        hs[0] = state0[0]
        hn = np.empty((t, n, h), dtype=gx.dtype)     # h_{t-1} Wh_n + bh_n, needed for d r
        tmp = np.empty((n, 3 * h), dtype=gx.dtype)
        wh, bh = p["Wh"], p["bh"]
        for s in range(t):
            a = gx[s]                                  # becomes [r, z, n] in place
            np.matmul(hs[s], wh, out=tmp)
            tmp += bh
            a[:, :2 * h] += tmp[:, :2 * h]
            expit(a[:, :2 * h], out=a[:, :2 * h])
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
        r, z, nn = (gates[:, :, k * h:(k + 1) * h] for k in range(3))
        dn_dh = (1 - z) * (1 - nn * nn)                  # d a_n / d h_t
        dz_dh = (hs[:-1] - nn) * z * (1 - z)             # d a_z / d h_t
        dr_dn = hn * r * (1 - r)                         # d a_r / d a_n
        r = np.ascontiguousarray(r)
        z = np.ascontiguousarray(z)
        dgx = np.empty_like(gates)
        dgh = np.empty_like(gates)
        wh_t = np.ascontiguousarray(self.params["Wh"].T)
        dh = np.empty((n, h), dtype=gates.dtype)
        dh_next = np.zeros((n, h), dtype=gates.dtype)
        for s in range(t - 1, -1, -1):
            dx_s, dh_s = dgx[s], dgh[s]
            np.add(dh_tm[s], dh_next, out=dh)
            dan = dx_s[:, 2 * h:]
            np.multiply(dh, dn_dh[s], out=dan)
            np.multiply(dh, dz_dh[s], out=dx_s[:, h:2 * h])
            np.multiply(dan, dr_dn[s], out=dx_s[:, :h])
            dh_s[:, :2 * h] = dx_s[:, :2 * h]
            np.multiply(dan, r[s], out=dh_s[:, 2 * h:])
            np.matmul(dh_s, wh_t, out=dh_next)
            dh *= z[s]
            dh_next += dh
        t_n = t * n
        np.matmul(hs[:-1].reshape(t_n, h).T, dgh.reshape(t_n, 3 * h), out=self.grads["Wh"])
        np.sum(dgh.reshape(t_n, 3 * h), axis=0, out=self.grads["bh"])
        np.matmul(x_tm.reshape(t_n, -1).T, dgx.reshape(t_n, 3 * h), out=self.grads["Wx"])
        np.sum(dgx.reshape(t_n, 3 * h), axis=0, out=self.grads["bx"])
        if not self.requires_input_grad:
            return None
        return (dgx.reshape(t_n, 3 * h) @ self.params["Wx"].T).reshape(t, n, self.input_size)


@register_case(GRU, "sequences")
def _gru_seq(rng):
    return GRU(3, 4, dtype=np.float64, rng=rng), rng.standard_normal((2, 3, 3)), None


@register_case(GRU, "last-state")
def _gru_last(rng):
    layer = GRU(2, 3, return_sequences=False, init="orthogonal", dtype=np.float64, rng=rng)
    return layer, rng.standard_normal((3, 4, 2)), None


@register_case(GRU, "stateful")
def _gru_stateful(rng):
    layer = GRU(3, 3, stateful=True, dtype=np.float64, rng=rng)
    return stateful_probe(layer, rng, 2, 3), rng.standard_normal((2, 2, 3)), None
