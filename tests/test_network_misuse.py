"""Misuse of Sequential and Graph: each mistake is a one-line error naming the container, and changes nothing."""

import copy
import gc

import numpy as np
import pytest

import layergraph as lg

X = np.random.default_rng(0).standard_normal((4, 3))


def affine(n_in=3, n_out=3, seed=0):
    return lg.Affine(n_in, n_out, dtype=np.float64, rng=seed)


def one_line(err):
    text = str(err.value)
    assert "\n" not in text
    return text


# -- 1. containers inside themselves ------------------------------------------------------------------------------


def test_a_sequential_added_to_itself_is_refused_and_unchanged():
    fc = affine()
    s = lg.Sequential(fc)
    with pytest.raises(ValueError, match="cannot contain itself") as err:
        s.add("me", s)
    assert "Sequential" in one_line(err) and "'me'" in one_line(err)
    assert list(s.layers) == ["Affine1"]
    np.testing.assert_allclose(s.forward(X), X @ fc.params["W"] + fc.params["b"])


def test_a_graph_inside_a_sequential_added_to_that_graph_is_refused():
    fc = affine()
    g = lg.Graph().add("a", fc, "x")
    with pytest.raises(ValueError, match="cannot contain itself") as err:
        g.add("seq", lg.Sequential([("g", g)]), "a")
    assert "'seq'" in one_line(err)
    assert list(g.nodes) == ["a"]
    np.testing.assert_allclose(g.forward(X), X @ fc.params["W"] + fc.params["b"])


def test_deeper_cycles_are_refused():
    s = lg.Sequential(affine())
    g = lg.Graph().add("r", lg.Residual(lg.Sequential([("inner", s)])), "x")
    outer = lg.Sequential([("td", lg.TimeDistributed(g))])
    with pytest.raises(ValueError, match="cannot contain itself"):
        s.add("loop", outer)
    assert list(s.layers) == ["Affine1"]
    g2 = lg.Graph()
    with pytest.raises(ValueError, match="cannot contain itself"):
        g2.add("self", g2, "x")
    assert len(g2) == 0


# -- 2. stateful layers: not shared; reset / get / set on containers --------------------------------------------


def test_a_stateful_layer_cannot_be_shared_between_graph_nodes():
    rnn = lg.RNN(3, 3, stateful=True, rng=0)
    g = lg.Graph().add("r1", rnn, "x")
    with pytest.raises(ValueError, match="stateful") as err:
        g.add("r2", rnn, "r1")
    assert "'r2'" in one_line(err) and "'r1'" in one_line(err)
    assert list(g.nodes) == ["r1"]
    enc = lg.Sequential([("lstm", lg.LSTM(3, 3, stateful=True, rng=0))])
    g = lg.Graph(inputs=("a", "b")).add("ea", enc, "a")
    with pytest.raises(ValueError, match="stateful"):
        g.add("eb", enc, "b")
    assert list(g.nodes) == ["ea"]
    plain = lg.RNN(3, 3, rng=0)                       # not stateful: sharing is fine
    lg.Graph().add("p1", plain, "x").add("p2", plain, "p1")


def test_a_stateful_layer_cannot_take_two_positions_of_a_sequential():
    rnn = lg.RNN(3, 3, stateful=True, rng=0)
    with pytest.raises(ValueError, match="already in this network"):
        lg.Sequential(rnn, rnn)
    s = lg.Sequential([("block", lg.Sequential([("rnn", rnn)]))])
    with pytest.raises(ValueError, match="already"):
        s.add("again", rnn)
    assert list(s.layers) == ["block"]


def _stateful_seq(seed):
    inner = lg.Sequential([("rnn", lg.RNN(3, 4, stateful=True, dtype=np.float64, rng=seed))])
    return lg.Sequential([("enc", inner), ("lstm", lg.LSTM(4, 2, stateful=True, dtype=np.float64, rng=seed + 1))])


def _stateful_graph(seed):
    g = lg.Graph()
    g.add("enc", lg.Sequential([("rnn", lg.GRU(3, 4, stateful=True, dtype=np.float64, rng=seed))]), "x")
    return g.add("head", lg.RNN(4, 2, stateful=True, dtype=np.float64, rng=seed + 1), "enc")


