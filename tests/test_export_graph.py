"""Graphs: the graph examples (examples/inception_mnist.py, siamese_digits.py, two_outputs.py, built again here),
graphs nested in other containers, several inputs and outputs, shared layers, per-output probability heads."""

from collections import OrderedDict

import numpy as np
import pytest
from scipy.special import softmax as sp_softmax

from export_support import assert_close, export_and_compare, session

import layergraph as lg
from layergraph.cli import main

if not hasattr(lg, "Graph"):
    pytest.skip("this version of layergraph has no Graph", allow_module_level=True)

from layergraph.layers import Concat, Conv2D, GlobalAvgPool, MaxPool2D  # noqa: E402


def add_inception(g, prefix, source, c_in, c1, c3r, c3, c5r, c5, cp, rng):
    def conv(name, src, cin, cout, k):
        g.add(f"{prefix}_{name}", Conv2D(cin, cout, k, pad=k // 2, rng=rng), src)
        g.add(f"{prefix}_{name}_relu", lg.ReLU(), f"{prefix}_{name}")
        return f"{prefix}_{name}_relu"

    b1 = conv("1x1", source, c_in, c1, 1)
    b3 = conv("3x3", conv("3x3_reduce", source, c_in, c3r, 1), c3r, c3, 3)
    b5 = conv("5x5b", conv("5x5a", conv("5x5_reduce", source, c_in, c5r, 1), c5r, c5, 3), c5, c5, 3)
    g.add(f"{prefix}_pool", MaxPool2D(3, stride=1, pad=1), source)
    bp = conv("pool_proj", f"{prefix}_pool", c_in, cp, 1)
    g.add(prefix, Concat(axis=1), [b1, b3, b5, bp])
    return prefix


def inception(seed=0):
    rng = np.random.default_rng(seed)
    g = lg.Graph(inputs=("image",))
    g.add("stem", Conv2D(1, 16, 3, pad=1, rng=rng), "image").add("stem_relu", lg.ReLU())
    g.add("stem_pool", MaxPool2D(2))
    add_inception(g, "inc1", "stem_pool", 16, 8, 8, 12, 4, 6, 6, rng)
    g.add("pool", MaxPool2D(2), "inc1")
    add_inception(g, "inc2", "pool", 32, 16, 12, 20, 6, 8, 8, rng)
    g.add("gap", GlobalAvgPool(), "inc2").add("fc", lg.Affine(52, 10, rng=rng))
    return g.set_loss(lg.SoftmaxWithLoss())


def siamese(seed=0):
    rng = np.random.default_rng(seed)
    encoder = lg.Sequential([("fc1", lg.Affine(64, 64, rng=rng)), ("relu", lg.ReLU()),
                             ("fc2", lg.Affine(64, 16, rng=rng))])
    g = lg.Graph(inputs=("left", "right"))
    g.add("enc_left", encoder, "left").add("enc_right", encoder, "right")
    g.add("prod", lg.Multiply(), ["enc_left", "enc_right"]).add("sum", lg.Add(), ["enc_left", "enc_right"])
    g.add("cat", lg.Concat(), ["prod", "sum"])
    g.add("fc", lg.Affine(32, 32, rng=rng), "cat").add("relu", lg.ReLU())
    g.add("same", lg.Affine(32, 2, rng=rng))
    return g.set_loss(lg.SoftmaxWithLoss())


def two_outputs(seed=0):
    rng = np.random.default_rng(seed)
    g = lg.Graph()
    g.add("fc1", lg.Affine(64, 64, rng=rng), "x").add("relu1", lg.ReLU())
    g.add("fc2", lg.Affine(64, 64, rng=rng)).add("relu2", lg.ReLU())
    g.add("digit", lg.Affine(64, 10, rng=rng))
    g.add("parity", lg.Affine(64, 2, rng=rng), "relu1")
    g.set_outputs("digit", "parity")
    return g.set_loss({"digit": lg.SoftmaxWithLoss(), "parity": lg.SoftmaxWithLoss()}, weights={"parity": 0.3})


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
