"""Trainer.lr_find: the Smith (2017) range test, leaving network, optimizer and trainer exactly as given."""

import math
import os

import numpy as np
import pytest

import layergraph as lg
from layergraph.cli import main
from layergraph.layers import BatchNorm, Dropout
from layergraph.optim import Adam
from layergraph.train import Trainer
from layergraph.train.lr_find import suggest
from layergraph.train.serialize import copy_tree
from train_support import SGD, make_data, params_equal


def net_with_state(seed=0):
    return lg.Sequential([("fc1", lg.Affine(4, 8, rng=seed)), ("bn", BatchNorm(8)), ("act", lg.ReLU()),
                          ("drop", Dropout(0.2, rng=seed + 5)), ("fc2", lg.Affine(8, 3, rng=seed + 1))],
                         loss=lg.SoftmaxWithLoss())


def trees_equal(a, b):
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.dtype == b.dtype and np.array_equal(a, b, equal_nan=True)
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(trees_equal(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(trees_equal(u, v) for u, v in zip(a, b))
    return a == b


def test_everything_is_restored_bit_for_bit_and_training_continues_identically():
    x, t = make_data(80)
    runs = []
    for probe in (False, True):
        net = net_with_state()
        trainer = Trainer(net, Adam(3e-3), batch_size=16, seed=4, verbose=0)
        trainer.fit(x, t, epochs=1)
        before = ({k: v.copy() for k, v in net.state_dict().items()}, copy_tree(trainer.optimizer.state_dict()),
                  trainer.optimizer.lr, trainer.state_dict(), net.layers["drop"].rng.bit_generator.state)
        if probe:
            result = trainer.lr_find(x, t, start=1e-5, end=1.0, steps=30)
            assert len(result.lrs) > 5
            after = ({k: v.copy() for k, v in net.state_dict().items()}, copy_tree(trainer.optimizer.state_dict()),
                     trainer.optimizer.lr, trainer.state_dict(), net.layers["drop"].rng.bit_generator.state)
            for b, a in zip(before, after):
                assert trees_equal(b, a)
        trainer.fit(x, t, epochs=3)
        runs.append((trainer.history.to_dict(), net))
    assert runs[0][0] == runs[1][0] and params_equal(runs[0][1], runs[1][1])


def test_rates_are_geometric_and_the_smoothed_loss_is_the_debiased_average():
    x, t = make_data(60)
    opt = SGD(0.123)
    trainer = Trainer(net_with_state(), opt, batch_size=10, seed=0, verbose=0)
    res = trainer.lr_find(x, t, start=1e-4, end=1e-1, steps=20, smoothing=0.9)
    assert len(res.lrs) == 20 and not res.stopped_early
    expected = [1e-4 * (1e-1 / 1e-4) ** (i / 19) for i in range(20)]
    np.testing.assert_allclose(res.lrs, expected, rtol=1e-12)
    np.testing.assert_allclose(opt.lrs, expected, rtol=1e-12)  # the rates the optimizer really used
    assert opt.lr == 0.123
    avg, ref = 0.0, []
    for i, loss in enumerate(res.losses):
        avg = 0.9 * avg + 0.1 * loss
        ref.append(avg / (1 - 0.9 ** (i + 1)))
    np.testing.assert_allclose(res.smoothed, ref, rtol=1e-12)


def test_divergence_stops_early_and_still_restores():
    x, t = make_data(60)
    net = net_with_state()
    before = {k: v.copy() for k, v in net.state_dict().items()}
    res = Trainer(net, SGD(0.1), batch_size=10, seed=0, verbose=0).lr_find(x, t, start=1e-3, end=1e6, steps=60)
    assert res.stopped_early and len(res.lrs) < 60
    assert all(np.array_equal(v, net.state_dict()[k]) for k, v in before.items())


def test_suggestion_is_the_steepest_descent_of_the_smoothed_curve():
    lrs = np.geomspace(1e-6, 1.0, 100)
    u = np.log(lrs) - math.log(1e-3)
    curve = 2.0 - np.tanh(u) + 0.02 * u ** 2 + np.where(u > 4, (u - 4) ** 2, 0.0)  # falls fastest at lr=1e-3
    value, method, min_lr = suggest(lrs, curve)
    step = math.log(lrs[1] / lrs[0])
    assert method == "steepest" and abs(math.log(value / 1e-3)) <= 1.5 * step
    assert min_lr == lrs[np.argmin(curve)]
    short = np.array([3.0, 2.0, 1.0, 2.0, 5.0])  # minimum too early for a slope: a tenth of the minimum's rate
    assert suggest(lrs[:5], short) == (lrs[2] / 10, "min/10", lrs[2])


@pytest.mark.parametrize("kw", [dict(start=1.0, end=0.1), dict(start=0.0), dict(steps=1), dict(smoothing=1.0)])
def test_bad_arguments(kw):
    x, t = make_data(20)
    with pytest.raises(ValueError):
        Trainer(net_with_state(), SGD(0.1), verbose=0).lr_find(x, t, **kw)


def test_cli_lr_find_prints_the_suggestion_and_writes_a_plot(tmp_path, capsys):
    plot = tmp_path / "lr.png"
    assert main(["lr-find", "--data", "xor", "--steps", "30", "--plot", str(plot)]) == 0
    out = capsys.readouterr().out
    assert "suggested learning rate:" in out
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert "matplotlib is not installed" in out
    else:
        assert plot.is_file() and plot.read_bytes()[:4] == b"\x89PNG" and f"plot: {plot}" in out
    assert not [n for n in os.listdir(tmp_path) if n.endswith(".tmp")]


@pytest.mark.parametrize("argv", [["--seed", "-1"], ["--start", "0"], ["--steps", "0"], ["--start", "x"]])
def test_cli_lr_find_usage_errors_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as info:
        main(["lr-find", *argv])
    assert info.value.code == 2 and "Traceback" not in capsys.readouterr().err


def test_cli_lr_find_start_above_end_is_one_line(capsys):
    assert main(["lr-find", "--data", "xor", "--start", "1", "--end", "0.1"]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "'start' must be below 'end'" in err


def test_the_suggestion_is_never_the_rate_of_the_minimum_itself():
    """A curve whose steepest drop is the last step into its minimum: the one-sided slope there is the largest."""
    from layergraph.train.lr_find import suggest

    lrs = np.geomspace(1e-4, 1.0, 12)
    smoothed = np.array([2.0, 1.98, 1.95, 1.9, 1.8, 1.7, 1.6, 1.5, 1.4, 0.5, 3.0, 9.0])
    lr, method, min_lr = suggest(lrs, smoothed, skip_start=2)
    assert method == "steepest" and min_lr == lrs[9]
    assert lr == lrs[8] and lr < min_lr        # the steepest central slope is at the point before the minimum
