"""Bad values caught early with one-line errors: empty batches, labels out of range, NaN data, tiny validation
splits, and a loss that explodes."""

import warnings

import numpy as np
import pytest

import layergraph as lg
from layergraph.errors import ShapeError
from layergraph.optim import Adam
from layergraph.train import DivergenceError, LossExplosionError, Trainer
from train_support import SGD, make_data, make_net, params_equal


def one_line(err):
    text = str(err.value)
    assert "\n" not in text
    return text


def test_empty_batch_is_a_shape_error_naming_the_layer_and_argument():
    with pytest.raises(ShapeError) as info:
        lg.Affine(4, 3, rng=0).forward(np.zeros((0, 4), np.float32))
    assert "argument 'x'" in one_line(info) and "empty batch" in one_line(info) and "Affine" in one_line(info)
    net = make_net()
    with pytest.raises(ShapeError) as info:
        net.forward(np.zeros((0, 4), np.float32))
    assert "Sequential" in one_line(info) and "argument 'x'" in one_line(info)
    with pytest.raises(ShapeError):
        net.predict(np.zeros((0, 4), np.float32))
    with pytest.raises(ShapeError):
        net.accuracy(np.zeros((0, 4), np.float32), np.zeros(0, np.int64))


@pytest.mark.parametrize("layer, x", [
    (lg.layers.Conv2D(1, 2, 3, rng=0), np.zeros((0, 1, 5, 5), np.float32)),
    (lg.LSTM(3, 4, rng=0), np.zeros((0, 2, 3), np.float32)),
    (lg.GRU(3, 4, rng=0), np.zeros((0, 2, 3), np.float32)),
    (lg.RNN(3, 4, rng=0), np.zeros((0, 2, 3), np.float32)),
], ids=["Conv2D", "LSTM", "GRU", "RNN"])
def test_layers_used_alone_reject_an_empty_batch_with_one_line(layer, x):
    with pytest.raises(ShapeError) as info:
        layer.forward(x)
    text = one_line(info)
    assert type(layer).__name__ in text and "argument 'x'" in text and "empty batch" in text and "(0, " in text


def test_accuracy_rejects_labels_out_of_range():
    net = make_net(n_out=3)
    x = np.ones((4, 4), np.float32)
    for bad in ([0, 1, 2, 3], [0, -1, 1, 2]):
        with pytest.raises(ValueError) as info:
            net.accuracy(x, np.array(bad))
        assert "argument 't'" in one_line(info) and "3 outputs" in one_line(info)
    assert 0.0 <= net.accuracy(x, np.array([0, 1, 2, 2])) <= 1.0


@pytest.mark.parametrize("where", ["x", "t"])
def test_nan_in_training_data_names_the_argument_not_divergence(where):
    x, t = make_data(30)
    t = np.eye(3, dtype=np.float32)[t]
    if where == "x":
        x = x.copy()
        x[7, 2] = np.nan
    else:
        t = t.copy()
        t[11, 0] = np.inf
    before = x.copy(), t.copy()
    trainer = Trainer(make_net(), SGD(0.1), batch_size=10, seed=0, verbose=0)
    with pytest.raises(ValueError) as info:
        trainer.fit(x, t, epochs=1)
    assert not isinstance(info.value, DivergenceError)
    text = one_line(info)
    assert f"argument '{where}'" in text and f"index {7 if where == 'x' else 11}" in text
    assert "diverged" not in text and trainer.step == 0
    np.testing.assert_array_equal(x, before[0])  # arguments untouched


def test_nan_in_validation_data_names_it():
    x, t = make_data(30)
    xv = x[:5].copy()
    xv[0, 0] = np.nan
    with pytest.raises(ValueError, match=r"'validation_data\[0\]'"):
        Trainer(make_net(), SGD(0.1), verbose=0).fit(x, t, epochs=1, validation_data=(xv, t[:5]))


def test_tiny_validation_split_warns():
    x, t = make_data(60)
    with pytest.warns(UserWarning, match=r"validates on only 1 sample\(s\) and fewer than the 3 classes"):
        Trainer(make_net(), SGD(0.1), verbose=0, seed=0).fit(x, t, epochs=1, validation_split=0.0001)
    with pytest.warns(UserWarning, match=r"validates on only 4 sample\(s\): ") as rec:
        Trainer(make_net(), SGD(0.1), verbose=0, seed=0).fit(x, t, epochs=1, validation_split=0.06)
    assert "classes" not in str(rec[0].message)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Trainer(make_net(), SGD(0.1), verbose=0, seed=0).fit(x, t, epochs=1, validation_split=0.25)


def _exploding(stop):
    x, t = make_data(60)
    net = make_net(seed=1)
    trainer = Trainer(net, Adam(lr=1e6), batch_size=10, seed=0, verbose=0, stop_on_explosion=stop)
    return trainer, x, t


def test_exploding_loss_warns_once_naming_epoch_step_and_factor():
    trainer, x, t = _exploding(stop=False)
    with pytest.warns(RuntimeWarning, match=r"exploded at epoch 1, step \d+ .* times the starting loss") as rec:
        trainer.fit(x, t, epochs=2)
    assert len([w for w in rec if "exploded" in str(w.message)]) == 1
    assert trainer.epoch == 2  # warned, kept going


def test_stop_on_explosion_stops_and_restores():
    trainer, x, t = _exploding(stop=True)
    start = make_net(seed=1)
    with pytest.raises(LossExplosionError) as info:
        trainer.fit(x, t, epochs=3)
    text = one_line(info)
    assert "epoch 1, step" in text and "times the starting loss" in text and info.value.factor > 1e3
    assert isinstance(info.value, DivergenceError) and trainer.epoch == 0
    assert params_equal(trainer.net, start)  # restored to the initial state


def test_a_healthy_run_never_warns():
    x, t = make_data(60)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Trainer(make_net(), Adam(1e-2), batch_size=10, seed=0, verbose=0, stop_on_explosion=True).fit(x, t, epochs=5)
