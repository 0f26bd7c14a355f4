"""Graphs in checkpoints, the `layergraph show` command, pictures, summaries and training on dicts."""

import json

import numpy as np
import pytest

import layergraph as lg
from layergraph.cli import main as cli_main

from examples_support import example

def inputs_for(name, rng):
    if name == "inception_mnist":
        return rng.random((3, 1, 28, 28), dtype=np.float32), [1, 28, 28]
    if name == "siamese_digits":
        return {"left": rng.random((3, 64), dtype=np.float32), "right": rng.random((3, 64), dtype=np.float32)}, \
            {"left": [64], "right": [64]}
    return rng.random((3, 64), dtype=np.float32), [64]


@pytest.mark.parametrize("name", ["inception_mnist", "siamese_digits", "two_outputs"])
def test_example_graph_checkpoint_round_trip_and_show(name, tmp_path, capsys):
    rng = np.random.default_rng(0)
    net = example(name).build(seed=3)
    x, shape = inputs_for(name, rng)
    for p in net.params.values():          # weights that differ from a fresh build
        p += rng.standard_normal(p.shape).astype(p.dtype) * 0.01
    path = str(tmp_path / "net.npz")
    lg.save_checkpoint(path, net, input_shape=shape)
    rebuilt = lg.load_checkpoint(path).build_network()
    assert type(rebuilt) is lg.Graph
    assert rebuilt.inputs == net.inputs and rebuilt.outputs == net.outputs
    assert [(k, ins) for k, (_, ins) in rebuilt.nodes.items()] == [(k, ins) for k, (_, ins) in net.nodes.items()]
    assert {k: type(v).__name__ for k, v in rebuilt.losses.items()} == \
        {k: type(v).__name__ for k, v in net.losses.items()}
    assert rebuilt.loss_weights == net.loss_weights
    want, got = net.predict(x), rebuilt.predict(x)
    for k in (want if isinstance(want, dict) else {"y": want}):
        np.testing.assert_array_equal(got[k] if isinstance(got, dict) else got, want[k] if isinstance(want, dict)
                                      else want)
    assert rebuilt.shared_nodes() == net.shared_nodes()
    for fmt, marker in (("text", "total trainable parameters"), ("dot", "digraph"), ("mermaid", "flowchart TD")):
        assert cli_main(["show", path, "--format", fmt]) == 0
        out = capsys.readouterr().out
        assert marker in out and all(node in out for node in net.nodes)
    out_file = tmp_path / "net.mmd"
    assert cli_main(["show", path, "--format", "mermaid", "--out", str(out_file)]) == 0
    assert out_file.read_text().startswith("flowchart TD")


def test_shared_layers_are_described_once_and_referenced(tmp_path):
    net = example("siamese_digits").build()
    desc = lg.train.architecture.describe_network(net)
    assert [layer["name"] for layer in desc["layers"]] == ["enc_left", "prod", "sum", "cat", "fc", "relu", "same"]
    nodes = {n: (ins, layer) for n, ins, layer in desc["graph"]["nodes"]}
    assert nodes["enc_right"] == ("right", "enc_left")
    assert desc["graph"]["inputs"] == ["left", "right"]
    json.dumps(desc)
    fc1 = desc["layers"][0]["layers"][0]
    assert fc1["name"] == "fc1" and fc1["params"]["W"] == [[64, 64], "float32"]


def test_strict_loading_reports_missing_and_unexpected_keys(tmp_path):
    net = example("two_outputs").build()
    path = str(tmp_path / "two.npz")
    lg.save_checkpoint(path, net)
    other = lg.Graph()
    other.add("fc1", lg.Affine(64, 64), "x").add("relu1", lg.ReLU()).add("fc9", lg.Affine(64, 10))
    with pytest.raises(lg.CheckpointError) as info:
        lg.load_checkpoint(path, other)
    text = str(info.value)
    assert "'fc9.W'" in text and "missing" in text and "'fc2.W'" in text and "not in the network" in text
    sd = net.state_dict()
    with pytest.raises(lg.StateDictError, match="unexpected key 'parity.W'"):
        other.load_state_dict(sd)


def test_show_png_without_graphviz_says_how_to_get_it(tmp_path, capsys, monkeypatch):
    net = example("two_outputs").build()
    path = str(tmp_path / "two.npz")
    lg.save_checkpoint(path, net)
    monkeypatch.setenv("PATH", str(tmp_path))          # no `dot` program on this PATH
    assert cli_main(["show", path, "--format", "png"]) == 1
    err = capsys.readouterr().err.strip()
    assert "Graphviz" in err and "\n" not in err
    assert not (tmp_path / "two.png").exists()


