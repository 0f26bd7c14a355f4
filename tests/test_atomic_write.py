"""Atomic writes: errors name the target (disk full says so), stale temporary files are cleaned, directories made."""

import errno
import os
import time

import numpy as np
import pytest

from layergraph._atomic import atomic_write, clean_stale_temporaries
from layergraph.train import ModelCheckpoint, Trainer
from train_support import SGD, make_data, make_net

DEAD_PID = 99_999_999  # above any Linux pid_max


def test_disk_full_names_the_target_and_leaves_nothing(tmp_path):
    target = tmp_path / "model.npz"
    target.write_bytes(b"old")
    with pytest.raises(OSError, match="disk full") as info:
        with atomic_write(target) as fh:
            fh.write(b"partial")
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    assert info.value.errno == errno.ENOSPC and info.value.filename == str(target)
    assert str(target) in str(info.value) and ".tmp" not in str(info.value)
    assert target.read_bytes() == b"old" and os.listdir(tmp_path) == ["model.npz"]


def test_missing_directory_names_the_target_not_the_temporary_file(tmp_path):
    target = tmp_path / "nowhere" / "x.npz"
    with pytest.raises(FileNotFoundError) as info:
        with atomic_write(target) as fh:
            fh.write(b"x")
    assert info.value.filename == str(target) and ".tmp" not in str(info.value)


def test_make_parents_creates_directories(tmp_path):
    target = tmp_path / "a" / "b" / "x.txt"
    with atomic_write(target, "w", make_parents=True) as fh:
        fh.write("hi")
    assert target.read_text() == "hi"


def test_unrelated_errors_in_the_block_pass_unchanged(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        with atomic_write(tmp_path / "x.bin") as fh:
            open(tmp_path / "source-missing")  # noqa: SIM115 - an error about another file
            fh.write(b"")
    assert info.value.filename == str(tmp_path / "source-missing")


def test_stale_temporaries_of_the_same_target_are_cleaned_on_the_next_save(tmp_path):
    target = tmp_path / "ckpt.npz"
    dead = tmp_path / f".ckpt.npz.{DEAD_PID}-abc123xy.tmp"          # writer killed
    alive = tmp_path / f".ckpt.npz.{os.getppid()}-abc123xy.tmp"     # writer still running
    old_unnamed = tmp_path / ".ckpt.npz.q1w2e3r4.tmp"                # older layout, two hours old
    new_unnamed = tmp_path / ".ckpt.npz.z9x8c7v6.tmp"                # older layout, recent
    other_target = tmp_path / f".other.npz.{DEAD_PID}-abc123xy.tmp"
    unrelated = tmp_path / ".ckpt.npz.backup"
    for p in (dead, alive, old_unnamed, new_unnamed, other_target, unrelated):
        p.write_bytes(b"junk")
    two_hours_ago = time.time() - 7200
    os.utime(old_unnamed, (two_hours_ago, two_hours_ago))
    with atomic_write(target) as fh:
        fh.write(b"new")
    left = set(os.listdir(tmp_path))
    assert left == {"ckpt.npz", alive.name, new_unnamed.name, other_target.name, unrelated.name}
    assert clean_stale_temporaries(tmp_path / "other.npz") == [str(other_target)]


def test_model_checkpoint_creates_its_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    x, t = make_data(20)
    cb = ModelCheckpoint("run/sub/x.npz")
    Trainer(make_net(), SGD(0.1), batch_size=10, seed=0, verbose=0, callbacks=[cb]).fit(x, t, epochs=1)
    assert (tmp_path / "run" / "sub" / "x.npz").is_file() and cb.last_saved == "run/sub/x.npz"
    templated = ModelCheckpoint("run/e{epoch}/x.npz")
    Trainer(make_net(), SGD(0.1), batch_size=10, seed=0, verbose=0, callbacks=[templated]).fit(x, t, epochs=2)
    assert (tmp_path / "run" / "e2" / "x.npz").is_file()


def test_model_checkpoint_error_names_the_users_path(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("a file where a directory is needed")
    x, t = make_data(20)
    trainer = Trainer(make_net(), SGD(0.1), batch_size=10, seed=0, verbose=0,
                      callbacks=[ModelCheckpoint(blocker / "x.npz")])
    with pytest.raises(OSError, match="ModelCheckpoint") as info:
        trainer.fit(x, t, epochs=1)
    assert str(blocker / "x.npz") in str(info.value) and ".tmp" not in str(info.value)
    assert trainer.epoch == 0  # failed before training, not after an epoch
    assert np.all(np.isfinite(trainer.net.params["fc1.W"]))


def test_history_files_are_written_atomically(tmp_path, monkeypatch):
    from layergraph.train import History
    h = History()
    h.append({"epoch": 1, "loss": 0.5})
    (tmp_path / "h.csv").write_text("old")
    monkeypatch.setattr(os, "fsync", lambda fd: (_ for _ in ()).throw(OSError(errno.ENOSPC, "No space")))
    for name, write in (("h.csv", h.to_csv), ("h.json", h.to_json)):
        with pytest.raises(OSError, match="disk full"):
            write(tmp_path / name)
    assert os.listdir(tmp_path) == ["h.csv"] and (tmp_path / "h.csv").read_text() == "old"
