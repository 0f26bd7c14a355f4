import math

import numpy as np
import pytest

from layergraph.train import Callback, EarlyStopping, LRScheduler, ModelCheckpoint, Trainer, load_checkpoint
from train_support import SGD, make_data, make_net


class Scripted(Callback):
    """Writes a scripted value into the epoch logs and remembers the weights of every epoch."""

    order = -1

    def __init__(self, values):
        self.values, self.weights = values, {}

    def on_epoch_end(self, epoch, logs=None):
        logs["score"] = self.values[epoch - 1]
        self.weights[epoch] = self.trainer.net.state_dict()


class HalvingPlateau:
    """A metric-driven schedule: halves lr when the metric does not beat the best; has a state dict."""

    def __init__(self, lr):
        self.lr, self.best, self.calls = lr, math.inf, []

    def step(self, metric):
        self.calls.append(metric)
        if metric < self.best:
            self.best = metric
        else:
            self.lr /= 2
        return self.lr

    def state_dict(self):
        return {"lr": self.lr, "best": self.best}

    def load_state_dict(self, d):
        self.lr, self.best = d["lr"], d["best"]


@pytest.mark.parametrize("mode, values, best_epoch", [
    ("min", [5.0, 3.0, 4.0, 3.5, 3.2, 1.0, 0.5], 2),
    ("max", [0.1, 0.2, 0.5, 0.4, 0.5, 0.45, 0.9], 3),
])
def test_early_stopping_stops_after_patience_and_restores_best_weights(mode, values, best_epoch):
    x, t = make_data(20)
    patience = 3
    script = Scripted(values)
    stopper = EarlyStopping("score", patience=patience, mode=mode, restore_best_weights=True)
    trainer = Trainer(make_net(), SGD(0.3), batch_size=5, seed=0, callbacks=[stopper, script], verbose=0)
    hist = trainer.fit(x, t, epochs=len(values))
    assert hist["epoch"][-1] == best_epoch + patience == stopper.stopped_epoch
    assert f"best {values[best_epoch - 1]:.6g} at epoch {best_epoch}" in trainer.stop_reason
    final = trainer.net.state_dict()
    assert all(np.array_equal(final[k], script.weights[best_epoch][k]) for k in final)
    assert not np.array_equal(final["fc1.W"], script.weights[best_epoch + patience]["fc1.W"])


def test_early_stopping_min_delta_and_real_validation_loss():
    x, t = make_data(40, seed=1)
    xv, tv = make_data(40, seed=2)
    stopper = EarlyStopping(patience=2, min_delta=0.0, restore_best_weights=True)
    trainer = Trainer(make_net(hidden=16), SGD(2.0), batch_size=4, seed=0, callbacks=[stopper], verbose=0)
    hist = trainer.fit(x, t, epochs=30, validation_data=(xv, tv))
    best_epoch, best = hist.best("val_loss")
    assert stopper.best_epoch == best_epoch
    if trainer.stop_reason:  # stopped early: exactly `patience` epochs after the best one
        assert hist["epoch"][-1] == best_epoch + 2
    assert trainer.evaluate(xv, tv)["loss"] == best  # the weights in the net are those of the best epoch
    huge = EarlyStopping("loss", patience=1, min_delta=1e9)
    trainer = Trainer(make_net(), SGD(0.1), batch_size=5, seed=0, callbacks=[huge], verbose=0)
    assert trainer.fit(x, t, epochs=10)["epoch"] == [1, 2]  # nothing beats best by 1e9


def test_early_stopping_names_a_missing_quantity():
    x, t = make_data(10)
    trainer = Trainer(make_net(), SGD(), callbacks=[EarlyStopping("val_loss")], verbose=0)
    with pytest.raises(ValueError, match=r"'val_loss' is not logged; available: \['accuracy', 'epoch'"):
        trainer.fit(x, t, epochs=2)


def test_per_step_schedule_sets_lr_before_every_update():
    x, t = make_data(30)
    opt = SGD(1.0)
    schedule = lambda s: 0.5 / (1 + s)  # noqa: E731
    Trainer(make_net(), opt, batch_size=7, seed=0, schedule=schedule, schedule_interval="step",
            verbose=0).fit(x, t, epochs=3)
    assert len(opt.lrs) == 15 and opt.lrs == [0.5 / (1 + s) for s in range(15)]


def test_per_epoch_schedule_changes_lr_at_epoch_starts_and_logs_it():
    x, t = make_data(30)
    opt = SGD(1.0)
    trainer = Trainer(make_net(), opt, batch_size=10, seed=0, verbose=0,
                      callbacks=[LRScheduler(lambda e: 0.1 * 0.5 ** e, interval="epoch")])
    hist = trainer.fit(x, t, epochs=4)
    expected = [0.1 * 0.5 ** e for e in range(4)]
    assert opt.lrs == [lr for lr in expected for _ in range(3)]
    assert hist["lr"] == expected


def test_metric_driven_schedule_is_stepped_with_the_monitored_value():
    x, t = make_data(30)
    opt, plateau = SGD(99.0), HalvingPlateau(0.2)
    script = Scripted([3.0, 2.0, 2.5, 1.0, 4.0])
    hist = Trainer(make_net(), opt, batch_size=10, seed=0, verbose=0, callbacks=[script],
                   schedule=plateau, schedule_monitor="score").fit(x, t, epochs=5)
    assert plateau.calls == [3.0, 2.0, 2.5, 1.0, 4.0]
    assert hist["lr"] == [0.2, 0.2, 0.2, 0.1, 0.1] and plateau.lr == 0.05
    assert opt.lrs == [lr for lr in hist["lr"] for _ in range(3)]
    with pytest.raises(ValueError, match="per epoch"):
        LRScheduler(plateau, interval="step")
    with pytest.raises(TypeError, match="step"):
        LRScheduler(object())
    with pytest.raises(ValueError, match="interval"):
        LRScheduler(lambda s: 1.0, interval="batch")


def test_model_checkpoint_every_and_best_only(tmp_path):
    x, t = make_data(20)
    every = ModelCheckpoint(tmp_path / "e{epoch:02d}.npz", every=2)
    best = ModelCheckpoint(tmp_path / "best.npz", monitor="score", mode="min", save_best_only=True)
    script = Scripted([3.0, 1.0, 2.0, 0.5, 0.7])
    Trainer(make_net(), SGD(0.1), batch_size=5, seed=0, callbacks=[best, every, script], verbose=0) \
        .fit(x, t, epochs=5)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best.npz", "e02.npz", "e04.npz"]
    saved = load_checkpoint(tmp_path / "best.npz")
    assert saved.meta["trainer"]["epoch"] == 4
    for k, v in script.weights[4].items():
        np.testing.assert_array_equal(saved.params[k], v)
    assert load_checkpoint(tmp_path / "e02.npz").meta["trainer"]["history"]["epoch"] == [1, 2]
