"""The export API: registry lookup by MRO, errors, heads, input shapes, names on nodes, opsets, lazy import."""

import subprocess
import sys
from collections import OrderedDict

import numpy as np
import pytest
from scipy.special import expit
from scipy.special import softmax as sp_softmax

from export_support import assert_close, export_and_compare, onnx, session

import layergraph as lg
from layergraph.export import ExportError


class _Scale(lg.Layer):
    """y = s * x with a learnable scalar (a user's own layer)."""

    def __init__(self, s):
        super().__init__()
        self.params = {"s": np.array([s], dtype=np.float32)}

    def forward(self, x, train=True):
        return x * self.params["s"]

    def backward(self, dout):
        return dout * self.params["s"]


def _mlp(seed=0, dtype=np.float32):
    return lg.Sequential(OrderedDict(fc1=lg.Affine(6, 5, dtype=dtype, rng=seed), act=lg.Tanh(),
                                     fc2=lg.Affine(5, 3, dtype=dtype, rng=seed + 1)), loss=lg.SoftmaxWithLoss())


def _x(n=7, d=6, seed=1, dtype=np.float32):
    return np.random.default_rng(seed).standard_normal((n, d)).astype(dtype)


def test_import_layergraph_does_not_import_onnx():
    code = "import sys, layergraph; assert 'onnx' not in sys.modules and 'onnxruntime' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_missing_onnx_gives_one_line_install_hint(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "onnx", None)       # makes `import onnx` raise ImportError
    with pytest.raises(ImportError, match=r'^ONNX export needs the onnx package: pip install "layergraph\[onnx\]"$'):
        lg.export.to_onnx(_mlp(), tmp_path / "m.onnx")
    assert not (tmp_path / "m.onnx").exists()


def test_layer_without_exporter_names_layer_class_and_registration(tmp_path):
    net = lg.Sequential(OrderedDict(fc=lg.Affine(6, 4, rng=0), scale=_Scale(2.0)))
    with pytest.raises(ExportError) as info:
        lg.export.to_onnx(net, tmp_path / "m.onnx")
    message = str(info.value)
    assert "\n" not in message
    assert "'scale'" in message and "_Scale" in message and "lg.export.register_exporter(_Scale, function)" in message
    assert not (tmp_path / "m.onnx").exists()


def test_user_exporter_is_used_inside_containers_and_names_its_nodes(tmp_path):
    calls = []

    def export_scale(ctx, layer, inputs):
        calls.append(list(inputs))
        s = ctx.initializer(layer.params["s"].reshape(()), "s")
        return ctx.node("Mul", [inputs[0], s], hint="scale")

    lg.export.register_exporter(_Scale, export_scale)
    inner = lg.Sequential(OrderedDict(scale=_Scale(-1.5), act=lg.ReLU()))
    net = lg.Sequential(OrderedDict(fc=lg.Affine(6, 4, rng=0), block=inner,
                                    res=lg.Residual(lg.Sequential(OrderedDict(scale=_Scale(0.5))))))
    model = export_and_compare(net, _x(), np.float32, tmp_path / "m.onnx")
    assert len(calls) == 2
    names = [n.name for n in model.graph.node]
    assert "block.scale/scale" in names and "res.block.scale/scale" in names and "fc/gemm" in names
    assert "block.scale.s" in {i.name for i in model.graph.initializer}


def test_lookup_walks_the_mro():
    class MyReLU(lg.ReLU):
        pass

    class Other(lg.ReLU):
        pass

    def own(ctx, layer, inputs):
        return ctx.node("Relu", inputs)

    lg.export.register_exporter(Other, own)
    assert lg.export.find_exporter(MyReLU) is lg.export.find_exporter(lg.ReLU)
    assert lg.export.find_exporter(Other) is own
    assert lg.export.find_exporter(_Unregistered) is None


class _Unregistered(lg.Layer):
    pass


def test_subclass_of_a_registered_layer_exports(tmp_path):
    class Wide(lg.Affine):
        pass

    net = lg.Sequential(Wide(6, 4, rng=3), lg.ReLU())
    export_and_compare(net, _x(), np.float32, tmp_path / "m.onnx")


@pytest.mark.parametrize("bad", [lambda c: 1, lambda c: "x"])
def test_register_exporter_checks_arguments(bad):
    with pytest.raises(TypeError, match="register_exporter"):
        lg.export.register_exporter("Affine", lambda ctx, layer, inputs: inputs)
    with pytest.raises(TypeError, match="register_exporter"):
        lg.export.register_exporter(lg.Affine, bad(None))


