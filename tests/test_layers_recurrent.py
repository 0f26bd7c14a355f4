"""RNN, LSTM and GRU against per-time-step loops written here and against central finite differences (float64)."""

import numpy as np
import pytest

import layergraph as lg


def sig(a):
    return 1.0 / (1.0 + np.exp(-a))


def rnn_ref(layer, x, state=None):
    p = layer.params
    n, t, _ = x.shape
    h = np.zeros((n, layer.hidden_size)) if state is None else state[0]
    act = np.tanh if layer.nonlinearity == "tanh" else (lambda a: np.maximum(a, 0.0))
    out = []
    for s in range(t):
        h = act(x[:, s] @ p["Wx"] + h @ p["Wh"] + p["b"])
        out.append(h)
    return np.stack(out, axis=1), (h,)


def lstm_ref(layer, x, state=None):
    p = layer.params
    n, t, _ = x.shape
    H = layer.hidden_size
    h, c = (np.zeros((n, H)), np.zeros((n, H))) if state is None else state
    out = []
    for s in range(t):
        a = x[:, s] @ p["Wx"] + h @ p["Wh"] + p["b"]
        i, f, g, o = sig(a[:, :H]), sig(a[:, H:2 * H]), np.tanh(a[:, 2 * H:3 * H]), sig(a[:, 3 * H:])
        c = f * c + i * g
        h = o * np.tanh(c)
        out.append(h)
    return np.stack(out, axis=1), (h, c)


def gru_ref(layer, x, state=None):
    p = layer.params
    n, t, _ = x.shape
    H = layer.hidden_size
    h = np.zeros((n, H)) if state is None else state[0]
    out = []
    for s in range(t):
        ax = x[:, s] @ p["Wx"] + p["bx"]
        ah = h @ p["Wh"] + p["bh"]
        r = sig(ax[:, :H] + ah[:, :H])
        z = sig(ax[:, H:2 * H] + ah[:, H:2 * H])
        nn = np.tanh(ax[:, 2 * H:] + r * ah[:, 2 * H:])
        h = (1 - z) * nn + z * h
        out.append(h)
    return np.stack(out, axis=1), (h,)


MAKERS = {
    "rnn-tanh": (lambda d, h, **kw: lg.RNN(d, h, **kw), rnn_ref),
    "rnn-relu": (lambda d, h, **kw: lg.RNN(d, h, "relu", **kw), rnn_ref),
    "lstm": (lambda d, h, **kw: lg.LSTM(d, h, forget_bias=0.5, **kw), lstm_ref),
    "gru": (lambda d, h, **kw: lg.GRU(d, h, **kw), gru_ref),
}
SHAPES = [(2, 5, 3, 4), (1, 1, 2, 3), (3, 1, 4, 2), (1, 7, 1, 5), (4, 3, 5, 6)]


def numeric_grad(f, arr, h=1e-6):
    """Central differences of the scalar f() with respect to every element of arr (perturbed in place)."""
    grad = np.zeros_like(arr)
    for idx in np.ndindex(arr.shape):
        old = arr[idx]
        arr[idx] = old + h
        fp = f()
        arr[idx] = old - h
        fm = f()
        arr[idx] = old
        grad[idx] = (fp - fm) / (2 * h)
    return grad


@pytest.mark.parametrize("kind", MAKERS)
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "N%d-T%d-D%d-H%d" % s)
@pytest.mark.parametrize("seqs", [True, False], ids=["sequences", "last"])
def test_forward_matches_loop_and_backward_matches_finite_differences(kind, shape, seqs):
    make, ref = MAKERS[kind]
    n, t, d, h = shape
    rng = np.random.default_rng(sum(shape))
    layer = make(d, h, return_sequences=seqs, dtype=np.float64, rng=rng)
    for key in layer.params:                     # wider than the default init, so the gates are exercised
        layer.params[key][...] = rng.uniform(-0.8, 0.8, layer.params[key].shape)
    x = rng.standard_normal((n, t, d))
    x_before = x.copy()
    y = layer.forward(x)
    y_ref, _ = ref(layer, x)
    expected = y_ref if seqs else y_ref[:, -1]
    assert y.shape == expected.shape and y.dtype == np.float64
    np.testing.assert_allclose(y, expected, rtol=1e-12, atol=1e-13)
    R = rng.standard_normal(y.shape)
    dx = layer.backward(R)
    np.testing.assert_array_equal(x, x_before)      # the input is not modified

    def f():
        out, _ = ref(layer, x)
        return float(np.sum((out if seqs else out[:, -1]) * R))

    np.testing.assert_allclose(dx, numeric_grad(f, x), rtol=1e-6, atol=1e-8)
    for key, value in layer.params.items():
        np.testing.assert_allclose(layer.grads[key], numeric_grad(f, value), rtol=1e-6, atol=1e-8,
                                   err_msg=f"{kind} {key}")


