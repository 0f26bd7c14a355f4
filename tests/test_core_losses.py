"""Loss layers: values against direct formulas, both label forms, and stability at extreme logits."""

import numpy as np
import pytest

import layergraph as lg


def _naive_cross_entropy(x, labels):
    p = np.exp(x) / np.exp(x).sum(axis=1, keepdims=True)
    return -np.mean(np.log(p[np.arange(len(x)), labels]))


def test_softmax_with_loss_value_and_label_forms_agree():
    rng = np.random.default_rng(0)
    x, labels = rng.standard_normal((6, 4)), rng.integers(0, 4, 6)
    a = lg.SoftmaxWithLoss()
    b = lg.SoftmaxWithLoss()
    la, lb = a.forward(x, labels), b.forward(x, np.eye(4)[labels])
    assert la == pytest.approx(_naive_cross_entropy(x, labels), rel=1e-13)
    assert lb == pytest.approx(la, rel=1e-14)
    p = np.exp(x) / np.exp(x).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(a.backward(), (p - np.eye(4)[labels]) / 6, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(b.backward(), a.backward(), rtol=1e-12, atol=1e-16)


def test_softmax_with_loss_backward_scales_with_dout():
    rng = np.random.default_rng(1)
    layer = lg.SoftmaxWithLoss()
    layer.forward(rng.standard_normal((3, 5)), rng.integers(0, 5, 3))
    np.testing.assert_allclose(layer.backward(2.5), 2.5 * layer.backward(1.0), rtol=1e-14)


def test_softmax_with_loss_extreme_logits_exact():
    x = np.array([[1e4, 0.0, -1e4], [0.0, 1e4, 1e4 - 1.0]])
    t = np.array([1, 2])
    layer = lg.SoftmaxWithLoss()
    loss = layer.forward(x, t)
    # row 0: log-softmax of class 1 is -1e4 exactly; row 1: class 2 has log-prob -(1 + log(1 + e^-1)).
    expected = (1e4 + 1.0 + np.log1p(np.exp(-1.0))) / 2
    assert loss == pytest.approx(expected, rel=1e-15)
    dx = layer.backward()
    assert np.all(np.isfinite(dx))
    s = 1 / (1 + np.exp(-1.0))
    np.testing.assert_allclose(dx, np.array([[1.0, -1.0, 0.0], [0.0, s, -s]]) / 2, atol=1e-15)


def test_softmax_with_loss_float32_large_logits_finite():
    x = np.array([[3e4, -3e4, 0]], dtype=np.float32)
    layer = lg.SoftmaxWithLoss()
    assert layer.forward(x, np.array([0])) == 0.0
    assert layer.backward().dtype == np.float32


def test_sigmoid_with_loss_matches_direct_formula_and_is_stable():
    rng = np.random.default_rng(2)
    x, t = rng.standard_normal((5, 3)), rng.random((5, 3))
    s = 1 / (1 + np.exp(-x))
    expected = -np.mean(t * np.log(s) + (1 - t) * np.log(1 - s))
    layer = lg.SigmoidWithLoss()
    assert layer.forward(x, t) == pytest.approx(expected, rel=1e-13)
    np.testing.assert_allclose(layer.backward(), (s - t) / 15, rtol=1e-12)
    big = lg.SigmoidWithLoss()
    assert big.forward(np.array([1000.0, -1000.0]), np.array([0, 1])) == pytest.approx(1000.0, rel=1e-15)
    np.testing.assert_allclose(big.backward(), [0.5, -0.5])


def test_sigmoid_with_loss_accepts_column_logits_with_label_vector():
    layer = lg.SigmoidWithLoss()
    x = np.array([[0.3], [-1.2]])
    assert layer.forward(x, np.array([1, 0])) == pytest.approx(lg.SigmoidWithLoss().forward(x[:, 0], [1, 0]))
    assert layer.backward().shape == (2, 1)


def test_mse_is_mean_over_all_elements():
    rng = np.random.default_rng(3)
    x, t = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    layer = lg.MeanSquaredError()
    assert layer.forward(x, t) == pytest.approx(((x - t) ** 2).sum() / 12, rel=1e-14)
    np.testing.assert_allclose(layer.backward(), 2 * (x - t) / 12, rtol=1e-14)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_logits_raise(bad):
    x = np.array([[0.0, bad], [1.0, 2.0]])
    for layer, t in ((lg.SoftmaxWithLoss(), np.array([0, 1])), (lg.SigmoidWithLoss(), np.ones((2, 2)))):
        with pytest.raises(lg.NonFiniteError, match=r"1 non-finite value.*shape \(2, 2\)"):
            layer.forward(x, t)


def test_losses_keep_the_dtype_of_x_whatever_the_targets():
    x = np.random.default_rng(5).standard_normal((4, 3)).astype(np.float32)
    for layer, t in ((lg.MeanSquaredError(), np.zeros((4, 3))), (lg.SigmoidWithLoss(), np.ones((4, 3))),
                     (lg.SoftmaxWithLoss(), np.eye(3)[[0, 1, 2, 0]])):
        layer.forward(x, t)
        assert layer.backward().dtype == np.float32, type(layer).__name__