def test_names_inputs_outputs_and_nodes(tmp_path):
    model = lg.export.to_onnx(_mlp(), tmp_path / "m.onnx")
    assert [i.name for i in model.graph.input] == ["x"] and [o.name for o in model.graph.output] == ["y"]
    assert [d.dim_param or d.dim_value for d in model.graph.output[0].type.tensor_type.shape.dim] == ["N", 3]
    assert all(n.name.split("/")[0] in ("fc1", "act", "fc2") for n in model.graph.node)
    assert {i.name for i in model.graph.initializer} == {"fc1.W", "fc1.b", "fc2.W", "fc2.b"}
    assert model.producer_name == "layergraph"


def test_input_shape_inferred_from_first_affine_else_required(tmp_path):
    model = lg.export.to_onnx(_mlp(), None)
    dims = [d.dim_param or d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim]
    assert dims == ["N", 6]
    conv = lg.Sequential(lg.Conv2D(1, 2, 3, rng=0), lg.Flatten(), lg.Affine(2 * 3 * 3, 2, rng=1))
    with pytest.raises(ExportError, match=r"cannot infer the input shape \(Conv2D 'Conv2D1'.*input_shape="):
        lg.export.to_onnx(conv, tmp_path / "m.onnx")
    x = np.random.default_rng(0).standard_normal((7, 1, 5, 5)).astype(np.float32)
    export_and_compare(conv, x, np.float32, tmp_path / "m.onnx", input_shape=(1, 5, 5))


def test_input_shape_that_does_not_fit_names_the_layer(tmp_path):
    with pytest.raises(ExportError, match=r"does not fit the network.*fc1/gemm"):
        lg.export.to_onnx(_mlp(), tmp_path / "m.onnx", input_shape=(5,))


@pytest.mark.parametrize("kwargs, match", [({"head": "probs"}, "'head'"), ({"opset": 12}, "'opset'"),
                                           ({"opset": 999}, "'opset'"), ({"dtype": np.float16}, "'dtype'"),
                                           ({"input_shape": (0, 3)}, "input_shape"),
                                           ({"input_shape": {"z": 6}}, "one entry per input")])
def test_bad_arguments(kwargs, match, tmp_path):
    with pytest.raises(ValueError, match=match):
        lg.export.to_onnx(_mlp(), tmp_path / "m.onnx", **kwargs)


def test_head_proba_softmax(tmp_path):
    net, x = _mlp(), _x()
    lg.export.to_onnx(net, tmp_path / "p.onnx", head="proba")
    sess = session(tmp_path / "p.onnx")
    for n in (1, 7):
        (y,) = sess.run(None, {"x": x[:n]})
        assert_close(y, sp_softmax(net.predict(x[:n]).astype(np.float64), axis=1), np.float32)
        np.testing.assert_allclose(y.sum(axis=1), 1.0, rtol=1e-6)
    model = onnx.load(str(tmp_path / "p.onnx"))
    assert model.graph.node[-1].op_type == "Softmax" and model.graph.node[-1].name == "loss/proba"
    lg.export.to_onnx(net, tmp_path / "l.onnx", head="logits")
    assert "Softmax" not in {n.op_type for n in onnx.load(str(tmp_path / "l.onnx")).graph.node}


def test_head_proba_sigmoid(tmp_path):
    net = lg.Sequential(lg.Affine(6, 2, rng=4), loss=lg.SigmoidWithLoss())
    x = _x()
    lg.export.to_onnx(net, tmp_path / "p.onnx", head="proba")
    (y,) = session(tmp_path / "p.onnx").run(None, {"x": x})
    assert_close(y, expit(x.astype(np.float64) @ net.params["Affine1.W"] + net.params["Affine1.b"]), np.float32)


def test_head_proba_needs_a_classification_loss(tmp_path):
    with pytest.raises(ExportError, match="needs a loss layer for output 'y'"):
        lg.export.to_onnx(lg.Sequential(lg.Affine(6, 2, rng=0)), tmp_path / "m.onnx", head="proba")
    with pytest.raises(ExportError, match="MeanSquaredError"):
        lg.export.to_onnx(lg.Sequential(lg.Affine(6, 2, rng=0), loss=lg.MeanSquaredError()), tmp_path / "m.onnx",
                          head="proba")


