"""The newcomer flow: the README's `layergraph train`, then `layergraph predict` on the checkpoint it saved, then a
convolutional preset on the real MNIST files with --data-dir (skipped when they are absent)."""

import numpy as np
import pytest
from conftest import MNIST_DIR
from test_cli_errors import call, workdir  # noqa: F401 (fixture)

from layergraph.data import load_digits
from layergraph.train import load_checkpoint


def test_readme_train_then_predict_then_convnet_on_mnist(workdir, capsys):
    status, out, err = call(["train"], capsys)  # exactly the README's command: 30 epochs on the digits
    assert status == 0, err
    (run,) = (workdir / "runs").iterdir()
    ckpt_path = run / "checkpoint.npz"
    acc = float(out.split("test accuracy: ")[1].split("%")[0])
    assert acc > 90.0

    (_, _), (xt, tt) = load_digits()
    np.save("new_digits.npy", xt[:50])
    status, out, err = call(["predict", str(ckpt_path), "new_digits.npy", "--out", "pred.csv"], capsys)
    assert status == 0, err
    lines = (workdir / "pred.csv").read_text().splitlines()
    assert lines[0] == "index,label" and len(lines) == 51
    labels = np.array([int(line.split(",")[1]) for line in lines[1:]])
    net = load_checkpoint(ckpt_path).build_network()
    np.testing.assert_array_equal(labels, net.predict_labels(xt[:50]))
    assert np.mean(labels == tt[:50]) > 0.8

    if not (MNIST_DIR / "t10k-images-idx3-ubyte.gz").is_file():
        pytest.skip(f"MNIST files not found in {MNIST_DIR}")
    status, out, err = call(["train", "--data", "mnist", "--data-dir", str(MNIST_DIR), "--arch", "convnet",
                             "--epochs", "1", "--limit", "600", "--out", "mnist", "-q"],
                            capsys)
    assert status == 0, err
    ckpt = load_checkpoint(workdir / "mnist" / "checkpoint.npz")
    assert ckpt.meta["input_shape"] == [1, 28, 28] and ckpt.meta["trainer"]["step"] == 19  # ceil(600 / 32)
    assert "on 600 held-out samples" in out
    acc = float(out.split("validation accuracy: ")[1].split("%")[0])
    assert acc > 30.0  # 19 steps of 32 images already learn well above chance (10%)
