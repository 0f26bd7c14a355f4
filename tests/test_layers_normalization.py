"""BatchNorm and LayerNorm against formulas written here; train vs inference; buffers in state_dict; checks."""

from collections import OrderedDict

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import layergraph as lg
from layergraph.errors import ShapeError
from layergraph.layers import BatchNorm, LayerNorm


def per_channel(x):
    """x as (C, M): every value of each channel in one row."""
    return np.moveaxis(x, 1, 0).reshape(x.shape[1], -1)


def test_batchnorm_train_forward_and_running_stats_4d():
    rng = np.random.default_rng(0)
    x = 3 * rng.standard_normal((4, 3, 2, 5)) + 2
    bn = BatchNorm(3, momentum=0.7, eps=1e-3, dtype=np.float64)
    bn.params["gamma"][...] = [0.5, 1.0, 2.0]
    bn.params["beta"][...] = [0.0, -1.0, 1.0]
    y = bn.forward(x, train=True)
    rows = per_channel(x)
    mu, var = rows.mean(axis=1), rows.var(axis=1)           # biased variance for normalisation
    ref = (x - mu[:, None, None]) / np.sqrt(var[:, None, None] + 1e-3)
    ref = ref * np.array([0.5, 1.0, 2.0])[:, None, None] + np.array([0.0, -1.0, 1.0])[:, None, None]
    np.testing.assert_allclose(y, ref, rtol=1e-12, atol=1e-12)
    m = rows.shape[1]
    np.testing.assert_allclose(bn.buffers["running_mean"], 0.3 * mu)
    np.testing.assert_allclose(bn.buffers["running_var"], 0.7 * 1.0 + 0.3 * var * m / (m - 1))   # unbiased
    assert set(bn.params) == {"gamma", "beta"} and set(bn.buffers) == {"running_mean", "running_var"}


def test_batchnorm_inference_uses_running_stats_and_updates_nothing():
    rng = np.random.default_rng(1)
    bn = BatchNorm(4, dtype=np.float64)
    for _ in range(3):
        bn.forward(rng.standard_normal((8, 4)) * 2 + 1, train=True)
    rm, rv = bn.buffers["running_mean"].copy(), bn.buffers["running_var"].copy()
    x = rng.standard_normal((5, 4))
    y = bn.forward(x, train=False)
    np.testing.assert_allclose(y, (x - rm) / np.sqrt(rv + 1e-5), rtol=1e-12)
    np.testing.assert_array_equal(bn.buffers["running_mean"], rm)
    np.testing.assert_array_equal(bn.buffers["running_var"], rv)
    # training output differs: it uses the batch statistics
    assert not np.allclose(bn.forward(x, train=True), y)


def test_batchnorm_running_stats_converge_to_data_statistics():
    rng = np.random.default_rng(2)
    bn = BatchNorm(2, momentum=0.9)
    for _ in range(200):
        bn.forward(rng.normal([1.0, -3.0], [2.0, 0.5], size=(64, 2)))
    np.testing.assert_allclose(bn.buffers["running_mean"], [1.0, -3.0], atol=0.15)
    np.testing.assert_allclose(bn.buffers["running_var"], [4.0, 0.25], rtol=0.1)


