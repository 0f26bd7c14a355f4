"""The example networks (loaded from examples/*.py) and the Quick-start network exported by the CLI."""


import numpy as np
import pytest
from scipy.special import softmax as sp_softmax

from examples_support import example
from export_support import assert_close, export_and_compare, onnx, session

import layergraph as lg
from layergraph.cli import main


def quickstart_net():
    return lg.Sequential(lg.Affine(784, 100, rng=1), lg.ReLU(), lg.Affine(100, 10, rng=2), loss=lg.SoftmaxWithLoss())


def simple_convnet():
    return example("convnet_mnist").simple_convnet()


def small_resnet():
    return example("resnet_mnist").small_resnet()


def _images(n=7, seed=0):
    return np.random.default_rng(seed).random((n, 1, 28, 28), dtype=np.float32)


def test_quickstart_network(tmp_path):
    x = np.random.default_rng(0).random((7, 784), dtype=np.float32)
    export_and_compare(quickstart_net(), x, np.float32, tmp_path / "quickstart.onnx")


def test_simple_convnet(tmp_path):
    model = export_and_compare(simple_convnet(), _images(), np.float32, tmp_path / "convnet.onnx",
                               input_shape=(1, 28, 28))
    assert [n.op_type for n in model.graph.node] == ["Conv", "Relu", "MaxPool", "Flatten", "Gemm", "Relu",
                                                     "Flatten", "Gemm"]


def test_small_resnet_with_trained_statistics(tmp_path):
    net = small_resnet()
    rng = np.random.default_rng(5)
    for key, value in net.buffers.items():       # statistics away from the initial (0, 1) so they matter
        value[...] = rng.uniform(0.5, 1.5, value.shape) if key.endswith("var") else 0.2 * rng.standard_normal(
            value.shape)
    for key, value in net.params.items():
        if key.endswith(("gamma", "beta")):
            value[...] += 0.1 * rng.standard_normal(value.shape)
    model = export_and_compare(net, _images(), np.float32, tmp_path / "resnet.onnx", input_shape=(1, 28, 28))
    names = {n.name for n in model.graph.node}
    assert {"res2.block.conv1/conv", "res2.projection.bn/batchnorm", "res2/add", "gap/gap"} <= names
    assert "Dropout" not in {n.op_type for n in model.graph.node}


def test_quick_start_checkpoint_exported_by_the_cli(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--out", str(out), "--epochs", "2"]) == 0
    ckpt = out / "checkpoint.npz"
    assert main(["export", str(ckpt), str(tmp_path / "logits.onnx")]) == 0
    assert main(["export", str(ckpt), str(tmp_path / "proba.onnx"), "--head", "proba"]) == 0
    printed = capsys.readouterr().out
    assert "input x: (N, 64)" in printed and "output y: (N, 10)" in printed and "head proba" in printed

    net = lg.load_checkpoint(str(ckpt)).build_network()
    (_, _), (x_test, _) = lg.load_digits()
    x = x_test[:7]
    logits = session(tmp_path / "logits.onnx")
    proba = session(tmp_path / "proba.onnx")
    for n in (1, 7):
        want = net.predict(x[:n])
        assert_close(logits.run(None, {"x": x[:n]})[0], want, np.float32)
        assert_close(proba.run(None, {"x": x[:n]})[0], sp_softmax(want.astype(np.float64), axis=1), np.float32)
    onnx.checker.check_model(onnx.load(str(tmp_path / "proba.onnx")), full_check=True)


def test_cli_errors_are_one_line(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--out", str(out), "--epochs", "1"]) == 0
    capsys.readouterr()
    assert main(["export", str(out / "checkpoint.npz"), str(tmp_path / "m.onnx"), "--input-shape", "3,3"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("layergraph export: error: ") and "\n" not in err and "does not fit" in err
    with pytest.raises(SystemExit) as info:
        main(["export", str(out / "checkpoint.npz"), str(tmp_path / "m.onnx"), "--input-shape", "0"])
    assert info.value.code == 2
    assert main(["export", str(tmp_path / "missing.npz"), str(tmp_path / "m.onnx")]) == 1
    assert not (tmp_path / "m.onnx").exists()
