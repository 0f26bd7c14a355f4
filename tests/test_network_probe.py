"""Summaries and pictures run a probe sample through the network; the network must be left exactly as it was."""

import numpy as np
import pytest

import layergraph as lg


def _mlp():
    return lg.Sequential(lg.Affine(4, 5, dtype=np.float64, rng=0), lg.ReLU(),
                         lg.Affine(5, 2, dtype=np.float64, rng=1))


@pytest.mark.parametrize("probe", [lambda n: n.summary(4), lambda n: n.to_dot(4), lambda n: n.to_mermaid(4)])
def test_a_summary_between_forward_and_backward_changes_no_gradient(probe):
    x = np.random.default_rng(0).standard_normal((8, 4))
    dout = np.random.default_rng(1).standard_normal((8, 2))
    ref = _mlp()
    ref.forward(x)
    dx_ref = ref.backward(dout)
    net = _mlp()
    net.forward(x)
    probe(net)
    dx = net.backward(dout)
    assert np.array_equal(dx, dx_ref)
    assert all(np.array_equal(net.grads[k], ref.grads[k]) for k in ref.grads)


def _graph():
    g = lg.Graph()
    g.add("fc", lg.Affine(4, 3, dtype=np.float64, rng=0), "x").add("act", lg.Tanh())
    g.add("head", lg.Affine(3, 2, dtype=np.float64, rng=1), "act")
    return g


@pytest.mark.parametrize("probe", [lambda g: g.summary(4), lambda g: g.to_dot(4), lambda g: g.to_mermaid(4)])
def test_a_graph_summary_between_forward_and_backward_changes_no_gradient(probe):
    x = np.random.default_rng(2).standard_normal((6, 4))
    dout = np.random.default_rng(3).standard_normal((6, 2))
    ref, g = _graph(), _graph()
    ref.forward(x)
    dx_ref = ref.backward(dout)
    g.forward(x)
    probe(g)
    assert np.array_equal(g.backward(dout), dx_ref)
    assert "(N, 2)" in g.to_mermaid()          # the shapes of the last real forward pass, batch axis as N


def test_a_stateful_lstm_keeps_its_carried_state_and_its_buffers_across_a_summary():
    gen = np.random.default_rng(4)
    x1, x2 = gen.standard_normal((1, 3, 2)), gen.standard_normal((1, 3, 2))

    def build():
        return lg.Sequential(lg.LSTM(2, 3, stateful=True, dtype=np.float64, rng=5),
                             lg.TimeDistributed(lg.Affine(3, 1, dtype=np.float64, rng=6)))

    ref, net = build(), build()
    dout = np.ones((1, 3, 1))
    ref.forward(x1)
    ref.backward(dout)
    y_ref = ref.forward(x2)
    dx_ref = ref.backward(dout)
    net.forward(x1)
    net.backward(dout)
    y = net.forward(x2)                         # batch 1: the probe's own batch size, so buffers would be shared
    with _no_warning():
        net.summary((3, 2))
    assert np.array_equal(y, y_ref)
    assert np.array_equal(net.backward(dout), dx_ref)
    assert all(np.array_equal(a, b) for a, b in zip(net["LSTM1"].get_state(), ref["LSTM1"].get_state()))


class _no_warning:
    def __enter__(self):
        import warnings

        self._ctx = warnings.catch_warnings()
        self._ctx.__enter__()
        warnings.simplefilter("error")

    def __exit__(self, *exc):
        return self._ctx.__exit__(*exc)


def test_a_probe_of_another_batch_size_neither_resets_nor_warns():
    net = lg.Sequential(lg.RNN(2, 3, stateful=True, dtype=np.float64, rng=0))
    x = np.random.default_rng(7).standard_normal((4, 5, 2))
    net.forward(x)
    state = [s.copy() for s in net["RNN1"].get_state()]
    with _no_warning():
        net.summary((5, 2))
        net.to_dot((5, 2))
    assert all(np.array_equal(a, b) for a, b in zip(net["RNN1"].get_state(), state))


def test_networks_with_an_embedding_are_drawn_with_integer_probe_samples():
    seq = lg.Sequential(lg.Embedding(10, 4, rng=0), lg.LSTM(4, 3, return_sequences=False, rng=1))
    assert "(N, 3)" in seq.summary(6, dtype=np.int64).__str__()
    with pytest.raises(TypeError, match="integer indices"):
        seq.summary(6)
    g = lg.Graph(inputs=["tok", "feat"])
    g.add("emb", lg.Embedding(10, 4, rng=0), "tok").add("rnn", lg.GRU(4, 3, return_sequences=False, rng=1))
    g.add("feat_fc", lg.Affine(2, 3, rng=2), "feat").add("sum", lg.Add(), ["rnn", "feat_fc"])
    text = str(g.summary({"tok": 6, "feat": 2}, dtype={"tok": np.int64}))
    assert "sum" in text and "(N, 3)" in text
    assert 'n_sum[["sum<br/>Add<br/>(N, 3)"]]' in g.to_mermaid({"tok": 6, "feat": 2}, dtype={"tok": np.int64})
    assert "(N, 6, 4)" in g.to_dot({"tok": 6, "feat": 2}, dtype={"tok": np.int32})
    with pytest.raises(KeyError, match="argument 'dtype' names \\['toks'\\], which are not inputs"):
        g.summary({"tok": 6, "feat": 2}, dtype={"toks": np.int64})


@pytest.mark.parametrize("batch", [1, 3])
def test_a_graph_sharing_a_layer_between_nodes_survives_a_summary_between_forward_and_backward(batch):
    def build():
        g = lg.Graph()
        fc = lg.Affine(4, 4, dtype=np.float64, rng=0)
        g.add("f1", fc, "x").add("r", lg.Tanh()).add("f2", fc, "r")
        return g
    x = np.random.default_rng(8).standard_normal((batch, 4))
    dout = np.random.default_rng(9).standard_normal((batch, 4))
    ref, g = build(), build()
    ref.forward(x)
    dx_ref = ref.backward(dout)
    g.forward(x)
    g.summary(4)
    g.to_dot(4)
    assert np.array_equal(g.backward(dout), dx_ref)
    assert all(np.array_equal(g.grads[k], ref.grads[k]) for k in ref.grads)
