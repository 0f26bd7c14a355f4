"""Graphs: the graph examples (examples/inception_mnist.py, siamese_digits.py, two_outputs.py, loaded from the scripts),
graphs nested in other containers, several inputs and outputs, shared layers, per-output probability heads."""

from collections import OrderedDict

import numpy as np
import pytest
from scipy.special import softmax as sp_softmax

from examples_support import example
from export_support import assert_close, export_and_compare, session

import layergraph as lg
from layergraph.cli import main


def inception():
    return example("inception_mnist").build()


def siamese():
    return example("siamese_digits").build()


def two_outputs():
    return example("two_outputs").build()


def _digits(n=7, offset=0):
    (x, _), _ = lg.load_digits()
    return x[offset:offset + n]


def test_inception(tmp_path):
    x = np.random.default_rng(0).random((7, 1, 28, 28), dtype=np.float32)
    model = export_and_compare(inception(), x, np.float32, tmp_path / "inception.onnx", input_shape=(1, 28, 28))
    assert [i.name for i in model.graph.input] == ["image"] and [o.name for o in model.graph.output] == ["fc"]
    assert {"inc1/concat", "inc2_5x5b/conv", "stem_pool/maxpool"} <= {n.name for n in model.graph.node}


def test_siamese_two_inputs_one_shared_encoder(tmp_path):
    net = siamese()
    x = {"left": _digits(), "right": _digits(offset=50)}
    model = export_and_compare(net, x, np.float32, tmp_path / "siamese.onnx")   # shapes from the Affines
    assert [i.name for i in model.graph.input] == ["left", "right"]
    names = {n.name for n in model.graph.node}
    assert {"enc_left.fc1/gemm", "enc_right.fc1/gemm", "prod/mul", "sum/add", "cat/concat"} <= names
    weights = [i.name for i in model.graph.initializer if list(i.dims) == [64, 64]]
    assert weights == ["enc_left.fc1.W"], "the shared encoder's weights are stored once"


def test_two_outputs_logits_and_per_output_proba(tmp_path):
    net = two_outputs()
    x = _digits()
    model = export_and_compare(net, x, np.float32, tmp_path / "two.onnx")
    assert [o.name for o in model.graph.output] == ["digit", "parity"]
    lg.export.to_onnx(net, tmp_path / "proba.onnx", head="proba")
    sess = session(tmp_path / "proba.onnx")
    for n in (1, 7):
        digit, parity = sess.run(["digit", "parity"], {"x": x[:n]})
        want = net.predict(x[:n])
        assert_close(digit, sp_softmax(want["digit"].astype(np.float64), axis=1), np.float32)
        assert_close(parity, sp_softmax(want["parity"].astype(np.float64), axis=1), np.float32)


def test_graphs_nested_in_sequential_residual_and_graph(tmp_path):
    rng = np.random.default_rng(3)
    inner = lg.Graph()
    inner.add("a", lg.Affine(5, 5, rng=rng, dtype=np.float64), "x").add("t", lg.Tanh())
    inner.add("b", lg.Affine(5, 5, rng=rng, dtype=np.float64), "x")
    inner.add("avg", lg.Average(), ["t", "b"])
    two_in = lg.Graph(inputs=("p", "q"))
    two_in.add("m", lg.Multiply(), ["p", "q"])
    outer = lg.Graph()
    outer.add("res", lg.Residual(inner), "x").add("g", lg.Sigmoid())
    outer.add("pair", two_in, ["res", "g"])
    net = lg.Sequential(OrderedDict(fc=lg.Affine(5, 5, rng=rng, dtype=np.float64), body=outer, act=lg.ReLU()))
    x = rng.standard_normal((7, 5))
    model = export_and_compare(net, x, np.float64, tmp_path / "nested.onnx")
    names = {n.name for n in model.graph.node}
    assert {"body.res.block.a/gemm", "body.res.block.avg/average", "body.res/add", "body.pair.m/mul"} <= names


def test_graph_checkpoint_exported_by_the_cli_with_its_saved_input_shapes(tmp_path, capsys):
    net = siamese()
    ckpt = tmp_path / "siamese.npz"
    lg.save_checkpoint(str(ckpt), net, input_shape={"left": [64], "right": [64]})
    assert main(["export", str(ckpt), str(tmp_path / "s.onnx"), "--head", "proba"]) == 0
    out = capsys.readouterr().out
    assert "input left: (N, 64)" in out and "input right: (N, 64)" in out and "output same: (N, 2)" in out
    x = {"left": _digits(), "right": _digits(offset=9)}
    (proba,) = session(tmp_path / "s.onnx").run(None, x)
    assert_close(proba, sp_softmax(net.predict(x).astype(np.float64), axis=1), np.float32)
