"""`layergraph predict` and own data (`--data PATH.npz / .csv`), in-process on small budgets."""

import csv

import numpy as np
import pytest
from test_cli_errors import assert_one_line_error, call, workdir  # noqa: F401 (fixture)

from layergraph.train import load_checkpoint


def _softmax_of_mlp(ckpt_path, x):
    """Probabilities computed with plain NumPy from the saved weights of a ReLU MLP."""
    params = load_checkpoint(ckpt_path).params
    h = x.astype(np.float64)
    n = len([k for k in params if k.endswith(".W")])
    for i in range(1, n + 1):
        h = h @ params[f"fc{i}.W"] + params[f"fc{i}.b"]
        if i < n:
            h = np.maximum(h, 0.0)
    e = np.exp(h - h.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _blobs(n=120, seed=0):
    rng = np.random.default_rng(seed)
    t = rng.integers(0, 3, n)
    x = rng.normal(size=(n, 4)) + 3 * np.eye(3, 4)[t]
    return x.astype(np.float32), t


@pytest.fixture
def csv_run(workdir, capsys):
    x, t = _blobs()
    names = np.array(["setosa", "versicolor", "virginica"])
    with open("flowers.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["a", "species", "b", "c", "d"])
        for xi, ti in zip(x, t):
            w.writerow([xi[0], names[ti], *xi[1:]])
    status, out, err = call(["train", "--data", "flowers.csv", "--target-column", "species", "--epochs", "3",
                             "--out", "run", "-q"], capsys)
    assert status == 0, err
    return workdir, x, t


def test_csv_training_stores_class_names_and_predict_uses_them(csv_run, capsys):
    wd, x, t = csv_run
    ckpt = load_checkpoint(wd / "run" / "checkpoint.npz")
    assert ckpt.meta["class_names"] == ["setosa", "versicolor", "virginica"]
    assert ckpt.meta["feature_names"] == ["a", "b", "c", "d"]
    # predict on the training file itself: the target column is dropped, features picked by name
    status, out, err = call(["predict", str(wd / "run" / "checkpoint.npz"), "flowers.csv", "--proba",
                             "--out", "pred.csv"], capsys)
    assert status == 0, err
    assert "wrote 120 predictions to pred.csv" in out
    rows = list(csv.reader(open(wd / "pred.csv")))
    assert rows[0] == ["index", "label", "proba_setosa", "proba_versicolor", "proba_virginica"]
    proba = np.array([[float(v) for v in r[2:]] for r in rows[1:]])
    expected = _softmax_of_mlp(wd / "run" / "checkpoint.npz", x)
    np.testing.assert_allclose(proba, expected, rtol=1e-4, atol=1e-6)
    names = ["setosa", "versicolor", "virginica"]
    assert [r[1] for r in rows[1:]] == [names[i] for i in expected.argmax(axis=1)]
    assert [r[0] for r in rows[1:]] == [str(i) for i in range(120)]


def test_predict_reads_npy_and_npz_and_classes_file(csv_run, capsys):
    wd, x, _ = csv_run
    ckpt = str(wd / "run" / "checkpoint.npz")
    np.save("x.npy", x[:7])
    np.savez("x.npz", samples=x[:7])
    (wd / "classes.txt").write_text("A\nB\nC\n")
    expected = _softmax_of_mlp(ckpt, x[:7]).argmax(axis=1)
    status, out, err = call(["predict", ckpt, "x.npy", "--classes", "classes.txt"], capsys)
    assert status == 0, err
    lines = out.splitlines()
    assert lines[0] == "index,label" and [ln.split(",")[1] for ln in lines[1:]] == ["ABC"[i] for i in expected]
    status, out2, err = call(["predict", ckpt, "x.npz"], capsys)  # its only array
    assert status == 0, err
    assert [ln.split(",")[1] for ln in out2.splitlines()[1:]] == [["setosa", "versicolor", "virginica"][i]
                                                                  for i in expected]
    assert_one_line_error(*call(["predict", ckpt, "x.npz", "--key", "x"], capsys), "no key 'x'")
    np.save("bad.npy", x[:3, :3])
    assert_one_line_error(*call(["predict", ckpt, "bad.npy"], capsys), "samples have shape (3,) but the network")
    (wd / "two.txt").write_text("A\nB\n")
    assert_one_line_error(*call(["predict", ckpt, "x.npy", "--classes", "two.txt"], capsys), "names 2 classes")


def test_npz_data_with_test_set_and_errors_name_file_and_key(workdir, capsys):
    x, t = _blobs(100)
    np.savez("d.npz", x=x[:80], t=t[:80], x_test=x[80:], t_test=t[80:])
    status, out, err = call(["train", "--data", "d.npz", "--epochs", "2", "--out", "r", "-q"], capsys)
    assert status == 0, err
    assert "on 20 held-out samples" in out
    np.savez("nokey.npz", x=x, labels=t)
    assert_one_line_error(*call(["train", "--data", "nokey.npz"], capsys), "nokey.npz: no key 't'")
    bad = x.copy()
    bad[5, 1] = np.nan
    np.savez("nan.npz", x=bad, t=t)
    assert_one_line_error(*call(["train", "--data", "nan.npz"], capsys), "'x' holds NaN or infinite values")
    np.savez("neg.npz", x=x, t=t - 1)
    assert_one_line_error(*call(["train", "--data", "neg.npz"], capsys), "'t' holds the negative label -1")
    np.savez("half.npz", x=x, t=t, x_test=x)
    assert_one_line_error(*call(["train", "--data", "half.npz"], capsys), "give both 'x_test' and 't_test'")
    np.savez("obj.npz", x=np.array([{"a": 1}] * 3, dtype=object), t=t[:3])
    assert_one_line_error(*call(["train", "--data", "obj.npz"], capsys), "holds Python objects")
    assert_one_line_error(*call(["train", "--data", "missing.npz"], capsys), "missing.npz: no such file")


def test_csv_errors_name_line_and_column(workdir, capsys):
    (workdir / "bad.csv").write_text("f1,f2,label\n1,2,0\n3,oops,1\n")
    assert_one_line_error(*call(["train", "--data", "bad.csv"], capsys), "line 3, column 'f2' is 'oops'")
    (workdir / "ok.csv").write_text("f1,f2,label\n1,2,0\n3,4,1\n")
    assert_one_line_error(*call(["train", "--data", "ok.csv", "--target-column", "y"], capsys),
                          "no column 'y' (columns: f1, f2, label)")
    (workdir / "ragged.csv").write_text("1,2,0\n3,4\n")
    assert_one_line_error(*call(["train", "--data", "ragged.csv"], capsys), "line 2 has 2 cells, expected 3")
    np.savez("d.npz", x=np.zeros((10, 2)), t=np.zeros(10, int))
    assert_one_line_error(*call(["train", "--data", "d.npz", "--target-column", "x"], capsys),
                          "--target-column applies to .csv files only")


def test_truncated_npz_header_is_checked_before_allocation(workdir, capsys):
    import io
    import zipfile

    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": "<f4", "fortran_order": False, "shape": (20000, 20000)})
    header = buf.getvalue()
    with zipfile.ZipFile("huge.npz", "w") as z:
        z.writestr("x.npy", header + b"\0" * 64)
        z.writestr("t.npy", header + b"\0" * 64)
    assert_one_line_error(*call(["train", "--data", "huge.npz"], capsys), "declares shape (20000, 20000)")


def test_headerless_csv_training_file_can_be_predicted_with_its_label_column(workdir, capsys):
    x, t = _blobs(60, seed=1)
    np.savetxt("plain.csv", np.c_[x, t], delimiter=",", fmt="%.6g")
    assert call(["train", "--data", "plain.csv", "--epochs", "2", "--out", "p", "-q"], capsys)[0] == 0
    status, out, err = call(["predict", str(workdir / "p" / "checkpoint.npz"), "plain.csv"], capsys)
    assert status == 0, err
    x_read = np.loadtxt("plain.csv", delimiter=",")[:, :4]
    expected = _softmax_of_mlp(workdir / "p" / "checkpoint.npz", x_read).argmax(axis=1)
    assert [int(line.split(",")[1]) for line in out.splitlines()[1:]] == expected.tolist()