@pytest.mark.parametrize("build", [_stateful_seq, _stateful_graph])
def test_reset_get_and_set_state_of_containers(build):
    rng = np.random.default_rng(2)
    x1, x2 = rng.standard_normal((2, 5, 3)), rng.standard_normal((2, 3, 3))
    net, fresh = build(7), build(7)
    net.forward(x1)
    snap = copy.deepcopy(net.get_state())
    assert sorted(snap) == (["enc.rnn", "lstm"] if "lstm" in net else ["enc.rnn", "head"])
    carried = net.forward(x2)
    assert not np.allclose(carried, fresh.forward(x2))      # the state matters
    net.reset_state()
    np.testing.assert_array_equal(net.forward(x2), build(7).forward(x2))
    net.set_state(snap)
    np.testing.assert_array_equal(net.forward(x2), carried)
    net.set_state(None)
    np.testing.assert_array_equal(net.forward(x2), build(7).forward(x2))


def test_set_state_with_bad_keys_or_shapes_changes_nothing():
    net = _stateful_seq(0)
    net.forward(np.ones((2, 3, 3)))
    before = copy.deepcopy(net.get_state())
    with pytest.raises(ValueError, match="missing \\['lstm'\\]") as err:
        net.set_state({"enc.rnn": before["enc.rnn"]})
    assert "Sequential.set_state" in one_line(err)
    bad = {"enc.rnn": before["enc.rnn"], "lstm": (np.zeros((2, 7)), np.zeros((2, 7)))}
    with pytest.raises(lg.ShapeError):
        net.set_state(bad)
    with pytest.raises(TypeError, match="'state'"):
        net.set_state([1, 2])
    for key, value in net.get_state().items():
        for a, b in zip(value, before[key]):
            np.testing.assert_array_equal(a, b)


def test_graph_reset_state_restarts_every_stateful_node():
    rnn = lg.RNN(3, 3, stateful=True, dtype=np.float64, rng=0)
    g = lg.Graph().add("r1", rnn, "x").add("r2", lg.RNN(3, 3, stateful=True, dtype=np.float64, rng=1), "r1")
    x = np.ones((2, 4, 3))
    first = g.forward(x)
    g.forward(x)
    g.reset_state()
    np.testing.assert_array_equal(g.forward(x), first)


# -- 3. a graph with several outputs is not a layer -------------------------------------------------------------


def _two_outputs():
    return lg.Graph().add("a", affine(3, 2)).add("b", affine(3, 2, 1), "x").set_outputs("a", "b")


def test_a_graph_with_several_outputs_cannot_be_nested():
    outer = lg.Graph().add("fc", affine(), "x")
    with pytest.raises(ValueError, match="one output") as err:
        outer.add("inner", _two_outputs(), "fc")
    assert "'inner'" in one_line(err) and "['a', 'b']" in one_line(err)
    assert list(outer.nodes) == ["fc"]
    s = lg.Sequential(affine())
    with pytest.raises(ValueError, match="one output"):
        s.add("g", _two_outputs())
    assert list(s.layers) == ["Affine1"]


@pytest.mark.parametrize("outer", ["sequential", "graph"])
def test_a_nested_graph_cannot_gain_outputs_later(outer):
    inner = lg.Graph().add("a", affine(3, 2)).add("b", affine(3, 2, 1), "x")
    net = lg.Sequential([("g", inner)]) if outer == "sequential" else lg.Graph().add("g", inner, "x")
    with pytest.raises(ValueError, match="set_outputs: the graph is 'g' in .*must have one output") as err:
        inner.set_outputs("a", "b")
    assert one_line(err).startswith("Graph 'g'")
    assert inner.outputs == ("b",)
    np.testing.assert_allclose(net.forward(X), X @ inner["b"].params["W"] + inner["b"].params["b"])


def test_forward_names_a_nested_graph_that_returned_several_outputs(monkeypatch):
    from layergraph.network import membership
    inner = lg.Graph().add("a", affine(3, 2)).add("b", affine(3, 2, 1), "x")
    s, g = lg.Sequential([("g", inner)]), lg.Graph().add("node", lg.Graph().add("a", affine(3, 2)), "x")
    monkeypatch.setattr(membership, "owner_of", lambda layer: None)   # a graph that escaped the owner records
    inner.set_outputs("a", "b")
    g["node"].add("b", affine(3, 2, 1), "x").set_outputs("a", "b")
    with pytest.raises(ValueError, match="'g' returned outputs \\['a', 'b'\\]"):
        s.forward(X)
    with pytest.raises(ValueError, match="'node' returned outputs \\['a', 'b'\\]"):
        g.forward(X)


