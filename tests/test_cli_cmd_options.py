"""Options that used to be ignored or accepted silently are refused in one line; `lr-find` reads data files."""

import numpy as np
import pytest
from test_cli_errors import assert_one_line_error, call, workdir  # noqa: F401 (fixture)


@pytest.mark.parametrize("args, fragment", [
    (["--target-column", "2"], "--target-column applies to .csv files only, not --data digits"),
    (["--data", "spiral", "--data-dir", "."], "--data-dir applies to --data mnist only, not --data spiral"),
])
@pytest.mark.parametrize("command", ["train", "lr-find"])
def test_data_options_that_do_not_apply_are_refused(workdir, capsys, command, args, fragment):
    assert_one_line_error(*call([command, *args], capsys), fragment)
    assert list(workdir.iterdir()) == []


@pytest.mark.parametrize("given", ["nowhere", "empty"])
def test_data_dir_without_the_files_does_not_fall_back_to_other_files(workdir, capsys, monkeypatch, given):
    # MNIST files in $LAYERGRAPH_DATA: a --data-dir without them must not silently read those instead
    env = workdir / "env"
    env.mkdir()
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        (env / name).write_bytes(b"")
    (workdir / "empty").mkdir()
    monkeypatch.setenv("LAYERGRAPH_DATA", str(env))
    status, out, err = call(["train", "--data", "mnist", "--data-dir", given, "--epochs", "1"], capsys)
    assert_one_line_error(status, out, err, f"{given}: ")
    assert "--data-dir" in err and f"would be read from {env} instead" in err


def test_validation_split_must_leave_enough_to_train_on(workdir, capsys):
    status, out, err = call(["train", "--val-split", "0.999", "--epochs", "1"], capsys)
    assert_one_line_error(status, out, err, "--val-split 0.999: holds out 1,436 of 1,437 training samples, leaving 1")
    assert list(workdir.iterdir()) == []


def test_early_stopping_needs_a_patience_of_at_least_one(workdir, capsys):
    status, out, err = call(["train", "--early-stopping", "0"], capsys)
    assert status == 2
    assert_one_line_error(status, out, err, "argument --early-stopping: expected a positive integer, got '0'")


def test_lr_find_reads_npz_and_csv_files_like_train(workdir, capsys):
    rng = np.random.default_rng(0)
    t = rng.integers(0, 3, 90)
    x = (rng.normal(size=(90, 2, 2)) + 3 * np.eye(3, 4)[t].reshape(90, 2, 2)).astype(np.float32)
    np.savez("blobs.npz", x=x, t=t)
    status, out, err = call(["lr-find", "--data", "blobs.npz", "--steps", "10", "--plot", "a.png"], capsys)
    assert status == 0, err
    assert "on blobs.npz: 72 train / 18 test" in out and "4-128-64-3 MLP" in out
    with open("blobs.csv", "w") as f:
        f.write("label,a,b,c,d\n" + "".join(f"{k},{','.join(map(str, r))}\n" for k, r in zip(t, x.reshape(90, 4))))
    status, out, err = call(["lr-find", "--data", "blobs.csv", "--target-column", "label", "--steps", "10",
                             "--plot", "b.png"], capsys)
    assert status == 0, err
    assert "target column 'label'" in out and "4-128-64-3 MLP" in out
