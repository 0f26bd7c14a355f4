"""Graph forward/backward against hand-composed chains of the same layers and finite differences, in float64."""

import copy

import numpy as np
import pytest
from graph_helpers import check_graph_gradients

import layergraph as lg

F64 = np.float64


def aff(i, o, seed):
    return lg.Affine(i, o, rng=seed, dtype=F64)


def test_chain_graph_equals_sequential():
    layers = [aff(5, 4, 0), lg.Tanh(), aff(4, 3, 1)]
    seq = lg.Sequential(*copy.deepcopy(layers))
    g = lg.Graph()
    for layer in layers:
        g.add(layer)
    rng = np.random.default_rng(0)
    x, dout = rng.standard_normal((6, 5)), rng.standard_normal((6, 3))
    np.testing.assert_array_equal(g.forward(x), seq.forward(x))
    np.testing.assert_array_equal(g.backward(dout), seq.backward(dout))
    assert list(g.params) == list(seq.params)
    for k in seq.grads:
        np.testing.assert_array_equal(g.grads[k], seq.grads[k])


def test_inception_like_branches_equal_hand_composition():
    rng = np.random.default_rng(1)
    b1 = lg.Conv2D(2, 3, 1, dtype=F64, rng=1)
    b3r, b3 = lg.Conv2D(2, 2, 1, dtype=F64, rng=2), lg.Conv2D(2, 4, 3, pad=1, dtype=F64, rng=3)
    bp, bpp = lg.MaxPool2D(3, stride=1, pad=1), lg.Conv2D(2, 1, 1, dtype=F64, rng=4)
    ref = copy.deepcopy([b1, b3r, b3, bp, bpp])
    g = lg.Graph()
    g.add("b1", b1, "x").add("b3r", b3r, "x").add("b3", b3, "b3r").add("bp", bp, "x").add("bpp", bpp, "bp")
    g.add("cat", lg.Concat(), ["b1", "b3", "bpp"])
    x = rng.standard_normal((2, 2, 5, 5))
    r1, r3r, r3, rp, rpp = ref
    y1, y3, yp = r1.forward(x), r3.forward(r3r.forward(x)), rpp.forward(rp.forward(x))
    want = np.concatenate([y1, y3, yp], axis=1)
    np.testing.assert_allclose(g.forward(x), want, rtol=1e-14)
    dout = rng.standard_normal(want.shape)
    dx = g.backward(dout)
    want_dx = (r1.backward(dout[:, :3]) + r3r.backward(r3.backward(dout[:, 3:7]))
               + rp.backward(rpp.backward(dout[:, 7:])))
    np.testing.assert_allclose(dx, want_dx, rtol=1e-12, atol=1e-14)
    for name, layer in zip(["b1", "b3r", "b3", "bpp"], [r1, r3r, r3, rpp]):
        for key in ("W", "b"):
            np.testing.assert_allclose(g.grads[f"{name}.{key}"], layer.grads[key], rtol=1e-12, atol=1e-14)


def test_fan_out_gets_the_sum_of_gradients_and_dout_is_not_modified():
    g = lg.Graph()
    g.add("h", aff(3, 4, 0), "x").add("t", lg.Tanh(), "h").add("s", lg.Sigmoid(), "h").add("f", lg.Flatten(), "h")
    g.add("m", lg.Multiply(), ["t", "s", "f"]).add("sum", lg.Add(), ["m", "h", "h"])
    rng = np.random.default_rng(2)
    x, w = rng.standard_normal((4, 3)), rng.standard_normal((4, 4))
    w_saved, x_saved = w.copy(), x.copy()
    check_graph_gradients(g, x, w)
    np.testing.assert_array_equal(w, w_saved)
    np.testing.assert_array_equal(x, x_saved)


@pytest.mark.parametrize("merge", [lg.Add, lg.Multiply, lg.Average, lambda: lg.Concat(-1)])
def test_every_merge_layer_in_a_graph_against_finite_differences(merge):
    g = lg.Graph()
    g.add("a", aff(3, 4, 0), "x").add("b", aff(3, 4, 1), "x").add("ta", lg.Tanh(), "a")
    g.add("m", merge(), ["ta", "b", "a"]).add("out", aff(4 if not isinstance(merge(), lg.Concat) else 12, 2, 2))
    rng = np.random.default_rng(3)
    check_graph_gradients(g, rng.standard_normal((3, 3)), rng.standard_normal((3, 2)))