def test_show_without_a_known_input_shape_still_lists_the_nodes(tmp_path, capsys):
    g = lg.Graph().add("c", lg.Conv2D(1, 2, 3), "x").add("f", lg.Flatten())
    path = str(tmp_path / "g.npz")
    lg.save_checkpoint(path, g)
    assert cli_main(["show", path]) == 0
    out = capsys.readouterr().out
    assert "--input-shape" in out and "Conv2D" in out
    assert cli_main(["show", path, "--input-shape", "1,5,5"]) == 0
    assert "(N, 18)" in capsys.readouterr().out


def test_pictures_label_name_class_and_shape():
    g = lg.Graph(inputs=("a", "b")).add("fa", lg.Affine(4, 3), "a").add("cat", lg.Concat(), ["fa", "b"])
    dot = g.to_dot({"a": 4, "b": 2})
    assert 'n_cat [shape=box, label="cat\\nConcat\\n(N, 5)", peripheries=2];' in dot
    assert "n_fa -> n_cat;" in dot and "n_b -> n_cat;" in dot and 'label="a\\n(N, 4)"' in dot
    assert 'n_cat[["cat<br/>Concat"]]' in g.to_mermaid()        # the probe of to_dot left no shapes behind
    g.forward({"a": np.ones((2, 4), np.float32), "b": np.ones((2, 2), np.float32)})
    mermaid = g.to_mermaid()                                     # the shapes of the last forward pass
    assert 'n_cat[["cat<br/>Concat<br/>(N, 5)"]]' in mermaid and "n_a --> n_fa" in mermaid
    fresh = lg.Graph().add("fc", lg.Affine(4, 3), "x")
    assert 'n_fc[["fc<br/>Affine"]]' in fresh.to_mermaid()        # no shapes before any forward pass
    seq = lg.Sequential(lg.Affine(4, 3), lg.ReLU())
    assert "n_Affine1 --> n_ReLU1" in seq.to_mermaid(4) and "(N, 3)" in seq.to_mermaid(4)
    assert "n_x -> n_Affine1;" in seq.to_dot()


def test_summary_has_an_inputs_column_and_counts_shared_parameters_once():
    net = example("siamese_digits").build()
    s = net.summary({"left": 64, "right": 64})
    assert s.total_params == sum(p.size for p in net.params.values())
    text = str(s)
    assert "inputs" in text.splitlines()[2] and "enc_left, enc_right" in text and "(shares enc_left)" in text
    with pytest.raises(KeyError, match="'input_shape'"):
        net.summary({"left": 64})


def test_trainer_fits_dicts_with_one_permutation_and_reports_per_output_metrics():
    mod = example("two_outputs")
    (x, labels), _ = lg.load_digits()
    x, labels = x[:300], labels[:300]
    net = mod.build(seed=1)
    trainer = lg.Trainer(net, lg.optim.Adam(lr=1e-3), batch_size=50, seed=0, verbose=0)
    history = trainer.fit({"x": x}, mod.targets(labels), epochs=2, validation_split=0.2)
    assert {"digit_accuracy", "parity_accuracy", "val_digit_accuracy", "val_parity_accuracy"} <= set(history.keys())
    result = trainer.evaluate(x, mod.targets(labels))
    y = net.predict(x)
    assert result["parity_accuracy"] == pytest.approx(np.mean(np.argmax(y["parity"], 1) == labels % 2))
    want_loss = (lg.SoftmaxWithLoss().forward(y["digit"], labels)
                 + 0.3 * lg.SoftmaxWithLoss().forward(y["parity"], labels % 2))
    assert result["loss"] == pytest.approx(want_loss, rel=1e-5)
    with pytest.raises(lg.ShapeError, match="same first dimension"):
        trainer.fit(x, {"digit": labels, "parity": labels[:10] % 2}, epochs=1)