# -- 4. / 5. losses -----------------------------------------------------------------------------------------------


def test_one_loss_object_for_two_outputs_is_refused():
    g = _two_outputs()
    ok = {"a": lg.SoftmaxWithLoss(), "b": lg.SoftmaxWithLoss()}
    g.set_loss(ok)
    shared = lg.SoftmaxWithLoss()
    with pytest.raises(ValueError, match="same SoftmaxWithLoss") as err:
        g.set_loss({"a": shared, "b": shared})
    assert "'a'" in one_line(err) and "'b'" in one_line(err)
    assert g.losses == ok


def test_a_layer_that_is_not_a_loss_is_refused_as_the_loss():
    with pytest.raises(TypeError, match="must be a loss layer .*got ReLU"):
        lg.Sequential(affine(3, 2), loss=lg.ReLU())
    net = lg.Sequential(affine(3, 2), loss=lg.SoftmaxWithLoss())
    with pytest.raises(TypeError, match="loss layer"):
        net.set_loss(affine())
    assert isinstance(net.loss_layer, lg.SoftmaxWithLoss)
    g = lg.Graph().add("a", affine(3, 2), "x")
    with pytest.raises(TypeError, match="Graph.set_loss: argument 'loss' must be a loss layer"):
        g.set_loss(lg.ReLU())
    assert g.losses == {}
    with pytest.raises(TypeError, match="the loss of output 'a'"):
        _two_outputs().set_loss({"a": lg.ReLU(), "b": lg.SoftmaxWithLoss()})


class HalfSquares(lg.Loss):
    """0.5 * mean over samples of the summed squares of (x - t)."""

    def forward(self, x, t):
        self.d = x - t
        return 0.5 * float(np.sum(self.d ** 2)) / len(x)

    def backward(self, dout=1.0):
        return dout * self.d / len(self.d)


class DuckLoss:
    """A loss that does not subclass lg.Loss but says it is one."""
    is_loss = True

    def forward(self, x, t):
        self.n = len(x)
        return float(np.mean(np.abs(x - t)))

    def backward(self, dout=1.0):
        return np.zeros((self.n, 2))


def test_user_written_losses_keep_working():
    t = np.random.default_rng(3).standard_normal((4, 2))
    fc = affine(3, 2)
    y = X @ fc.params["W"] + fc.params["b"]
    net = lg.Sequential(fc, loss=HalfSquares())
    assert net.loss(X, t) == pytest.approx(0.5 * np.sum((y - t) ** 2) / 4)
    fc2 = affine(3, 2)
    g = lg.Graph().add("a", fc2, "x").set_loss(DuckLoss())
    assert g.loss(X, t) == pytest.approx(np.mean(np.abs(y - t)))


# -- 6. accuracy checks the labels in Graph as in Sequential ----------------------------------------------------


def test_graph_accuracy_refuses_labels_outside_the_classes():
    g = lg.Graph().add("a", affine(3, 2), "x")
    with pytest.raises(ValueError, match=r"labels in \[0, 7\] but the network has 2 outputs") as err:
        g.accuracy(X, np.array([0, 1, 7, 1]))
    assert one_line(err).startswith("Graph.accuracy")
    two = _two_outputs()
    with pytest.raises(ValueError, match=r"output 'b' has 2 outputs"):
        two.accuracy(X, np.array([0, 1, -1, 1]), output="b")


def test_graph_accuracy_skips_ignored_positions_like_sequential():
    fc = affine(3, 4)
    y = X @ fc.params["W"] + fc.params["b"]
    pred = np.argmax(y, axis=1)
    t = np.array([pred[0], (pred[1] + 1) % 4, -100, pred[3]])          # 2 right, 1 wrong, 1 ignored
    g = lg.Graph().add("a", fc, "x").set_loss(lg.SoftmaxWithLoss(ignore_index=-100))
    assert g.accuracy(X, t) == pytest.approx(2 / 3)
    seq = lg.Sequential(affine(3, 4), loss=lg.SoftmaxWithLoss(ignore_index=-100))
    assert seq.accuracy(X, t) == pytest.approx(2 / 3)
    with pytest.raises(lg.ShapeError, match="no samples"):
        g.accuracy(X[:0], t[:0])


