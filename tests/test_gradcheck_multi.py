"""Several inputs (merge layers: lists; containers: dicts), several outputs and losses, shared parameters, and
layers that carry state between forward calls. The layers are written here, independently of the library's."""

import numpy as np
import pytest

import layergraph as lg

MODES = ("full", "sampled", "directional", "auto")


def _x(shape, seed):
    return np.random.default_rng(seed).standard_normal(shape)


# -- merge-like layers: forward(list) -> array, backward -> list ---------------------------------------------------

class WeightedProduct(lg.Layer):
    """y = (x0 * x1) * w + x2 with a per-feature weight w."""

    def __init__(self, d, seed=0):
        super().__init__()
        self.params = {"w": 1.0 + 0.3 * _x(d, seed)}
        self.grads = {"w": np.zeros(d)}

    def forward(self, xs, train=True):
        self.xs = xs
        return xs[0] * xs[1] * self.params["w"] + xs[2]

    def backward(self, dout):
        x0, x1, _ = self.xs
        w = self.params["w"]
        self.grads["w"] = np.sum(dout * x0 * x1, axis=0)
        return [dout * x1 * w, dout * x0 * w, dout.copy()]


class ProductSecondGradWrong(WeightedProduct):
    def backward(self, dout):
        dxs = super().backward(dout)
        dxs[1] = dout * self.xs[0]              # forgets the weight w
        return dxs


class ProductThirdGradMissing(WeightedProduct):
    def backward(self, dout):
        return super().backward(dout)[:2]


class ConcatLast(lg.Layer):
    """Concatenate two inputs along the last axis (no parameters)."""

    def forward(self, xs, train=True):
        self.split = xs[0].shape[-1]
        return np.concatenate(list(xs), axis=-1)

    def backward(self, dout):
        return [dout[..., :self.split], dout[..., self.split:]]


class ConcatSwappedGrads(ConcatLast):
    def backward(self, dout):
        a, b = super().backward(dout)
        return [a[..., ::-1], b]


def _merge_inputs(seed, d=4):
    return [_x((5, d), seed), _x((5, d), seed + 1), _x((5, d), seed + 2)]


@pytest.mark.parametrize("mode", MODES)
def test_merge_layer_checks_every_input_and_parameter(mode):
    report = lg.gradcheck(WeightedProduct(4), _merge_inputs(0), mode=mode)
    assert report.ok, str(report)
    assert set(report.tensors) == {"x[0]", "x[1]", "x[2]", "w"}
    assert all(r.checked > 0 or r.directional is not None for r in report.tensors.values())


@pytest.mark.parametrize("mode", MODES)
def test_merge_layer_wrong_second_input_gradient_fails_on_that_input(mode):
    report = lg.gradcheck(ProductSecondGradWrong(4), _merge_inputs(1), mode=mode)
    assert not report.ok
    assert not report.tensors["x[1]"].ok
    assert report.tensors["x[0]"].ok and report.tensors["x[2]"].ok and report.tensors["w"].ok
    assert any("tensor x[1]:" in f for f in report.failures())


def test_merge_layer_returning_too_few_gradients_is_a_one_line_failure():
    report = lg.gradcheck(ProductThirdGradMissing(4), _merge_inputs(2))
    assert not report.ok
    assert "list of 3 input gradients" in report.error and "\n" not in report.error


@pytest.mark.parametrize("seed", range(3))
def test_concat_with_tuple_input_passes_and_swapped_gradient_fails(seed):
    xs = (_x((3, 2), seed), _x((3, 3), seed + 5))
    assert lg.gradcheck(ConcatLast(), xs, seed=seed).ok
    bad = lg.gradcheck(ConcatSwappedGrads(), xs, seed=seed)
    assert not bad.tensors["x[0]"].ok and bad.tensors["x[1]"].ok


def test_merge_inputs_are_not_modified():
    xs = _merge_inputs(3)
    saved = [x.copy() for x in xs]
    layer = WeightedProduct(4)
    w = layer.params["w"].copy()
    lg.gradcheck(layer, xs, mode="full")
    assert all(np.array_equal(a, b) for a, b in zip(xs, saved))
    assert np.array_equal(layer.params["w"], w)


