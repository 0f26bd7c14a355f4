"""The library's sequence layers exported: Embedding with integer input, RNN / LSTM / GRU in networks (the
adding-problem models of examples/adding_problem.py, built again here), TimeDistributed, stateful layers, and a
sequence length left dynamic."""

from collections import OrderedDict

import numpy as np
import pytest

from export_support import export_and_compare, onnx, session

import layergraph as lg

if not hasattr(lg, "LSTM"):
    pytest.skip("this version of layergraph has no recurrent layers", allow_module_level=True)

MODELS = {"lstm": lambda h, seed: lg.LSTM(2, h, return_sequences=False, forget_bias=1.0, rng=seed),
          "gru": lambda h, seed: lg.GRU(2, h, return_sequences=False, rng=seed),
          "rnn": lambda h, seed: lg.RNN(2, h, return_sequences=False, rng=seed)}


@pytest.mark.parametrize("model", sorted(MODELS))
def test_adding_problem_models(model, tmp_path):
    net = lg.Sequential([("rec", MODELS[model](8, 0)), ("out", lg.Affine(8, 1, rng=2))], loss=lg.MeanSquaredError())
    x, _ = lg.data.adding_problem(7, 20, seed=1)
    x = np.asarray(x, dtype=np.float32)
    onnx_model = export_and_compare(net, x, np.float32, tmp_path / "m.onnx", input_shape=(None, 2))
    assert f"rec/{model}" in {n.name for n in onnx_model.graph.node}
    sess = session(tmp_path / "m.onnx")
    for length in (2, 33):                   # one file, any sequence length
        xs, _ = lg.data.adding_problem(3, length, seed=length)
        xs = np.asarray(xs, dtype=np.float32)
        np.testing.assert_allclose(sess.run(None, {"x": xs})[0], net.predict(xs), rtol=1e-5, atol=1e-6)


def test_embedding_lstm_classifier_with_padding_and_integer_input(tmp_path):
    rng = np.random.default_rng(0)
    net = lg.Sequential(OrderedDict(
        emb=lg.Embedding(20, 6, padding_idx=0, rng=rng),
        lstm=lg.LSTM(6, 5, rng=rng), gru=lg.GRU(5, 4, return_sequences=False, rng=rng),
        fc=lg.Affine(4, 3, rng=rng)), loss=lg.SoftmaxWithLoss())
    x = rng.integers(0, 20, (7, 9))
    x[:, -3:] = 0
    model = export_and_compare(net, x, np.float32, tmp_path / "m.onnx", input_shape=(9,))
    assert model.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.INT64
    assert [n.op_type for n in model.graph.node][:1] == ["Gather"]
    assert {"emb/gather", "lstm/lstm", "gru/gru", "fc/gemm"} <= {n.name for n in model.graph.node}


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_embedding_alone(dtype, tmp_path):
    emb = lg.Embedding(11, 4, padding_idx=3, dtype=dtype, rng=1)
    x = np.random.default_rng(2).integers(0, 11, (7, 5))
    export_and_compare(emb, x, dtype, tmp_path / "m.onnx", input_shape=(5,))


def test_time_distributed_head_on_a_sequence_model(tmp_path):
    rng = np.random.default_rng(3)
    head = lg.Sequential(OrderedDict(fc=lg.Affine(5, 4, rng=rng), act=lg.GELU()))
    net = lg.Sequential(OrderedDict(rnn=lg.RNN(3, 5, nonlinearity="relu", rng=rng), td=lg.TimeDistributed(head)),
                        loss=lg.SoftmaxWithLoss())
    x = rng.standard_normal((7, 6, 3)).astype(np.float32)
    model = export_and_compare(net, x, np.float32, tmp_path / "m.onnx", input_shape=(None, 3))
    assert {"td.layer.fc/gemm", "td/fold", "td/unfold"} <= {n.name for n in model.graph.node}


@pytest.mark.parametrize("cls", ["LSTM", "GRU", "RNN"])
def test_stateful_layer_exports_from_a_zero_state(cls, tmp_path):
    rng = np.random.default_rng(4)
    layer = getattr(lg, cls)(3, 4, stateful=True, rng=rng)
    x = rng.standard_normal((7, 5, 3)).astype(np.float32)
    layer.forward(x, train=False)                    # carries a state now
    carried = layer.forward(x, train=False)
    lg.export.to_onnx(layer, tmp_path / "m.onnx", input_shape=(5, 3))
    (y,) = session(tmp_path / "m.onnx").run(None, {"x": x})
    layer.reset_state()
    fresh = layer.forward(x, train=False)
    np.testing.assert_allclose(y, fresh, rtol=1e-5, atol=1e-6)
    assert not np.allclose(y, carried, atol=1e-3)     # the file starts from zero, not from the carried state
