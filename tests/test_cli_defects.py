"""Defects of `layergraph train` found by trying it as a new user; each test failed before its fix."""

import json
import os
import signal
import subprocess
import sys

import numpy as np
import pytest
from test_cli_errors import assert_one_line_error, call, workdir  # noqa: F401 (fixture)

from layergraph.train import load_checkpoint


def test_adamw_uses_the_python_default_weight_decay(workdir, capsys):
    for opt in ("Adam", "AdamW"):
        assert call(["train", "--optimizer", opt, "--epochs", "1", "--out", opt, "-q"], capsys)[0] == 0
    adam, adamw = (load_checkpoint(workdir / o / "checkpoint.npz") for o in ("Adam", "AdamW"))
    assert adamw.meta["cli"]["weight_decay"] == 0.01 and adam.meta["cli"]["weight_decay"] == 0.0
    assert not np.array_equal(adam.params["fc1.W"], adamw.params["fc1.W"])
    # an explicit value still wins
    assert call(["train", "--optimizer", "AdamW", "--weight-decay", "0", "--epochs", "1", "--out", "w0", "-q"],
                capsys)[0] == 0
    np.testing.assert_array_equal(load_checkpoint(workdir / "w0" / "checkpoint.npz").params["fc1.W"],
                                  adam.params["fc1.W"])


def test_negative_seed_is_an_argparse_error(workdir, capsys):
    status, out, err = call(["train", "--seed", "-1"], capsys)
    assert status == 2
    assert_one_line_error(status, out, err, "argument --seed: expected an integer >= 0, got '-1'")


def test_resume_with_other_data_blames_the_data(workdir, capsys):
    assert call(["train", "--epochs", "1", "--out", "r", "-q"], capsys)[0] == 0
    status, out, err = call(["train", "--resume", "r/checkpoint.npz", "--epochs", "2", "--data", "spiral"], capsys)
    assert_one_line_error(status, out, err, "--data spiral: r/checkpoint.npz was trained on digits (64 input")
    assert "--arch" not in err


@pytest.mark.parametrize("split", ["0.0001", "0.005"])
def test_tiny_validation_split_is_refused(workdir, capsys, split):
    # digits: 1,437 training samples, 10 classes -> 0.005 holds out 8 < 10
    status, out, err = call(["train", "--val-split", split, "--epochs", "1"], capsys)
    assert_one_line_error(status, out, err, f"--val-split {split}: holds out")
    assert "validation needs at least 10" in err
    assert call(["train", "--val-split", "0.01", "--epochs", "1", "--out", "ok", "-q"], capsys)[0] == 0


def test_divergence_hint_resumes_with_a_new_rate(workdir, capsys, monkeypatch):
    from layergraph.layers import losses

    original = losses.SoftmaxWithLoss.forward
    calls = {"n": 0}

    def poisoned(self, x, t):  # epoch 1: 45 batches + 1 validation pass; call 60 is in epoch 2
        calls["n"] += 1
        return float("nan") if calls["n"] == 60 else original(self, x, t)

    monkeypatch.setattr(losses.SoftmaxWithLoss, "forward", poisoned)
    status, out, err = call(["train", "--epochs", "3", "--out", "d", "-q"], capsys)
    monkeypatch.setattr(losses.SoftmaxWithLoss, "forward", original)
    assert status == 1 and "training diverged at epoch 2" in err
    results = json.loads((workdir / "d" / "results.json").read_text())
    assert results["status"] == "diverged" and results["epochs"] == 1 and "stop_reason" in results
    hint = err.split("`")[1]
    assert hint.startswith("layergraph train --resume ") and hint.endswith(" --lr ...")
    assert "the checkpoint holds epoch 1" in err
    argv = hint.split()[1:-1] + ["0.0005", "-q"]
    status, out, err = call(argv, capsys)
    assert status == 0, err
    ckpt = load_checkpoint(workdir / "d" / "checkpoint.npz")
    assert ckpt.meta["trainer"]["epoch"] == 3 and ckpt.meta["cli"]["epochs"] == 3
    assert ckpt.meta["cli"]["lr"] == 0.0005


