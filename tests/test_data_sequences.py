"""The adding problem and the digits read row by row."""

import numpy as np
import pytest

import layergraph as lg


def test_adding_problem_layout_targets_and_baseline():
    x, t = lg.data.adding_problem(4000, 30, seed=3)
    assert x.shape == (4000, 30, 2) and t.shape == (4000, 1) and x.dtype == t.dtype == np.float32
    marks = x[..., 1]
    assert set(np.unique(marks)) == {0.0, 1.0}
    np.testing.assert_array_equal(marks.sum(axis=1), 2.0)
    first = np.argmax(marks, axis=1)
    second = 29 - np.argmax(marks[:, ::-1], axis=1)
    assert np.all(first < 15) and np.all(second >= 15)
    np.testing.assert_allclose(t[:, 0], (x[..., 0] * marks).sum(axis=1), rtol=1e-6)
    assert np.all((x[..., 0] >= 0) & (x[..., 0] < 1))
    # the best constant predicts 1 and scores the variance of a sum of two U(0, 1): 1/6
    assert np.mean((t - 1.0) ** 2) == pytest.approx(lg.data.ADDING_BASELINE_MSE, abs=0.01)


def test_adding_problem_is_seeded_and_checks_arguments():
    a, b = lg.data.adding_problem(5, 10, seed=1), lg.data.adding_problem(5, 10, seed=1)
    np.testing.assert_array_equal(a[0], b[0])
    assert not np.array_equal(a[0], lg.data.adding_problem(5, 10, seed=2)[0])
    gen = np.random.default_rng(0)
    assert lg.data.adding_problem(2, 2, seed=gen)[0].shape == (2, 2, 2)
    with pytest.raises(ValueError, match="length"):
        lg.data.adding_problem(5, 1)
    with pytest.raises(TypeError, match="n"):
        lg.data.adding_problem(2.5, 10)


def test_sequential_digits_rows_are_image_rows():
    (x_tr, t_tr), (x_te, t_te) = lg.data.sequential_digits()
    (f_tr, _), (f_te, _) = lg.load_digits()
    assert x_tr.shape == (1437, 8, 8) and x_te.shape == (360, 8, 8)
    np.testing.assert_array_equal(x_tr[:, 2], f_tr[:, 16:24])
    np.testing.assert_array_equal(x_te.reshape(360, 64), f_te)
    assert t_tr.shape == (1437,)
    (_, oh), _ = lg.data.sequential_digits(one_hot=True)
    assert oh.shape == (1437, 10)


def _example(name):
    import runpy
    from pathlib import Path

    return runpy.run_path(str(Path(__file__).resolve().parents[1] / "examples" / name), run_name="example")


def test_examples_run_on_a_small_budget(capsys):
    curve = _example("sequential_digits.py")["main"](["--epochs", "2", "--hidden", "16"])
    assert curve.shape == (2,) and curve[-1] > 0.2          # well above the 0.1 of guessing after two epochs
    results = _example("adding_problem.py")["main"](["--length", "12", "--epochs", "1", "--n-train", "300",
                                                     "--n-test", "50", "--hidden", "8", "--models", "gru,rnn"])
    assert set(results) == {"gru", "rnn"} and all(np.isfinite(r["test_mse"][0]) for r in results.values())
    assert "baseline MSE 0.167" in capsys.readouterr().out