def test_several_inputs_and_outputs():
    g = lg.Graph(inputs=("img", "meta"))
    g.add("fi", aff(4, 3, 0), "img").add("fm", aff(2, 3, 1), "meta").add("cat", lg.Concat(), ["fi", "fm"])
    g.add("main", aff(6, 2, 2), "cat").add("aux", lg.Tanh(), "fi").set_outputs("main", "aux", "cat")
    rng = np.random.default_rng(4)
    x = {"img": rng.standard_normal((3, 4)), "meta": rng.standard_normal((3, 2))}
    y = g.forward(x)
    assert set(y) == {"main", "aux", "cat"} and y["cat"].shape == (3, 6)
    y_list = g.forward([x["img"], x["meta"]])
    np.testing.assert_array_equal(y_list["main"], y["main"])
    w = {k: rng.standard_normal(v.shape) for k, v in y.items()}
    dx, _ = check_graph_gradients(g, x, w)
    assert set(dx) == {"img", "meta"}


def test_unused_input_gets_zero_gradient_and_requires_input_grad_false_gives_none():
    g = lg.Graph(inputs=("a", "b")).add("fa", aff(2, 2, 0), "a")
    rng = np.random.default_rng(5)
    x = {"a": rng.standard_normal((3, 2)), "b": rng.standard_normal((3, 5))}
    g.forward(x)
    dx = g.backward(np.ones((3, 2)))
    np.testing.assert_array_equal(dx["b"], np.zeros((3, 5)))
    g.requires_input_grad = False
    g.forward(x)
    assert g.backward(np.ones((3, 2))) == {"a": None, "b": None}
    np.testing.assert_allclose(g.grads["fa.W"], x["a"].T @ np.ones((3, 2)))


def test_node_not_on_any_output_path_gets_zero_param_gradients():
    g = lg.Graph().add("dead", aff(3, 2, 0), "x").add("out", aff(3, 2, 1), "x")
    g.forward(np.ones((2, 3)))
    g.backward(np.ones((2, 2)))
    assert not np.any(g.grads["dead.W"])


def test_nesting_graph_in_sequential_residual_and_graph():
    inner = lg.Graph().add("a", aff(4, 4, 0), "x").add("t", lg.Tanh(), "x").add("m", lg.Multiply(), ["a", "t"])
    seq = lg.Sequential([("pre", aff(3, 4, 1)), ("g", inner), ("res", lg.Residual(copy.deepcopy(inner)))])
    assert "g.a.W" in seq.params and "res.block.a.W" in seq.params
    rng = np.random.default_rng(6)
    check_graph_gradients(seq, rng.standard_normal((2, 3)), rng.standard_normal((2, 4)))
    two = lg.Graph(inputs=("p", "q")).add("s", lg.Add(), ["p", "q"]).add("f", aff(4, 2, 2))
    outer = lg.Graph(inputs=("u", "v"))
    outer.add("su", lg.Sequential(aff(3, 4, 3), lg.ReLU()), "u").add("rv", lg.Residual(aff(4, 4, 4)), "v")
    outer.add("two", two, ["su", "rv"])
    x = {"u": rng.standard_normal((2, 3)), "v": rng.standard_normal((2, 4))}
    check_graph_gradients(outer, x, rng.standard_normal((2, 2)))
    assert "two.f.W" in outer.params and "rv.block.W" in outer.params


def test_dict_key_errors_name_the_key():
    g = lg.Graph(inputs=("a", "b")).add("s", lg.Add(), ["a", "b"]).add("t", lg.Tanh(), "s").set_outputs("s", "t")
    with pytest.raises(KeyError, match=r"missing \['b'\]"):
        g.forward({"a": np.ones((1, 2))})
    with pytest.raises(KeyError, match=r"unexpected \['c'\]"):
        g.forward({"a": np.ones((1, 2)), "b": np.ones((1, 2)), "c": np.ones((1, 2))})
    with pytest.raises(ValueError, match="dict"):
        g.forward(np.ones((1, 2)))
    g.forward({"a": np.ones((1, 2)), "b": np.ones((1, 2))})
    with pytest.raises(KeyError, match=r"'dout'.*missing \['t'\]"):
        g.backward({"s": np.ones((1, 2))})
    with pytest.raises(ValueError, match="'dout' must be a dict"):
        g.backward(np.ones((1, 2)))
    g.set_loss({"t": lg.MeanSquaredError()})
    with pytest.raises(KeyError, match=r"'t'.*missing \['t'\]"):
        g.loss({"a": np.ones((1, 2)), "b": np.ones((1, 2))}, {"s": np.ones((1, 2))})


