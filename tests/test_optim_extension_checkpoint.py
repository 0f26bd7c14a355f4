"""Optimizers without ``state_dict`` in the Trainer: a warning when their state cannot be saved, and a one-line error
when a checkpoint's optimizer state belongs to another optimizer class or cannot be loaded."""

import warnings

import numpy as np
import pytest

import layergraph as lg
from layergraph.optim import Adam
from layergraph.train import CheckpointError, ModelCheckpoint, Trainer


class SignMomentum:
    """A plain update-only optimizer with internal state (the benchmark tutorial's style)."""

    def __init__(self, lr=0.01, momentum=0.9):
        self.lr, self.momentum, self.m = lr, momentum, {}

    def update(self, params, grads):
        for key, g in grads.items():
            m = self.m.setdefault(key, np.zeros_like(g))
            m *= self.momentum
            m += (1.0 - self.momentum) * g
            params[key] -= self.lr * np.sign(m)


class SignMomentumSD(SignMomentum):
    """The same with checkpoint support (its state names no class)."""

    def state_dict(self):
        return {"lr": self.lr, "momentum": self.momentum, "m": {k: v.copy() for k, v in self.m.items()}}

    def load_state_dict(self, d):
        self.lr, self.momentum = d["lr"], d["momentum"]
        self.m = {k: np.array(v, copy=True) for k, v in d["m"].items()}


class OtherSD(SignMomentumSD):
    """Another class whose load_state_dict would happily take SignMomentumSD's state."""


def make_net():
    return lg.Sequential(lg.Affine(5, 7, rng=0, dtype=np.float64), lg.Tanh(), lg.Affine(7, 3, rng=1, dtype=np.float64),
                         loss=lg.SoftmaxWithLoss())


def data(n=40):
    rng = np.random.default_rng(0)
    return rng.standard_normal((n, 5)), rng.integers(0, 3, n)


def trainer(opt, **kw):
    return Trainer(make_net(), opt, batch_size=8, seed=0, verbose=0, **kw)


def stateless_warnings(record):
    return [w for w in record if issubclass(w.category, UserWarning) and "no state_dict()" in str(w.message)]


def test_saving_an_optimizer_without_state_dict_warns_once_naming_it(tmp_path):
    x, t = data()
    tr = trainer(SignMomentum(), callbacks=[ModelCheckpoint(tmp_path / "e{epoch}.npz")])
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        tr.fit(x, t, epochs=3)
        tr.save_checkpoint(tmp_path / "last.npz")
    found = stateless_warnings(record)
    assert len(found) == 1, [str(w.message) for w in record]
    text = str(found[0].message)
    assert text.startswith("Trainer.save_checkpoint: optimizer SignMomentum has no state_dict()/load_state_dict()")
    assert "not bit for bit" in text and "\n" not in text
    assert (tmp_path / "e3.npz").exists()


@pytest.mark.parametrize("make", [SignMomentumSD, lambda: Adam(1e-2)], ids=["custom", "Adam"])
def test_saving_a_restorable_optimizer_does_not_warn(tmp_path, make):
    x, t = data()
    tr = trainer(make())
    tr.fit(x, t, epochs=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tr.save_checkpoint(tmp_path / "c.npz")


def test_lr_find_warns_that_it_cannot_restore_a_stateless_optimizer():
    x, t = data()
    with pytest.warns(UserWarning, match=r"^Trainer.lr_find: optimizer SignMomentum has no state_dict"):
        trainer(SignMomentum()).lr_find(x, t, steps=5)


def test_adam_checkpoint_into_a_stateless_optimizer_is_a_one_line_error_naming_both(tmp_path):
    x, t = data()
    source = trainer(Adam(1e-2))
    source.fit(x, t, epochs=2)
    source.save_checkpoint(tmp_path / "adam.npz")
    target = trainer(SignMomentum())
    target.fit(x, t, epochs=1)
    before = {k: v.copy() for k, v in target.net.params.items()}
    with pytest.raises(CheckpointError) as info:
        target.load_checkpoint(tmp_path / "adam.npz")
    text = str(info.value)
    assert "\n" not in text and "optimizer Adam" in text and "SignMomentum" in text and text.startswith("Trainer.")
    assert target.epoch == 1 and all(np.array_equal(v, target.net.params[k]) for k, v in before.items())


def test_state_of_another_custom_optimizer_class_is_refused_naming_both(tmp_path):
    x, t = data()
    source = trainer(SignMomentumSD())
    source.fit(x, t, epochs=1)
    source.save_checkpoint(tmp_path / "sd.npz")
    with pytest.raises(CheckpointError, match=r"holds the state of optimizer SignMomentumSD, but this trainer's "
                                              r"optimizer is OtherSD"):
        trainer(OtherSD()).load_checkpoint(tmp_path / "sd.npz")
    with pytest.raises(CheckpointError, match=r"optimizer SignMomentumSD, but this trainer's optimizer is Adam"):
        trainer(Adam()).load_checkpoint(tmp_path / "sd.npz")


def test_optimizer_state_into_the_same_class_without_load_state_dict_is_refused(tmp_path):
    class SaveOnly(SignMomentum):
        def state_dict(self):
            return {"m": dict(self.m)}

    from layergraph.train import save_checkpoint

    tr = trainer(SaveOnly())
    save_checkpoint(tmp_path / "c.npz", tr.net, tr.optimizer, trainer=tr.state_dict())
    with pytest.raises(CheckpointError, match=r"optimizer SaveOnly, but SaveOnly has no state_dict\(\)/"
                                              r"load_state_dict\(\) to restore it"):
        trainer(SaveOnly()).load_checkpoint(tmp_path / "c.npz")


def test_plain_update_only_optimizers_still_save_load_and_train(tmp_path):
    x, t = data()
    tr = trainer(SignMomentum())
    with pytest.warns(UserWarning):
        tr.fit(x, t, epochs=2)
        tr.save_checkpoint(tmp_path / "plain.npz")
    again = trainer(SignMomentum())
    again.load_checkpoint(tmp_path / "plain.npz")
    assert again.epoch == 2
    assert all(np.array_equal(v, again.net.params[k]) for k, v in tr.net.params.items())
    again.fit(x, t, epochs=3)
    assert again.epoch == 3 and np.isfinite(again.history["loss"][-1])


def test_a_custom_optimizer_with_state_dict_resumes_bit_for_bit(tmp_path):
    x, t = data()
    straight = trainer(SignMomentumSD())
    straight.fit(x, t, epochs=4)
    first = trainer(SignMomentumSD())
    first.fit(x, t, epochs=2)
    first.save_checkpoint(tmp_path / "c.npz")
    resumed = trainer(SignMomentumSD())
    resumed.load_checkpoint(tmp_path / "c.npz")
    resumed.fit(x, t, epochs=4)
    assert dict(resumed.history) == dict(straight.history)
    assert all(np.array_equal(v, resumed.net.params[k]) for k, v in straight.net.params.items())