# -- a two-input, two-output container with a shared weight and two losses ------------------------------------------

class TwoTower(lg.Layer):
    """inputs "left", "right"; outputs "sum" = tanh(left @ W) + right @ W (W used twice, listed once) and
    "gate" = sigmoid(right @ V) * left[:, :2]. Optional ``losses`` (dict output -> loss) and ``loss_weights``."""

    def __init__(self, seed=0, losses=None, weights=None):
        super().__init__()
        g = np.random.default_rng(seed)
        self.params = {"W": 0.5 * g.standard_normal((3, 3)), "V": 0.5 * g.standard_normal((3, 2))}
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        self.losses = losses or {}
        self.loss_weights = weights or {}
        self.loss_layer = None

    def forward(self, x, train=True):
        left, right = x["left"], x["right"]
        W, V = self.params["W"], self.params["V"]
        self.left, self.right = left, right
        self.a = np.tanh(left @ W)
        self.s = 1.0 / (1.0 + np.exp(-(right @ V)))
        return {"sum": self.a + right @ W, "gate": self.s * left[:, :2]}

    def backward(self, dout):
        W, V = self.params["W"], self.params["V"]
        ds, dg = dout["sum"], dout["gate"]
        da = ds * (1.0 - self.a ** 2)
        dpre = dg * self.left[:, :2] * self.s * (1.0 - self.s)
        self.grads["W"] = self.left.T @ da + self.shared_second_use(ds)
        self.grads["V"] = self.right.T @ dpre
        dleft = da @ W.T
        dleft[:, :2] += dg * self.s
        dright = ds @ W.T + dpre @ V.T
        return {"left": dleft, "right": dright}

    def shared_second_use(self, ds):
        return self.right.T @ ds

    def loss(self, x, t, train=True):
        y = self.forward(x, train)
        return sum(self.loss_weights.get(k, 1.0) * loss.forward(y[k], t[k]) for k, loss in self.losses.items())

    def loss_and_gradient(self, x, t):
        total = self.loss(x, t)
        douts = {k: self.loss_weights.get(k, 1.0) * self.losses[k].backward(1.0) for k in self.losses}
        self.backward(douts)
        return total, self.grads


class TwoTowerSharedGradOnce(TwoTower):
    """Keeps only the first use's gradient of the shared W."""

    def shared_second_use(self, ds):
        return 0.0


def _tower_inputs(seed):
    return {"left": _x((4, 3), seed), "right": _x((4, 3), seed + 1)}


def _tower_targets(seed):
    return {"sum": _x((4, 3), seed + 2), "gate": _x((4, 2), seed + 3)}


@pytest.mark.parametrize("mode", MODES)
def test_two_outputs_without_targets_use_a_random_dout_per_output(mode):
    report = lg.gradcheck(TwoTower(0), _tower_inputs(0), mode=mode)
    assert report.ok, str(report)
    assert set(report.tensors) == {"left", "right", "W", "V"}


@pytest.mark.parametrize("mode", MODES)
def test_shared_parameter_needs_the_gradient_of_every_use(mode):
    report = lg.gradcheck(TwoTowerSharedGradOnce(0), _tower_inputs(0), mode=mode)
    assert not report.ok
    assert not report.tensors["W"].ok
    assert report.tensors["V"].ok and report.tensors["left"].ok and report.tensors["right"].ok


@pytest.mark.parametrize("seed", range(3))
def test_two_losses_with_dict_targets(seed):
    net = TwoTower(seed, {"sum": lg.MeanSquaredError(), "gate": lg.MeanSquaredError()}, {"gate": 0.5})
    report = lg.gradcheck(net, _tower_inputs(seed), _tower_targets(seed), mode="full", seed=seed)
    assert report.ok, str(report)
    bad = TwoTowerSharedGradOnce(seed, {"sum": lg.MeanSquaredError(), "gate": lg.MeanSquaredError()})
    assert not lg.gradcheck(bad, _tower_inputs(seed), _tower_targets(seed), seed=seed).tensors["W"].ok