def test_ctrl_c_while_the_checkpoint_is_written_reports_what_the_file_holds(workdir, capsys, monkeypatch):
    from layergraph.train import checkpoint

    original = checkpoint._atomic_savez
    calls = {"n": 0}

    def interrupted(path, arrays):
        calls["n"] += 1
        if calls["n"] == 2:  # the end of epoch 2: Ctrl-C in the middle of the write
            raise KeyboardInterrupt
        original(path, arrays)

    monkeypatch.setattr(checkpoint, "_atomic_savez", interrupted)
    status, out, err = call(["train", "--epochs", "3", "--out", "run", "-q"], capsys)
    assert status == 130
    assert "the checkpoint holds epoch 1" in out and "epoch 2:" not in out
    assert load_checkpoint(workdir / "run" / "checkpoint.npz").meta["trainer"]["epoch"] == 1
    rows = (workdir / "run" / "history.csv").read_text().splitlines()
    assert len(rows) == 2  # header + epoch 1, as in the checkpoint
    results = json.loads((workdir / "run" / "results.json").read_text())
    assert results["epochs"] == 1 and results["status"] == "interrupted"
    assert not [p for p in os.listdir(workdir / "run") if p.endswith(".tmp")]


def test_history_and_results_are_written_at_every_epoch(workdir, capsys, monkeypatch):
    from layergraph.cli import run_files

    seen = []
    original = run_files.RunWriter.epoch_end

    def spy(self, trainer, logs):
        original(self, trainer, logs)
        hist = json.loads((workdir / "run" / "history.json").read_text())
        res = json.loads((workdir / "run" / "results.json").read_text())
        seen.append((len(hist["epoch"]), res["epochs"]))

    monkeypatch.setattr(run_files.RunWriter, "epoch_end", spy)
    assert call(["train", "--epochs", "2", "--out", "run", "-q"], capsys)[0] == 0
    assert seen == [(1, 1), (2, 2)]


def test_ctrl_c_while_the_command_starts_prints_one_line(tmp_path):
    # -X importtime reports each finished import on stderr: interrupt as soon as layergraph's first module is in.
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "CI": "1"}
    proc = subprocess.Popen([sys.executable, "-X", "importtime", "-m", "layergraph", "train", "--epochs", "1",
                             "--out", str(tmp_path / "r"), "-q"], stderr=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True, env=env, cwd=tmp_path)
    lines = []
    for line in proc.stderr:
        lines.append(line)
        if "layergraph._cli_start" in line:
            proc.send_signal(signal.SIGINT)
            break
    rest = proc.stderr.read()
    proc.wait(timeout=60)
    err = [ln for ln in (lines + rest.splitlines(True)) if not ln.startswith("import time:")]
    assert "Traceback" not in "".join(err)
    assert [ln.strip() for ln in err if ln.strip()] in (["layergraph: interrupted"], ["interrupted"])
    assert proc.returncode != 0


def test_exploding_loss_stops_by_default_and_only_warns_when_asked(workdir, capsys):
    status, out, err = call(["train", "--lr", "1e6", "--epochs", "1", "--out", "x", "-q"], capsys)
    assert_one_line_error(status, out, err, "the training loss exploded at epoch 1")
    assert "Try a lower --lr" in err and not (workdir / "x").exists()
    status, out, err = call(["train", "--lr", "1e6", "--epochs", "1", "--out", "y", "-q", "--no-stop-on-explosion"],
                            capsys)
    assert status == 0
    assert err.strip().splitlines() == [err.strip()] and err.startswith("layergraph train: warning: the training loss")
    assert load_checkpoint(workdir / "y" / "checkpoint.npz").meta["cli"]["stop_on_explosion"] is False
