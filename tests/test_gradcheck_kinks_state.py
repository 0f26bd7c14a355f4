"""Kinks (ReLU at 0, max-pool ties), randomness and state, reports, reproducibility and argument errors."""

import numpy as np
import pytest

import layergraph as lg
from layergraph.gradcheck import GradCheckError, GradCheckReports
from test_gradcheck_catalogue2 import PairMax
from test_gradcheck_mutations import BatchNormLike, DropoutLike, Linear


class PlainReLU(lg.Layer):
    """ReLU without the kink hook: the checker's generic fallback has to find its kink."""

    def forward(self, x, train=True):
        self.mask = x > 0
        return x * self.mask

    def backward(self, dout):
        return dout * self.mask


def _with_zeros(shape, zeros, seed=0):
    x = np.random.default_rng(seed).standard_normal(shape)
    x += np.copysign(0.1, x)
    x.reshape(-1)[list(zeros)] = 0.0
    return x


@pytest.mark.parametrize("mode", ["full", "auto", "sampled"])
@pytest.mark.parametrize("layer", [lg.ReLU(), lg.LeakyReLU(0.2), PlainReLU()], ids=["hook", "leaky-hook", "fallback"])
def test_relu_at_zero_is_checked_one_sided_not_failed(layer, mode):
    x = _with_zeros((4, 5), zeros=[0, 7, 13])
    report = lg.gradcheck(layer, x, mode=mode, samples=20)
    assert report.ok, str(report)
    assert report.tensors["x"].kinks == 3 and report.tensors["x"].kinks_checked == 3
    assert report.tensors["x"].checked == 17
    assert "3 checked one-sided, 0 skipped" in str(report)


def test_relu_near_zero_within_the_step_is_flagged():
    x = _with_zeros((3, 4), zeros=[])
    x[0, 0], x[1, 1] = 3e-5, -7e-5          # inside +-h with h = 1e-4
    report = lg.gradcheck(PlainReLU(), x, mode="full")
    assert report.ok and report.tensors["x"].kinks == 2


@pytest.mark.parametrize("mode", ["full", "auto"])
def test_max_pool_ties_are_flagged_not_failed(mode):
    x = np.random.default_rng(1).standard_normal((3, 8))
    x[0, 1] = x[0, 0]                        # ties
    x[2, 5] = x[2, 4]
    report = lg.gradcheck(PairMax(), x, mode=mode)
    assert report.ok, str(report)
    assert report.tensors["x"].kinks == 4    # both members of each tied pair


def test_kinks_do_not_hide_a_wrong_gradient():
    class BadReLU(PlainReLU):
        def backward(self, dout):
            return 1.5 * dout * self.mask

    x = _with_zeros((4, 5), zeros=[0, 7])
    report = lg.gradcheck(BadReLU(), x, mode="full")
    assert not report.ok and report.tensors["x"].kinks == 2


def test_all_kinks_with_valid_subgradients_pass():
    report = lg.gradcheck(PlainReLU(), np.zeros((2, 4)), mode="full")
    assert report.ok and report.tensors["x"].kinks_checked == 8


def test_network_with_relu_kinks_passes():
    net = lg.Sequential(lg.Affine(6, 8, dtype=np.float64, rng=0), lg.ReLU(), lg.Affine(8, 3, dtype=np.float64, rng=1),
                        loss=lg.SoftmaxWithLoss())
    x = np.random.default_rng(0).standard_normal((5, 6))
    units = [1, 5]                  # hidden units 1 and 5 of sample 2 sit exactly at the ReLU kink
    net["Affine1"].params["b"][units] = -(x @ net["Affine1"].params["W"])[2, units]
    report = lg.gradcheck(net, x, np.array([0, 1, 2, 0, 1]), mode="full")
    assert report.ok, str(report)
    assert report.tensors["Affine1.b"].kinks == 2
    assert report.tensors["Affine1.W"].kinks == 12      # the two columns of the kinked units


# -- randomness and state -----------------------------------------------------------------------------------------

def _fingerprint(layer):
    return ({k: v.copy() for k, v in layer.params.items()}, {k: v.copy() for k, v in layer.buffers.items()},
            [g.bit_generator.state for g in vars(layer).values() if isinstance(g, np.random.Generator)])


@pytest.mark.parametrize("make", [lambda: DropoutLike(0.5, 7), lambda: BatchNormLike(4, 3),
                                  lambda: Linear(4, 3, 2)], ids=["dropout", "batchnorm", "linear"])
