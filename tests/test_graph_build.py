"""Building a Graph: names, inputs, outputs, lookups and the one-line errors (a failed add changes nothing)."""

import numpy as np
import pytest

import layergraph as lg


def small():
    g = lg.Graph()
    g.add("a", lg.Affine(4, 3, rng=0), "x").add("b", lg.Affine(4, 3, rng=1), "x").add("s", lg.Add(), ["a", "b"])
    return g


def test_nodes_in_insertion_order_with_inputs_and_default_output():
    g = small()
    assert g.inputs == ("x",)
    assert list(g.nodes) == ["a", "b", "s"]
    assert g.nodes["s"][1] == ["a", "b"] and g.nodes["a"][1] == "x"
    assert g.outputs == ("s",)
    g.add("r", lg.ReLU(), "s")
    assert g.outputs == ("r",)
    g.set_outputs("r", "a")
    assert g.outputs == ("r", "a")
    with pytest.raises(TypeError):
        g.nodes["z"] = (lg.ReLU(), "x")


def test_auto_names_and_default_input_chain():
    g = lg.Graph(inputs=("img",))
    g.add(lg.Affine(4, 3, rng=0)).add(lg.ReLU()).add(lg.Affine(3, 2, rng=1), inputs="ReLU1")
    assert list(g.nodes) == ["Affine1", "ReLU1", "Affine2"]
    assert [ins for _, ins in g.nodes.values()] == ["img", "Affine1", "ReLU1"]
    g.add(lg.Concat(), ["Affine1", "ReLU1"])
    assert "Concat1" in g.nodes


def test_lookups_and_params_keys():
    g = lg.Graph()
    g.add("block", lg.Sequential([("fc", lg.Affine(4, 3, rng=0)), ("act", lg.Tanh())]), "x")
    assert isinstance(g["block.fc"], lg.Affine) and g["block.fc"].name == "block.fc"
    assert list(g.params) == ["block.fc.W", "block.fc.b"]
    assert g.params["block.fc.W"] is g["block.fc"].params["W"]
    with pytest.raises(KeyError, match="'nope'"):
        g["nope"]


@pytest.mark.parametrize("name", ["", "a.b", "loss", "x", "a"])
def test_bad_or_duplicate_names(name):
    g = small()
    before = dict(g.nodes)
    with pytest.raises(ValueError, match=repr(name) if name else "invalid"):
        g.add(name, lg.ReLU(), "s")
    assert dict(g.nodes) == before and g.outputs == ("s",)


def test_input_names_checked():
    with pytest.raises(ValueError, match="duplicate"):
        lg.Graph(inputs=("x", "x"))
    with pytest.raises(ValueError):
        lg.Graph(inputs=("a.b",))
    with pytest.raises(ValueError):
        lg.Graph(inputs=())


@pytest.mark.parametrize("layer, inputs, pattern", [
    (lg.ReLU(), "missing", r"node 'n': input 'missing' does not exist"),
    (lg.Add(), "a", r"node 'n': Add merges several inputs"),
    (lg.Add(), ["a"], r"node 'n': Add needs at least 2 inputs"),
    (lg.ReLU(), ["a", "b"], r"node 'n': ReLU takes one input"),
    (lg.Concat(), ["a", "zzz"], r"node 'n': input 'zzz' does not exist"),
])
def test_wiring_errors_leave_the_graph_unchanged(layer, inputs, pattern):
    g = small()
    before = dict(g.nodes)
    with pytest.raises(ValueError, match=pattern):
        g.add("n", layer, inputs)
    assert dict(g.nodes) == before
    g.add("n", lg.ReLU(), "s")   # the name is still free


def test_not_a_layer():
    with pytest.raises(TypeError, match="forward"):
        lg.Graph().add("a", object(), "x")


def test_set_outputs_and_set_loss_errors():
    g = small()
    with pytest.raises(ValueError, match="'zz' is not a node"):
        g.set_outputs("zz")
    g.set_outputs("a", "s")
    with pytest.raises(ValueError, match="'b', which is not an output"):
        g.set_loss({"a": lg.SoftmaxWithLoss(), "b": lg.SoftmaxWithLoss()})
    with pytest.raises(ValueError, match="'weights' names 'q'"):
        g.set_loss({"a": lg.SoftmaxWithLoss()}, weights={"q": 2.0})
    with pytest.raises(ValueError, match="give a dict"):
        g.set_loss(lg.SoftmaxWithLoss())
    g.set_loss({"a": lg.SoftmaxWithLoss(), "s": lg.MeanSquaredError()}, weights={"s": 0.5})
    assert g.loss_layer is None and set(g.losses) == {"a", "s"} and g.loss_weights == {"s": 0.5}


def test_single_output_loss_layer():
    g = small().set_loss(lg.SoftmaxWithLoss())
    assert isinstance(g.loss_layer, lg.SoftmaxWithLoss) and g.losses == {"s": g.loss_layer}


def test_nested_graph_wiring_checks():
    inner = lg.Graph(inputs=("p", "q")).add("m", lg.Multiply(), ["p", "q"])
    g = small()
    with pytest.raises(ValueError, match="nested graph has inputs"):
        g.add("n", inner, ["a", "b", "s"])
    with pytest.raises(ValueError, match="merges several inputs"):
        g.add("n", inner, "a")
    g.add("n", inner, ["a", "b"])
    with pytest.raises(ValueError, match="cannot contain itself"):
        g.add("self", g, "s")


def test_sequential_still_rejects_a_layer_added_twice():
    fc = lg.Affine(3, 3)
    with pytest.raises(ValueError, match="already in this network"):
        lg.Sequential(fc, lg.ReLU(), fc)


def test_repr_lists_nodes():
    text = repr(small())
    assert "s <- ['a', 'b']" in text and "inputs=['x']" in text


def test_a_single_loss_follows_the_output_and_set_outputs_guards_the_losses():
    g = small().set_loss(lg.SoftmaxWithLoss())
    g.add("r", lg.ReLU(), "s")                       # the output moves to the new last node, and so does the loss
    assert g.outputs == ("r",) and list(g.losses) == ["r"] and g.loss_layer is g.losses["r"]
    with pytest.raises(ValueError, match="one loss layer for one output"):
        g.set_outputs("r", "a")
    assert g.outputs == ("r",)
    g.set_loss({"r": lg.SoftmaxWithLoss()})
    with pytest.raises(ValueError, match=r"\['r'\], which would no longer be outputs"):
        g.set_outputs("a")
    g.add("late", lg.Tanh(), "r")                   # the default output moves: the loss dict is now stale
    with pytest.raises(ValueError, match="no longer outputs"):
        g.loss(np.ones((2, 4)), np.zeros(2, dtype=int))
    g.loss_layer = None
    assert g.losses == {} and g.loss_layer is None