def test_merge_shape_mismatch_names_node_and_every_input():
    g = lg.Graph().add("a", aff(3, 4, 0), "x").add("b", aff(3, 5, 1), "x").add("sum", lg.Add(), ["a", "b"])
    with pytest.raises(lg.ShapeError, match=r"node 'sum'.*'a' \(2, 4\), 'b' \(2, 5\)") as info:
        g.forward(np.ones((2, 3)))
    assert "\n" not in str(info.value)


def test_loss_weights_and_gradient_against_finite_differences():
    g = lg.Graph()
    g.add("h", aff(3, 4, 0), "x").add("t", lg.Tanh()).add("main", aff(4, 3, 1)).add("aux", aff(4, 2, 2), "t")
    g.set_outputs("main", "aux").set_loss({"main": lg.SoftmaxWithLoss(), "aux": lg.SoftmaxWithLoss()},
                                          weights={"aux": 0.3})
    rng = np.random.default_rng(7)
    x, t = rng.standard_normal((5, 3)), {"main": rng.integers(0, 3, 5), "aux": rng.integers(0, 2, 5)}
    y = g.forward(x)
    want = lg.SoftmaxWithLoss().forward(y["main"], t["main"]) + 0.3 * lg.SoftmaxWithLoss().forward(y["aux"], t["aux"])
    total, grads = g.loss_and_gradient(x, t)
    assert total == pytest.approx(want, rel=1e-12)
    grads = {k: v.copy() for k, v in grads.items()}
    from graph_helpers import numeric
    for key, p in g.params.items():
        np.testing.assert_allclose(grads[key], numeric(lambda: g.loss(x, t), p), rtol=1e-6, atol=1e-9)
    assert g.accuracy(x, t, output="aux") == np.mean(np.argmax(y["aux"], 1) == t["aux"])
    assert g.accuracy(x, t["main"], output="main") == np.mean(np.argmax(y["main"], 1) == t["main"])
    with pytest.raises(ValueError, match="output="):
        g.accuracy(x, t)


def test_predict_in_chunks_equals_one_pass():
    g = lg.Graph(inputs=("a", "b")).add("s", lg.Concat(), ["a", "b"]).add("f", aff(5, 2, 0)).set_outputs("s", "f")
    rng = np.random.default_rng(8)
    x = {"a": rng.standard_normal((7, 2)), "b": rng.standard_normal((7, 3))}
    whole, chunks = g.predict(x), g.predict(x, batch_size=3)
    for k in whole:
        np.testing.assert_allclose(chunks[k], whole[k], rtol=1e-15)


def test_state_dict_strict_loading_and_astype():
    def build():
        return lg.Graph().add("a", aff(3, 2, 0), "x").add("bn", lg.BatchNorm(2, dtype=F64)).add("b", aff(2, 2, 1))
    g = build()
    sd = g.state_dict()
    assert list(sd) == ["a.W", "a.b", "bn.gamma", "bn.beta", "b.W", "b.b", "bn.running_mean", "bn.running_var"]
    other = lg.Graph().add("a", aff(3, 2, 5), "x").add("bn", lg.BatchNorm(2, dtype=F64)).add("b", aff(2, 2, 6))
    other.load_state_dict(sd)
    np.testing.assert_array_equal(other.params["a.W"], g.params["a.W"])
    bad = dict(sd)
    del bad["b.W"]
    bad["zz.W"] = np.ones(1)
    with pytest.raises(lg.StateDictError, match="missing key 'b.W'") as info:
        other.load_state_dict(bad)
    assert "unexpected key 'zz.W'" in str(info.value)
    assert other.load_state_dict(bad | {"zz.W": np.ones(1)}, strict=False)["missing"] == ["b.W"]
    g.astype(np.float32)
    assert all(v.dtype == np.float32 for v in g.params.values())
    assert g.forward(np.ones((4, 3), np.float32)).dtype == np.float32
