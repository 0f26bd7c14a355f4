import numpy as np
import pytest

import layergraph as lg
from layergraph.train import DivergenceError, ModelCheckpoint, Trainer, load_checkpoint
from train_support import Momentum, make_data, params_equal


class BlowUp(lg.Layer):
    """Identity, except that training call number *at* (1-based) outputs NaN."""

    def __init__(self, at=None):
        super().__init__()
        self.at, self.calls = at, 0

    def forward(self, x, train=True):
        if train:
            self.calls += 1
            if self.calls == self.at:
                return x * np.nan
        return x

    def backward(self, dout):
        return dout


class InfAt(lg.SoftmaxWithLoss):
    """Softmax cross-entropy that reports an infinite loss (without raising) at training call *at*."""

    def __init__(self, at):
        super().__init__()
        self.at, self.calls = at, 0

    def forward(self, x, t):
        value = super().forward(x, t)
        self.calls += 1
        return float("inf") if self.calls == self.at else value


def net_with(blow, loss=None):
    return lg.Sequential([("fc1", lg.Affine(4, 6, rng=0)), ("act", lg.Tanh()), ("fc2", lg.Affine(6, 3, rng=1)),
                          ("blow", blow)], loss=loss or lg.SoftmaxWithLoss())


def test_nan_loss_stops_names_epoch_and_step_and_restores_last_good_epoch(tmp_path):
    x, t = make_data(40)
    ckpt = tmp_path / "last.npz"
    net, opt = net_with(BlowUp(at=11)), Momentum(0.1)
    trainer = Trainer(net, opt, batch_size=10, seed=4, callbacks=[ModelCheckpoint(ckpt)], verbose=0)
    with pytest.raises(DivergenceError, match=r"epoch 3, step 11 \(batch 3 of 4\).*restored to the end of epoch 2") \
            as info:
        trainer.fit(x, t, epochs=5)
    err = info.value
    assert isinstance(err, lg.NonFiniteError) and "non-finite" in str(err)
    assert (err.epoch, err.step, err.restored_epoch) == (3, 11, 2)
    assert trainer.epoch == 2 and trainer.step == 8 and trainer.history["epoch"] == [1, 2]
    assert trainer.stop_reason == str(err)

    ref_net, ref_opt = net_with(BlowUp()), Momentum(0.1)
    ref = Trainer(ref_net, ref_opt, batch_size=10, seed=4, verbose=0)
    ref.fit(x, t, epochs=2)
    assert params_equal(net, ref_net)  # weights are those of the end of epoch 2, bit for bit
    for k in ref_opt.state:
        np.testing.assert_array_equal(opt.state[k]["v"], ref_opt.state[k]["v"])
    assert trainer.history == ref.history

    saved = load_checkpoint(ckpt)  # the last good checkpoint is kept
    assert saved.meta["trainer"]["epoch"] == 2
    for k, v in ref_net.params.items():
        np.testing.assert_array_equal(saved.params[k], v)


def test_a_non_finite_loss_value_is_divergence_too_even_in_the_first_epoch():
    x, t = make_data(40)
    net = net_with(BlowUp(), loss=InfAt(at=2))
    before = net.state_dict()
    trainer = Trainer(net, Momentum(0.1), batch_size=10, seed=0, verbose=0)
    with pytest.raises(DivergenceError, match=r"epoch 1, step 2 .*the loss is inf.*initial state"):
        trainer.fit(x, t, epochs=3)
    assert trainer.epoch == 0 and trainer.step == 0 and trainer.history == {}
    assert all(np.array_equal(before[k], v) for k, v in net.state_dict().items())


def test_divergence_after_restart_continues_identically():
    # After a divergence the trainer is back at the end of the last good epoch, generator included:
    # continuing (the NaN gone) gives the run that never diverged.
    x, t = make_data(40)
    blow = BlowUp(at=7)
    net = net_with(blow)
    trainer = Trainer(net, Momentum(0.1), batch_size=10, seed=2, verbose=0)
    with pytest.raises(DivergenceError):
        trainer.fit(x, t, epochs=3)
    blow.at = None
    trainer.fit(x, t, epochs=3)
    ref_net = net_with(BlowUp())
    ref = Trainer(ref_net, Momentum(0.1), batch_size=10, seed=2, verbose=0)
    ref.fit(x, t, epochs=3)
    assert trainer.history == ref.history and params_equal(net, ref_net)
