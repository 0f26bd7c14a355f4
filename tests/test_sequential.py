"""The Sequential container: names, nesting, live params, state dicts, accuracy, summary."""

from collections import OrderedDict

import numpy as np
import pytest

import layergraph as lg


def mlp(seed=0, dtype=np.float64):
    return lg.Sequential(lg.Affine(6, 5, dtype=dtype, rng=seed), lg.ReLU(), lg.Affine(5, 3, dtype=dtype, rng=seed + 1),
                         loss=lg.SoftmaxWithLoss())


def test_automatic_names_and_three_ways_to_build():
    net = mlp()
    assert list(net.layers) == ["Affine1", "ReLU1", "Affine2"]
    assert net["Affine2"] is net[2] and len(net) == 3 and list(net) == list(net.layers.values())
    a, r = lg.Affine(2, 2), lg.ReLU()
    assert list(lg.Sequential(OrderedDict(fc=a, act=r)).layers) == ["fc", "act"]
    b, s = lg.Affine(2, 2), lg.ReLU()
    named = lg.Sequential([("fc", b), ("act", s)])
    assert named["fc"] is b and named["fc"].name == "fc"


def test_duplicate_and_invalid_names_are_errors():
    net = lg.Sequential([("fc", lg.Affine(2, 2))])
    with pytest.raises(ValueError, match="duplicate layer name 'fc'"):
        net.add("fc", lg.Affine(2, 2))
    with pytest.raises(ValueError, match="invalid layer name"):
        net.add("a.b", lg.ReLU())
    with pytest.raises(TypeError, match="must be str"):
        net.add(3, lg.ReLU())
    with pytest.raises(TypeError, match="forward"):
        net.add("x", object())
    with pytest.raises(ValueError, match="already in this network"):
        net.add("again", net["fc"])


def test_params_are_live_views_of_layer_arrays():
    net = mlp()
    W = net["Affine1"].params["W"]
    assert net.params["Affine1.W"] is W
    net.params["Affine1.W"][0, 0] = 42.0
    assert W[0, 0] == 42.0
    net["Affine1"].params["W"] = np.zeros((6, 5))  # rebinding is seen on the next read
    assert net.params["Affine1.W"] is net["Affine1"].params["W"]
    assert set(net.grads) == set(net.params)


def test_nesting_gives_dotted_names_and_qualified_layer_names():
    inner = lg.Sequential([("fc1", lg.Affine(4, 4, rng=0)), ("act", lg.Tanh())])
    net = lg.Sequential([("block1", inner), ("head", lg.Affine(4, 2, rng=1))])
    assert list(net.params) == ["block1.fc1.W", "block1.fc1.b", "head.W", "head.b"]
    assert net["block1.fc1"].name == "block1.fc1"
    with pytest.raises(lg.ShapeError, match="'block1.fc1'"):
        net.forward(np.zeros((2, 5)))