def test_batchnorm_backward_matches_direct_formula():
    rng = np.random.default_rng(3)
    x, dout = rng.standard_normal((6, 3)), rng.standard_normal((6, 3))
    bn = BatchNorm(3, dtype=np.float64)
    bn.params["gamma"][...] = [1.5, -0.5, 2.0]
    bn.forward(x)
    dx = bn.backward(dout)
    # textbook staged chain rule
    mu = x.mean(0)
    xc = x - mu
    var = (xc ** 2).mean(0)
    std = np.sqrt(var + 1e-5)
    xhat = xc / std
    dxhat = dout * bn.params["gamma"]
    dvar = np.sum(dxhat * xc * -0.5 * std ** -3, axis=0)
    dmu = np.sum(-dxhat / std, axis=0) + dvar * np.mean(-2 * xc, axis=0)
    np.testing.assert_allclose(dx, dxhat / std + dvar * 2 * xc / 6 + dmu / 6, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(bn.grads["gamma"], np.sum(dout * xhat, 0), rtol=1e-12)
    np.testing.assert_allclose(bn.grads["beta"], np.sum(dout, 0), rtol=1e-12)


shapes = st.one_of(
    st.tuples(st.integers(2, 5), st.integers(1, 4)),
    st.tuples(st.integers(1, 3), st.integers(1, 3), st.integers(1, 3), st.integers(2, 3)),
)


@settings(max_examples=15, deadline=None)
@given(shapes, st.booleans(), st.integers(0, 2**16))
def test_batchnorm_gradcheck_drawn_shapes(shape, train, seed):
    rng = np.random.default_rng(seed)
    bn = BatchNorm(shape[1], dtype=np.float64)
    bn.params["gamma"][...] = rng.uniform(0.5, 2, shape[1])
    bn.params["beta"][...] = rng.standard_normal(shape[1])
    bn.buffers["running_var"][...] = rng.uniform(0.5, 2, shape[1])
    report = lg.gradcheck(bn, 2 * rng.standard_normal(shape) + 1, train=train)
    assert report.ok, str(report)


def test_state_dict_includes_batchnorm_buffers_and_roundtrips():
    rng = np.random.default_rng(4)
    net = lg.Sequential(OrderedDict(fc1=lg.Affine(3, 4, rng=0), bn1=BatchNorm(4), relu=lg.ReLU()))
    net.forward(rng.standard_normal((10, 3)).astype(np.float32))
    assert set(net.params) == {"fc1.W", "fc1.b", "bn1.gamma", "bn1.beta"}
    assert set(net.buffers) == {"bn1.running_mean", "bn1.running_var"}
    state = net.state_dict()
    assert {"bn1.running_mean", "bn1.running_var"} <= set(state)
    np.testing.assert_array_equal(state["bn1.running_mean"], net["bn1"].buffers["running_mean"])
    other = lg.Sequential(OrderedDict(fc1=lg.Affine(3, 4, rng=9), bn1=BatchNorm(4), relu=lg.ReLU()))
    other.load_state_dict(state)
    x = rng.standard_normal((5, 3))
    np.testing.assert_array_equal(other.predict(x), net.predict(x))


def test_batchnorm_astype_casts_buffers():
    bn = BatchNorm(3).astype(np.float64)
    assert bn.buffers["running_var"].dtype == np.float64 and bn.params["gamma"].dtype == np.float64
    assert bn.forward(np.ones((2, 3), dtype=np.float32) * [[1], [2]]).dtype == np.float64


def test_batchnorm_errors():
    net = lg.Sequential([("bn", BatchNorm(3))])
    with pytest.raises(ShapeError, match=r"BatchNorm 'bn'.*\(N, C\) or \(N, C, H, W\).*C = 3"):
        net.forward(np.zeros((2, 4)))
    with pytest.raises(ShapeError, match=r"\(N, C\) or \(N, C, H, W\)"):
        net.forward(np.zeros((2, 3, 4)))
    with pytest.raises(ShapeError, match="more than one value"):
        net.forward(np.zeros((1, 3)))
    assert net.forward(np.zeros((1, 3)), train=False).shape == (1, 3)
    for kwargs, exc, arg in [({"momentum": 1.5}, ValueError, "momentum"), ({"momentum": "a"}, TypeError, "momentum"),
                             ({"eps": 0.0}, ValueError, "eps"), ({"num_features": 0}, ValueError, "num_features"),
                             ({"dtype": int}, TypeError, "dtype")]:
        with pytest.raises(exc, match=arg):
            BatchNorm(**{"num_features": 3, **kwargs})


def test_layernorm_forward_matches_formula_and_is_mode_independent():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 3, 4, 5)) * 3 + 1
    ln = LayerNorm((4, 5), dtype=np.float64)
    ln.params["gamma"][...] = rng.standard_normal((4, 5))
    ln.params["beta"][...] = rng.standard_normal((4, 5))
    flat = x.reshape(6, 20)
    ref = (flat - flat.mean(1, keepdims=True)) / np.sqrt(flat.var(1, keepdims=True) + 1e-5)
    ref = ref.reshape(x.shape) * ln.params["gamma"] + ln.params["beta"]
    np.testing.assert_allclose(ln.forward(x), ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(ln.forward(x, train=False), ln.forward(x, train=True))


@settings(max_examples=12, deadline=None)
@given(st.lists(st.integers(1, 3), min_size=2, max_size=4), st.integers(1, 2), st.integers(0, 2**16))
def test_layernorm_gradcheck_drawn_shapes(shape, k, seed):
    rng = np.random.default_rng(seed)
    k = min(k, len(shape) - 1)
    norm = tuple(shape[-k:])
    if np.prod(norm) < 2:
        norm = (2,) * k
        shape = shape[:-k] + list(norm)
    ln = LayerNorm(norm, dtype=np.float64)
    ln.params["gamma"][...] = rng.uniform(0.5, 2, norm)
    report = lg.gradcheck(ln, rng.standard_normal(shape))
    assert report.ok, str(report)


def test_layernorm_errors():
    with pytest.raises(ShapeError, match=r"LayerNorm.*\(N, \.\.\., 4, 5\)"):
        LayerNorm((4, 5)).forward(np.zeros((2, 5, 4)))
    with pytest.raises(TypeError, match="normalized_shape"):
        LayerNorm(())
    with pytest.raises(ValueError, match="normalized_shape"):
        LayerNorm((3, 0))
    with pytest.raises(ValueError, match="eps"):
        LayerNorm(3, eps=-1.0)


@pytest.mark.parametrize("shape", [(5, 3), (4, 3, 2, 5)])
@pytest.mark.parametrize("train", [True, False])
def test_batchnorm_outputs_and_gradients_are_fresh_arrays(shape, train):
    """BatchNorm keeps its normalised input in a reused buffer; what it returns is never that buffer."""
    rng = np.random.default_rng(4)
    bn = BatchNorm(shape[1], dtype=np.float64)
    x1, x2 = rng.standard_normal((2, *shape))
    y1 = bn.forward(x1, train=train)
    d1 = bn.backward(np.ones_like(y1))
    keep = y1.copy(), d1.copy()
    y2 = bn.forward(x2 * 3 + 1, train=train)
    d2 = bn.backward(rng.standard_normal(shape))
    np.testing.assert_array_equal(y1, keep[0])
    np.testing.assert_array_equal(d1, keep[1])
    assert not np.shares_memory(y1, y2) and not np.shares_memory(d1, d2)
