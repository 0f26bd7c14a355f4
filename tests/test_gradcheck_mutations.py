"""Mutation tests: deliberately broken variants of real layers must fail the gradient check in every mode, and
their correct counterparts must pass. The small Dropout-like and BatchNorm-like layers here are written for the
tests (formulas from the textbook derivations), independent of the library's own layers."""

import numpy as np
import pytest

import layergraph as lg

MODES = ("full", "sampled", "directional", "auto")


# -- an affine layer and its mutants -------------------------------------------------------------------------------

class Linear(lg.Layer):
    """y = x @ W + b, written independently of lg.Affine."""

    def __init__(self, n_in, n_out, rng):
        super().__init__()
        gen = np.random.default_rng(rng)
        self.params = {"W": gen.standard_normal((n_in, n_out)), "b": gen.standard_normal(n_out)}
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}

    def forward(self, x, train=True):
        self.x = x
        return x @ self.params["W"] + self.params["b"]

    def backward(self, dout):
        self.grads["W"] = self.x.T @ dout
        self.grads["b"] = dout.sum(axis=0)
        return dout @ self.params["W"].T


class SignFlip(Linear):
    def backward(self, dout):
        dx = super().backward(dout)
        return -dx


class WrongFactor(Linear):
    def backward(self, dout):
        dx = super().backward(dout)
        self.grads["W"] = 2.0 * self.grads["W"]
        return dx


class TransposedW(Linear):
    def backward(self, dout):
        super().backward(dout)
        return dout @ self.params["W"]          # W is square in the tests, so only the values are wrong


class IgnoredDout(Linear):
    def backward(self, dout):
        return super().backward(np.ones_like(dout))


class MissingParamGrad(Linear):
    def backward(self, dout):
        dx = super().backward(dout)
        del self.grads["b"]
        return dx


class StaleParamGrad(Linear):
    """Never updates grads['b'] (keeps the zeros from __init__)."""

    def backward(self, dout):
        self.grads["W"] = self.x.T @ dout
        return dout @ self.params["W"].T


class InPlaceDout(Linear):
    def backward(self, dout):
        dout *= 1.0                              # writes into the caller's array
        return super().backward(dout)


# -- a BatchNorm-like layer and its mutants ------------------------------------------------------------------------

class BatchNormLike(lg.Layer):
    """Batch normalisation over axis 0 with gamma/beta and running statistics (momentum 0.9)."""

    def __init__(self, d, rng):
        super().__init__()
        gen = np.random.default_rng(rng)
        self.params = {"gamma": 1.0 + 0.1 * gen.standard_normal(d), "beta": 0.1 * gen.standard_normal(d)}
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        self.buffers = {"mean": 0.2 * gen.standard_normal(d), "var": 1.0 + gen.random(d)}
        self.eps = 1e-5

    def forward(self, x, train=True):
        if train:
            mu, var = x.mean(axis=0), x.var(axis=0)
            self.buffers["mean"] = 0.9 * self.buffers["mean"] + 0.1 * mu
            self.buffers["var"] = 0.9 * self.buffers["var"] + 0.1 * var
        else:
            mu, var = self.buffers["mean"], self.buffers["var"]
        self.train = train
        self.std = np.sqrt(var + self.eps)
        self.xhat = (x - mu) / self.std
        return self.params["gamma"] * self.xhat + self.params["beta"]

    def backward(self, dout):
        n = dout.shape[0]
        self.grads["gamma"] = np.sum(dout * self.xhat, axis=0)
        self.grads["beta"] = np.sum(dout, axis=0)
        dxhat = dout * self.params["gamma"]
        if not self.train:
            return dxhat / self.std
        return (dxhat - dxhat.mean(axis=0) - self.xhat * np.mean(dxhat * self.xhat, axis=0)) / self.std * (n / n)


class BNMissingOneOverN(BatchNormLike):
    def backward(self, dout):
        dx = super().backward(dout)
        if self.train:
            dxhat = dout * self.params["gamma"]
            dx = (dxhat - dxhat.sum(axis=0) - self.xhat * np.sum(dxhat * self.xhat, axis=0)) / self.std
        return dx


class BNDroppedDGamma(BatchNormLike):
    def backward(self, dout):
        dx = super().backward(dout)
        self.grads["gamma"] = np.zeros_like(self.params["gamma"])
        return dx


