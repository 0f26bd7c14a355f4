"""export and show rebuild a network with the user's own layer classes only through --model, which they name."""

import pytest
from test_cli_errors import call, workdir  # noqa: F401 (fixture)

MODULE = '''
import numpy as np
import layergraph as lg
from layergraph.export import register_exporter


class Scale(lg.Layer):
    def __init__(self, n=1):
        super().__init__()
        self.n = n
        self.params = {"a": np.full(n, 1.5, np.float32)}
        self.grads = {"a": np.zeros(n, np.float32)}

    def forward(self, x, train=True):
        self.x = x
        return x * self.params["a"]

    def backward(self, dout):
        self.grads["a"][...] = (dout * self.x).sum(axis=0)
        return dout * self.params["a"]


def export_scale(ctx, layer, inputs):
    return ctx.node("Mul", [inputs[0], ctx.initializer(layer.params["a"], "a")], "mul")


register_exporter(Scale, export_scale)


def build(input_shape, num_classes, seed=0):
    return lg.Sequential([("fc", lg.Affine(input_shape[0], num_classes, rng=seed)), ("scale", Scale(num_classes))],
                         loss=lg.SoftmaxWithLoss())
'''


def test_export_and_show_take_the_users_factory(workdir, capsys):
    pytest.importorskip("onnx")
    (workdir / "scalemods.py").write_text(MODULE)
    assert call(["train", "--model", "scalemods:build", "--epochs", "1", "--out", "r", "-q"], capsys)[0] == 0
    status, out, err = call(["export", "r/checkpoint.npz", "r.onnx"], capsys)
    assert status == 1 and "if you trust that module, pass --model scalemods:build" in err
    status, out, err = call(["export", "r/checkpoint.npz", "r.onnx", "--model", "scalemods:build"], capsys)
    assert status == 0, err
    import onnx

    nodes = [n.op_type for n in onnx.load("r.onnx").graph.node]
    assert "Mul" in nodes and ("Gemm" in nodes or "MatMul" in nodes)
    status, out, err = call(["show", "r/checkpoint.npz", "--model", "scalemods:build"], capsys)
    assert status == 0, err
    assert "scale" in out and "Scale" in out and "(N, 10)" in out
    assert "total trainable parameters: 660" in out            # Affine(64, 10) and the 10 scales


def test_a_preset_name_is_not_taken_over_silently():
    from layergraph.cli.presets import _PRESETS, register_preset

    with pytest.raises(ValueError, match="'lenet' is already a preset built by another function; pass replace=True"):
        register_preset("LeNet", lambda input_shape, num_classes, seed=0: None)
    original = _PRESETS["lenet"]
    register_preset("lenet", original[0], original[1])     # the same function again: accepted
    assert _PRESETS["lenet"] is not None and _PRESETS["lenet"][0] is original[0]
