"""net.predict_proba / net.predict_labels for softmax and sigmoid heads, against formulas written here."""

import numpy as np
import pytest

import layergraph as lg
from layergraph.errors import ShapeError
from layergraph.network.predict import predict_proba, register_head


def _net(loss, n_out, seed=0):
    return lg.Sequential(lg.layers.Affine(4, 6, rng=seed), lg.layers.Tanh(), lg.layers.Affine(6, n_out, rng=seed + 1),
                         loss=loss)


def _logits(net, x):
    p = {k: v.astype(np.float64) for k, v in net.params.items()}
    return np.tanh(x @ p["Affine1.W"] + p["Affine1.b"]) @ p["Affine2.W"] + p["Affine2.b"]


X = np.random.default_rng(1).normal(size=(7, 4)).astype(np.float32) * 3


def test_softmax_head_probabilities_and_labels():
    net = _net(lg.layers.SoftmaxWithLoss(), 3)
    z = _logits(net, X.astype(np.float64))
    expected = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    x_before = X.copy()
    proba = net.predict_proba(X)
    assert proba.shape == (7, 3) and proba.dtype == np.float32
    np.testing.assert_allclose(proba, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    labels = net.predict_labels(X)
    assert labels.dtype == np.int64 and labels.shape == (7,)
    np.testing.assert_array_equal(labels, z.argmax(axis=1))
    np.testing.assert_array_equal(X, x_before)  # input untouched
    np.testing.assert_allclose(net.predict_proba(X, batch_size=2), proba, rtol=1e-6)


def test_softmax_of_huge_logits_is_finite():
    proba = lg.network.predict.softmax_proba(np.array([[1e4, 0.0, -1e4]], dtype=np.float32))
    np.testing.assert_allclose(proba, [[1.0, 0.0, 0.0]])


def test_binary_sigmoid_head():
    net = _net(lg.layers.SigmoidWithLoss(), 1)
    z = _logits(net, X.astype(np.float64))
    proba = net.predict_proba(X)
    np.testing.assert_allclose(proba, 1 / (1 + np.exp(-z)), rtol=1e-5)
    labels = net.predict_labels(X)
    assert labels.shape == (7,)
    np.testing.assert_array_equal(labels, (z[:, 0] > 0).astype(int))
    np.testing.assert_array_equal(net.predict_labels(X, threshold=0.99), (1 / (1 + np.exp(-z[:, 0])) > 0.99))


def test_multilabel_sigmoid_head_gives_a_label_per_column():
    net = _net(lg.layers.SigmoidWithLoss(), 3)
    z = _logits(net, X.astype(np.float64))
    np.testing.assert_array_equal(net.predict_labels(X), (z > 0).astype(int))


def test_heads_without_probabilities_and_bad_inputs_fail_in_one_line():
    net = _net(lg.layers.MeanSquaredError(), 2)
    with pytest.raises(ValueError, match="loss layer MeanSquaredError, which gives no class probabilities"):
        net.predict_proba(X)
    soft = _net(lg.layers.SoftmaxWithLoss(), 3)
    with pytest.raises(ShapeError, match="'x' must hold at least one sample"):
        soft.predict_labels(X[:0])
    with pytest.raises(ValueError, match="'threshold' must be in"):
        soft.predict_labels(X, threshold=2)


def test_register_head_for_a_custom_loss():
    class Hinge(lg.layers.MeanSquaredError):
        pass

    register_head(Hinge, lambda y: np.full_like(y, 0.5), lambda p, th: np.zeros(len(p), dtype=np.int64))
    net = _net(Hinge(), 2)
    np.testing.assert_array_equal(predict_proba(net, X), np.full((7, 2), 0.5, dtype=np.float32))