# -- 7. lookups -----------------------------------------------------------------------------------------------------


def test_sequential_int_indexing_and_slices():
    fc1, act, fc2 = affine(3, 3), lg.Tanh(), affine(3, 2, 1)
    net = lg.Sequential([("fc1", fc1), ("act", act), ("fc2", fc2)], loss=lg.SoftmaxWithLoss())
    assert net[0] is fc1 and net[-1] is fc2 and net[np.int64(1)] is act
    with pytest.raises(IndexError, match=r"Sequential: index 5 is out of range for 3 layers \(valid indices -3..2\)"):
        net[5]
    with pytest.raises(IndexError, match="-4"):
        net[-4]
    head = net[1:]
    assert isinstance(head, lg.Sequential) and list(head.layers) == ["act", "fc2"] and head.loss_layer is None
    assert head["fc2"] is fc2 and fc2.name == "fc2"
    np.testing.assert_allclose(head.forward(X), np.tanh(X) @ fc2.params["W"] + fc2.params["b"])
    assert list(net[::2].layers) == ["fc1", "fc2"] and len(net[5:]) == 0
    np.testing.assert_allclose(net[:-1].forward(X), np.tanh(X @ fc1.params["W"] + fc1.params["b"]))
    assert list(net.layers) == ["fc1", "act", "fc2"]


def test_slices_of_a_nested_sequential_keep_the_owner_names():
    inner = lg.Sequential([("fc", affine()), ("act", lg.ReLU())])
    net = lg.Sequential([("block", inner)])
    view = net["block"][:1]
    lg.Sequential([("v", view)])                       # the view may be nested; its layers keep their names
    assert inner["fc"].name == "block.fc"
    lg.Sequential(inner["fc"])                         # another network may use it too; the name stays
    assert inner["fc"].name == "block.fc"


def test_bad_keys_are_one_line_errors_naming_the_container():
    net = lg.Sequential([("fc", affine()), ("act", lg.ReLU())])
    with pytest.raises(KeyError, match=r"has no layer 'act.x': ReLU 'act' \(at 'act'\) has no parts"):
        net["act.x"]
    with pytest.raises(KeyError, match=r"Sequential has no layer 'nope'; layers: \['fc', 'act'\]"):
        net["nope"]
    with pytest.raises(TypeError, match="an int or a slice, got float 1.5"):
        net[1.5]
    g = lg.Graph().add("a", affine(), "x").add("b", lg.Sequential([("fc", affine())]), "a")
    for key in (0, -1):
        with pytest.raises(TypeError, match=rf"Graph: key must be a node name \(str\), got int {key}; nodes: "):
            g[key]
    with pytest.raises(KeyError, match="Sequential 'b' has no part 'zz'; parts: \\['fc'\\]"):
        g["b.zz"]
    assert g["b.fc"] is g["b"]["fc"]


def test_load_state_dict_of_a_non_mapping_is_a_type_error():
    for net in (lg.Sequential(affine()), lg.Graph().add("a", affine(), "x")):
        before = {k: v.copy() for k, v in net.params.items()}
        with pytest.raises(TypeError, match="load_state_dict: argument 'state_dict' must be a mapping .* got list"):
            net.load_state_dict([1, 2])
        for k, v in net.params.items():
            np.testing.assert_array_equal(v, before[k])


# -- 8. names: the right container; a layer shared between networks keeps its first name ------------------------------


def test_bad_graph_names_name_the_graph():
    g = lg.Graph()
    g.name = "enc"
    with pytest.raises(ValueError, match="^Graph 'enc': invalid node name 'b.c'"):
        g.add("b.c", lg.ReLU(), "x")
    with pytest.raises(ValueError, match="^Graph: invalid input name 'a.b'"):
        lg.Graph(inputs=("a.b",))
    with pytest.raises(TypeError, match="^Graph: node names must be str"):
        lg.Graph().add(3, lg.ReLU(), "x")


def test_a_layer_in_two_networks_keeps_the_name_its_first_network_gave_it():
    fc = affine()
    seq = lg.Sequential([("fc", fc)])
    g = lg.Graph()
    g.add("mine", fc, "x")                                       # shared between two networks, as in Keras
    assert g["mine"] is fc and seq["fc"] is fc and fc.name == "fc"
    with pytest.raises(lg.ShapeError, match="Affine 'fc': argument 'x'"):
        g.forward(np.ones((2, 7)))
    act = lg.ReLU()
    g.add("act", act, "x")
    lg.Sequential(act)
    assert act.name == "act"
    del g                                                        # the first network is gone: the next one names it
    gc.collect()
    lg.Sequential([("again", act)])
    assert act.name == "again"


