"""Fixes of a review of the commands' data handling: 0-byte dtypes never allocated, outputs never over their
inputs, resumed runs keep their classes, evaluate picks CSV columns as predict does, integer labels spelled alike
in .csv and .npz files, the shared data options, and output paths checked before the work."""

import io
import subprocess
import zipfile

import numpy as np
import pytest
from test_cli_data_labels import NAMES, _accuracy_line, _blobs, _mlp_labels, _write_csv
from test_cli_errors import assert_one_line_error, call, workdir  # noqa: F401 (fixture)

import layergraph as lg
from layergraph.train import CheckpointError, load_checkpoint
from layergraph.train.checkpoint_validate import Archive

HUGE = (10 ** 13,)  # elements: allocating one byte each would take 10 TB


def _header_only(descr, shape):
    """The bytes of a .npy file whose header declares *descr* and *shape* and which holds no data."""
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": descr, "fortran_order": False, "shape": shape})
    return buf.getvalue()


def _npy(array):
    buf = io.BytesIO()
    np.lib.format.write_array(buf, array)
    return buf.getvalue()


def _zip(path, members):
    with zipfile.ZipFile(path, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)


def _run(argv, capsys):
    status, out, err = call(argv, capsys)
    assert status == 0, err
    return out


@pytest.fixture
def flowers_run(workdir, capsys):
    x, t = _blobs()
    _write_csv("flowers.csv", x, [NAMES[k] for k in t])
    _run(["train", "--data", "flowers.csv", "--epochs", "3", "--out", "run", "-q"], capsys)
    return "run/checkpoint.npz"


# -- 1. dtypes of 0 bytes per element -----------------------------------------------------------------------------

@pytest.mark.parametrize("descr", ["<U0", "|S0", "|V0"])
def test_a_zero_byte_dtype_in_an_npz_is_refused_before_allocation(workdir, capsys, descr):
    x, t = _blobs(10)
    _zip("cn.npz", {"x.npy": _npy(x), "t.npy": _npy(t), "class_names.npy": _header_only(descr, HUGE)})
    assert_one_line_error(*call(["train", "--data", "cn.npz", "--epochs", "1"], capsys),
                          f"cn.npz: entry 'class_names.npy' declares shape (10000000000000,) of dtype {descr}, "
                          "0 bytes per element")


def test_a_zero_byte_dtype_is_refused_in_predict_input(flowers_run, capsys):
    _zip("key.npz", {"x.npy": _header_only("|S0", (10 ** 12, 4))})
    assert_one_line_error(*call(["predict", flowers_run, "key.npz"], capsys), "key.npz: entry 'x.npy' declares")
    with open("s0.npy", "wb") as f:
        f.write(_header_only("|S0", (10 ** 12, 4)))
    assert_one_line_error(*call(["predict", flowers_run, "s0.npy"], capsys),
                          "s0.npy: the array declares shape (1000000000000, 4) of dtype |S0, 0 bytes per element")


def test_the_checkpoint_reader_refuses_a_zero_byte_dtype_on_opening(workdir):
    _zip("ck.npz", {"params/fc1.W.npy": _header_only("|V0", HUGE)})
    with pytest.raises(CheckpointError, match=r"entry 'params/fc1.W.npy' declares .* 0 bytes per element"):
        Archive("ck.npz")  # before any entry is read (reading it would allocate 10 TB)


# -- 2. show never writes over the checkpoint it reads ------------------------------------------------------------

def _tiny_checkpoint(path):
    net = lg.Sequential(lg.Affine(4, 3, rng=0), loss=lg.SoftmaxWithLoss())
    lg.save_checkpoint(path, net, input_shape=[4])
    with open(path, "rb") as f:
        return f.read()


@pytest.fixture
def fake_dot(monkeypatch):
    """Graphviz's dot, as show_cmd calls it, writing b'PNG'."""
    monkeypatch.setattr("shutil.which", lambda name: "/usr/bin/dot")
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: subprocess.CompletedProcess(a, 0, b"PNG", b""))


@pytest.mark.parametrize("fmt", ["text", "dot", "png"])
def test_show_refuses_to_write_over_its_checkpoint(workdir, capsys, fake_dot, fmt):
    before = _tiny_checkpoint("s.npz")
    assert_one_line_error(*call(["show", "s.npz", "--format", fmt, "--out", "s.npz"], capsys),
                          "--out s.npz: is the CHECKPOINT this command reads")
    with open("s.npz", "rb") as f:
        assert f.read() == before


def test_show_png_default_is_never_the_checkpoint(workdir, capsys, fake_dot):
    before = _tiny_checkpoint("net.png")
    out = _run(["show", "net.png", "--format", "png"], capsys)
    assert "wrote net.png.png" in out
    with open("net.png", "rb") as f, open("net.png.png", "rb") as g:
        assert f.read() == before and g.read() == b"PNG"


# -- 3. --resume keeps the checkpoint's classes --------------------------------------------------------------------

def test_resume_maps_labels_to_the_saved_classes_and_refuses_unknown_ones(workdir, capsys):
    x, t = _blobs(300)
    np.savez("ren.npz", x=x, t=np.array([10, 20, 30])[t])
    _run(["train", "--data", "ren.npz", "--epochs", "2", "--out", "r", "-q"], capsys)
    np.savez("ren2.npz", x=x, t=np.array([40, 20, 30])[t])
    first = int(np.argmax(t == 0))
    assert_one_line_error(*call(["train", "--resume", "r/checkpoint.npz", "--data", "ren2.npz", "--epochs", "3",
                                 "--out", "r2"], capsys),
                          f"ren2.npz: 't' holds the label 40 (index {first}), which is not a class of "
                          "r/checkpoint.npz (its classes: 10, 20, 30)")
    keep = t > 0  # only classes 20 and 30: still the checkpoint's classes 1 and 2
    np.savez("sub.npz", x=x[keep], t=np.array([10, 20, 30])[t[keep]])
    _run(["train", "--resume", "r/checkpoint.npz", "--data", "sub.npz", "--epochs", "3", "--out", "r3", "-q"], capsys)
    assert load_checkpoint("r3/checkpoint.npz").meta["class_names"] == ["10", "20", "30"]