def test_checking_leaves_the_layer_untouched(make):
    layer = make()
    x = np.random.default_rng(0).standard_normal((6, 4))
    x_before = x.copy()
    params, buffers, gens = _fingerprint(layer)
    report = lg.gradcheck(layer, x, mode="full", train="both")
    assert report.ok, str(report)
    params2, buffers2, gens2 = _fingerprint(layer)
    assert params.keys() == params2.keys() and all(np.array_equal(params[k], params2[k]) for k in params)
    assert buffers.keys() == buffers2.keys() and all(np.array_equal(buffers[k], buffers2[k]) for k in buffers)
    assert gens == gens2
    assert np.array_equal(x, x_before)


def test_dropout_is_checked_with_its_mask():
    # With p = 0.5 about half the gradient entries are zero and the others are 2 * dout: the numeric pass must see
    # the same mask as backward, so masked elements have numeric gradient 0 exactly.
    layer = DropoutLike(0.5, 11)
    x = np.random.default_rng(0).standard_normal((4, 6))
    report = lg.gradcheck(layer, x, mode="full")
    assert report.ok
    assert report.tensors["x"].checked == 24 and report.tensors["x"].kinks == 0


def test_train_both_checks_inference_only_where_it_differs():
    bn = lg.gradcheck(BatchNormLike(3, 0), np.random.default_rng(0).standard_normal((5, 3)), train="both")
    assert isinstance(bn, GradCheckReports) and [r.train for r in bn] == [True, False] and bn.ok
    lin = lg.gradcheck(Linear(3, 2, 0), np.ones((2, 3)), train="both")
    assert [r.train for r in lin] == [True]


def test_same_seed_same_report_and_other_seed_other_samples():
    layer, x = Linear(30, 20, 0), np.random.default_rng(3).standard_normal((4, 30))
    a, b = lg.gradcheck(layer, x, mode="sampled", seed=5), lg.gradcheck(layer, x, mode="sampled", seed=5)
    assert str(a) == str(b)
    assert a.tensors["W"].max_abs_err == b.tensors["W"].max_abs_err
    c = lg.gradcheck(layer, x, mode="sampled", seed=6)
    assert str(c) != str(a)


def test_exception_in_layer_is_a_failed_check():
    class Exploding(lg.Layer):
        def forward(self, x, train=True):
            return x * 2

        def backward(self, dout):
            raise RuntimeError("boom in backward")

    report = lg.gradcheck(Exploding(), np.ones((2, 3)))
    assert not report.ok and report.error == "RuntimeError: boom in backward"
    with pytest.raises(GradCheckError) as info:
        lg.gradcheck(Exploding(), np.ones((2, 3)), raise_on_fail=True, seed=3)
    assert isinstance(info.value, AssertionError)
    assert info.value.report.error
    assert "seed=3" in info.value.reproduce and "reproduce with" in str(info.value)


def test_non_finite_gradient_and_wrong_shape_are_reported():
    class NaNGrad(Linear):
        def backward(self, dout):
            dx = super().backward(dout)
            self.grads["b"] = self.grads["b"] * np.nan
            return dx

    class WrongShape(Linear):
        def backward(self, dout):
            return super().backward(dout)[:, :-1]

    x = np.ones((3, 4))
    assert "non-finite" in lg.gradcheck(NaNGrad(4, 2, 0), x).tensors["b"].problem
    assert "shape" in lg.gradcheck(WrongShape(4, 2, 0), x).tensors["x"].problem


def test_float32_layer_checked_natively_and_in_float64():
    layer = lg.Affine(6, 4, rng=0)                       # float32 by default
    x = np.random.default_rng(0).standard_normal((5, 6)).astype(np.float32)
    r64 = lg.gradcheck(layer, x)
    r32 = lg.gradcheck(layer, x, precision="native")
    assert r64.ok and r64.dtype == "float64"
    assert r32.ok and r32.dtype == "float32" and r32.rtol > r64.rtol
    assert layer.params["W"].dtype == np.float32


def test_report_table_lists_every_tensor():
    report = lg.gradcheck(lg.Affine(3, 2, dtype=np.float64, rng=0), np.ones((2, 3)))
    text = str(report)
    for name in ("x", "W", "b", "max abs err", "worst index", "PASS"):
        assert name in text


@pytest.mark.parametrize("kwargs, error", [
    ({"mode": "fast"}, ValueError), ({"mode": 3}, TypeError), ({"seed": 1.5}, TypeError),
    ({"samples": 2}, ValueError), ({"precision": "float16"}, ValueError), ({"train": "yes"}, ValueError),
    ({"eps": -1.0}, ValueError),
])
def test_bad_arguments(kwargs, error):
    with pytest.raises(error, match="gradcheck"):
        lg.gradcheck(lg.ReLU(), np.ones((2, 2)), **kwargs)
