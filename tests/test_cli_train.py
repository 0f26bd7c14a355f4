"""`layergraph train` / `evaluate` end to end, in subprocesses, on the shipped digits with a 1-2 epoch budget."""

import csv
import importlib.util
import json
import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from layergraph.data import load_digits
from layergraph.train import load_checkpoint

N_TRAIN, BATCH = 1437, 32  # the digits' training part and the default batch size


def layergraph(*args, cwd):
    """Run ``python -m layergraph ARGS`` in *cwd*; return the completed process (text output)."""
    env_cmd = [sys.executable, "-m", "layergraph", *map(str, args)]
    return subprocess.run(env_cmd, cwd=cwd, capture_output=True, text=True, timeout=120,
                          env={"PATH": "/usr/bin:/bin", "CI": "1"})


@pytest.fixture(scope="module")
def run2(tmp_path_factory):
    """A 2-epoch default run with no --out: it must land in ./runs/<name>/ of the working directory."""
    cwd = tmp_path_factory.mktemp("cwd")
    proc = layergraph("train", "--epochs", 2, cwd=cwd)
    assert proc.returncode == 0, proc.stderr
    dirs = list((cwd / "runs").iterdir())
    assert len(dirs) == 1
    return proc, dirs[0]


def _manual_predictions(ckpt_path, x):
    """Class predictions computed with plain NumPy from the saved weights (independent of the library)."""
    params = load_checkpoint(ckpt_path).params
    h = x.astype(np.float64)
    n_layers = len([k for k in params if k.endswith(".W")])
    for i in range(1, n_layers + 1):
        h = h @ params[f"fc{i}.W"] + params[f"fc{i}.b"]
        if i < n_layers:
            h = np.maximum(h, 0.0)
    return h.argmax(axis=1)


def test_default_run_prints_summary_progress_and_accuracy(run2):
    proc, _ = run2
    out = proc.stdout
    n_params = (64 * 128 + 128) + (128 * 64 + 64) + (64 * 10 + 10)
    assert f"total trainable parameters: {n_params:,}" in out
    assert "Adam" in out
    assert re.search(r"^epoch 1/2 .*loss [\d.]+ .*val_accuracy [\d.]+", out, re.M)
    assert re.search(r"^epoch 2/2 ", out, re.M)
    assert re.search(r"^test accuracy: [\d.]+% \(loss [\d.]+\) on 360 held-out samples$", out, re.M)
    assert "Traceback" not in proc.stderr


def test_default_run_writes_parseable_files(run2):
    proc, run_dir = run2
    assert run_dir.parent.name == "runs"
    ckpt = load_checkpoint(run_dir / "checkpoint.npz")
    assert ckpt.meta["trainer"]["epoch"] == 2
    assert ckpt.meta["cli"]["arch"] == "64-128-64-10" and ckpt.meta["cli"]["optimizer"] == "Adam"

    with open(run_dir / "history.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["epoch"]) for r in rows] == [1, 2]
    steps = math.ceil(N_TRAIN / BATCH)
    assert [int(r["step"]) for r in rows] == [steps, 2 * steps]
    history = json.loads((run_dir / "history.json").read_text())
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        assert [float(r[key]) for r in rows] == pytest.approx(history[key], rel=1e-12)

    # The reported accuracy is the saved network's accuracy on the 360 held-out digits, recomputed here.
    (_, _), (x_test, t_test) = load_digits()
    expected = float(np.mean(_manual_predictions(run_dir / "checkpoint.npz", x_test) == t_test))
    results = json.loads((run_dir / "results.json").read_text())
    assert results["test_accuracy"] == pytest.approx(expected, abs=1e-12)
    assert history["val_accuracy"][-1] == pytest.approx(expected, abs=1e-12)
    printed = float(re.search(r"test accuracy: ([\d.]+)%", proc.stdout).group(1))
    assert printed == pytest.approx(100 * expected, abs=0.006)

    has_matplotlib = importlib.util.find_spec("matplotlib") is not None
    png = run_dir / "learning_curve.png"
    assert png.exists() == has_matplotlib
    if has_matplotlib:
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    else:
        assert 'pip install "layergraph[plot]"' in proc.stdout


def test_evaluate_prints_loss_accuracy_and_confusion_matrix(run2, tmp_path):
    _, run_dir = run2
    proc = layergraph("evaluate", run_dir / "checkpoint.npz", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    (_, _), (x_test, t_test) = load_digits()
    pred = _manual_predictions(run_dir / "checkpoint.npz", x_test)
    cm = np.zeros((10, 10), dtype=int)
    for true, guess in zip(t_test, pred):
        cm[true, guess] += 1
    acc = float(re.search(r"^accuracy: ([\d.]+)%", proc.stdout, re.M).group(1))
    assert acc == pytest.approx(100 * np.trace(cm) / len(t_test), abs=0.006)
    assert re.search(r"^loss: [\d.]+$", proc.stdout, re.M)
    rows = [line.split() for line in proc.stdout.splitlines() if re.match(r"^\s+\d+\s+\d+(\s+\d+){9}\s", line)]
    assert len(rows) == 10
    printed = np.array([[int(c) for c in row[1:11]] for row in rows])
    np.testing.assert_array_equal(printed, cm)


def test_resume_continues_the_run_bit_for_bit(run2, tmp_path):
    _, full = run2
    first = layergraph("train", "--epochs", 1, "--out", "part", "--quiet", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    resumed = layergraph("train", "--resume", tmp_path / "part" / "checkpoint.npz", "--epochs", 2, cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming from" in resumed.stdout and re.search(r"^epoch 2/2 ", resumed.stdout, re.M)
    assert not re.search(r"^epoch 1/2 ", resumed.stdout, re.M)
    assert json.loads((tmp_path / "part" / "history.json").read_text()) == \
        json.loads((full / "history.json").read_text())
    a, b = load_checkpoint(tmp_path / "part" / "checkpoint.npz"), load_checkpoint(full / "checkpoint.npz")
    for key in a.params:
        np.testing.assert_array_equal(a.params[key], b.params[key])


def test_bad_input_gives_one_line_error_in_a_real_process(tmp_path):
    proc = layergraph("train", "--epochs", "0", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "--epochs: expected a positive integer, got '0'" in lines[0], proc.stderr
    assert not any(Path(tmp_path).iterdir())  # nothing written
