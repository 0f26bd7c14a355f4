"""`predict` and `export` around their files: outputs never replace inputs, sample shapes are checked rather than
reshaped into another layout, and errors about files name the option and say what is wrong."""

import numpy as np
import pytest
from test_cli_errors import assert_one_line_error, call, workdir  # noqa: F401 (fixture)

import layergraph as lg


@pytest.fixture
def image_ckpt(workdir):
    """A checkpoint of a network trained (as recorded) on (3, 8, 8) images, and the network itself."""
    net = lg.Sequential([("flat", lg.Flatten()), ("fc", lg.Affine(192, 4, rng=0))], loss=lg.SoftmaxWithLoss())
    lg.save_checkpoint("img.npz", net, input_shape=[3, 8, 8], num_classes=4)
    return "img.npz", net


def _labels(out):
    return [int(line.split(",")[1]) for line in out.splitlines()[1:]]


def test_channels_last_images_are_refused_not_reshaped(image_ckpt, capsys):
    path, net = image_ckpt
    x = np.random.default_rng(0).normal(size=(6, 3, 8, 8)).astype(np.float32)
    np.save("nhwc.npy", x.transpose(0, 2, 3, 1))
    status, out, err = call(["predict", path, "nhwc.npy"], capsys)
    assert_one_line_error(status, out, err, "nhwc.npy: samples have shape (8, 8, 3) but the network takes (3, 8, 8)")
    np.save("other.npy", x.reshape(6, 12, 16))  # the right number of values in another layout
    assert_one_line_error(*call(["predict", path, "other.npy"], capsys), "samples have shape (12, 16)")
    expected = net.predict_labels(x).tolist()
    for name, arr in (("nchw.npy", x), ("flat.npy", x.reshape(6, 192))):
        np.save(name, arr)
        status, out, err = call(["predict", path, name], capsys)
        assert status == 0, err
        assert _labels(out) == expected


def test_predict_out_never_replaces_an_input(workdir, image_ckpt, capsys):
    path, _ = image_ckpt
    np.save("x.npy", np.zeros((2, 192), dtype=np.float32))
    (workdir / "names.txt").write_text("a\nb\nc\nd\n")
    inputs = {name: (workdir / name).read_bytes() for name in (path, "x.npy", "names.txt")}
    for out, what in ((path, "CHECKPOINT"), ("./x.npy", "INPUT"), ("names.txt", "--classes file")):
        status, stdout, err = call(["predict", path, "x.npy", "--classes", "names.txt", "--out", out], capsys)
        assert_one_line_error(status, stdout, err, f"--out {out}: is the {what}")
    assert {name: (workdir / name).read_bytes() for name in inputs} == inputs
    (workdir / "sub").mkdir()
    (workdir / "sub" / "link.npz").symlink_to(workdir / path)
    assert_one_line_error(*call(["predict", path, "x.npy", "--out", "sub/link.npz"], capsys), "is the CHECKPOINT")
    assert (workdir / path).read_bytes() == inputs[path]
    status, out, err = call(["predict", path, "x.npy", "--out", "pred.csv"], capsys)
    assert status == 0, err
    assert (workdir / "pred.csv").read_text().splitlines()[0] == "index,label"


def test_export_never_writes_over_its_checkpoint(workdir, image_ckpt, capsys):
    path, _ = image_ckpt
    before = (workdir / path).read_bytes()
    assert_one_line_error(*call(["export", path, str(workdir / path)], capsys), "is the CHECKPOINT")
    assert (workdir / path).read_bytes() == before


def test_file_errors_name_the_option_and_the_problem(workdir, image_ckpt, capsys):
    path, _ = image_ckpt
    np.save("x.npy", np.zeros((2, 192), dtype=np.float32))
    status, out, err = call(["predict", path, "x.npy", "--classes", "nonexist.txt"], capsys)
    assert_one_line_error(status, out, err, "--classes nonexist.txt: no such file")
    assert "Errno" not in err
    (workdir / "dir.csv").mkdir()
    assert_one_line_error(*call(["predict", path, "dir.csv"], capsys), "dir.csv: is a directory")
    assert_one_line_error(*call(["train", "--data", "dir.csv"], capsys), "'dir.csv' is a directory")
    assert_one_line_error(*call(["predict", path, "x.npy", "--key", "x"], capsys),
                          "--key applies to .npz input only, not x.npy")
