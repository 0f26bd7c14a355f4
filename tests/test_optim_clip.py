"""Gradient clipping by global norm and by value."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import layergraph.optim as optim

finite = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False)
arrays = hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=2, max_side=6), elements=finite)


def norm_by_loop(grads):
    return math.sqrt(sum(float(x) ** 2 for g in grads.values() for x in g.reshape(-1)))


@settings(max_examples=60, deadline=None)
@given(a=arrays, b=arrays, max_norm=st.floats(1e-3, 1e3))
def test_clip_grad_norm_properties(a, b, max_norm):
    grads = {"fc1.W": a.copy(), "fc1.b": b.copy()}
    expected = norm_by_loop(grads)
    ids = {k: id(v) for k, v in grads.items()}
    got = optim.clip_grad_norm(grads, max_norm)
    assert got == pytest.approx(expected, rel=1e-12, abs=1e-300)
    assert {k: id(v) for k, v in grads.items()} == ids
    if expected <= max_norm:
        np.testing.assert_array_equal(grads["fc1.W"], a)
        np.testing.assert_array_equal(grads["fc1.b"], b)
    else:
        scale = max_norm / expected
        np.testing.assert_allclose(grads["fc1.W"], a * scale, rtol=1e-12)
        np.testing.assert_allclose(grads["fc1.b"], b * scale, rtol=1e-12)
        assert norm_by_loop(grads) == pytest.approx(max_norm, rel=1e-12)


def test_clip_grad_norm_float32_and_list_input():
    g = [np.full((3, 4), 2.0, dtype=np.float32), np.full(4, -2.0, dtype=np.float32)]
    total = optim.clip_grad_norm(g, 1.0)
    assert total == pytest.approx(2.0 * 4.0, rel=1e-6)  # sqrt(16 * 4) = 8
    assert g[0].dtype == np.float32
    np.testing.assert_allclose(g[0], 0.25, rtol=1e-6)
    np.testing.assert_allclose(g[1], -0.25, rtol=1e-6)


def test_clip_grad_norm_of_huge_float32_values_does_not_overflow():
    g = {"w": np.full(4, 1e30, dtype=np.float32)}
    total = optim.clip_grad_norm(g, 1.0)
    assert total == pytest.approx(2e30, rel=1e-6)
    np.testing.assert_allclose(g["w"], 0.5, rtol=1e-6)


def test_clip_grad_norm_nonfinite():
    g = {"a": np.ones(3), "b": np.array([1.0, np.nan])}
    with pytest.raises(optim.NonFiniteGradientError, match="'b'"):
        optim.clip_grad_norm(g, 1.0)
    out = optim.clip_grad_norm(g, 1.0, error_if_nonfinite=False)
    assert math.isnan(out)
    np.testing.assert_array_equal(g["a"], np.ones(3))


def test_clip_grad_norm_then_any_optimizer():
    params = {"w": np.zeros(3)}
    grads = {"w": np.array([3.0, 4.0, 0.0])}
    assert optim.clip_grad_norm(grads, 1.0) == pytest.approx(5.0)
    optim.SGD(lr=1.0).update(params, grads)
    np.testing.assert_allclose(params["w"], [-0.6, -0.8, 0.0])


@settings(max_examples=40, deadline=None)
@given(a=arrays, c=st.floats(1e-3, 1e3))
def test_clip_grad_value(a, c):
    g = {"w": a.copy()}
    optim.clip_grad_value(g, c)
    expected = np.array([min(max(x, -c), c) for x in a.reshape(-1)]).reshape(a.shape)
    np.testing.assert_array_equal(g["w"], expected)


def test_clip_validation():
    with pytest.raises(ValueError, match="'max_norm'"):
        optim.clip_grad_norm({"w": np.ones(2)}, 0.0)
    with pytest.raises(ValueError, match="'clip_value'"):
        optim.clip_grad_value({"w": np.ones(2)}, -1.0)
    with pytest.raises(TypeError, match="'grads'"):
        optim.clip_grad_norm(np.ones(2), 1.0)
    with pytest.raises(TypeError, match="'w'"):
        optim.clip_grad_value({"w": [1.0]}, 1.0)
    with pytest.raises(TypeError, match="floating"):
        optim.clip_grad_norm({"w": np.ones(2, dtype=int)}, 1.0)


def test_global_norm():
    assert optim.global_norm({"a": np.array([3.0]), "b": np.array([[4.0]])}) == pytest.approx(5.0)