@pytest.mark.parametrize("kind", MAKERS)
def test_requires_input_grad_false_skips_dx_and_keeps_param_grads(kind):
    make, _ = MAKERS[kind]
    rng = np.random.default_rng(3)
    layer = make(3, 4, dtype=np.float64, rng=0)
    x, R = rng.standard_normal((2, 5, 3)), rng.standard_normal((2, 5, 4))
    layer.forward(x)
    layer.backward(R)
    full = {k: v.copy() for k, v in layer.grads.items()}
    layer.requires_input_grad = False
    layer.forward(x)
    assert layer.backward(R) is None
    for key in full:
        np.testing.assert_array_equal(layer.grads[key], full[key])


def test_relu_rnn_is_exact_on_positive_pre_activations():
    layer = lg.RNN(2, 3, "relu", dtype=np.float64, rng=0)
    layer.params["Wx"][...] = np.abs(layer.params["Wx"])
    layer.params["Wh"][...] = np.abs(layer.params["Wh"])
    layer.params["b"][...] = 0.1
    x = np.abs(np.random.default_rng(0).standard_normal((2, 4, 2)))
    y = layer.forward(x)
    np.testing.assert_allclose(y, rnn_ref(layer, x)[0], rtol=1e-13)
    assert np.all(y > 0)


@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn-tanh"])
def test_float32_default_and_close_to_float64(kind):
    make, ref = MAKERS[kind]
    layer = make(4, 8, rng=1)
    assert all(v.dtype == np.float32 for v in layer.params.values())
    x = np.random.default_rng(0).standard_normal((3, 20, 4))
    y = layer.forward(x)
    assert y.dtype == np.float32
    p64 = {k: v.astype(np.float64) for k, v in layer.params.items()}
    layer64 = make(4, 8, dtype=np.float64, rng=1)
    for k in p64:
        layer64.params[k][...] = p64[k]
    np.testing.assert_allclose(y, ref(layer64, x)[0], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_saturated_gates_stay_finite_and_match_float64(kind):
    # pre-activations of several hundred: the gates are exactly 0 or 1 in float32; no inf or NaN may appear
    make, ref = MAKERS[kind]
    layer, layer64 = make(3, 5, rng=2), make(3, 5, dtype=np.float64, rng=2)
    for key, value in layer.params.items():
        value *= 300.0
        layer64.params[key][...] = value
    x = np.random.default_rng(1).standard_normal((4, 6, 3))
    dy = np.random.default_rng(2).standard_normal((4, 6, 5))
    with np.errstate(invalid="raise", divide="raise"):
        y, y64 = layer.forward(x), layer64.forward(x)
        dx, dx64 = layer.backward(dy), layer64.backward(dy)
    assert np.isfinite(y).all() and np.isfinite(dx).all()
    assert all(np.isfinite(g).all() for g in layer.grads.values())
    with np.errstate(over="ignore"):   # the reference's own 1 / (1 + exp(-a))
        expected = ref(layer64, x)[0]
    np.testing.assert_allclose(y64, expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(y, expected, atol=1e-5)
    np.testing.assert_allclose(dx, dx64, rtol=1e-3, atol=1e-3 * np.abs(dx64).max())
    for key in layer.grads:
        np.testing.assert_allclose(layer.grads[key], layer64.grads[key], rtol=1e-3,
                                   atol=1e-3 * np.abs(layer64.grads[key]).max(), err_msg=key)
