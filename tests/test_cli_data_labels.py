"""How the labels of users' .npz / .csv files become classes: evaluate maps them through the checkpoint's classes,
integer labels are checked (or renumbered) before anything is sized by them, CSV label cells are parsed as numbers
consistently and refused when they cannot be class labels."""

import csv
import re

import numpy as np
import pytest
from test_cli_errors import assert_one_line_error, call, workdir  # noqa: F401 (fixture)
from test_cli_predict import _softmax_of_mlp

from layergraph.train import load_checkpoint

NAMES = ["setosa", "versicolor", "virginica"]


def _blobs(n=150, seed=0, classes=3):
    rng = np.random.default_rng(seed)
    t = rng.integers(0, classes, n)
    x = rng.normal(size=(n, 4)) + 3 * np.eye(classes, 4)[t]
    return x.round(3).astype(np.float32), t


def _mlp_labels(ckpt_path, x):
    """Arg-max classes of a saved ReLU MLP, from the probabilities computed with plain NumPy from its weights."""
    return _softmax_of_mlp(ckpt_path, x).argmax(axis=1)


def _write_csv(path, x, labels, header=("a", "b", "c", "d", "species")):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        if header:
            w.writerow(header)
        w.writerows([[*row, lab] for row, lab in zip(x.tolist(), labels)])


def _accuracy_line(out):
    m = re.search(r"accuracy: [\d.]+% \((\d+) of (\d+) correct\)", out)
    assert m, out
    return int(m.group(1)), int(m.group(2))


@pytest.fixture
def flowers_run(workdir, capsys):
    """A run trained on a CSV file with the string labels setosa / versicolor / virginica."""
    x, t = _blobs()
    _write_csv("flowers.csv", x, [NAMES[k] for k in t])
    status, _, err = call(["train", "--data", "flowers.csv", "--epochs", "3", "--out", "run", "-q"], capsys)
    assert status == 0, err
    return str(workdir / "run" / "checkpoint.npz")


def test_evaluate_maps_string_labels_through_the_checkpoint_classes(flowers_run, capsys):
    x, t = _blobs(60, seed=5)
    keep = t > 0  # no 'setosa' rows: the file's own sorted names would number versicolor 0
    x, t = x[keep], t[keep]
    np.savez("sub.npz", x=x[:10], t=np.array([NAMES[k] for k in t[:10]]), x_test=x[10:],
             t_test=np.array([NAMES[k] for k in t[10:]]))
    status, out, err = call(["evaluate", flowers_run, "--data", "sub.npz"], capsys)
    assert status == 0, err
    expected = int((_mlp_labels(flowers_run, x[10:]) == t[10:]).sum())
    assert _accuracy_line(out) == (expected, len(t) - 10)
    assert "1 = versicolor" in out


def test_evaluate_refuses_a_label_the_checkpoint_does_not_know(flowers_run, capsys):
    x, t = _blobs(30, seed=6)
    labels = [NAMES[k] for k in t]
    labels[7] = "daisy"
    _write_csv("other.csv", x, labels)
    assert_one_line_error(*call(["evaluate", flowers_run, "--data", "other.csv"], capsys),
                          "other.csv: column 'species' holds the label 'daisy' (line 9), which is not a class of")


def test_sparse_integer_labels_are_renumbered_and_named_by_their_values(workdir, capsys):
    x, t = _blobs()
    _write_csv("gap.csv", x, [100 * k for k in t])
    status, out, err = call(["train", "--data", "gap.csv", "--epochs", "2", "--out", "g"], capsys)
    assert status == 0, err
    assert "labels 0, 100, 200 are not 0..2" in out
    meta = load_checkpoint(workdir / "g" / "checkpoint.npz").meta
    assert meta["num_classes"] == 3 and meta["class_names"] == ["0", "100", "200"]
    status, out, err = call(["predict", str(workdir / "g" / "checkpoint.npz"), "gap.csv"], capsys)
    assert status == 0, err
    expected = _mlp_labels(workdir / "g" / "checkpoint.npz", x)
    assert [line.split(",")[1] for line in out.splitlines()[1:]] == [str(100 * k) for k in expected]


def test_a_huge_label_is_not_allocated_as_classes(workdir, capsys):
    x, t = _blobs()
    t[3] = 10 ** 9
    np.savez("huge_label.npz", x=x, t=t)
    status, out, err = call(["train", "--data", "huge_label.npz", "--epochs", "1", "--out", "h"], capsys)
    assert status == 0, err
    assert "labels 0, 1, 2, 1000000000 are not 0..3" in out
    assert load_checkpoint(workdir / "h" / "checkpoint.npz").meta["num_classes"] == 4


def test_a_test_label_unknown_to_the_training_labels_is_refused(workdir, capsys):
    x, t = _blobs()
    tt = t[120:].copy()
    tt[4] = 7
    np.savez("oor.npz", x=x[:120], t=t[:120], x_test=x[120:], t_test=tt)
    assert_one_line_error(*call(["train", "--data", "oor.npz", "--out", "o"], capsys),
                          "'t_test' holds the label 7 (index 4), which no sample of 't' has (its classes: 0, 1, 2)")


def test_numeric_csv_labels_are_parsed_as_numbers(workdir, capsys):
    x, t = _blobs()
    _write_csv("mixed.csv", x, [f"{k}.0" if i % 2 else str(k) for i, k in enumerate(t)])
    status, _, err = call(["train", "--data", "mixed.csv", "--epochs", "1", "--out", "m", "-q"], capsys)
    assert status == 0, err
    meta = load_checkpoint(workdir / "m" / "checkpoint.npz").meta
    assert meta["num_classes"] == 3 and "class_names" not in meta


def test_a_continuous_target_is_refused(workdir, capsys):
    x, _ = _blobs()
    _write_csv("regress.csv", x, (x @ [1.5, -2.0, 0.7, 3.1]).round(4))
    assert_one_line_error(*call(["train", "--data", "regress.csv"], capsys),
                          "regress.csv: column 'species' looks like a continuous target")


def test_integer_labels_with_fewer_than_two_samples_per_class_are_refused(workdir, capsys):
    x, _ = _blobs(40)
    _write_csv("ids.csv", x, range(40))
    assert_one_line_error(*call(["train", "--data", "ids.csv"], capsys),
                          "column 'species' holds 40 different labels for 40 samples")


def test_a_single_class_is_refused(workdir, capsys):
    x, _ = _blobs(40)
    _write_csv("one.csv", x, ["a"] * 40)
    assert_one_line_error(*call(["train", "--data", "one.csv"], capsys),
                          "one.csv: every label of column 'species' is 'a': a classifier needs at least two classes")
    assert not (workdir / "runs").exists()


def test_a_label_that_is_not_a_number_among_numbers_names_its_line(workdir, capsys):
    x, t = _blobs(40)
    labels = [str(k) for k in t]
    labels[5] = "\u00b2"  # superscript two: str.isdigit() is True, int() refuses it
    _write_csv("sup.csv", x, labels)
    assert_one_line_error(*call(["train", "--data", "sup.csv"], capsys),
                          "sup.csv: line 7, column 'species': the label '\u00b2' is not a number")