def _cross_entropy(scores, labels):
    """Mean softmax cross-entropy written out in float64, independent of the loss layers."""
    z = scores.astype(np.float64) - scores.max(axis=1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return -np.mean(log_p[np.arange(len(labels)), labels])


def test_each_output_loss_is_logged_and_evaluated():
    mod = example("two_outputs")
    (x, labels), _ = lg.load_digits()
    x, labels = x[:240], labels[:240]
    net = mod.build(seed=2)
    trainer = lg.Trainer(net, lg.optim.SGD(lr=0.0), batch_size=80, seed=0, verbose=0)  # lr 0: the net stays put
    y = net.predict(x)
    want = {"digit_loss": _cross_entropy(y["digit"], labels), "parity_loss": _cross_entropy(y["parity"], labels % 2)}
    result = trainer.evaluate(x, mod.targets(labels))
    for key, value in want.items():
        assert result[key] == pytest.approx(value, rel=1e-5)
    assert result["loss"] == pytest.approx(want["digit_loss"] + 0.3 * want["parity_loss"], rel=1e-5)
    history = trainer.fit(x, mod.targets(labels), epochs=1, validation_data=(x[:100], mod.targets(labels[:100])))
    y_val = net.predict(x[:100])
    # train mode equals inference mode here (no dropout or batch norm), and three batches of 80 average to the mean
    assert history["digit_loss"][0] == pytest.approx(want["digit_loss"], rel=1e-5)
    assert history["parity_loss"][0] == pytest.approx(want["parity_loss"], rel=1e-5)
    assert history["val_parity_loss"][0] == pytest.approx(_cross_entropy(y_val["parity"], labels[:100] % 2), rel=1e-5)
    assert list(history.keys())[:5] == ["epoch", "step", "loss", "digit_loss", "parity_loss"]


def test_a_metric_named_like_an_output_loss_is_refused():
    g = lg.Graph()
    g.add("a", lg.Affine(3, 2, rng=0), "x")
    g.add("a_x", lg.Affine(3, 2, rng=1), "x")
    g.set_outputs("a", "a_x").set_loss({"a": lg.SoftmaxWithLoss(), "a_x": lg.SoftmaxWithLoss()})

    def x_loss(y, t):
        return 0.0

    with pytest.raises(ValueError, match="'x_loss' of output 'a' would be logged as 'a_x_loss'"):
        lg.Trainer(g, lg.optim.SGD(), metrics=[x_loss], verbose=0)


def test_batcher_uses_one_permutation_for_every_array():
    from layergraph.train.batches import Batcher
    a = np.arange(10)
    x = {"p": a * 1.0, "q": a * 10.0}
    t = {"r": a + 100}
    batcher = Batcher(x, t, batch_size=4)
    order = np.random.default_rng(0).permutation(10)
    seen = []
    for xb, tb in batcher.batches(order):
        np.testing.assert_array_equal(xb["q"], xb["p"] * 10)
        np.testing.assert_array_equal(tb["r"], xb["p"] + 100)
        seen += list(xb["p"].astype(int))
    assert seen == list(order)


def test_show_a_sequential_checkpoint(tmp_path, capsys):
    net = lg.Sequential(lg.Affine(5, 4), lg.ReLU(), lg.Affine(4, 3), loss=lg.SoftmaxWithLoss())
    path = str(tmp_path / "seq.npz")
    lg.save_checkpoint(path, net)
    assert cli_main(["show", path]) == 0                 # the input width comes from the first Affine
    out = capsys.readouterr().out
    assert "input (N, 5)" in out and "(N, 3)" in out
    assert cli_main(["show", path, "--format", "mermaid"]) == 0
    assert "n_Affine1 --> n_ReLU1" in capsys.readouterr().out
    assert cli_main(["show", path, "--input-shape", "a=1;b"]) == 1
    assert "--input-shape" in capsys.readouterr().err


def test_picture_identifiers_stay_unique_and_labels_escaped():
    g = lg.Graph(inputs=("a b",)).add("a_b", lg.ReLU(), "a b").add('q"x', lg.Tanh())
    dot = g.to_dot()
    assert "n_a_b -> n_a_b_2;" in dot and 'label="q\\"x\\nTanh"' in dot
    assert "n_a_b --> n_a_b_2" in g.to_mermaid() and "q#quot;x" in g.to_mermaid()


def test_evaluate_on_a_two_output_graph_is_one_line_error(tmp_path, capsys):
    net = example("two_outputs").build(seed=1)
    path = str(tmp_path / "net.npz")
    lg.save_checkpoint(path, net, input_shape=[64])
    assert cli_main(["evaluate", path, "--data", "digits"]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "2 output(s)" in err and "Trainer.evaluate" in err


@pytest.mark.skipif(__import__("shutil").which("dot") is None, reason="the Graphviz `dot` program is not installed")
def test_show_png_with_graphviz_writes_a_png(tmp_path):
    net = example("two_outputs").build()
    path = str(tmp_path / "two.npz")
    lg.save_checkpoint(path, net, input_shape=[64])
    out = tmp_path / "two.png"
    assert cli_main(["show", path, "--format", "png", "--out", str(out)]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
