"""The sequence and graph exporters against the layer contracts, written here as plain per-step reference layers.

Each reference class follows the documented contract (parameter keys, layouts, gate order, batch-first input) and
computes its forward pass with a loop over time steps; the built-in exporter is registered for it and the ONNX
Runtime output must equal that loop. The library's own classes, where present, are covered by the registry walk
(test_export_registry.py) and by the tests at the end of this file.
"""

from collections import OrderedDict

import numpy as np
import pytest
from scipy.special import expit

from export_support import export_and_compare

import layergraph as lg
from layergraph.export import ops_containers as oc
from layergraph.export import ops_recurrent as orec


def _uniform(rng, shape, h):
    return rng.uniform(-1 / np.sqrt(h), 1 / np.sqrt(h), shape)


class RefRNN(lg.Layer):
    def __init__(self, d, h, nonlinearity="tanh", return_sequences=True, rng=None):
        super().__init__()
        self.nonlinearity, self.return_sequences = nonlinearity, return_sequences
        self.params = {"Wx": _uniform(rng, (d, h), h), "Wh": _uniform(rng, (h, h), h), "b": _uniform(rng, h, h)}

    def forward(self, x, train=True):
        p = self.params
        h = np.zeros((x.shape[0], p["Wh"].shape[0]))
        act = np.tanh if self.nonlinearity == "tanh" else (lambda v: np.maximum(v, 0))
        hs = []
        for t in range(x.shape[1]):
            h = act(x[:, t] @ p["Wx"] + h @ p["Wh"] + p["b"])
            hs.append(h)
        return np.stack(hs, axis=1) if self.return_sequences else h


class RefLSTM(lg.Layer):
    def __init__(self, d, h, return_sequences=True, rng=None):
        super().__init__()
        self.return_sequences = return_sequences
        self.params = {"Wx": _uniform(rng, (d, 4 * h), h), "Wh": _uniform(rng, (h, 4 * h), h),
                       "b": _uniform(rng, 4 * h, h)}

    def forward(self, x, train=True):
        p = self.params
        H = p["Wh"].shape[0]
        h = c = np.zeros((x.shape[0], H))
        hs = []
        for t in range(x.shape[1]):
            a = x[:, t] @ p["Wx"] + h @ p["Wh"] + p["b"]
            i, f, g, o = expit(a[:, :H]), expit(a[:, H:2 * H]), np.tanh(a[:, 2 * H:3 * H]), expit(a[:, 3 * H:])
            c = f * c + i * g
            h = o * np.tanh(c)
            hs.append(h)
        return np.stack(hs, axis=1) if self.return_sequences else h


class RefGRU(lg.Layer):
    def __init__(self, d, h, return_sequences=True, rng=None):
        super().__init__()
        self.return_sequences = return_sequences
        self.params = {"Wx": _uniform(rng, (d, 3 * h), h), "Wh": _uniform(rng, (h, 3 * h), h),
                       "bx": _uniform(rng, 3 * h, h), "bh": _uniform(rng, 3 * h, h)}

    def forward(self, x, train=True):
        p = self.params
        H = p["Wh"].shape[0]
        h = np.zeros((x.shape[0], H))
        hs = []
        for t in range(x.shape[1]):
            ax = x[:, t] @ p["Wx"] + p["bx"]
            ah = h @ p["Wh"] + p["bh"]
            r = expit(ax[:, :H] + ah[:, :H])
            z = expit(ax[:, H:2 * H] + ah[:, H:2 * H])
            n = np.tanh(ax[:, 2 * H:] + r * ah[:, 2 * H:])
            h = (1 - z) * n + z * h
            hs.append(h)
        return np.stack(hs, axis=1) if self.return_sequences else h


class RefEmbedding(lg.Layer):
    def __init__(self, v, d, rng=None):
        super().__init__()
        self.params = {"W": rng.standard_normal((v, d))}

    def forward(self, x, train=True):
        return self.params["W"][x]


class RefTimeDistributed(lg.Layer):
    def __init__(self, layer):
        super().__init__()
        self.layer = layer

    def forward(self, x, train=True):
        n, t = x.shape[:2]
        y = self.layer.forward(x.reshape(n * t, *x.shape[2:]), train=train)
        return y.reshape(n, t, *y.shape[1:])


for _cls, _fn in ((RefRNN, orec.export_rnn), (RefLSTM, orec.export_lstm), (RefGRU, orec.export_gru),
                  (RefEmbedding, orec.export_embedding), (RefTimeDistributed, orec.export_time_distributed)):
    lg.export.register_exporter(_cls, _fn)


def _seq(n=7, t=5, d=3, seed=0):
    return np.random.default_rng(seed).standard_normal((n, t, d))


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("make", [
    lambda rng: RefRNN(3, 4, rng=rng), lambda rng: RefRNN(3, 4, "relu", return_sequences=False, rng=rng),
    lambda rng: RefLSTM(3, 4, rng=rng), lambda rng: RefLSTM(3, 4, return_sequences=False, rng=rng),
    lambda rng: RefGRU(3, 4, rng=rng), lambda rng: RefGRU(3, 4, return_sequences=False, rng=rng),
    lambda rng: RefTimeDistributed(lg.Affine(3, 2, dtype=np.float64, rng=rng)),
], ids=["rnn", "rnn-relu-last", "lstm", "lstm-last", "gru", "gru-last", "time-distributed"])
def test_recurrent_contracts(make, dtype, tmp_path):
    layer = make(np.random.default_rng(1))
    x = _seq().astype(dtype)
    layer.astype(dtype)
    for name in ("layer",):
        if hasattr(layer, name):
            getattr(layer, name).astype(dtype)
    export_and_compare(layer, x, dtype, tmp_path / "m.onnx", input_shape=(5, 3))