def test_loss_weight_enters_the_objective():
    """The checked scalar is sum(w_o * loss_o): compare with a finite difference computed here."""
    net = TwoTower(1, {"sum": lg.MeanSquaredError(), "gate": lg.MeanSquaredError()}, {"gate": 3.0})
    x, t = _tower_inputs(1), _tower_targets(1)
    h = 1e-6
    up = {k: v.copy() for k, v in x.items()}
    down = {k: v.copy() for k, v in x.items()}
    up["left"][0, 0] += h
    down["left"][0, 0] -= h
    numeric = (net.loss(up, t) - net.loss(down, t)) / (2 * h)
    report = lg.gradcheck(net, x, t, mode="full")
    assert report.ok
    net.loss(x, t)
    douts = {k: net.loss_weights.get(k, 1.0) * net.losses[k].backward(1.0) for k in net.losses}
    assert abs(net.backward(douts)["left"][0, 0] - numeric) < 1e-6


def test_dict_target_for_a_layer_without_losses_is_a_one_line_failure():
    report = lg.gradcheck(TwoTower(0), _tower_inputs(0), _tower_targets(0))
    assert not report.ok and "no 'losses'" in report.error and "\n" not in report.error


# -- carried state --------------------------------------------------------------------------------------------------

class Leaky(lg.Layer):
    """A running state carried across calls: h <- 0.5 * h + tanh(x * a); y = h. get_state/set_state snapshot h."""

    def __init__(self, d, seed=0):
        super().__init__()
        self.params = {"a": 1.0 + 0.2 * _x(d, seed)}
        self.grads = {"a": np.zeros(d)}
        self.h = 0.3 * _x(d, seed + 1)[None, :]

    def forward(self, x, train=True):
        self.x = x
        self.pre = np.tanh(x * self.params["a"])
        self.h = 0.5 * self.h + self.pre
        return self.h.copy()

    def backward(self, dout):
        dpre = dout * (1.0 - self.pre ** 2)
        self.grads["a"] = np.sum(dpre * self.x, axis=0)
        return dpre * self.params["a"]

    def get_state(self):
        return {"h": self.h.copy()}

    def set_state(self, state):
        self.h = state["h"]


class LeakyWithoutProtocol(Leaky):
    get_state = None
    set_state = None


class Wrapper(lg.Layer):
    """A user container holding a stateful layer in an attribute (the checker must find it)."""

    def __init__(self, inner):
        super().__init__()
        self.inner = inner
        self.params = {"inner." + k: v for k, v in inner.params.items()}

    def forward(self, x, train=True):
        return self.inner.forward(x, train)

    def backward(self, dout):
        dx = self.inner.backward(dout)
        self.grads = {"inner." + k: v for k, v in self.inner.grads.items()}
        return dx


@pytest.mark.parametrize("mode", MODES)
def test_carried_state_is_restored_before_every_evaluation(mode):
    layer = Leaky(3)
    h = layer.h.copy()
    report = lg.gradcheck(layer, _x((4, 3), 0), mode=mode)
    assert report.ok, str(report)
    assert np.array_equal(layer.h, h)
    assert lg.gradcheck(Wrapper(Leaky(3)), _x((4, 3), 0), mode=mode).ok


def test_without_the_protocol_the_drifting_state_is_caught():
    """Control: the same layer without get_state/set_state drifts between evaluations, so the check fails."""
    report = lg.gradcheck(LeakyWithoutProtocol(3), _x((4, 3), 0), mode="full")
    assert not report.ok


def test_carried_state_is_restored_at_the_end_on_the_working_copy():
    from layergraph.gradcheck.objective import Objective
    from layergraph.gradcheck.inputs import Inputs

    layer = Leaky(2)
    h0 = layer.h.copy()
    obj = Objective(layer, Inputs(_x((3, 2), 1), np.float64), None, True, np.random.default_rng(0))
    for _ in range(3):
        obj.phi()
    assert not np.array_equal(layer.h, h0)
    obj.snapshot.restore()
    assert np.array_equal(layer.h, h0)


def test_a_nested_list_of_numbers_is_one_input():
    report = lg.gradcheck(lg.Tanh(), [[0.1, -0.2], [0.3, 0.4]])
    assert report.ok and list(report.tensors) == ["x"]
