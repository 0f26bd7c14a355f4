"""Stacked parameter perturbations (output-delta rules) and copy losses: used only when they reproduce the
layers' own forward, and never change a verdict."""

import numpy as np

import layergraph as lg
from layergraph.gradcheck import batched_params


def _net(first):
    return lg.Sequential([("fc1", first), ("act", lg.Tanh()), ("fc2", lg.Affine(6, 3, dtype=np.float64, rng=1))],
                         loss=lg.SoftmaxWithLoss())


def _data():
    g = np.random.default_rng(0)
    return g.standard_normal((5, 12)), np.array([0, 1, 2, 1, 0])


class AffineWrongDW(lg.Affine):
    def backward(self, dout):
        dx = super().backward(dout)
        self.grads["W"] = self.grads["W"] * 1.01
        return dx


class AffineScaledForward(lg.Affine):
    """forward computes 1.5 * (x @ W) + b, so the Affine output-delta rule does not describe it."""

    def forward(self, x, train=True):
        y = super().forward(x, train)
        return 1.5 * (y - self.params["b"]) + self.params["b"]

    def backward(self, dout):
        dx = super().backward(dout)
        self.grads["W"] = 1.5 * self.grads["W"]
        return 1.5 * dx


def _plans(report_net, x, t):
    from layergraph.gradcheck.check import working_copy
    from layergraph.gradcheck.inputs import Inputs, frozen_targets
    from layergraph.gradcheck.objective import Objective

    obj = Objective(working_copy(report_net, np.float64), Inputs(x, np.float64), frozen_targets(t), True,
                    np.random.default_rng(0))
    obj.owner_index("fc1.W")
    return batched_params._plan_for(obj, "fc1.W")


def test_affine_rule_is_used_and_a_wrong_weight_gradient_is_still_caught():
    x, t = _data()
    good = _net(lg.Affine(12, 6, dtype=np.float64, rng=0))
    assert _plans(good, x, t) is not None
    assert lg.gradcheck(good, x, t, mode="full").ok
    bad = _net(AffineWrongDW(12, 6, dtype=np.float64, rng=0))
    report = lg.gradcheck(bad, x, t, mode="full")
    assert not report.tensors["fc1.W"].ok and report.tensors["fc1.b"].ok


def test_a_rule_that_does_not_match_the_forward_is_not_used():
    x, t = _data()
    net = _net(AffineScaledForward(12, 6, dtype=np.float64, rng=0))
    assert _plans(net, x, t) is None
    assert lg.gradcheck(net, x, t, mode="full").ok


def test_user_rule_registration():
    class Scale(lg.Layer):
        """y = x * s (per feature)."""

        def __init__(self, d=12):
            super().__init__()
            self.params = {"s": np.linspace(0.5, 1.5, d)}
            self.grads = {"s": np.zeros(d)}

        def forward(self, x, train=True):
            self.x = x
            return x * self.params["s"]

        def backward(self, dout):
            self.grads["s"] = np.sum(dout * self.x, axis=0)
            return dout * self.params["s"]

    def scale_rule(layer, key, x_in, flat):
        out = np.zeros((len(flat),) + x_in.shape)
        out[np.arange(len(flat)), :, flat] = x_in[:, flat].T
        return out

    lg.gradcheck.register_output_delta(Scale, scale_rule)
    x, t = _data()
    net = lg.Sequential(Scale(), lg.Affine(12, 3, dtype=np.float64, rng=1), loss=lg.SoftmaxWithLoss())
    from layergraph.gradcheck.check import working_copy
    from layergraph.gradcheck.inputs import Inputs, frozen_targets
    from layergraph.gradcheck.objective import Objective

    obj = Objective(working_copy(net, np.float64), Inputs(x, np.float64), frozen_targets(t), True,
                    np.random.default_rng(0))
    name = next(k for k in net.params if k.endswith(".s"))
    obj.owner_index(name)
    assert batched_params._plan_for(obj, name) is not None
    report = lg.gradcheck(net, x, t, mode="full")
    assert report.ok, str(report)
