"""Problems: fixed splits that partition the data, networks fixed by the seed, MNIST only when present."""

import numpy as np
import pytest

from layergraph.bench import get_problem
from layergraph.bench.problems import small_cnn
from layergraph.data import load_digits

INPUTS = {"digits-mlp": (64,), "logreg": (64,), "spiral-mlp": (2,), "mnist-mlp": (784,), "mnist-cnn": (1, 28, 28),
          "friedman-regression": (10,), "quadratic-deep": (100,)}
CLASSES = {"digits-mlp": 10, "logreg": 10, "spiral-mlp": 3, "mnist-mlp": 10, "mnist-cnn": 10,
           "friedman-regression": 1, "quadratic-deep": 100}
SEED_FREE = {"quadratic-deep"}  # DeepOBS starts theta at ones whatever the seed


@pytest.mark.parametrize("name", sorted(INPUTS))
def test_network_shapes_and_seeded_weights(name):
    p = get_problem(name)
    x = np.random.default_rng(0).normal(size=(3, *INPUTS[name])).astype(np.float32)
    a, b, c = p.build(5), p.build(5), p.build(6)
    assert a.forward(x, train=False).shape == (3, CLASSES[name])
    assert all(np.array_equal(a.params[k], b.params[k]) for k in a.params)
    assert any(not np.array_equal(a.params[k], c.params[k]) for k in a.params) is (name not in SEED_FREE)


def test_digits_split_partitions_the_training_set_and_keeps_the_test_set():
    d = get_problem("digits-mlp").load(None)
    (x, t), (xt, tt) = load_digits()
    assert len(d.x_train) + len(d.x_val) == len(x)
    both = np.concatenate([d.x_train, d.x_val])
    assert np.array_equal(np.unique(both, axis=0), np.unique(x, axis=0))
    assert np.array_equal(d.x_test, xt) and np.array_equal(d.t_test, tt)
    assert get_problem("logreg").load(None) is d  # one cached copy per process


def test_spiral_split_partitions_the_points():
    from layergraph.data import make_spiral

    d = get_problem("spiral-mlp").load(None)
    assert d.sizes() == {"train": 602, "val": 200, "test": 200}
    x, t = make_spiral(334, 3, seed=0)
    parts = np.concatenate([np.column_stack([d.x_train, d.t_train]), np.column_stack([d.x_val, d.t_val]),
                            np.column_stack([d.x_test, d.t_test])])
    whole = np.column_stack([x, t])
    assert np.array_equal(parts[np.lexsort(parts.T[::-1])], whole[np.lexsort(whole.T[::-1])])


def test_cnn_layout():
    net = small_cnn(0)
    assert [k for k in net.params] == ["conv1.W", "conv1.b", "fc1.W", "fc1.b"]
    assert net.params["fc1.W"].shape == (8 * 12 * 12, 10)


def test_unknown_problem():
    with pytest.raises(ValueError, match="unknown problem 'cifar'; registered: digits-mlp, logreg"):
        get_problem("cifar")
    with pytest.raises(TypeError):
        get_problem(3)


def test_noisy_quadratic_loss_is_half_the_hessian_form():
    from layergraph.bench.quadratic import quadratic_hessian

    p = get_problem("quadratic-deep")
    net = p.build(0).astype(np.float64)
    x = np.random.default_rng(1).standard_normal((5, 100))
    y = net.forward(x, train=False)
    loss = net.loss_layer.forward(y, np.zeros_like(y))
    d = np.ones(100) - x
    expected = np.mean([0.5 * v @ quadratic_hessian() @ v for v in d])
    assert loss == pytest.approx(expected, rel=1e-5)  # S is stored in float32
    ev = np.linalg.eigvalsh(quadratic_hessian())
    assert np.sum(ev > 20) == 10 and ev.min() >= -1e-9 and 30 <= ev[-10] and ev[-1] <= 60


def test_friedman_regression_targets_are_float_columns():
    d = get_problem("friedman-regression").load(None)
    assert d.t_train.shape == (800, 1) and d.t_train.dtype == np.float32 and d.sizes()["test"] == 1000
    assert get_problem("friedman-regression").metric.name == "mse"
    assert not get_problem("friedman-regression").metric.higher_is_better


def test_recurrent_problems_when_the_lstm_exists():
    import layergraph.layers as L

    if not hasattr(L, "LSTM"):
        pytest.skip("recurrent layers not available")
    from layergraph.bench.sequence_problems import adding_data

    d = adding_data()
    assert d.x_train.shape == (2000, 20, 2) and d.t_train.shape == (2000, 1)
    marks = d.x_train[..., 1]
    assert np.all(marks.sum(axis=1) == 2) and np.all(marks[:, :10].sum(axis=1) == 1)
    assert np.allclose(d.t_train[:, 0], (d.x_train[..., 0] * marks).sum(axis=1), atol=1e-6)
    p = get_problem("adding-problem")
    assert p.metric.name == "mse" and not p.metric.higher_is_better
    assert p.build(0).forward(d.x_val[:3], train=False).shape == (3, 1)
    q = get_problem("sequential-digits")
    dq = q.load(None)
    assert dq.x_train.shape[1:] == (8, 8) and q.build(1).forward(dq.x_val[:4], train=False).shape == (4, 10)