def test_gradient_matches_layerwise_backprop_and_gradcheck():
    rng = np.random.default_rng(0)
    net = mlp()
    x, t = rng.standard_normal((4, 6)), rng.integers(0, 3, 4)
    loss, grads = net.loss_and_gradient(x, t)
    assert loss == pytest.approx(net.loss(x, t))
    # Independent chain rule by hand.
    W1, b1, W2, b2 = (net.params[k] for k in ("Affine1.W", "Affine1.b", "Affine2.W", "Affine2.b"))
    h = np.maximum(x @ W1 + b1, 0)
    z = h @ W2 + b2
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    dz = (p - np.eye(3)[t]) / 4
    dh = dz @ W2.T * (h > 0)
    np.testing.assert_allclose(grads["Affine2.W"], h.T @ dz, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(grads["Affine1.W"], x.T @ dh, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(grads["Affine1.b"], dh.sum(0), rtol=1e-12, atol=1e-15)
    assert lg.gradcheck(net, x, t, mode="full").ok
    assert lg.gradcheck(net, x, mode="full").ok  # without t: the layers only, with a random upstream gradient


def test_nested_network_gradcheck():
    inner = lg.Sequential(lg.Affine(3, 4, dtype=np.float64, rng=0), lg.Tanh())
    net = lg.Sequential([("block", inner), ("head", lg.Affine(4, 2, dtype=np.float64, rng=1))],
                        loss=lg.MeanSquaredError())
    rng = np.random.default_rng(1)
    assert lg.gradcheck(net, rng.standard_normal((5, 3)), rng.standard_normal((5, 2)), mode="full").ok


def test_first_layer_input_gradient_skipped_only_in_training_gradient():
    net = mlp()
    rng = np.random.default_rng(2)
    x, t = rng.standard_normal((3, 6)), rng.integers(0, 3, 3)
    net.gradient(x, t)
    assert net["Affine1"].requires_input_grad  # restored afterwards
    net.loss(x, t)
    dx = net.backward(net.loss_layer.backward())
    assert dx is not None and dx.shape == x.shape


def test_state_dict_round_trip_and_strictness():
    a, b = mlp(seed=0), mlp(seed=10)
    sd = a.state_dict()
    assert sd["Affine1.W"] is not a.params["Affine1.W"]  # copies
    b.load_state_dict(sd)
    for k in a.params:
        np.testing.assert_array_equal(a.params[k], b.params[k])
    W_obj = b.params["Affine1.W"]
    b.load_state_dict(mlp(seed=5).state_dict())
    assert b.params["Affine1.W"] is W_obj  # loaded in place
    bad = dict(sd)
    del bad["Affine1.b"]
    bad["extra.W"] = np.zeros(2)
    bad["Affine2.W"] = np.zeros((3, 5))
    with pytest.raises(lg.StateDictError) as info:
        b.load_state_dict(bad)
    msg = str(info.value)
    assert "missing key 'Affine1.b'" in msg and "unexpected key 'extra.W'" in msg
    assert "Affine2.W: expected shape (5, 3), got (3, 5)" in msg
    before = b.params["Affine1.W"].copy()
    with pytest.raises(lg.StateDictError):
        b.load_state_dict(bad)
    np.testing.assert_array_equal(b.params["Affine1.W"], before)  # nothing copied on failure


def test_astype_casts_everything():
    net = mlp(dtype=np.float32).astype(np.float64)
    assert all(v.dtype == np.float64 for v in net.params.values())
    assert all(v.dtype == np.float64 for v in net.grads.values())
    assert net["Affine1"].dtype == np.float64


def test_accuracy_labels_onehot_and_batches():
    net = mlp()
    rng = np.random.default_rng(3)
    x, t = rng.standard_normal((25, 6)), rng.integers(0, 3, 25)
    pred = np.argmax(net.predict(x), axis=1)
    expected = np.mean(pred == t)
    assert net.accuracy(x, t) == pytest.approx(expected)
    assert net.accuracy(x, np.eye(3)[t], batch_size=4) == pytest.approx(expected)
    np.testing.assert_array_equal(net.predict(x, batch_size=7), net.predict(x))


def test_accuracy_binary_with_sigmoid_loss():
    net = lg.Sequential(lg.Affine(2, 1, dtype=np.float64, rng=0), loss=lg.SigmoidWithLoss())
    x = np.random.default_rng(4).standard_normal((30, 2))
    t = (x @ net.params["Affine1.W"][:, 0] > 0).astype(int)
    net.params["Affine1.b"][:] = 0
    assert net.accuracy(x, t) == 1.0


def test_summary_counts_and_shapes():
    inner = lg.Sequential([("fc", lg.Affine(10, 7)), ("act", lg.ReLU())])
    net = lg.Sequential([("block", inner), ("out", lg.Affine(7, 3))])
    s = net.summary(10)
    assert [r.name for r in s.rows] == ["block.fc", "block.act", "out"]
    assert [r.output_shape for r in s.rows] == [("N", 7), ("N", 7), ("N", 3)]
    assert s.total_params == 10 * 7 + 7 + 7 * 3 + 3
    assert "total trainable parameters: 101" in str(s)


def test_user_layer_without_init_is_valid():
    class Double(lg.Layer):
        def forward(self, x, train=True):
            return 2 * x

        def backward(self, dout):
            return 2 * dout

    layer = Double()
    assert layer.params == {} and layer.grads == {} and layer.buffers == {}
    net = lg.Sequential(layer, lg.Affine(3, 2, dtype=np.float64, rng=0))
    assert list(net.layers) == ["Double1", "Affine1"]
    assert lg.gradcheck(net, np.random.default_rng(0).standard_normal((2, 3))).ok
