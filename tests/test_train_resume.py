import numpy as np
import pytest

from layergraph.train import EarlyStopping, ModelCheckpoint, Trainer
from test_train_callbacks import HalvingPlateau
from train_support import Momentum, make_data, make_net, params_equal

EPOCHS = 6


def setup(tmp_path, seed, init_seed, lr):
    net, opt, plateau = make_net(seed=init_seed, buffer=True), Momentum(lr), HalvingPlateau(lr)
    callbacks = [EarlyStopping(patience=100, restore_best_weights=True),
                 ModelCheckpoint(tmp_path / "ck-{epoch}.npz")]
    trainer = Trainer(net, opt, batch_size=7, seed=seed, callbacks=callbacks, schedule=plateau,
                      schedule_monitor="accuracy", verbose=0)  # "min" logic: halves as accuracy rises
    return trainer, plateau


@pytest.mark.parametrize("k", [1, 4])
def test_resume_after_epoch_k_reproduces_the_uninterrupted_run_bit_for_bit(tmp_path, k):
    x, t = make_data(50)
    full, full_plateau = setup(tmp_path, seed=3, init_seed=0, lr=0.05)
    hist = full.fit(x, t, epochs=EPOCHS, validation_split=0.2)
    assert len(set(hist["lr"])) > 1  # the plateau schedule really acted, so its state matters

    # Everything fresh and deliberately different: weights, optimizer state, lr, batch-order seed.
    resumed, plateau = setup(tmp_path / "..", seed=99, init_seed=5, lr=0.7)
    resumed.load_checkpoint(tmp_path / f"ck-{k}.npz")
    assert resumed.epoch == k and resumed.history["epoch"] == list(range(1, k + 1))
    hist2 = resumed.fit(x, t, epochs=EPOCHS, validation_split=0.2)

    assert hist2 == hist  # every logged float identical
    assert params_equal(resumed.net, full.net)
    assert resumed.step == full.step and resumed.optimizer.steps == full.optimizer.steps
    for key, state in full.optimizer.state.items():
        np.testing.assert_array_equal(resumed.optimizer.state[key]["v"], state["v"])
    assert (plateau.lr, plateau.best) == (full_plateau.lr, full_plateau.best)
    es_full, es_res = full.callbacks[0], resumed.callbacks[0]
    assert (es_res.best, es_res.best_epoch) == (es_full.best, es_full.best_epoch)


def test_resume_needs_the_saved_generator_state(tmp_path):
    # Control: the same fresh trainer WITHOUT the checkpoint's trainer state (only weights + optimizer)
    # diverges from the uninterrupted run, so the test above really checks the batch-order state.
    x, t = make_data(50)
    full, _ = setup(tmp_path, seed=3, init_seed=0, lr=0.05)
    full.fit(x, t, epochs=3, validation_split=0.2)
    other, _ = setup(tmp_path / "..", seed=99, init_seed=5, lr=0.05)
    ck = other.load_checkpoint(tmp_path / "ck-2.npz")
    state = ck.meta["trainer"]
    state["rng"] = np.random.default_rng(1).bit_generator.state
    other.load_state_dict(state)
    other.fit(x, t, epochs=3, validation_split=0.2)
    assert not params_equal(other.net, full.net)


def test_loading_a_checkpoint_without_trainer_state_is_refused(tmp_path):
    from layergraph.train import save_checkpoint

    trainer, _ = setup(tmp_path, seed=0, init_seed=0, lr=0.1)
    save_checkpoint(tmp_path / "bare.npz", make_net(seed=4, buffer=True), Momentum())
    before = trainer.net.state_dict()
    with pytest.raises(ValueError, match="no trainer state"):
        trainer.load_checkpoint(tmp_path / "bare.npz")
    assert all(np.array_equal(before[k], v) for k, v in trainer.net.state_dict().items())
