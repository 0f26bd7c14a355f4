"""Small networks, data and optimizers shared by the tests of layergraph.train."""

import numpy as np

import layergraph as lg


class SGD:
    """Plain gradient descent: ``p -= lr * g``."""

    def __init__(self, lr=0.1):
        self.lr = lr
        self.lrs = []  # the learning rate of every update, for schedule tests

    def update(self, params, grads):
        self.lrs.append(self.lr)
        for k, p in params.items():
            p -= self.lr * grads[k]


class Momentum:
    """Heavy-ball momentum with a state dict shaped like layergraph.optim's (nested, arrays and numbers)."""

    def __init__(self, lr=0.1, beta=0.9):
        self.lr, self.beta = lr, beta
        self.state, self.steps = {}, 0

    def update(self, params, grads):
        for k, p in params.items():
            v = self.state.setdefault(k, {"v": np.zeros_like(p)})["v"]
            v *= self.beta
            v -= self.lr * grads[k]
            p += v
        self.steps += 1

    def state_dict(self):
        return {"optimizer": "Momentum", "hyperparameters": {"lr": self.lr, "beta": self.beta},
                "config": {"betas": (self.beta, 1.0)}, "steps": self.steps,
                "state": {k: {"v": s["v"].copy()} for k, s in self.state.items()}}

    def load_state_dict(self, d):
        if d["optimizer"] != "Momentum":
            raise ValueError(f"Momentum.load_state_dict: state is for {d['optimizer']!r}")
        self.lr, self.beta = d["hyperparameters"]["lr"], d["hyperparameters"]["beta"]
        self.steps = int(d["steps"])
        self.state = {k: {"v": np.array(s["v"], copy=True)} for k, s in d["state"].items()}


class RunningMean(lg.Layer):
    """Identity layer with a buffer (running mean of its inputs in training), to test buffer handling."""

    def __init__(self, features):
        super().__init__()
        self.features = features
        self.buffers = {"mean": np.zeros(features, dtype=np.float32)}

    def forward(self, x, train=True):
        if train:
            self.buffers["mean"] *= 0.9
            self.buffers["mean"] += 0.1 * x.mean(axis=0)
        return x

    def backward(self, dout):
        return dout


def make_net(seed=0, hidden=8, n_in=4, n_out=3, dtype=np.float32, buffer=False):
    layers = [("fc1", lg.Affine(n_in, hidden, rng=seed, dtype=dtype)), ("act1", lg.Tanh())]
    if buffer:
        layers.append(("norm", RunningMean(hidden)))
    layers.append(("fc2", lg.Affine(hidden, n_out, rng=seed + 1, dtype=dtype)))
    return lg.Sequential(layers, loss=lg.SoftmaxWithLoss())


def make_data(n=60, n_in=4, n_out=3, seed=0):
    """Gaussian blobs: class c centred at 2 * e_c (learnable, not trivially separable)."""
    rng = np.random.default_rng(seed)
    t = rng.integers(0, n_out, n)
    x = rng.standard_normal((n, n_in)).astype(np.float32)
    x[np.arange(n), t] += 2.0
    return x, t


def params_equal(a, b):
    """True if two networks' parameters and buffers are bit-identical."""
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(np.array_equal(sa[k], sb[k]) and sa[k].dtype == sb[k].dtype for k in sa)
