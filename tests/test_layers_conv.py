"""Conv2D against a naive loop implementation written here, gradient checks over drawn geometries, errors."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import layergraph as lg
from layergraph.errors import ShapeError
from layergraph.layers import Conv2D


def naive_conv(x, W, b, stride, pad):
    """Direct definition: y[n, o, p, q] = b[o] + sum_{c,i,j} W[o, c, i, j] * xpad[n, c, p*sh + i, q*sw + j]."""
    n, c, h, w = x.shape
    o, _, kh, kw = W.shape
    (sh, sw), (ph, pw) = stride, pad
    xp = np.zeros((n, c, h + 2 * ph, w + 2 * pw))
    xp[:, :, ph:ph + h, pw:pw + w] = x
    oh, ow = (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1
    y = np.zeros((n, o, oh, ow))
    for a in range(n):
        for f in range(o):
            for p in range(oh):
                for q in range(ow):
                    patch = xp[a, :, p * sh:p * sh + kh, q * sw:q * sw + kw]
                    y[a, f, p, q] = np.sum(patch * W[f]) + b[f]
    return y


def naive_conv_grads(x, W, stride, pad, dout):
    """dW, db, dx by the chain rule on the same loops."""
    n, c, h, w = x.shape
    o, _, kh, kw = W.shape
    (sh, sw), (ph, pw) = stride, pad
    xp = np.zeros((n, c, h + 2 * ph, w + 2 * pw))
    xp[:, :, ph:ph + h, pw:pw + w] = x
    dxp = np.zeros_like(xp)
    dW = np.zeros_like(W)
    for a in range(n):
        for f in range(o):
            for p in range(dout.shape[2]):
                for q in range(dout.shape[3]):
                    g = dout[a, f, p, q]
                    dW[f] += g * xp[a, :, p * sh:p * sh + kh, q * sw:q * sw + kw]
                    dxp[a, :, p * sh:p * sh + kh, q * sw:q * sw + kw] += g * W[f]
    return dW, dout.sum(axis=(0, 2, 3)), dxp[:, :, ph:ph + h, pw:pw + w]


geometry = st.fixed_dictionaries({
    "n": st.integers(1, 3), "c": st.integers(1, 3), "o": st.integers(1, 3),
    "kh": st.integers(1, 3), "kw": st.integers(1, 3), "sh": st.integers(1, 3), "sw": st.integers(1, 3),
    "ph": st.integers(0, 2), "pw": st.integers(0, 2), "extra_h": st.integers(0, 4), "extra_w": st.integers(0, 4),
    "seed": st.integers(0, 2**16),
})


def build(g, dtype=np.float64):
    rng = np.random.default_rng(g["seed"])
    h = max(1, g["kh"] - 2 * g["ph"]) + g["extra_h"]
    w = max(1, g["kw"] - 2 * g["pw"]) + g["extra_w"]
    layer = Conv2D(g["c"], g["o"], (g["kh"], g["kw"]), (g["sh"], g["sw"]), (g["ph"], g["pw"]), dtype=dtype, rng=rng)
    layer.params["b"][...] = rng.standard_normal(g["o"])
    return layer, rng.standard_normal((g["n"], g["c"], h, w))


@settings(max_examples=40, deadline=None)
@given(geometry)
def test_forward_and_backward_match_naive_loops(g):
    layer, x = build(g)
    y = layer.forward(x)
    W, b = layer.params["W"], layer.params["b"]
    stride, pad = (g["sh"], g["sw"]), (g["ph"], g["pw"])
    np.testing.assert_allclose(y, naive_conv(x, W, b, stride, pad), rtol=1e-12, atol=1e-12)
    dout = np.random.default_rng(1).standard_normal(y.shape)
    dx = layer.backward(dout)
    dW, db, dx_ref = naive_conv_grads(x, W, stride, pad, dout)
    np.testing.assert_allclose(layer.grads["W"], dW, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(layer.grads["b"], db, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dx, dx_ref, rtol=1e-12, atol=1e-12)


@settings(max_examples=12, deadline=None)
@given(geometry)
def test_gradcheck_drawn_geometry(g):
    layer, x = build(g)
    report = lg.gradcheck(layer, x)
    assert report.ok, str(report)


def test_float32_default_and_output_shape_formula():
    layer = Conv2D(3, 4, (3, 2), stride=(2, 1), pad=(1, 0), rng=0)
    assert layer.params["W"].shape == (4, 3, 3, 2) and layer.params["W"].dtype == np.float32
    y = layer.forward(np.ones((2, 3, 7, 5)))
    assert y.shape == (2, 4, (7 + 2 - 3) // 2 + 1, (5 - 2) // 1 + 1) and y.dtype == np.float32


def test_same_seed_same_weights_and_different_seed_differs():
    a, b, c = Conv2D(2, 3, 3, rng=5), Conv2D(2, 3, 3, rng=5), Conv2D(2, 3, 3, rng=6)
    assert np.array_equal(a.params["W"], b.params["W"])
    assert not np.array_equal(a.params["W"], c.params["W"])


def test_skips_input_gradient_when_not_required():
    layer, x = build({"n": 2, "c": 2, "o": 3, "kh": 3, "kw": 3, "sh": 1, "sw": 1, "ph": 1, "pw": 1,
                      "extra_h": 2, "extra_w": 2, "seed": 3})
    y = layer.forward(x)
    dout = np.ones_like(y)
    layer.backward(dout)
    dW = layer.grads["W"].copy()
    layer.requires_input_grad = False
    assert layer.backward(dout) is None
    np.testing.assert_array_equal(layer.grads["W"], dW)


def test_sequential_first_layer_conv_skips_dx():
    net = lg.Sequential(Conv2D(1, 2, 3, rng=0), lg.ReLU(), lg.Affine(2 * 4 * 4, 3, rng=1), loss=lg.SoftmaxWithLoss())
    calls = []
    conv = net[0]
    original = conv.backward
    conv.backward = lambda d: calls.append(conv.requires_input_grad) or original(d)
    net.gradient(np.random.default_rng(0).standard_normal((2, 1, 6, 6)), np.array([0, 2]))
    assert calls == [False] and conv.requires_input_grad


def test_does_not_modify_input():
    layer, x = build({"n": 2, "c": 2, "o": 2, "kh": 2, "kw": 2, "sh": 1, "sw": 1, "ph": 1, "pw": 1,
                      "extra_h": 1, "extra_w": 1, "seed": 0})
    x.flags.writeable = False
    dout = np.ones_like(layer.forward(x))
    dout.flags.writeable = False
    layer.backward(dout)


def test_2d_input_error_names_layer_and_layout():
    net = lg.Sequential([("conv1", Conv2D(1, 2, 3, rng=0))])
    with pytest.raises(ShapeError, match=r"Conv2D 'conv1'.*\(N, C, H, W\).*\(4, 784\)"):
        net.forward(np.zeros((4, 784)))


def test_wrong_channel_count():
    with pytest.raises(ShapeError, match=r"C = 3.*\(2, 1, 5, 5\)"):
        Conv2D(3, 2, 3, rng=0).forward(np.zeros((2, 1, 5, 5)))


def test_empty_output_is_an_error():
    with pytest.raises(ShapeError, match="empty"):
        Conv2D(1, 2, 5, pad=1, rng=0).forward(np.zeros((1, 1, 2, 6)))


def test_backward_errors():
    layer = Conv2D(1, 2, 3, rng=0)
    with pytest.raises(lg.CallOrderError):
        layer.backward(np.zeros((1, 2, 2, 2)))
    layer.forward(np.zeros((1, 1, 4, 4)))
    with pytest.raises(ShapeError, match="dout"):
        layer.backward(np.zeros((1, 2, 3, 3)))


@pytest.mark.parametrize("kwargs, exc, arg", [
    ({"kernel_size": 0}, ValueError, "kernel_size"),
    ({"kernel_size": (3,)}, TypeError, "kernel_size"),
    ({"kernel_size": 2.5}, TypeError, "kernel_size"),
    ({"stride": 0}, ValueError, "stride"),
    ({"pad": -1}, ValueError, "pad"),
    ({"pad": (1, "a")}, TypeError, "pad"),
    ({"in_channels": 0}, ValueError, "in_channels"),
    ({"out_channels": 2.0}, TypeError, "out_channels"),
    ({"dtype": np.int32}, TypeError, "dtype"),
    ({"rng": "seed"}, TypeError, "rng"),
])
def test_constructor_validation(kwargs, exc, arg):
    args = {"in_channels": 1, "out_channels": 2, "kernel_size": 3, **kwargs}
    with pytest.raises(exc, match=arg):
        Conv2D(**args)
