"""An optimizer whose update rebinds params[key] instead of changing the array would leave the network as it is."""

import numpy as np
import pytest

import layergraph as lg


class Rebinding:
    lr = 0.1

    def update(self, params, grads):
        for k in params:
            params[k] = params[k] - self.lr * grads[k]      # a new array: the layer never sees it


class InPlace(Rebinding):
    def update(self, params, grads):
        for k in params:
            params[k] -= self.lr * grads[k]


@pytest.mark.parametrize("flatten", [True, False])
def test_a_rebinding_update_is_refused_on_the_first_step(flatten):
    x = np.random.default_rng(0).standard_normal((20, 4))
    t = np.random.default_rng(1).integers(0, 3, 20)

    def net():
        return lg.Sequential(lg.Affine(4, 3, dtype=np.float64, rng=0), loss=lg.SoftmaxWithLoss())
    with pytest.raises(TypeError, match=r"Rebinding.update rebound params\['Affine1.W'\]"):
        lg.Trainer(net(), Rebinding(), batch_size=10, seed=0, verbose=0, flatten_parameters=flatten).fit(x, t, epochs=1)
    trained = net()
    before = trained.params["Affine1.W"].copy()
    lg.Trainer(trained, InPlace(), batch_size=10, seed=0, verbose=0, flatten_parameters=flatten).fit(x, t, epochs=1)
    assert not np.array_equal(trained.params["Affine1.W"], before)


def test_a_metric_returning_an_array_is_named():
    x = np.random.default_rng(2).standard_normal((8, 4))
    t = np.random.default_rng(3).integers(0, 3, 8)

    def per_sample_hits(y, t):
        return np.argmax(y, axis=1) == t                     # forgot the mean

    net = lg.Sequential(lg.Affine(4, 3, dtype=np.float64, rng=0), loss=lg.SoftmaxWithLoss())
    with pytest.raises(TypeError, match=r"metric 'per_sample_hits' must return one number \(the batch mean\), got "
                                        r"ndarray of shape \(8,\)"):
        lg.Trainer(net, lg.optim.SGD(lr=0.1), metrics=[per_sample_hits], verbose=0).evaluate(x, t)


class _Forgets(lg.Layer):
    """Two parameters; backward fills the gradient of one only."""

    def __init__(self):
        super().__init__()
        self.params = {"w": np.ones(3), "v": np.ones(3)}
        self.grads = {"w": np.zeros(3)}

    def forward(self, x, train=True):
        self.x = x
        return x * self.params["w"] * self.params["v"]

    def backward(self, dout):
        self.grads["w"][...] = (dout * self.x * self.params["v"]).sum(axis=0)
        return dout * self.params["w"] * self.params["v"]


def test_a_parameter_without_gradient_is_refused_instead_of_frozen():
    """Without packing (with it, the packed buffer gives every parameter a gradient array, zero if never written)."""
    flatten = False
    x = np.random.default_rng(4).standard_normal((6, 3))
    t = np.random.default_rng(5).integers(0, 3, 6)
    net = lg.Sequential([("mine", _Forgets())], loss=lg.SoftmaxWithLoss())
    with pytest.raises(ValueError, match="no gradient for parameter .mine.v.: the layer"):
        lg.Trainer(net, lg.optim.SGD(lr=0.1), verbose=0, flatten_parameters=flatten).fit(x, t, epochs=1)
