"""Stateful runs, the carried-state protocol, initialisation, bad input, TimeDistributed and checkpoint round trips."""

import numpy as np
import pytest

import layergraph as lg
from layergraph.train.architecture import build_network, describe_network

KINDS = {"rnn": lambda **kw: lg.RNN(3, 5, **kw), "lstm": lambda **kw: lg.LSTM(3, 5, **kw),
         "gru": lambda **kw: lg.GRU(3, 5, **kw)}


@pytest.mark.parametrize("kind", KINDS)
def test_stateful_chunks_equal_one_long_run(kind):
    x = np.random.default_rng(0).standard_normal((4, 12, 3))
    whole = KINDS[kind](dtype=np.float64, rng=7).forward(x)
    layer = KINDS[kind](stateful=True, dtype=np.float64, rng=7)
    parts = [layer.forward(x[:, a:b]) for a, b in ((0, 5), (5, 6), (6, 12))]
    np.testing.assert_allclose(np.concatenate(parts, axis=1), whole, rtol=1e-12, atol=1e-14)
    last = KINDS[kind](stateful=True, return_sequences=False, dtype=np.float64, rng=7)
    for a, b in ((0, 4), (4, 12)):
        out = last.forward(x[:, a:b])
    np.testing.assert_allclose(out, whole[:, -1], rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("kind", KINDS)
def test_reset_get_set_state(kind):
    rng = np.random.default_rng(1)
    x1, x2 = rng.standard_normal((2, 3, 3)), rng.standard_normal((2, 4, 3))
    layer = KINDS[kind](stateful=True, dtype=np.float64, rng=0)
    assert layer.get_state() is None
    layer.forward(x1)
    snap = [np.array(s, copy=True) for s in layer.get_state()]
    assert len(snap) == (2 if kind == "lstm" else 1) and snap[0].shape == (2, 5)
    y_a = layer.forward(x2)
    layer.set_state(snap)
    np.testing.assert_array_equal(layer.forward(x2), y_a)
    layer.reset_state()
    fresh = KINDS[kind](dtype=np.float64, rng=0)
    np.testing.assert_array_equal(layer.forward(x2), fresh.forward(x2))
    # the carried state is neither a parameter nor a buffer, and stays out of the state dict
    net = lg.Sequential([("rec", layer)])
    assert set(net.state_dict()) == {f"rec.{k}" for k in layer.params}
    assert layer.buffers == {}


@pytest.mark.parametrize("kind", KINDS)
def test_batch_size_change_resets_state_with_a_warning(kind):
    rng = np.random.default_rng(2)
    layer = KINDS[kind](stateful=True, dtype=np.float64, rng=0)
    layer.forward(rng.standard_normal((3, 2, 3)))
    x = rng.standard_normal((2, 2, 3))
    with pytest.warns(RuntimeWarning, match=r"batch size changed from 3 to 2.*reset to zero"):
        y = layer.forward(x)
    np.testing.assert_array_equal(y, KINDS[kind](dtype=np.float64, rng=0).forward(x))


@pytest.mark.parametrize("kind", KINDS)
def test_stateful_backward_treats_the_carried_state_as_a_constant(kind):
    rng = np.random.default_rng(3)
    layer = KINDS[kind](stateful=True, dtype=np.float64, rng=0)
    layer.forward(rng.standard_normal((2, 3, 3)))
    state = layer.get_state()
    x, R = rng.standard_normal((2, 4, 3)), rng.standard_normal((2, 4, 5))
    layer.forward(x)
    dx = layer.backward(R)
    probe = KINDS[kind](dtype=np.float64, rng=0)
    eps = 1e-6
    for idx in [(0, 0, 0), (1, 3, 2), (0, 2, 1)]:
        xp, xm = x.copy(), x.copy()
        xp[idx] += eps
        xm[idx] -= eps
        vals = []
        for xx in (xp, xm):
            probe_layer = KINDS[kind](stateful=True, dtype=np.float64, rng=0)
            probe_layer.set_state(state)
            vals.append(np.sum(probe_layer.forward(xx) * R))
        assert dx[idx] == pytest.approx((vals[0] - vals[1]) / (2 * eps), rel=1e-6, abs=1e-9)
    assert probe.get_state() is None


def test_initialisation():
    h = 16
    lstm = lg.LSTM(5, h, forget_bias=1.5, rng=0)
    assert {k: v.shape for k, v in lstm.params.items()} == {"Wx": (5, 4 * h), "Wh": (h, 4 * h), "b": (4 * h,)}
    bound = 1 / np.sqrt(h)
    for key in ("Wx", "Wh"):
        assert np.abs(lstm.params[key]).max() <= bound and np.abs(lstm.params[key]).max() > 0.8 * bound
    np.testing.assert_array_equal(lstm.params["b"][h:2 * h], 1.5)
    assert np.abs(np.delete(lstm.params["b"], np.s_[h:2 * h])).max() <= bound
    gru = lg.GRU(5, h, init="orthogonal", dtype=np.float64, rng=0)
    assert {k: v.shape for k, v in gru.params.items()} == {"Wx": (5, 3 * h), "Wh": (h, 3 * h), "bx": (3 * h,),
                                                           "bh": (3 * h,)}
    for k in range(3):
        block = gru.params["Wh"][:, k * h:(k + 1) * h]
        np.testing.assert_allclose(block.T @ block, np.eye(h), atol=1e-12)
    rnn = lg.RNN(5, h, rng=0)
    assert {k: v.shape for k, v in rnn.params.items()} == {"Wx": (5, h), "Wh": (h, h), "b": (h,)}
    np.testing.assert_array_equal(lg.RNN(5, h, rng=3).params["Wh"], lg.RNN(5, h, rng=3).params["Wh"])


@pytest.mark.parametrize("kind", KINDS)
def test_bad_input_gives_one_line_errors_naming_the_layer(kind):
    net = lg.Sequential([("enc", KINDS[kind]())])
    for x, pattern in [(np.ones((2, 3)), r"'enc'.*\(N, T, D\).*got an array of shape \(2, 3\)"),
                       (np.ones((2, 4, 2)), r"'enc'.*D = 3.*\(2, 4, 2\)"),
                       (np.ones((2, 0, 3)), r"'enc'.*at least one time step")]:
        with pytest.raises(lg.ShapeError, match=pattern) as info:
            net.forward(x)
        assert "\n" not in str(info.value)
    net.forward(np.ones((2, 4, 3)))
    with pytest.raises(lg.ShapeError, match=r"'enc'.*'dout'"):
        net.backward(np.ones((2, 4, 4)))
    layer = net["enc"]
    with pytest.raises(lg.ShapeError, match=r"'enc'.*'state'"):
        layer.set_state((np.ones((2, 4)),) * len(layer.state_names))
    with pytest.raises(lg.CallOrderError):
        KINDS[kind]().backward(np.ones((2, 4, 5)))


def test_bad_constructor_arguments():
    with pytest.raises(ValueError, match="nonlinearity"):
        lg.RNN(2, 3, "sigmoid")
    with pytest.raises(ValueError, match="init"):
        lg.LSTM(2, 3, init="he")
    with pytest.raises(TypeError, match="return_sequences"):
        lg.GRU(2, 3, return_sequences="yes")
    with pytest.raises(ValueError, match="hidden_size"):
        lg.GRU(2, 0)
    with pytest.raises(TypeError, match="forget_bias"):
        lg.LSTM(2, 3, forget_bias="1")


def test_time_distributed_matches_a_per_step_loop_and_sums_gradients():
    rng = np.random.default_rng(0)
    inner = lg.Affine(4, 3, dtype=np.float64, rng=0)
    td = lg.TimeDistributed(inner)
    x, R = rng.standard_normal((2, 5, 4)), rng.standard_normal((2, 5, 3))
    y = td.forward(x)
    ref = np.stack([x[:, s] @ inner.params["W"] + inner.params["b"] for s in range(5)], axis=1)
    np.testing.assert_allclose(y, ref, rtol=1e-13)
    dx = td.backward(R)
    np.testing.assert_allclose(dx, R @ inner.params["W"].T, rtol=1e-13)
    dW = sum(x[:, s].T @ R[:, s] for s in range(5))
    np.testing.assert_allclose(td.grads["layer.W"], dW, rtol=1e-12)
    np.testing.assert_allclose(td.grads["layer.b"], R.sum(axis=(0, 1)), rtol=1e-12)
    with pytest.raises(lg.ShapeError, match=r"TimeDistributed.*\(N, T, \.\.\.\)"):
        td.forward(np.ones((2, 4)))


def test_checkpoint_architecture_rebuilds_every_sequence_layer(tmp_path):
    net = lg.Sequential([("emb", lg.Embedding(20, 6, padding_idx=0, rng=0)),
                         ("lstm", lg.LSTM(6, 8, forget_bias=1.0, init="orthogonal", rng=1)),
                         ("gru", lg.GRU(8, 7, stateful=True, rng=2)),
                         ("rnn", lg.RNN(7, 5, "relu", return_sequences=True, rng=3)),
                         ("head", lg.TimeDistributed(lg.Affine(5, 4, rng=4)))],
                        loss=lg.SoftmaxWithLoss(ignore_index=-1))
    desc = describe_network(net)
    rebuilt = build_network(desc)
    assert describe_network(rebuilt) == desc
    cfg = {layer["name"]: layer.get("config") for layer in desc["layers"]}
    assert cfg["emb"]["padding_idx"] == 0 and cfg["lstm"]["forget_bias"] == 1.0 and cfg["gru"]["stateful"]
    assert cfg["rnn"]["nonlinearity"] == "relu" and desc["loss"]["config"]["ignore_index"] == -1
    path = tmp_path / "seq.npz"
    lg.save_checkpoint(path, net)
    loaded = build_network(describe_network(net))
    lg.load_checkpoint(path, loaded)
    x = np.random.default_rng(0).integers(0, 20, (3, 9))
    np.testing.assert_array_equal(loaded.forward(x), net.forward(x))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("shape", [(1, 4), (3, 1), (1, 1)])
def test_outputs_are_not_overwritten_by_the_next_call(kind, shape):
    rng = np.random.default_rng(0)
    layer = KINDS[kind](dtype=np.float64, rng=0)
    x1 = rng.standard_normal((*shape, 3))
    y1 = layer.forward(x1)
    kept = y1.copy()
    layer.backward(np.ones_like(y1))
    layer.forward(rng.standard_normal((*shape, 3)))
    np.testing.assert_array_equal(y1, kept)
