"""What `layergraph train` builds from its options: MLP, optimizer, schedules, datasets, confusion matrix."""

import math

import numpy as np
import pytest

import layergraph as lg
from layergraph import optim
from layergraph.cli.build import (ACTIVATIONS, SCHEDULES, build_mlp, default_lr, make_optimizer, make_schedule,
                                  parse_arch, resolve_optimizer)
from layergraph.cli.datasets import DATASETS, load_dataset
from layergraph.cli.outputs import confusion_matrix, format_confusion
from layergraph.data import write_idx

from conftest import MNIST_DIR


@pytest.mark.parametrize("text, widths", [("64-100-10", [64, 100, 10]), ("784,100,100,10", [784, 100, 100, 10]),
                                          (" 2 - 3 ", [2, 3])])
def test_parse_arch(text, widths):
    assert parse_arch(text) == widths


@pytest.mark.parametrize("text", ["", "64", "64--10", "64-0-10", "a-b", "64-1.5-10"])
def test_parse_arch_rejects(text):
    with pytest.raises(ValueError, match="--arch"):
        parse_arch(text)


@pytest.mark.parametrize("activation", list(ACTIVATIONS))
def test_build_mlp_computes_the_documented_function(activation):
    net = build_mlp([5, 7, 4, 3], activation, seed=3)
    assert list(net.layers) == ["fc1", "act1", "fc2", "act2", "fc3"]
    assert isinstance(net.loss_layer, lg.SoftmaxWithLoss)
    p = {k: v.astype(np.float64) for k, v in net.params.items()}
    assert p["fc1.W"].shape == (5, 7) and p["fc2.W"].shape == (7, 4) and p["fc3.W"].shape == (4, 3)
    f = {"relu": lambda z: np.maximum(z, 0), "tanh": np.tanh, "sigmoid": lambda z: 1 / (1 + np.exp(-z)),
         "leaky_relu": lambda z: np.where(z > 0, z, 0.01 * z)}[activation]
    x = np.random.default_rng(0).standard_normal((6, 5)).astype(np.float32)
    h = f(x @ p["fc1.W"] + p["fc1.b"])
    h = f(h @ p["fc2.W"] + p["fc2.b"])
    np.testing.assert_allclose(net.forward(x, train=False), h @ p["fc3.W"] + p["fc3.b"], rtol=1e-5, atol=1e-5)


def test_build_mlp_init_depends_on_activation_and_seed():
    relu, tanh = build_mlp([100, 50, 10], "relu"), build_mlp([100, 50, 10], "tanh")
    assert np.std(relu.params["fc1.W"]) == pytest.approx(math.sqrt(2 / 100), rel=0.05)         # He
    assert np.std(tanh.params["fc1.W"]) == pytest.approx(math.sqrt(2 / (100 + 50)), rel=0.05)  # Xavier
    same, other = build_mlp([100, 50, 10], "relu", seed=0), build_mlp([100, 50, 10], "relu", seed=1)
    np.testing.assert_array_equal(relu.params["fc1.W"], same.params["fc1.W"])
    assert not np.array_equal(relu.params["fc1.W"], other.params["fc1.W"])
    with pytest.raises(ValueError, match="--activation"):
        build_mlp([2, 2], "gelu")


def test_optimizers_by_name_any_case():
    for name, cls in optim.OPTIMIZERS.items():
        assert resolve_optimizer(name.upper()) is cls and resolve_optimizer(name.lower()) is cls
        assert default_lr(name) == cls().lr
    opt = make_optimizer("adamw", 0.01, 0.05)
    assert isinstance(opt, optim.AdamW) and opt.lr == 0.01 and opt.weight_decay == 0.05
    with pytest.raises(ValueError, match="--optimizer: expected one of"):
        resolve_optimizer("adamm")


