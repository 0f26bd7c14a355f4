"""The `layergraph` command in-process: every option documented, bad input -> one line on stderr, exit != 0."""

import argparse
import os

import pytest

from layergraph.cli import build_parser, main, one_line


def call(argv, capsys):
    """Run the command; return (exit status, stdout, stderr)."""
    try:
        status = main(argv)
    except SystemExit as exc:  # argparse errors and --help exit through SystemExit
        status = exc.code
    out, err = capsys.readouterr()
    return status, out, err


def assert_one_line_error(status, out, err, fragment):
    assert status not in (0, None)
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    assert fragment in lines[0], lines[0]
    assert lines[0].startswith("layergraph")


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LAYERGRAPH_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # no MNIST cache from the machine
    monkeypatch.setenv("CI", "1")
    return tmp_path


@pytest.mark.parametrize("args, fragment, status", [
    (["--epochs", "0"], "argument --epochs: expected a positive integer, got '0'", 2),
    (["--epochs", "x"], "argument --epochs: expected a positive integer, got 'x'", 2),
    (["--batch-size", "-3"], "argument --batch-size: expected a positive integer", 2),
    (["--lr", "-1"], "argument --lr: expected a finite number >= 0, got '-1'", 2),
    (["--lr", "nan"], "argument --lr: expected a finite number >= 0", 2),
    (["--weight-decay", "abc"], "argument --weight-decay: expected a number >= 0", 2),
    (["--val-split", "1"], "argument --val-split: expected a fraction in [0, 1)", 2),
    (["--optimizer", "nope"], "argument --optimizer: expected one of SGD", 2),
    (["--arch", "64-x-10"], "argument --arch: expected widths like 64-100-10, got '64-x-10'", 2),
    (["--arch", "64"], "argument --arch: expected at least two positive widths", 2),
    (["--arch", "63-10"], "digits has 64 input features and 10 classes", 1),
    (["--data", "cifar"], "argument --data: expected one of digits, mnist, spiral, xor, circles or a .npz / .csv "
                          "file, got 'cifar'", 2),
    (["--activation", "gelu"], "argument --activation: invalid choice", 2),
    (["--schedule", "linear"], "argument --schedule: invalid choice", 2),
    (["--bogus"], "unrecognized arguments: --bogus", 2),
    (["--resume", "missing.npz"], "no checkpoint file at 'missing.npz'", 1),
    (["--data", "mnist", "--data-dir", "nowhere"], "nowhere/mnist, ", 1),
])
def test_train_bad_options(workdir, capsys, args, fragment, status):
    got, out, err = call(["train", *args], capsys)
    assert got == status
    assert_one_line_error(got, out, err, fragment)
    assert sorted(p.name for p in workdir.iterdir()) == []  # nothing written, not even runs/


def test_train_refuses_to_overwrite_a_run_and_a_file_as_out(workdir, capsys):
    (workdir / "old").mkdir()
    (workdir / "old" / "checkpoint.npz").write_bytes(b"previous run")
    assert_one_line_error(*call(["train", "--out", "old"], capsys), "old already holds a run")
    assert (workdir / "old" / "checkpoint.npz").read_bytes() == b"previous run"
    (workdir / "file.txt").write_text("x")
    assert_one_line_error(*call(["train", "--out", "file.txt"], capsys), "exists and is not a directory")


def test_resume_errors(workdir, capsys):
    status, out, _ = call(["train", "--epochs", "1", "--out", "r", "--quiet"], capsys)
    assert status == 0 and "test accuracy" in out
    ckpt = str(workdir / "r" / "checkpoint.npz")
    assert_one_line_error(*call(["train", "--resume", ckpt, "--epochs", "1"], capsys), "already trained 1 epoch")
    # A different architecture: every mismatch listed, on one line.
    status, out, err = call(["train", "--resume", ckpt, "--epochs", "2", "--arch", "64-32-10"], capsys)
    assert_one_line_error(status, out, err, "checkpoint does not match the network")
    assert "params 'fc1.W': checkpoint shape (64, 128), network shape (64, 32)" in err
    (workdir / "garbage.npz").write_bytes(b"not a zip file at all")
    assert_one_line_error(*call(["train", "--resume", "garbage.npz"], capsys), "truncated or corrupt")


def test_evaluate_errors(workdir, capsys):
    assert_one_line_error(*call(["evaluate", "missing.npz"], capsys), "no checkpoint file at 'missing.npz'")
    assert call(["train", "--epochs", "1", "--out", "r", "--quiet"], capsys)[0] == 0
    ckpt = str(workdir / "r" / "checkpoint.npz")
    assert_one_line_error(*call(["evaluate", ckpt, "--data", "spiral"], capsys), "does not fit spiral (2 features")
    assert_one_line_error(*call(["evaluate", ckpt, "--split", "all"], capsys), "argument --split: invalid choice")
    assert_one_line_error(*call(["evaluate"], capsys), "the following arguments are required: CHECKPOINT")


def _subparsers(parser):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield name, sub
                yield from ((f"{name} {n}", s) for n, s in _subparsers(sub))


def test_every_option_of_every_sub_command_is_documented(capsys):
    commands = dict(_subparsers(build_parser()))
    assert {"train", "evaluate"} <= set(commands)
    for name, parser in commands.items():
        assert parser.description, name
        for action in parser._actions:
            if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)):
                continue
            assert action.help and action.help != argparse.SUPPRESS, (name, action.option_strings or action.dest)
            text = parser.format_help()
            for opt in action.option_strings:
                assert opt in text


def test_help_exits_zero(capsys):
    status, out, _ = call(["evaluate", "--help"], capsys)
    assert status == 0 and "confusion matrix" in out and "--split" in out


def test_one_line_joins_multi_line_messages():
    assert one_line(ValueError("a (2 problem(s)):\n  first\n  second")) == "a (2 problem(s)): first; second"
    assert one_line(ValueError("single")) == "single"
    assert one_line(ValueError("")) == "ValueError"


def test_divergence_is_one_line_and_leaves_nothing(workdir, capsys):
    status, out, err = call(["train", "--optimizer", "sgd", "--lr", "1e30", "--out", "div", "--quiet"], capsys)
    assert status == 1
    assert_one_line_error(status, out, err, "training diverged at epoch 1, step ")
    assert "Try a lower --lr" in err and "Warning" not in err
    assert not (workdir / "div").exists()


def test_version_names_numpy_scipy_and_the_blas_kernels(capsys):
    import numpy
    import scipy

    import layergraph

    status, out, _ = call(["--version"], capsys)
    assert status == 0 and out.count("\n") == 1
    assert out.startswith(f"layergraph {layergraph.__version__} ")
    assert f"numpy {numpy.__version__}" in out and f"scipy {scipy.__version__}" in out
    threadpoolctl = pytest.importorskip("threadpoolctl")
    numpy_blas = [lib for lib in threadpoolctl.threadpool_info()
                  if lib["user_api"] == "blas" and os.sep + "numpy" in lib["filepath"]]
    for lib in numpy_blas:                            # NumPy's BLAS, with its own report of its kernels
        assert f"{lib['internal_api']} {lib['version']}" in out
        if lib.get("architecture"):
            assert f"{lib['architecture']} kernels" in out
