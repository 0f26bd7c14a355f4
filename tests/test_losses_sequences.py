"""Losses over (N, ..., C) with ignore_index, bad targets, and accuracy on sequences."""

import numpy as np
import pytest

import layergraph as lg


def _log_softmax(x):
    z = x - x.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def test_sequence_cross_entropy_with_ignore_index_against_a_position_loop():
    rng = np.random.default_rng(0)
    x = 3 * rng.standard_normal((3, 5, 4))
    t = rng.integers(0, 4, (3, 5))
    t[0, 2:] = -100
    t[2, 4] = -100
    loss_layer = lg.SoftmaxWithLoss(ignore_index=-100)
    loss = loss_layer.forward(x, t)
    terms, grad, count = [], np.zeros_like(x), int(np.count_nonzero(t != -100))
    for n in range(3):
        for s in range(5):
            if t[n, s] == -100:
                continue
            lp = _log_softmax(x[n, s])
            terms.append(-lp[t[n, s]])
            grad[n, s] = (np.exp(lp) - np.eye(4)[t[n, s]]) / count
    assert loss == pytest.approx(np.mean(terms), rel=1e-13)
    dx = loss_layer.backward()
    np.testing.assert_allclose(dx, grad, rtol=1e-12, atol=1e-16)
    np.testing.assert_array_equal(dx[0, 2:], 0.0)
    # doubling dout doubles the gradient
    loss_layer.forward(x, t)
    np.testing.assert_allclose(loss_layer.backward(2.0), 2 * grad, rtol=1e-12, atol=1e-16)


def test_every_position_ignored_gives_zero_loss_and_gradient():
    layer = lg.SoftmaxWithLoss(ignore_index=0)
    x = np.random.default_rng(1).standard_normal((2, 3, 4))
    assert layer.forward(x, np.zeros((2, 3), dtype=int)) == 0.0
    dx = layer.backward()
    assert dx.shape == x.shape and not np.any(dx)


def test_sequence_probability_targets_and_2d_unchanged():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 3, 5))
    p = rng.random((2, 3, 5))
    p /= p.sum(-1, keepdims=True)
    layer = lg.SoftmaxWithLoss()
    expected = -np.mean(np.sum(p * _log_softmax(x), axis=-1))
    assert layer.forward(x, p) == pytest.approx(expected, rel=1e-13)
    np.testing.assert_allclose(layer.backward(), (np.exp(_log_softmax(x)) - p) / 6, rtol=1e-12)
    # (N, C) with labels is the mean over rows, as before; ignore_index leaves others as they were
    x2, t2 = x[0], np.array([1, 4, 0])
    a = lg.SoftmaxWithLoss().forward(x2, t2)
    b = lg.SoftmaxWithLoss(ignore_index=-1).forward(x2, t2)
    assert a == b == pytest.approx(-np.mean(_log_softmax(x2)[np.arange(3), t2]), rel=1e-13)


def test_sigmoid_and_mse_on_sequences():
    rng = np.random.default_rng(3)
    x, t = 2 * rng.standard_normal((2, 4, 3)), rng.random((2, 4, 3))
    bce = lg.SigmoidWithLoss()
    p = 1 / (1 + np.exp(-x))
    assert bce.forward(x, t) == pytest.approx(np.mean(-t * np.log(p) - (1 - t) * np.log(1 - p)), rel=1e-12)
    np.testing.assert_allclose(bce.backward(), (p - t) / x.size, rtol=1e-12)
    mse = lg.MeanSquaredError()
    assert mse.forward(x, t) == pytest.approx(np.mean((x - t) ** 2), rel=1e-13)
    np.testing.assert_allclose(mse.backward(), 2 * (x - t) / x.size, rtol=1e-13)
    assert bce.forward(x[..., :1], t[..., 0] > 0.5) > 0     # (N, T, 1) logits with (N, T) targets


def test_bad_targets_give_one_line_errors_naming_the_layer_and_t():
    net = lg.Sequential([("fc", lg.Affine(3, 4))], loss=lg.SoftmaxWithLoss())
    x = np.ones((3, 3))
    for t, pattern in [(np.array([[0.5, 0.5, 0, 0], [np.nan, 0, 0, 1], [0, 0, 1, 0]]), r"'loss'.*'t'.*1 NaN"),
                       (np.array([[1.5, -0.5, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]]), r"'loss'.*'t'.*negative"),
                       (np.array([0, 4, 1]), r"'loss'.*'t'.*4 classes.*min 0 to max 4"),
                       (np.array([-2, 1, 1]), r"'loss'.*'t'.*4 classes.*min -2 to max 1")]:
        with pytest.raises(ValueError, match=pattern) as info:
            net.loss(x, t)
        assert "\n" not in str(info.value)
    seq = lg.SoftmaxWithLoss(ignore_index=-100)
    with pytest.raises(ValueError, match=r"min 0 to max 7"):
        seq.forward(np.zeros((1, 3, 4)), np.array([[0, -100, 7]]))
    for layer in (lg.SigmoidWithLoss(), lg.MeanSquaredError()):
        with pytest.raises(ValueError, match=rf"{type(layer).__name__}.*'t'.*NaN"):
            layer.forward(np.zeros((2, 3)), np.array([[0, 1, np.nan], [0, 0, 0]]))
    with pytest.raises(TypeError, match="ignore_index"):
        lg.SoftmaxWithLoss(ignore_index=1.5)


def test_accuracy_counts_every_non_ignored_position():
    net = lg.Sequential([("head", lg.TimeDistributed(lg.Affine(2, 3, dtype=np.float64, rng=0)))],
                        loss=lg.SoftmaxWithLoss(ignore_index=-1))
    x = np.random.default_rng(0).standard_normal((4, 5, 2))
    pred = np.argmax(net.forward(x), axis=-1)
    t = pred.copy()
    t[0, :] = (pred[0, :] + 1) % 3      # 5 wrong
    t[1, :3] = -1                       # 3 ignored
    t[2, 0] = -1
    assert net.accuracy(x, t, batch_size=3) == pytest.approx((20 - 4 - 5) / (20 - 4))
    metric = lg.train.Accuracy(net.loss_layer)
    assert metric(net.forward(x), t) == pytest.approx(11 / 16)
