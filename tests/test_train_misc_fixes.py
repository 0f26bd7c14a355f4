"""Checkpoint saving refusals, ModelCheckpoint templates, History.best modes, atomic writes over files and links,
and the input / target forms of graphs in the Trainer."""

import os
import stat

import numpy as np
import pytest

import layergraph as lg
from layergraph._atomic import atomic_write
from layergraph.train import Callback, EarlyStopping, History, ModelCheckpoint, Trainer, save_checkpoint
from train_support import SGD, make_data, make_net, params_equal


# -- 4. save_checkpoint refuses what load_checkpoint would refuse, before writing ----------------------------

class ObjectParam(lg.Layer):
    def __init__(self):
        super().__init__()
        self.params = {"w": np.array([1.0, "two", None], dtype=object)}
        self.grads = {"w": np.zeros(3)}

    def forward(self, x, train=True):
        return x

    def backward(self, dout):
        return dout


def test_save_checkpoint_refuses_an_object_parameter_and_keeps_the_old_file(tmp_path):
    path = tmp_path / "ck.npz"
    save_checkpoint(path, make_net())
    good = path.read_bytes()
    bad = lg.Sequential([("bad", ObjectParam()), ("fc", lg.Affine(4, 3, rng=0))], loss=lg.SoftmaxWithLoss())
    with pytest.raises(TypeError, match=r"parameter 'bad\.w' must be a numeric array, got dtype object") as info:
        save_checkpoint(path, bad)
    assert "\n" not in str(info.value) and str(path) in str(info.value)
    assert path.read_bytes() == good and os.listdir(tmp_path) == ["ck.npz"]


# -- 5. ModelCheckpoint templates are checked before anything trains -----------------------------------------

def test_model_checkpoint_with_an_unknown_field_fails_before_training(tmp_path):
    cb = ModelCheckpoint(tmp_path / "cb" / "{nope}.npz")
    with pytest.raises(ValueError, match=r"uses \{nope\}, which is not logged; fields: epoch, step, loss, "
                                         r"accuracy, lr, val_loss, val_accuracy$") as info:
        Trainer(make_net(), SGD(0.1), verbose=0, callbacks=[cb])
    assert "\n" not in str(info.value)
    assert not (tmp_path / "cb").exists()


@pytest.mark.parametrize("path, message", [
    ("ck-{epoch.npz", "not a valid file name template"),
    ("ck-{}.npz", r"positional field \{\}"),
    ("ck-{0}.npz", r"positional field \{0\}"),
    ("ck-{epoch:q}.npz", "cannot be filled in"),
])
def test_model_checkpoint_rejects_bad_templates_when_made(path, message):
    with pytest.raises(ValueError, match=message):
        ModelCheckpoint(path)


def test_model_checkpoint_field_checks_against_the_run(tmp_path):
    x, t = make_data(20)
    with pytest.raises(ValueError, match=r"'\{loss:d\}|cannot be filled in"):
        Trainer(make_net(), SGD(0.1), verbose=0, callbacks=[ModelCheckpoint(tmp_path / "{loss:d}.npz")])
    trainer = Trainer(make_net(), SGD(0.1), verbose=0, callbacks=[ModelCheckpoint(tmp_path / "{val_loss}.npz")])
    with pytest.raises(ValueError, match="there is no validation data"):
        trainer.fit(x, t, epochs=1)
    assert trainer.epoch == 0

    class Score(Callback):
        order, log_keys = -1, ("score",)

        def on_epoch_end(self, epoch, logs=None):
            logs["score"] = 10.0 * epoch

    cb = ModelCheckpoint(tmp_path / "e{epoch:02d}-{val_accuracy:.2f}-{score:.0f}.npz")
    Trainer(make_net(), SGD(0.1), verbose=0, callbacks=[cb, Score()]).fit(x, t, epochs=1, validation_data=(x, t))
    assert os.path.basename(cb.last_saved).startswith("e01-") and cb.last_saved.endswith("-10.npz")


# -- 6. History.best picks the best epoch of accuracy-like quantities ---------------------------------------

def test_history_best_default_mode_follows_the_quantity():
    h = History()
    for epoch, (acc, loss) in enumerate([(0.5, 0.9), (0.9, 0.4), (0.7, 0.6)], start=1):
        h.append({"epoch": epoch, "val_accuracy": acc, "val_loss": loss, "val_top3_acc": acc})
    assert h.best("val_accuracy") == (2, 0.9) and h.best("val_top3_acc") == (2, 0.9)
    assert h.best("val_loss") == (2, 0.4)
    assert h.best("val_accuracy", "min") == (1, 0.5) and h.best("val_loss", "max") == (1, 0.9)
    with pytest.raises(ValueError, match="'min', 'max' or 'auto'"):
        h.best("val_loss", "best")


@pytest.mark.parametrize("name", ["val_accuracy", "accuracy", "a_accuracy", "top3_acc", "loss", "val_loss", "lr",
                                  "score"])
def test_history_best_and_early_stopping_share_the_auto_rule(name):
    h = History()
    h.append({"epoch": 1, name: 1.0})
    h.append({"epoch": 2, name: 2.0})
    assert h.best(name)[0] == (2 if EarlyStopping(monitor=name).mode == "max" else 1)


# -- 7. atomic writes keep permission bits and write through symbolic links ----------------------------------