# -- 4. evaluate picks CSV columns as predict does ----------------------------------------------------------------

def test_evaluate_picks_the_feature_columns_by_name(flowers_run, capsys):
    x, t = _blobs(60, seed=4)
    _write_csv("reordered.csv", x[:, ::-1], [NAMES[k] for k in t], header=("d", "c", "b", "a", "species"))
    out = _run(["evaluate", flowers_run, "--data", "reordered.csv", "--all"], capsys)
    assert _accuracy_line(out) == (int((_mlp_labels(flowers_run, x) == t).sum()), 60)
    predicted = _run(["predict", flowers_run, "reordered.csv"], capsys).splitlines()[1:]
    assert [line.split(",")[1] for line in predicted] == [NAMES[k] for k in _mlp_labels(flowers_run, x)]


def test_evaluate_uses_the_saved_target_column_on_another_file(workdir, capsys):
    header = ("species", "a", "b", "c", "d")
    x, t = _blobs()
    rows = [[NAMES[k], *row] for row, k in zip(x.tolist(), t)]
    for name, part in (("train.csv", rows), ("other.csv", rows[:40])):
        with open(name, "w") as f:
            f.write(",".join(header) + "\n" + "".join(",".join(map(str, r)) + "\n" for r in part))
    _run(["train", "--data", "train.csv", "--target-column", "species", "--epochs", "2", "--out", "lf", "-q"], capsys)
    out = _run(["evaluate", "lf/checkpoint.npz", "--data", "other.csv", "--all"], capsys)
    assert "(target column 'species')" in out
    assert _accuracy_line(out) == (int((_mlp_labels("lf/checkpoint.npz", x[:40]) == t[:40]).sum()), 40)


# -- 5. integer labels: the same classes from .csv and .npz --------------------------------------------------------

def test_integer_codes_are_the_same_classes_in_csv_and_npz(workdir, capsys):
    codes = ["007", "042", "100"]
    x, t = _blobs(300)
    _write_csv("codes.csv", x, [codes[k] for k in t], header=("a", "b", "c", "d", "code"))
    np.savez("codes.npz", x=x, t=np.array([codes[k] for k in t]))
    for data, run in (("codes.csv", "c1"), ("codes.npz", "c2")):
        _run(["train", "--data", data, "--epochs", "2", "--out", run, "-q"], capsys)
        assert load_checkpoint(f"{run}/checkpoint.npz").meta["class_names"] == codes
    for run, other in (("c1", "codes.npz"), ("c2", "codes.csv")):
        out = _run(["evaluate", f"{run}/checkpoint.npz", "--data", other, "--all"], capsys)
        assert "classes: 0 = 007, 1 = 042, 2 = 100" in out
    np.savez("plain.npz", x=x, t=np.array([7, 42, 100])[t])  # numbers: the same classes as '007', '042', '100'
    out = _run(["evaluate", "c1/checkpoint.npz", "--data", "plain.npz", "--all"], capsys)
    assert _accuracy_line(out) == (int((_mlp_labels("c1/checkpoint.npz", x) == t).sum()), 300)


# -- 6. evaluate takes the shared data options ---------------------------------------------------------------------

def test_evaluate_checks_its_data_options(flowers_run, workdir, capsys):
    assert_one_line_error(*call(["evaluate", flowers_run, "--data", "digits", "--data-dir", "nowhere"], capsys),
                          "--data-dir applies to --data mnist only, not --data digits")
    (workdir / "d.npz").mkdir()
    status, _, err = call(["evaluate", flowers_run, "--data", "d.npz"], capsys)
    assert status == 2 and "'d.npz' is a directory, not a .npz / .csv file" in err


# -- lesser ---------------------------------------------------------------------------------------------------------

def test_output_paths_are_checked_first_and_named_by_their_option(flowers_run, workdir, capsys):
    (workdir / "outdir").mkdir()
    assert_one_line_error(*call(["predict", flowers_run, "flowers.csv", "--out", "outdir"], capsys),
                          "--out outdir: is a directory")
    status, out, err = call(["lr-find", "--data", "flowers.csv", "--steps", "5", "--plot", "no/such/p.png"], capsys)
    assert_one_line_error(status, out, err, "--plot no/such/p.png: no such directory")
    assert out == ""  # refused before the range test ran


def test_a_float_label_of_two_to_the_63_is_refused(workdir, capsys):
    x, _ = _blobs(21)
    np.savez("big.npz", x=x, t=np.array([0.0, 1.0] * 10 + [2.0 ** 63]))
    assert_one_line_error(*call(["train", "--data", "big.npz", "--epochs", "1"], capsys),
                          "big.npz: 't' holds the label 9223372036854775808, larger than any class index")


def test_integer_labels_for_named_classes_are_indices_in_range():
    from layergraph.data.class_labels import DataFileError, KnownClasses, Part, encode_labels

    known = KnownClasses(["a", "b", "c"], "m.npz", 3)
    with pytest.raises(DataFileError, match=r"holds the label 7 \(index 2\), which is not a class of m.npz"):
        encode_labels("f.npz", [Part("'t'", np.array([0, 1, 7]))], known=known)
    (codes,), names, _ = encode_labels("f.npz", [Part("'t'", np.array([2, 0, 1]))], known=known)
    assert codes.tolist() == [2, 0, 1] and names == ["a", "b", "c"]