def test_schedules():
    lr, epochs, spe = 0.1, 9, 10
    assert make_schedule("constant", lr, epochs, spe) == (None, "epoch")
    step, interval = make_schedule("step", lr, epochs, spe)
    assert interval == "epoch" and [step(e) for e in (0, 2, 3, 6)] == pytest.approx([0.1, 0.1, 0.01, 0.001])
    cos, interval = make_schedule("cosine", lr, epochs, spe)
    assert interval == "step" and cos(0) == pytest.approx(lr)
    assert cos(45) == pytest.approx(lr * (1 + math.cos(math.pi * 45 / 90)) / 2)
    warm, _ = make_schedule("warmup-cosine", lr, epochs, spe)
    assert warm(0) == 0.0 and max(warm.values(90)) == pytest.approx(lr)
    one, _ = make_schedule("onecycle", lr, epochs, spe)
    assert max(one.values(90)) == pytest.approx(lr, rel=1e-3) and one(0) < lr / 10
    plateau, interval = make_schedule("plateau", lr, epochs, spe)
    assert interval == "epoch" and isinstance(plateau, optim.ReduceLROnPlateau) and plateau.lr == lr
    rates = [plateau.step(v) for v in (1.0, 1.0, 1.0, 1.0)]  # no progress after the first epoch
    assert rates == [lr, lr, lr, lr / 2]  # halved after 3 epochs without a lower value, as --help says
    assert set(SCHEDULES) == {"constant", "step", "cosine", "warmup-cosine", "onecycle", "plateau"}
    with pytest.raises(ValueError, match="--schedule"):
        make_schedule("linear", lr, epochs, spe)


@pytest.mark.parametrize("name", [d for d in DATASETS if d != "mnist"])
def test_builtin_datasets(name):
    data = load_dataset(name)
    assert data.x_train.dtype == np.float32 and data.x_train.ndim == 2
    assert data.x_test.shape[1] == data.n_features and len(data.x_test) == len(data.t_test)
    assert data.n_classes == len(np.unique(np.concatenate([data.t_train, data.t_test])))
    if name != "digits":  # toy sets: the generated set (seed 0) split 80 / 20
        x, t = getattr(lg.data, f"make_{name}")(*((334, 3) if name == "spiral" else (1000,)), seed=0)
        both = np.concatenate([np.c_[data.x_train, data.t_train], np.c_[data.x_test, data.t_test]])
        full = np.c_[x, t]
        np.testing.assert_array_equal(both[np.lexsort(both.T)], full[np.lexsort(full.T)])
        assert len(data.x_test) == len(x) // 5


def _fake_mnist(directory, n, prefix):
    rng = np.random.default_rng(len(prefix))
    write_idx(directory / f"{prefix}-images-idx3-ubyte.gz", rng.integers(0, 256, (n, 28, 28), dtype=np.uint8))
    write_idx(directory / f"{prefix}-labels-idx1-ubyte.gz", (np.arange(n) % 10).astype(np.uint8))


def test_mnist_full_set_is_preferred_to_the_test_split(tmp_path, monkeypatch):
    monkeypatch.delenv("LAYERGRAPH_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    _fake_mnist(tmp_path, 9000, "t10k")
    data = load_dataset("mnist", str(tmp_path))
    assert (len(data.x_train), len(data.x_test), data.held_out) == (8000, 1000, "validation")
    assert "split 8,000 train / 1,000 validation" in data.description
    _fake_mnist(tmp_path, 30, "train")
    data = load_dataset("mnist", str(tmp_path))
    assert (len(data.x_train), len(data.x_test), data.held_out) == (30, 9000, "test")
    assert "30 train / 9,000 test" in data.description


@pytest.mark.skipif(not MNIST_DIR.is_dir(), reason="MNIST test files not available")
def test_real_mnist_test_split(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    data = load_dataset("mnist", str(MNIST_DIR))
    assert (data.x_train.shape, data.x_test.shape, data.n_classes) == ((8000, 784), (2000, 784), 10)


def test_confusion_matrix_counts_pairs():
    rng = np.random.default_rng(1)
    true, pred = rng.integers(0, 4, 200), rng.integers(0, 4, 200)
    cm = confusion_matrix(true, pred, 4)
    for i in range(4):
        for j in range(4):
            assert cm[i, j] == np.sum((true == i) & (pred == j))
    text = format_confusion(cm).splitlines()
    assert len(text) == 5
    row0 = text[1].split()
    assert [int(c) for c in row0[1:5]] == list(cm[0])
    assert row0[5] == f"{cm[0, 0] / cm[0].sum():.1%}"