class BNRunningStatsInTrain(BatchNormLike):
    """Normalises with the running statistics in train mode too, while backward assumes batch statistics."""

    def forward(self, x, train=True):
        y = super().forward(x, train=False)
        self.train = train
        return y


# -- a Dropout-like layer and its mutant ---------------------------------------------------------------------------

class DropoutLike(lg.Layer):
    """Inverted dropout with its own Generator; the mask drawn in forward is reused in backward."""

    def __init__(self, p=0.4, rng=0):
        super().__init__()
        self.p, self.rng = p, np.random.default_rng(rng)

    def forward(self, x, train=True):
        if not train:
            self.mask = np.ones_like(x)
            return x.copy()
        self.mask = (self.rng.random(x.shape) >= self.p) / (1.0 - self.p)
        return x * self.mask

    def backward(self, dout):
        return dout * self.mask


class DropoutNewMask(DropoutLike):
    def backward(self, dout):
        mask = (self.rng.random(dout.shape) >= self.p) / (1.0 - self.p)
        return dout * mask


def _x(shape, seed=0, scale=1.0):
    return scale * np.random.default_rng(seed).standard_normal(shape)


CORRECT = {
    "linear": lambda: (Linear(4, 4, 1), _x((5, 4))),
    "batchnorm": lambda: (BatchNormLike(3, 2), _x((6, 3), 1, 2.0)),
    "dropout": lambda: (DropoutLike(0.4, 3), _x((5, 6), 2)),
}

BROKEN = {
    "sign flip": lambda: (SignFlip(4, 4, 1), _x((5, 4))),
    "wrong factor": lambda: (WrongFactor(4, 4, 1), _x((5, 4))),
    "transposed W": lambda: (TransposedW(4, 4, 1), _x((5, 4))),
    "ignored dout": lambda: (IgnoredDout(4, 4, 1), _x((5, 4))),
    "missing param grad": lambda: (MissingParamGrad(4, 4, 1), _x((5, 4))),
    "stale param grad": lambda: (StaleParamGrad(4, 4, 1), _x((5, 4))),
    "in-place write to dout": lambda: (InPlaceDout(4, 4, 1), _x((5, 4))),
    "batchnorm missing 1/N": lambda: (BNMissingOneOverN(3, 2), _x((6, 3), 1, 2.0)),
    "batchnorm dropped dgamma": lambda: (BNDroppedDGamma(3, 2), _x((6, 3), 1, 2.0)),
    "batchnorm running stats in train": lambda: (BNRunningStatsInTrain(3, 2), _x((6, 3), 1, 2.0)),
    "dropout mask not reused": lambda: (DropoutNewMask(0.4, 3), _x((5, 6), 2)),
}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", sorted(CORRECT))
def test_correct_layers_pass(name, mode):
    layer, x = CORRECT[name]()
    report = lg.gradcheck(layer, x, mode=mode, train="both")
    assert report.ok, str(report)


@pytest.mark.parametrize("precision", ["float64", "native"])
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", sorted(BROKEN))
def test_broken_layers_fail(name, mode, precision):
    layer, x = BROKEN[name]()
    if precision == "native":
        layer.astype(np.float32)
        x = x.astype(np.float32)
    report = lg.gradcheck(layer, x, mode=mode, precision=precision)
    assert not report.ok, str(report)
    assert report.failures()


def test_in_place_write_is_reported_with_the_message_not_raised():
    layer, x = BROKEN["in-place write to dout"]()
    report = lg.gradcheck(layer, x)
    assert "backward wrote into its dout argument" in report.error
    assert "\n" not in report.error
    assert not report.ok


def test_missing_grad_names_the_tensor():
    layer, x = BROKEN["missing param grad"]()
    report = lg.gradcheck(layer, x)
    assert report.tensors["b"].problem == "no gradient in grads"
    assert report.tensors["W"].ok


def test_failing_direction_is_localised_to_the_broken_element():
    class OneWrongElement(Linear):
        def backward(self, dout):
            dx = super().backward(dout)
            self.grads["W"] = self.grads["W"].copy()
            self.grads["W"][7, 3] += 0.5
            return dx

    layer = OneWrongElement(20, 6, 0)
    report = lg.gradcheck(layer, _x((4, 20)), mode="directional")
    w = report.tensors["W"]
    assert not w.ok and not w.directional.ok
    assert "localised" in w.strategy
    assert w.worst_index == (7, 3)
    assert abs((w.analytic - w.numeric) - 0.5) < 1e-6
    assert report.tensors["b"].ok and report.tensors["x"].ok