def test_atomic_write_keeps_the_mode_of_the_file_it_replaces(tmp_path):
    path = tmp_path / "f.txt"
    path.write_text("old")
    os.chmod(path, 0o640)
    with atomic_write(path, "w") as f:
        f.write("new")
    assert path.read_text() == "new" and stat.S_IMODE(os.stat(path).st_mode) == 0o640
    save_checkpoint(tmp_path / "c.npz", make_net())
    os.chmod(tmp_path / "c.npz", 0o600)
    save_checkpoint(tmp_path / "c.npz", make_net())
    assert stat.S_IMODE(os.stat(tmp_path / "c.npz").st_mode) == 0o600


def test_atomic_write_through_a_symlink_replaces_its_target(tmp_path):
    real_dir = tmp_path / "store"
    real_dir.mkdir()
    target = real_dir / "history.json"
    target.write_text("old")
    os.chmod(target, 0o604)
    link = tmp_path / "latest.json"
    os.symlink(os.path.relpath(target, tmp_path), link)
    with atomic_write(link, "w") as f:
        f.write("new")
    assert os.path.islink(link) and link.read_text() == "new" and target.read_text() == "new"
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o604
    assert sorted(os.listdir(tmp_path)) == ["latest.json", "store"] and os.listdir(real_dir) == ["history.json"]
    dangling = tmp_path / "new.json"
    os.symlink(real_dir / "made.json", dangling)
    with atomic_write(dangling, "w") as f:
        f.write("made")
    assert os.path.islink(dangling) and (real_dir / "made.json").read_text() == "made"


def test_a_failed_write_through_a_symlink_leaves_everything(tmp_path):
    target = tmp_path / "t.txt"
    target.write_text("old")
    link = tmp_path / "l.txt"
    os.symlink(target, link)
    with pytest.raises(RuntimeError):
        with atomic_write(link, "w") as f:
            f.write("partial")
            raise RuntimeError("boom")
    assert os.path.islink(link) and target.read_text() == "old" and sorted(os.listdir(tmp_path)) == ["l.txt", "t.txt"]


# -- 8. the Trainer takes the input and target forms a graph takes ------------------------------------------

def two_input_graph():
    g = lg.Graph(inputs=("a", "b"))
    g.add("fa", lg.Affine(4, 6, rng=0), "a")
    g.add("fb", lg.Affine(4, 6, rng=1), "b")
    g.add("s", lg.Add(), ["fa", "fb"])
    g.add("o", lg.Affine(6, 3, rng=2), "s")
    g.set_outputs("o")
    g.set_loss(lg.SoftmaxWithLoss())
    return g


@pytest.mark.parametrize("inputs, targets", [
    (lambda xa, xb: [xa, xb], lambda t: t),
    (lambda xa, xb: (xa, xb), lambda t: {"o": t}),
    (lambda xa, xb: {"a": xa, "b": xb}, lambda t: {"o": t}),
])
def test_fit_and_evaluate_take_the_forms_the_graph_takes(inputs, targets):
    x, t = make_data(40)
    xa, xb = x, x[::-1].copy()
    ref = Trainer(two_input_graph(), SGD(0.1), batch_size=8, seed=0, verbose=0)
    ref.fit({"a": xa, "b": xb}, t, epochs=2, validation_data=({"a": xa, "b": xb}, t))
    other = Trainer(two_input_graph(), SGD(0.1), batch_size=8, seed=0, verbose=0)
    other.fit(inputs(xa, xb), targets(t), epochs=2, validation_data=(inputs(xa, xb), targets(t)))
    assert other.history == ref.history and params_equal(other.net, ref.net)
    assert other.evaluate(inputs(xa, xb), targets(t)) == ref.evaluate({"a": xa, "b": xb}, t)
    g = ref.net
    assert ref.evaluate({"a": xa, "b": xb}, t)["loss"] == pytest.approx(g.loss([xa, xb], {"o": t}, train=False))


def test_graph_input_and_target_mismatches_fail_in_one_line():
    x, t = make_data(20)
    trainer = Trainer(two_input_graph(), SGD(0.1), verbose=0)
    with pytest.raises(ValueError, match=r"'x' must hold 2 array\(s\) for inputs \['a', 'b'\], got 3"):
        trainer.fit([x, x, x], t, epochs=1)
    with pytest.raises(ValueError, match=r"outputs with a loss \['o'\], got \['out'\] \(missing \['o'\], not "
                                         r"outputs \['out'\]\)"):
        trainer.fit([x, x], {"out": t}, epochs=1)
    with pytest.raises(ValueError, match="'t_val'"):
        trainer.fit([x, x], t, epochs=1, validation_data=([x, x], {"nope": t}))
    assert trainer.epoch == 0


def test_single_input_graph_takes_a_dict_of_targets():
    x, t = make_data(30)
    g = lg.Graph()
    g.add("h", lg.Affine(4, 5, rng=0), "x")
    g.add("o", lg.Affine(5, 3, rng=1), "h")
    g.set_outputs("o")
    g.set_loss(lg.SoftmaxWithLoss())
    hist = Trainer(g, SGD(0.1), batch_size=8, seed=0, verbose=0).fit(x, {"o": t}, epochs=1)
    assert hist["loss"][0] > 0 and "accuracy" in hist