def test_sequence_length_can_be_dynamic(tmp_path):
    net = lg.Sequential(OrderedDict(lstm=RefLSTM(3, 4, return_sequences=False, rng=np.random.default_rng(2)),
                                    fc=lg.Affine(4, 2, dtype=np.float64, rng=3))).astype(np.float32)
    for t in (1, 9):
        export_and_compare(net, _seq(t=t).astype(np.float32), np.float32, tmp_path / f"m{t}.onnx",
                           input_shape=(None, 3))


def test_embedding_takes_integer_indices(tmp_path):
    rng = np.random.default_rng(4)
    net = lg.Sequential(OrderedDict(emb=RefEmbedding(11, 3, rng=rng), gru=RefGRU(3, 4, rng=rng))).astype(np.float32)
    x = rng.integers(0, 11, (7, 6))
    model = export_and_compare(net, x, np.float32, tmp_path / "m.onnx", input_shape=(6,))
    assert model.graph.input[0].type.tensor_type.elem_type == lg.export.onnx_export._import_onnx().TensorProto.INT64


# -- graphs with merge layers ----------------------------------------------------------------------------------

class RefMerge(lg.Layer):
    def __init__(self, fn, axis=None):
        super().__init__()
        self.fn, self.axis = fn, axis

    def forward(self, xs, train=True):
        return self.fn(xs, self.axis)


class RefAdd(RefMerge):
    def __init__(self):
        super().__init__(lambda xs, a: sum(xs))


class RefMultiply(RefMerge):
    def __init__(self):
        super().__init__(lambda xs, a: np.prod(np.stack(xs), axis=0))


class RefAverage(RefMerge):
    def __init__(self):
        super().__init__(lambda xs, a: sum(xs) / len(xs))


class RefConcat(RefMerge):
    def __init__(self, axis=1):
        super().__init__(lambda xs, a: np.concatenate(xs, axis=a), axis)


class RefGraph(lg.Layer):
    """inputs / outputs / nodes as in the Graph contract; forward in node order."""

    def __init__(self, inputs, nodes, outputs):
        super().__init__()
        self.inputs, self.outputs = tuple(inputs), tuple(outputs)
        self.nodes = OrderedDict((name, (layer, ins)) for name, layer, ins in nodes)
        for name, (layer, _) in self.nodes.items():
            layer.name = name

    def forward(self, x, train=True):
        env = dict(x) if isinstance(x, dict) else {self.inputs[0]: x}
        for name, (layer, ins) in self.nodes.items():
            env[name] = layer.forward(env[ins] if isinstance(ins, str) else [env[i] for i in ins], train=train)
        return env[self.outputs[0]] if len(self.outputs) == 1 else {o: env[o] for o in self.outputs}


for _cls, _fn in ((RefGraph, oc.export_graph), (RefAdd, oc.export_add), (RefMultiply, oc.export_multiply),
                  (RefAverage, oc.export_average), (RefConcat, oc.export_concat)):
    lg.export.register_exporter(_cls, _fn)


def test_graph_with_two_inputs_two_outputs_sharing_and_merges(tmp_path):
    rng = np.random.default_rng(6)
    shared = lg.Affine(4, 3, dtype=np.float64, rng=rng)
    g = RefGraph(("a", "b"), [
        ("enc_a", shared, "a"), ("enc_b", shared, "b"),
        ("sum", RefAdd(), ["enc_a", "enc_b"]), ("prod", RefMultiply(), ["enc_a", "enc_b", "sum"]),
        ("avg", RefAverage(), ["enc_a", "prod"]), ("cat", RefConcat(axis=-1), ["sum", "avg"]),
        ("act", lg.Tanh(), "cat"), ("main", lg.Affine(6, 2, dtype=np.float64, rng=rng), "act"),
    ], outputs=("main", "cat"))
    x = {"a": rng.standard_normal((7, 4)), "b": rng.standard_normal((7, 4))}
    model = export_and_compare(g, x, np.float64, tmp_path / "g.onnx", input_shape={"a": 4, "b": (4,)})
    assert [i.name for i in model.graph.input] == ["a", "b"]
    assert [o.name for o in model.graph.output] == ["main", "cat"]
    assert sum(1 for i in model.graph.initializer if i.dims == [4, 3]) == 1   # the shared weight once
    inferred = lg.export.to_onnx(g, None)           # each input read first by the shared Affine(4, 3)
    assert [[d.dim_param or d.dim_value for d in i.type.tensor_type.shape.dim] for i in inferred.graph.input] == [
        ["N", 4], ["N", 4]]
    merge_first = RefGraph(("a", "b"), [("s", RefAdd(), ["a", "b"])], outputs=("s",))
    with pytest.raises(ValueError, match="cannot infer the input shape .*in a dict input name -> shape"):
        lg.export.to_onnx(merge_first, None)


def test_graph_inside_a_sequential_and_an_output_that_is_an_input(tmp_path):
    rng = np.random.default_rng(7)
    g = RefGraph(("x",), [("fc", lg.Affine(4, 4, dtype=np.float64, rng=rng), "x"),
                          ("skip", RefAdd(), ["fc", "x"])], outputs=("skip",))
    net = lg.Sequential(OrderedDict(block=g, act=lg.ReLU()))
    export_and_compare(net, rng.standard_normal((7, 4)), np.float64, tmp_path / "s.onnx", input_shape=4)
    ident = RefGraph(("x",), [("drop", lg.Dropout(0.5, rng=0), "x")], outputs=("drop",))
    x32 = rng.standard_normal((7, 4)).astype(np.float32)
    model = export_and_compare(ident, x32, np.float32, tmp_path / "i.onnx", input_shape=4)
    assert [n.op_type for n in model.graph.node] == ["Identity"]
