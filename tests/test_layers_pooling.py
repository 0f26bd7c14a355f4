"""Pooling layers against naive loops written here, tie-breaking, gradient checks, Flatten and errors."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import layergraph as lg
from layergraph.errors import ShapeError
from layergraph.layers import AvgPool2D, Flatten, GlobalAvgPool, MaxPool2D


def windows(x, kernel, stride, pad, fill):
    """Yield (n, c, p, q, window, (row0, col0)) of the padded input, by plain loops."""
    n, c, h, w = x.shape
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, pad
    xp = np.full((n, c, h + 2 * ph, w + 2 * pw), fill)
    xp[:, :, ph:ph + h, pw:pw + w] = x
    oh, ow = (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1
    for a in range(n):
        for f in range(c):
            for p in range(oh):
                for q in range(ow):
                    yield a, f, p, q, xp[a, f, p * sh:p * sh + kh, q * sw:q * sw + kw], (p * sh - ph, q * sw - pw)


def naive_pool(x, kernel, stride, pad, kind, dout=None):
    """Output and (if dout is given) input gradient; max routes to the first maximum in row-major order."""
    shape = None
    outs = {}
    dx = np.zeros(x.shape)
    fill = -np.inf if kind == "max" else 0.0
    for a, f, p, q, win, (r0, c0) in windows(x, kernel, stride, pad, fill):
        outs[a, f, p, q] = win.max() if kind == "max" else win.mean()
        shape = (a, f, p, q)
        if dout is None:
            continue
        g = dout[a, f, p, q]
        if kind == "max":
            i, j = divmod(int(np.argmax(win)), win.shape[1])
            dx[a, f, r0 + i, c0 + j] += g
        else:
            for i in range(win.shape[0]):
                for j in range(win.shape[1]):
                    if 0 <= r0 + i < x.shape[2] and 0 <= c0 + j < x.shape[3]:
                        dx[a, f, r0 + i, c0 + j] += g / win.size
    y = np.zeros(tuple(s + 1 for s in shape))
    for k, v in outs.items():
        y[k] = v
    return y, dx


geometry = st.fixed_dictionaries({
    "n": st.integers(1, 2), "c": st.integers(1, 3), "kh": st.integers(1, 4), "kw": st.integers(1, 4),
    "stride": st.one_of(st.none(), st.tuples(st.integers(1, 3), st.integers(1, 3))),
    "pad": st.booleans(), "extra_h": st.integers(0, 4), "extra_w": st.integers(0, 4),
    "seed": st.integers(0, 2**16), "kind": st.sampled_from(["max", "avg"]), "ties": st.booleans(),
})


def build(g):
    rng = np.random.default_rng(g["seed"])
    kernel = (g["kh"], g["kw"])
    pad = (g["kh"] // 2, g["kw"] // 2) if g["pad"] else (0, 0)
    stride = kernel if g["stride"] is None else g["stride"]
    cls = MaxPool2D if g["kind"] == "max" else AvgPool2D
    layer = cls(kernel, stride=g["stride"], pad=pad)
    shape = (g["n"], g["c"], max(1, g["kh"] - 2 * pad[0]) + g["extra_h"], max(1, g["kw"] - 2 * pad[1]) + g["extra_w"])
    # With ties: small integers, so windows often hold equal maxima (as after a ReLU).
    x = rng.integers(-1, 2, shape).astype(float) if g["ties"] else rng.standard_normal(shape)
    return layer, x, kernel, stride, pad


@settings(max_examples=60, deadline=None)
@given(geometry)
def test_forward_and_backward_match_naive_loops(g):
    layer, x, kernel, stride, pad = build(g)
    y = layer.forward(x)
    dout = np.random.default_rng(1).standard_normal(y.shape)
    y_ref, dx_ref = naive_pool(x, kernel, stride, pad, g["kind"], dout)
    np.testing.assert_allclose(y, y_ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(layer.backward(dout), dx_ref, rtol=1e-12, atol=1e-12)


@settings(max_examples=12, deadline=None)
@given(geometry.filter(lambda g: not g["ties"]))
def test_gradcheck_drawn_geometry(g):
    layer, x, *_ = build(g)
    if g["kind"] == "max":   # distinct values far apart: no maximum changes within a finite-difference step
        rng = np.random.default_rng(g["seed"])
        x = (rng.permutation(x.size) * 0.05).reshape(x.shape)
    report = lg.gradcheck(layer, x)
    assert report.ok, str(report)


def test_max_pool_ties_go_to_first_maximum():
    x = np.zeros((1, 1, 2, 4))
    x[0, 0, 1, 0] = 1.0                                   # window 1: single max at (1, 0)
    x[0, 0, :, 2:] = [[3.0, 5.0], [5.0, 5.0]]             # window 2: max 5 at (0, 3), (1, 2), (1, 3)
    layer = MaxPool2D(2)
    np.testing.assert_array_equal(layer.forward(x), [[[[1.0, 5.0]]]])
    dx = layer.backward(np.array([[[[10.0, 20.0]]]]))
    expected = np.zeros_like(x)
    expected[0, 0, 1, 0] = 10.0
    expected[0, 0, 0, 3] = 20.0
    np.testing.assert_array_equal(dx, expected)
    all_zero = MaxPool2D(2, stride=1)                      # overlapping windows of zeros: first element each
    all_zero.forward(np.zeros((1, 1, 3, 3)))
    dx = all_zero.backward(np.ones((1, 1, 2, 2)))
    np.testing.assert_array_equal(dx[0, 0], [[1, 1, 0], [1, 1, 0], [0, 0, 0]])


def test_max_pool_float32_stays_float32():
    y = MaxPool2D(2).forward(np.ones((1, 1, 4, 4), dtype=np.float32))
    assert y.dtype == np.float32


def test_global_avg_pool_and_flatten():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 4, 5))
    gap = GlobalAvgPool()
    y = gap.forward(x)
    np.testing.assert_allclose(y, [[x[a, c].sum() / 20 for c in range(3)] for a in range(2)])
    dout = rng.standard_normal((2, 3))
    np.testing.assert_allclose(gap.backward(dout), np.repeat(dout[:, :, None], 20, axis=2).reshape(x.shape) / 20)
    flat = Flatten()
    y = flat.forward(x)
    assert y.shape == (2, 60) and y[1, 21] == x[1, 1, 0, 1]
    d = rng.standard_normal((2, 60))
    np.testing.assert_array_equal(flat.backward(d), d.reshape(x.shape))


def test_pooling_inside_sequential_gradcheck():
    rng = np.random.default_rng(0)
    net = lg.Sequential(lg.Tanh(), AvgPool2D(2), GlobalAvgPool(), lg.Affine(2, 3, dtype=np.float64, rng=1),
                        loss=lg.SoftmaxWithLoss())
    assert lg.gradcheck(net, rng.standard_normal((3, 2, 4, 4)), np.array([0, 1, 2])).ok


def test_errors():
    with pytest.raises(ShapeError, match=r"MaxPool2D.*\(N, C, H, W\)"):
        MaxPool2D(2).forward(np.zeros((2, 8)))
    with pytest.raises(ShapeError, match="empty"):
        AvgPool2D(3).forward(np.zeros((1, 1, 2, 5)))
    with pytest.raises(ShapeError, match=r"GlobalAvgPool.*\(N, C, H, W\)"):
        GlobalAvgPool().forward(np.zeros((2, 3, 4)))
    with pytest.raises(ShapeError, match="Flatten"):
        Flatten().forward(np.zeros(5))
    with pytest.raises(ValueError, match="pad"):
        MaxPool2D(2, pad=2)
    with pytest.raises(ValueError, match="stride"):
        AvgPool2D(2, stride=0)
    with pytest.raises(TypeError, match="kernel_size"):
        MaxPool2D("2")
    layer = MaxPool2D(2)
    with pytest.raises(lg.CallOrderError):
        layer.backward(np.zeros((1, 1, 1, 1)))
    layer.forward(np.zeros((1, 1, 4, 4)))
    with pytest.raises(ShapeError, match="dout"):
        layer.backward(np.zeros((1, 1, 4, 4)))
