"""Elman recurrent layer with a tanh or ReLU nonlinearity."""

import numpy as np

from ..gradcheck.registry import register_case
from .recurrent_base import _RecurrentBase, register_common_cases

NONLINEARITIES = ("tanh", "relu")


class RNN(_RecurrentBase):
    """Plain recurrent layer ``h_t = act(x_t Wx + h_{t-1} Wh + b)``, with backpropagation through time.

    Parameters
    ----------
    input_size, hidden_size : int
        ``D`` and ``H``.
    nonlinearity : {"tanh", "relu"}, default "tanh"
    return_sequences : bool, default True
        Return every hidden state ``(N, T, H)``; when False only the last one ``(N, H)``.
    stateful : bool, default False
        Carry ``h`` across forward calls (truncated backpropagation through time); :meth:`reset_state` forgets it.
    init : {"uniform", "orthogonal"}, default "uniform"
        Uniform on ``[-1/sqrt(H), 1/sqrt(H)]`` like PyTorch; ``"orthogonal"`` draws an orthogonal ``Wh``.
    dtype : floating dtype, default float32
    rng : int or numpy.random.Generator, optional

    Shapes
    ------
    x : ``(N, T, D)``; y : ``(N, T, H)`` or ``(N, H)``. Params ``Wx (D, H)``, ``Wh (H, H)``, ``b (H,)``.
    """

    def __init__(self, input_size, hidden_size, nonlinearity="tanh", return_sequences=True, stateful=False, *,
                 init="uniform", dtype=np.float32, rng=None):
        if nonlinearity not in NONLINEARITIES:
            raise ValueError(f"RNN: 'nonlinearity' must be one of {NONLINEARITIES}, got {nonlinearity!r}")
        super().__init__(input_size, hidden_size, return_sequences, stateful, init=init, dtype=dtype, rng=rng)
        self.nonlinearity = nonlinearity
        self._init_weights()

    def _run(self, x_tm, state0):
        t, n, _ = x_tm.shape
        h = self.hidden_size
        p = self.params
        a = (x_tm.reshape(t * n, -1) @ p["Wx"]).reshape(t, n, h)
        a += p["b"]
        hs = np.empty((t + 1, n, h), dtype=a.dtype)
        hs[0] = state0[0]
        tmp = np.empty((n, h), dtype=a.dtype)
        wh = p["Wh"]
        relu = self.nonlinearity == "relu"
        for s in range(t):
            np.matmul(hs[s], wh, out=tmp)
            tmp += a[s]
            if relu:
                np.maximum(tmp, 0, out=hs[s + 1])
            else:
                np.tanh(tmp, out=hs[s + 1])
        self._cache = (x_tm, hs)
        return hs[1:], (hs[t],)

    def kink_branches(self):
        """Signs of the ReLU pre-activations (where the derivative jumps); empty for tanh."""
        if self.nonlinearity != "relu" or self._cache is None:
            return np.zeros(0, dtype=bool)
        return self._cache[1][1:] > 0

    def _bptt(self, dh_tm):
        x_tm, hs = self._cache
        t, n, h = dh_tm.shape
        out = hs[1:]
        deriv = (out > 0).astype(out.dtype) if self.nonlinearity == "relu" else 1 - out * out
        da = np.empty_like(dh_tm)
        wh_t = np.ascontiguousarray(self.params["Wh"].T)
        dh_next = np.zeros((n, h), dtype=dh_tm.dtype)
        for s in range(t - 1, -1, -1):
            np.add(dh_tm[s], dh_next, out=da[s])
            da[s] *= deriv[s]
            np.matmul(da[s], wh_t, out=dh_next)
        return self._weight_grads(x_tm, hs[:-1], da)

    def extra_repr(self):
        extra = ", nonlinearity='relu'" if self.nonlinearity == "relu" else ""
        return super().extra_repr() + extra


register_common_cases(RNN, prefix="tanh-")


@register_case(RNN, "relu-sequences")
def _rnn_relu(rng):
    return RNN(3, 4, "relu", dtype=np.float64, rng=rng), rng.standard_normal((2, 3, 3)), None