def test_float64_network_exports_float64_and_can_be_exported_as_float32(tmp_path):
    net, x = _mlp(dtype=np.float64), _x(dtype=np.float64)
    export_and_compare(net, x, np.float64, tmp_path / "m64.onnx")
    model = lg.export.to_onnx(net, tmp_path / "m32.onnx", dtype=np.float32)
    assert model.graph.initializer[0].data_type == onnx.TensorProto.FLOAT
    (y,) = session(tmp_path / "m32.onnx").run(None, {"x": x.astype(np.float32)})
    assert_close(y, net.predict(x), np.float32)


@pytest.mark.parametrize("opset", [13, 17, 20])
def test_opsets(opset, tmp_path):
    # LayerNorm and GELU are written differently before opset 17 / 20; each form matches layergraph.
    net = lg.Sequential(lg.Affine(6, 8, rng=0), lg.LayerNorm(8), lg.GELU(), lg.Dropout(0.3, rng=1),
                        lg.Affine(8, 3, rng=2))
    net.params["LayerNorm1.gamma"][...] = np.linspace(0.5, 1.5, 8)
    net.params["LayerNorm1.beta"][...] = np.linspace(-1, 1, 8)
    model = export_and_compare(net, _x(), np.float32, tmp_path / "m.onnx", opset=opset)
    assert model.opset_import[0].version == opset
    ops = {n.op_type for n in model.graph.node}
    assert ("LayerNormalization" in ops) == (opset >= 17) and ("Gelu" in ops) == (opset >= 20)
    assert "Dropout" not in ops


def test_export_writes_atomically_and_does_not_touch_the_network(tmp_path):
    net, x = _mlp(), _x()
    before = {k: v.copy() for k, v in net.state_dict().items()}
    y0 = net.predict(x)
    target = tmp_path / "m.onnx"
    target.write_bytes(b"old")
    with pytest.raises(ExportError):
        lg.export.to_onnx(net, target, input_shape=(5,))
    assert target.read_bytes() == b"old"
    lg.export.to_onnx(net, target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.onnx"]
    for k, v in net.state_dict().items():
        np.testing.assert_array_equal(v, before[k])
    np.testing.assert_array_equal(net.predict(x), y0)


def test_operator_of_another_domain(tmp_path):
    # A user's exporter may use a runtime's own operator (here ONNX Runtime's com.microsoft FastGelu, the tanh
    # approximation of GELU): the domain is imported and the output shape comes from layergraph.
    class TanhGELU(lg.Layer):
        def forward(self, x, train=True):
            return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))

    def export_fast_gelu(ctx, layer, inputs):
        return ctx.node("FastGelu", inputs, domain="com.microsoft")

    lg.export.register_exporter(TanhGELU, export_fast_gelu)
    net = lg.Sequential(lg.Affine(6, 4, rng=0), TanhGELU())
    model = export_and_compare(net, _x(), np.float32, tmp_path / "m.onnx")
    assert {(o.domain, o.version) for o in model.opset_import} == {("", 17), ("com.microsoft", 1)}
    assert [d.dim_param or d.dim_value for d in model.graph.output[0].type.tensor_type.shape.dim] == ["N", 4]


def test_float64_softplus_and_elu_stay_exact_for_large_inputs(tmp_path):
    x = np.array([[-800.0, -30.0, -1e-3, 0.0, 1e-3, 30.0, 800.0]])
    net = lg.Sequential(OrderedDict(sp=lg.Softplus()))
    export_and_compare(net, x, np.float64, tmp_path / "sp.onnx", batches=(1,), input_shape=7)
    ref = np.logaddexp(0.0, x)
    (y,) = session(tmp_path / "sp.onnx").run(None, {"x": x})
    np.testing.assert_allclose(y, ref, rtol=1e-12, atol=0)
    elu = lg.Sequential(OrderedDict(elu=lg.ELU(0.7)))
    export_and_compare(elu, x, np.float64, tmp_path / "elu.onnx", batches=(1,), input_shape=7)
    (y,) = session(tmp_path / "elu.onnx").run(None, {"x": x})
    np.testing.assert_allclose(y, np.where(x > 0, x, 0.7 * np.expm1(np.minimum(x, 0))), rtol=1e-12, atol=1e-15)
