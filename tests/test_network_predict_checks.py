"""predict's batch_size and chunking rules, Dropout shared between graph nodes, drawing integer-input networks."""

import numpy as np
import pytest

import layergraph as lg
from layergraph.cli import main


def _mlp():
    return lg.Sequential(lg.Affine(3, 2, rng=0), loss=lg.SoftmaxWithLoss())


@pytest.mark.parametrize("call", [lambda n, x: n.predict(x, batch_size=0),
                                  lambda n, x: n.predict_proba(x, batch_size=0),
                                  lambda n, x: n.predict(x[:2], batch_size=-1)])
def test_a_batch_size_below_one_is_refused_whatever_the_number_of_samples(call):
    with pytest.raises(ValueError, match="batch_size"):
        call(_mlp(), np.ones((4, 3), np.float32))


def test_a_graph_refuses_inputs_of_different_lengths():
    g = lg.Graph(inputs=["l", "r"])
    g.add("fl", lg.Affine(3, 2, rng=0), "l").add("fr", lg.Affine(2, 2, rng=1), "r").add("sum", lg.Add(), ["fl", "fr"])
    with pytest.raises(lg.ShapeError, match=r"same number of samples for every input, got \{'l': 3, 'r': 2\}"):
        g.predict({"l": np.ones((3, 3)), "r": np.ones((2, 2))}, batch_size=2)
    y = g.predict({"l": np.ones((5, 3)), "r": np.ones((5, 2))}, batch_size=2)
    assert np.allclose(y, g.predict({"l": np.ones((5, 3)), "r": np.ones((5, 2))}))


def test_a_stateful_network_carries_its_state_from_chunk_to_chunk_as_keras_does():
    net = lg.Sequential([("rnn", lg.RNN(2, 3, stateful=True, rng=0))])
    x = np.random.default_rng(0).standard_normal((4, 5, 2)).astype(np.float32)
    chunks = net.predict(x, batch_size=2)
    net.reset_state()
    first = net.forward(x[:2], train=False)
    second = net.forward(x[2:], train=False)             # continues the sequences of the first chunk, row by row
    assert np.array_equal(chunks, np.concatenate([first, second]))


def test_dropout_shared_by_two_nodes_draws_a_mask_per_use_reproducibly():
    def build():
        g = lg.Graph()
        drop = lg.Dropout(0.5, rng=3)
        g.add("a", drop, "x").add("b", drop, "x").add("cat", lg.Concat(), ["a", "b"])
        return g
    x = np.ones((200, 50), np.float32)
    y = build().forward(x, train=True)
    kept_a, kept_b = y[:, :50] != 0, y[:, 50:] != 0
    both = np.mean(kept_a & kept_b)
    assert abs(both - 0.25) < 0.02                        # independent masks: a unit kept by both a quarter of the time
    assert not np.array_equal(kept_a, kept_b)
    assert np.array_equal(build().forward(x, train=True), y)   # the same seed, the same masks


def test_sequential_pictures_of_an_embedding_network_and_the_show_command(tmp_path, capsys):
    net = lg.Sequential([("emb", lg.Embedding(20, 4, rng=0)), ("rnn", lg.GRU(4, 3, return_sequences=False, rng=1)),
                         ("fc", lg.Affine(3, 2, rng=2))], loss=lg.SoftmaxWithLoss())
    assert "(N, 7, 4)" in net.to_dot(7, dtype=np.int64) and "(N, 2)" in net.to_mermaid(7, dtype=np.int32)
    path = tmp_path / "emb.npz"
    lg.save_checkpoint(path, net)
    assert main(["show", str(path), "--input-shape", "7", "--input-dtype", "int64"]) == 0
    text = capsys.readouterr().out
    assert "(N, 7, 4)" in text and "(N, 2)" in text
    assert main(["show", str(path), "--format", "mermaid", "--input-shape", "7", "--input-dtype", "int64"]) == 0
    assert "(N, 3)" in capsys.readouterr().out
    assert main(["show", str(path), "--input-shape", "7", "--input-dtype", "integer64"]) != 0
    assert "--input-dtype: expected a NumPy dtype name like int64 or float32, got 'integer64'" in \
        capsys.readouterr().err


def test_show_refuses_input_dtypes_by_name_for_a_network_of_one_input(tmp_path, capsys):
    net = lg.Sequential([("emb", lg.Embedding(20, 4, rng=0)), ("rnn", lg.GRU(4, 3, return_sequences=False, rng=1))],
                        loss=lg.MeanSquaredError())
    path = tmp_path / "one.npz"
    lg.save_checkpoint(path, net)
    assert main(["show", str(path), "--input-shape", "7", "--input-dtype", "x=int64"]) != 0
    assert "--input-dtype: the network has one input; give one dtype like int64, got 'x=int64'" in \
        capsys.readouterr().err
