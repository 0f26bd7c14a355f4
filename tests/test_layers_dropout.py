"""Dropout: kept fraction, scaling, determinism under a seed, inference identity, mask reuse in backward."""

import numpy as np
import pytest

import layergraph as lg
from layergraph.layers import Dropout


def test_kept_fraction_and_scaling():
    x = np.ones((400, 500))
    y = Dropout(0.3, rng=0).forward(x)
    kept = y != 0
    assert abs(kept.mean() - 0.7) < 0.005                      # 200,000 draws: sd of the fraction ~0.001
    np.testing.assert_allclose(y[kept], 1 / 0.7)
    assert abs(y.mean() - 1.0) < 0.01                          # inverted dropout keeps the expectation


def test_same_seed_same_mask_and_generator_advances():
    x = np.arange(60.0).reshape(6, 10) + 1
    a, b = Dropout(0.5, rng=42), Dropout(0.5, rng=np.random.default_rng(42))
    ya, yb = a.forward(x), b.forward(x)
    np.testing.assert_array_equal(ya, yb)
    assert not np.array_equal(a.forward(x), ya)                # the next batch gets a new mask


def test_backward_reuses_the_mask():
    rng = np.random.default_rng(1)
    x, dout = rng.standard_normal((20, 30)), rng.standard_normal((20, 30))
    layer = Dropout(0.4, rng=3)
    y = layer.forward(x)
    mask = np.where(y != 0, 1 / 0.6, 0.0)
    np.testing.assert_allclose(y, x * mask)
    np.testing.assert_allclose(layer.backward(dout), dout * mask)


def test_inference_is_identity_and_float32_kept():
    x = np.random.default_rng(0).standard_normal((4, 5)).astype(np.float32)
    layer = Dropout(0.5, rng=0)
    np.testing.assert_array_equal(layer.forward(x, train=False), x)
    np.testing.assert_array_equal(layer.backward(np.ones((4, 5))), np.ones((4, 5)))
    assert layer.forward(x).dtype == np.float32


def test_gradcheck_really_uses_a_mask():
    rng = np.random.default_rng(0)
    layer, x = Dropout(0.5, rng=7), rng.standard_normal((6, 8))
    report = lg.gradcheck(layer, x, mode="full")
    assert report.ok, str(report)
    # the check passes only because the same mask is drawn each time; the analytic gradient has zeros
    y = Dropout(0.5, rng=7).forward(x)
    assert 0 < np.count_nonzero(y == 0) < y.size


def test_p_zero_is_identity_in_training():
    x = np.ones((3, 3))
    np.testing.assert_array_equal(Dropout(0.0, rng=0).forward(x), x)


@pytest.mark.parametrize("p, exc", [(1.0, ValueError), (-0.1, ValueError), ("0.5", TypeError), (True, TypeError)])
def test_p_validation(p, exc):
    with pytest.raises(exc, match="'p'"):
        Dropout(p)


def test_rng_validation_and_call_order():
    with pytest.raises(TypeError, match="rng"):
        Dropout(0.5, rng=1.5)
    with pytest.raises(lg.CallOrderError):
        Dropout(0.5, rng=0).backward(np.ones(3))
