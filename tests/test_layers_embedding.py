"""Embedding: lookup, accumulated gradients over repeated indices, padding_idx, and bad indices."""

import numpy as np
import pytest

import layergraph as lg


def test_lookup_any_integer_dtype_and_leading_shape():
    emb = lg.Embedding(10, 4, rng=0)
    W = emb.params["W"]
    assert W.shape == (10, 4) and W.dtype == np.float32
    for dtype in (np.int8, np.uint16, np.int32, np.int64, np.uint64):
        idx = np.array([[1, 9, 0], [3, 3, 2]], dtype=dtype)
        y = emb.forward(idx)
        assert y.shape == (2, 3, 4)
        for pos in np.ndindex(idx.shape):
            np.testing.assert_array_equal(y[pos], W[int(idx[pos])])
    assert emb.forward(np.array([[[1, 2]], [[3, 4]]])).shape == (2, 1, 2, 4)
    assert emb.forward(np.array([5, 6])).shape == (2, 4)


def test_initialisation_is_standard_normal_and_seeded():
    W = lg.Embedding(4000, 5, rng=1, dtype=np.float64).params["W"]
    assert abs(W.mean()) < 0.02 and abs(W.std() - 1.0) < 0.02
    np.testing.assert_array_equal(W, lg.Embedding(4000, 5, rng=1, dtype=np.float64).params["W"])


def test_gradient_accumulates_over_repeated_indices():
    rng = np.random.default_rng(0)
    emb = lg.Embedding(6, 3, dtype=np.float64, rng=0)
    idx = rng.integers(0, 6, (4, 7))
    idx[0, :4] = 5
    R = rng.standard_normal((4, 7, 3))
    emb.forward(idx)
    assert emb.backward(R) is None
    expected = np.zeros((6, 3))
    for pos in np.ndindex(idx.shape):        # a loop over tokens, the slow obvious way
        expected[idx[pos]] += R[pos]
    np.testing.assert_allclose(emb.grads["W"], expected, rtol=1e-13, atol=1e-15)
    # a second backward overwrites, never adds to, the previous gradient
    emb.forward(idx[:1, :1])
    emb.backward(np.ones((1, 1, 3)))
    expected = np.zeros((6, 3))
    expected[idx[0, 0]] = 1
    np.testing.assert_array_equal(emb.grads["W"], expected)


def test_gradient_matches_finite_differences():
    rng = np.random.default_rng(1)
    emb = lg.Embedding(5, 2, dtype=np.float64, rng=0)
    idx = np.array([[0, 4, 4], [2, 0, 4]])
    R = rng.standard_normal((2, 3, 2))
    emb.forward(idx)
    emb.backward(R)
    W = emb.params["W"]
    for pos in np.ndindex(W.shape):
        old = W[pos]
        W[pos] = old + 1e-6
        fp = np.sum(emb.forward(idx) * R)
        W[pos] = old - 1e-6
        fm = np.sum(emb.forward(idx) * R)
        W[pos] = old
        assert emb.grads["W"][pos] == pytest.approx((fp - fm) / 2e-6, abs=1e-8)


def test_padding_row_starts_at_zero_and_gets_no_gradient():
    emb = lg.Embedding(6, 3, padding_idx=-1, dtype=np.float64, rng=0)
    assert emb.padding_idx == 5
    np.testing.assert_array_equal(emb.params["W"][5], 0.0)
    idx = np.array([[5, 5, 1], [2, 5, 5]])
    emb.forward(idx)
    emb.backward(np.ones((2, 3, 3)))
    np.testing.assert_array_equal(emb.grads["W"][5], 0.0)
    np.testing.assert_array_equal(emb.grads["W"][1], 1.0)
    opt = lg.optim.Adam(0.1)
    for _ in range(3):
        opt.update(emb.params, emb.grads)
    np.testing.assert_array_equal(emb.params["W"][5], 0.0)


def test_bad_indices_give_one_line_errors_naming_the_layer():
    net = lg.Sequential([("tok", lg.Embedding(10, 4, rng=0))])
    with pytest.raises(TypeError, match=r"Embedding 'tok'.*integer indices.*float64"):
        net.forward(np.array([[1.0, 2.0]]))          # whole-number floats are rejected too
    with pytest.raises(TypeError, match=r"'tok'.*bool"):
        net.forward(np.array([[True, False]]))
    with pytest.raises(IndexError, match=r"'tok'.*from -1 to 3.*\[0, 10\)"):
        net.forward(np.array([[0, -1, 3]]))
    with pytest.raises(IndexError, match=r"'tok'.*from 2 to 10") as info:
        net.forward(np.array([[2, 10]]))
    assert "\n" not in str(info.value)
    with pytest.raises(lg.ShapeError, match=r"'tok'.*\(N, \.\.\.\)"):
        net.forward(np.array(3))
    with pytest.raises(ValueError, match="padding_idx"):
        lg.Embedding(4, 2, padding_idx=4)
    emb = net["tok"]
    emb.forward(np.array([[1, 2]]))
    with pytest.raises(lg.ShapeError, match=r"'tok'.*'dout'"):
        emb.backward(np.ones((1, 2, 3)))


def test_input_not_modified_and_sequential_training_step_runs():
    idx = np.array([[1, 2, 0], [3, 0, 0]])
    before = idx.copy()
    net = lg.Sequential([("emb", lg.Embedding(5, 4, padding_idx=0, rng=0)), ("lstm", lg.LSTM(4, 3, rng=1)),
                         ("head", lg.TimeDistributed(lg.Affine(3, 5, rng=2)))],
                        loss=lg.SoftmaxWithLoss(ignore_index=0))
    loss, grads = net.loss_and_gradient(idx, idx)
    assert np.isfinite(loss) and set(grads) == set(net.params)
    np.testing.assert_array_equal(idx, before)