def test_a_failed_construction_leaves_its_layers_free():
    fc = affine()
    with pytest.raises(TypeError, match="loss layer"):
        lg.Sequential([("fc", fc)], loss=lg.ReLU())
    with pytest.raises(ValueError, match="invalid layer name 'b.c'"):
        lg.Sequential([("fc", fc), ("b.c", lg.ReLU())])
    assert fc.name == "Affine"
    net = lg.Sequential([("first", fc)], loss=lg.SoftmaxWithLoss())
    assert net["first"] is fc and fc.name == "first"


def test_copies_are_free_and_a_copied_container_owns_its_copies():
    seq = lg.Sequential([("fc", affine())])
    lg.Graph().add("fc", copy.deepcopy(seq["fc"]), "x")          # a copy of a layer belongs to nobody
    twin = copy.deepcopy(seq)
    lg.Sequential([("other", twin["fc"])])
    assert twin["fc"].name == "fc"                              # the copy belongs to the copied container
    shallow = copy.copy(seq)                                    # the layers stay with their owner
    inner = lg.Sequential([("block", seq)])
    assert seq["fc"].name == "block.fc" and shallow["fc"] is seq["fc"]
    del twin, shallow, inner


def test_a_layer_cannot_appear_twice_through_a_nested_container():
    fc = affine()
    inner = lg.Sequential([("act", lg.ReLU())])
    outer = lg.Sequential([("inner", inner), ("fc", fc)])
    with pytest.raises(ValueError, match="is already in the network Sequential that holds it") as err:
        inner.add("fc_again", fc)
    assert "\n" not in str(err.value) and list(inner.layers) == ["act"]
    g = lg.Graph()
    g.add("a", lg.Tanh(), "x")
    other = affine()
    top = lg.Sequential([("g", g), ("other", other)])
    with pytest.raises(ValueError, match="already in the network"):
        g.add("m", other, "a")
    assert list(g.nodes) == ["a"] and top["other"] is other and outer["fc"] is fc


class _WrongDx(lg.Layer):
    def forward(self, x, train=True):
        self.x = x
        return 2 * x

    def backward(self, dout):
        return dout[:, :2]                                      # one column short


class _NoOutput(lg.Layer):
    def forward(self, x, train=True):
        self.x = x

    def backward(self, dout):
        return dout


def test_a_users_layer_with_a_wrong_dx_or_no_output_is_named():
    net = lg.Sequential([("fc1", affine()), ("mine", _WrongDx()), ("fc2", affine())])
    net.forward(X)
    with pytest.raises(lg.ShapeError, match=r"layer 'mine' \(_WrongDx\) returned dx of shape \(4, 2\) from backward, "
                                            r"expected the shape of its input \(4, 3\)"):
        net.backward(np.ones((4, 3)))
    broken = lg.Sequential([("fc1", affine()), ("mine", _NoOutput())])
    with pytest.raises(TypeError, match=r"layer 'mine' \(_NoOutput\) returned NoneType from forward, expected an "
                                        r"array"):
        broken.forward(X)


def test_a_graph_names_the_node_whose_backward_returns_a_gradient_of_another_shape():
    g = lg.Graph()
    g.add("fc1", affine(), "x").add("mine", _WrongDx()).add("fc2", affine())
    g.forward(X)
    with pytest.raises(lg.ShapeError, match=r"node 'mine' \(_WrongDx\) returned a gradient of shape \(4, 2\) for its "
                                            r"input 'fc1' from backward, expected \(4, 3\)"):
        g.backward(np.ones((4, 3)))


def test_a_residual_block_keeps_the_dtype_of_its_parameters():
    res = lg.Residual(lg.Affine(3, 3, rng=0))
    y = res.forward(np.ones((2, 3)))                             # float64 input, float32 block
    assert y.dtype == np.float32 and res.backward(np.ones((2, 3), np.float32)).dtype == np.float32
    ref = lg.Affine(3, 3, rng=0).forward(np.ones((2, 3))) + np.float32(1.0)
    assert np.array_equal(y, ref)
