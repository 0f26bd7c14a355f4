"""Forward passes against independent formulas, and gradients over hypothesis-drawn shapes and scales."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import layergraph as lg

seeds = st.integers(0, 2**31 - 1)


def test_affine_forward_matches_explicit_sum():
    layer = lg.Affine(3, 2, dtype=np.float64, rng=0)
    x = np.arange(6.0).reshape(2, 3)
    W, b = layer.params["W"], layer.params["b"]
    b[:] = [0.5, -1.0]
    expected = np.array([[sum(x[n, i] * W[i, j] for i in range(3)) + b[j] for j in range(2)] for n in range(2)])
    np.testing.assert_allclose(layer.forward(x), expected, rtol=1e-14)


def test_affine_flattens_and_restores_input_shape():
    layer = lg.Affine(12, 4, dtype=np.float64, rng=1)
    x = np.random.default_rng(0).standard_normal((5, 3, 2, 2))
    y = layer.forward(x)
    assert y.shape == (5, 4)
    assert layer.backward(np.ones_like(y)).shape == x.shape


@pytest.mark.parametrize("init,std", [("he", np.sqrt(2 / 400)), ("xavier", np.sqrt(2 / 500)), (0.05, 0.05)])
def test_affine_init_std(init, std):
    W = lg.Affine(400, 100, init=init, rng=3).params["W"]
    assert W.dtype == np.float32
    assert abs(W.std() / std - 1) < 0.02
    assert abs(W.mean()) < 0.05 * std


def test_affine_same_seed_same_weights_and_generator_accepted():
    a = lg.Affine(5, 4, rng=7).params["W"]
    b = lg.Affine(5, 4, rng=np.random.default_rng(7)).params["W"]
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, lg.Affine(5, 4, rng=8).params["W"])


def test_affine_casts_input_to_its_dtype():
    layer = lg.Affine(4, 3, rng=0)
    y = layer.forward(np.ones((2, 4), dtype=np.float64))
    assert y.dtype == np.float32


def test_affine_skips_input_gradient_when_not_required():
    layer = lg.Affine(4, 3, dtype=np.float64, rng=0)
    x = np.random.default_rng(1).standard_normal((2, 4))
    dout = np.random.default_rng(2).standard_normal((2, 3))
    layer.forward(x)
    full_dW = layer.backward(dout) is not None and layer.grads["W"].copy()
    layer.requires_input_grad = False
    assert layer.backward(dout) is None
    np.testing.assert_array_equal(layer.grads["W"], full_dW)
    np.testing.assert_allclose(full_dW, x.T @ dout)


def test_activations_forward_formulas():
    x = np.linspace(-5, 5, 21).reshape(3, 7)
    np.testing.assert_array_equal(lg.ReLU().forward(x), np.where(x > 0, x, 0))
    np.testing.assert_allclose(lg.LeakyReLU(0.2).forward(x), np.where(x > 0, x, 0.2 * x))
    np.testing.assert_allclose(lg.Sigmoid().forward(x), 1 / (1 + np.exp(-x)), rtol=1e-14)
    np.testing.assert_allclose(lg.Tanh().forward(x), (np.exp(x) - np.exp(-x)) / (np.exp(x) + np.exp(-x)), rtol=1e-13)
    e = np.exp(x)
    np.testing.assert_allclose(lg.Softmax().forward(x), e / e.sum(axis=1, keepdims=True), rtol=1e-13)


def test_sigmoid_finite_at_extremes():
    layer = lg.Sigmoid()
    y = layer.forward(np.array([[-1000.0, 1000.0, 0.0]]))
    assert np.all(np.isfinite(y))
    np.testing.assert_allclose(y, [[0.0, 1.0, 0.5]], atol=0)
    assert np.all(np.isfinite(layer.backward(np.ones((1, 3)))))


def test_activations_keep_float32():
    x = np.ones((2, 3), dtype=np.float32)
    for layer in (lg.ReLU(), lg.LeakyReLU(), lg.Sigmoid(), lg.Tanh(), lg.Softmax()):
        assert layer.forward(x).dtype == np.float32, type(layer).__name__
        assert layer.backward(x).dtype == np.float32, type(layer).__name__


def test_backward_does_not_modify_dout_or_input():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 5))
    for layer in (lg.Affine(5, 5, dtype=np.float64, rng=0), lg.ReLU(), lg.LeakyReLU(), lg.Sigmoid(), lg.Tanh(),
                  lg.Softmax()):
        x_before, dout = x.copy(), rng.standard_normal((4, 5))
        dout_before = dout.copy()
        layer.forward(x)
        layer.backward(dout)
        np.testing.assert_array_equal(x, x_before)
        np.testing.assert_array_equal(dout, dout_before)


def _check(layer, x, t=None, **kw):
    report = lg.gradcheck(layer, x, t, **kw)
    assert report.ok, str(report)


@given(n=st.integers(1, 6), fin=st.integers(1, 7), fout=st.integers(1, 5), scale=st.floats(0.1, 10), seed=seeds)
def test_affine_gradients(n, fin, fout, scale, seed):
    rng = np.random.default_rng(seed)
    _check(lg.Affine(fin, fout, dtype=np.float64, rng=rng), scale * rng.standard_normal((n, fin)), seed=seed)


@pytest.mark.parametrize("make", [lg.Sigmoid, lg.Tanh, lg.Softmax, lambda: lg.LeakyReLU(0.3), lg.ReLU])
@given(shape=st.lists(st.integers(1, 5), min_size=2, max_size=3), scale=st.floats(0.1, 4), seed=seeds)
def test_activation_gradients(make, shape, scale, seed):
    rng = np.random.default_rng(seed)
    x = scale * rng.standard_normal(shape)
    x += np.copysign(0.01, x)  # keep kinks of ReLU-like layers away from the finite-difference steps
    _check(make(), x, seed=seed)


def test_softmax_of_two_values_whose_gradients_cancel_passes_the_linearity_check():
    """Found by Hypothesis: gradients of 4e-4 from terms of about 1, where reordered rounding differs by 1.6e-16."""
    rng = np.random.default_rng(32422173)
    x = 4.0 * rng.standard_normal((1, 2))
    x += np.copysign(0.01, x)
    _check(lg.Softmax(), x, seed=32422173)


@given(n=st.integers(1, 6), c=st.integers(2, 6), scale=st.floats(0.1, 30), seed=seeds, onehot=st.booleans())
def test_softmax_with_loss_gradients(n, c, scale, seed, onehot):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, c, n)
    t = np.eye(c)[labels] if onehot else labels
    _check(lg.SoftmaxWithLoss(), scale * rng.standard_normal((n, c)), t, seed=seed)


@given(n=st.integers(1, 6), k=st.integers(1, 4), scale=st.floats(0.1, 20), seed=seeds)
def test_sigmoid_with_loss_and_mse_gradients(n, k, scale, seed):
    rng = np.random.default_rng(seed)
    x = scale * rng.standard_normal((n, k))
    _check(lg.SigmoidWithLoss(), x, rng.random((n, k)), seed=seed)
    _check(lg.MeanSquaredError(), x, rng.standard_normal((n, k)), seed=seed)
