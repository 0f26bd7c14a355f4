"""Users' data files read by the commands: .npz members checked before allocation, CSV headers, evaluate --all,
and show --input-shape sizes."""

import io
import struct
import tracemalloc
import zlib

import numpy as np
import pytest
from test_cli_data_labels import NAMES, _accuracy_line, _blobs, _mlp_labels, _write_csv
from test_cli_errors import assert_one_line_error, call, workdir  # noqa: F401 (fixture)

import layergraph as lg


def _npy_header(shape):
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": "<f4", "fortran_order": False, "shape": shape})
    return buf.getvalue()


def _lying_npz(path, members):
    """A zip archive whose central directory declares *declared* uncompressed bytes for each deflated member
    (zip64 sizes when needed): ``members`` is a list of ``(name, payload, declared or None)``."""
    out, central = io.BytesIO(), []
    for name, payload, declared in members:
        comp = zlib.compressobj(9, zlib.DEFLATED, -15)
        data = comp.compress(payload) + comp.flush()
        crc, offset, raw = zlib.crc32(payload), out.tell(), name.encode()
        out.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 45, 0, 8, 0, 0, crc, len(data), len(payload), len(raw), 0)
                  + raw + data)
        size = len(payload) if declared is None else declared
        extra, size32 = (struct.pack("<HHQ", 1, 8, size), 0xFFFFFFFF) if size >= 0xFFFFFFFF else (b"", size)
        central.append(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 45, 45, 0, 8, 0, 0, crc, len(data), size32,
                                   len(raw), len(extra), 0, 0, 0, 0, offset) + raw + extra)
    start = out.tell()
    directory = b"".join(central)
    out.write(directory + struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(directory),
                                      start, 0))
    with open(path, "wb") as f:
        f.write(out.getvalue())


def _bomb(path, shape, with_labels=False):
    payload = _npy_header(shape) + b"\0" * 256
    declared = len(_npy_header(shape)) + int(np.prod(shape, dtype=object)) * 4
    members = [("x.npy", payload, declared)]
    if with_labels:
        buf = io.BytesIO()
        np.lib.format.write_array(buf, np.zeros(10, np.int64))
        members.insert(0, ("t.npy", buf.getvalue(), None))
    _lying_npz(path, members)


@pytest.fixture
def flowers_run(workdir, capsys):
    x, t = _blobs()
    _write_csv("flowers.csv", x, [NAMES[k] for k in t])
    status, _, err = call(["train", "--data", "flowers.csv", "--epochs", "2", "--out", "run", "-q"], capsys)
    assert status == 0, err
    return str(workdir / "run" / "checkpoint.npz")


@pytest.mark.parametrize("command", ["predict", "train"])
def test_a_tiny_npz_declaring_terabytes_is_refused_before_allocation(flowers_run, capsys, command):
    _bomb("bomb.npz", (100_000_000_000, 64), with_labels=command == "train")
    argv = ["predict", flowers_run, "bomb.npz"] if command == "predict" else ["train", "--data", "bomb.npz"]
    assert_one_line_error(*call(argv, capsys), "bomb.npz: entry 'x.npy' declares 25600000000128 bytes in")


def test_a_declared_size_the_compressed_bytes_cannot_hold_is_never_allocated(flowers_run, capsys):
    _bomb("mid.npz", (25_000_000, 4))  # 400 MB declared in a few dozen compressed bytes
    tracemalloc.start()
    try:
        status, out, err = call(["predict", flowers_run, "mid.npz"], capsys)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert_one_line_error(status, out, err, "mid.npz: entry 'x.npy' declares 400000128 bytes in")
    assert peak < 50_000_000


def test_a_genuine_compressed_npz_still_loads(flowers_run, capsys):
    x, _ = _blobs(20, seed=3)
    np.savez_compressed("x.npz", x=np.repeat(x, 50, axis=0))
    status, out, err = call(["predict", flowers_run, "x.npz"], capsys)
    assert status == 0, err
    assert len(out.splitlines()) == 1 + 1000


def test_duplicate_column_names_are_refused(flowers_run, workdir, capsys):
    x, t = _blobs(30, seed=2)
    _write_csv("dup.csv", x, [NAMES[k] for k in t], header=("a", "a", "b", "c", "species"))
    for argv in (["predict", flowers_run, "dup.csv"], ["train", "--data", "dup.csv"]):
        assert_one_line_error(*call(argv, capsys), "dup.csv: line 1: the header names column 'a' twice (columns 0 "
                                                   "and 1)")


def test_train_says_when_the_first_row_is_read_as_a_header(workdir, capsys):
    x, t = _blobs()
    _write_csv("nohdr.csv", x, [NAMES[k] for k in t], header=None)
    status, out, err = call(["train", "--data", "nohdr.csv", "--epochs", "1", "--out", "n"], capsys)
    assert status == 0, err
    data_line = next(line for line in out.splitlines() if line.startswith("data: "))
    # 149 of the 150 rows are samples (the first is the header): 30 held out, 119 left to train on
    assert "119 train / 30 test" in data_line and "first row read as a header although it holds numbers" in data_line


def test_evaluate_all_scores_every_row_of_the_file(flowers_run, capsys):
    x, t = _blobs(107, seed=9)
    _write_csv("more.csv", x, [NAMES[k] for k in t])
    status, out, err = call(["evaluate", flowers_run, "--data", "more.csv", "--all"], capsys)
    assert status == 0, err
    assert "scored: all 107 rows of more.csv" in out
    assert _accuracy_line(out) == (int((_mlp_labels(flowers_run, x) == t).sum()), 107)
    status, out, err = call(["evaluate", flowers_run, "--data", "more.csv"], capsys)
    assert status == 0, err
    assert "test set: 21 samples (a fixed random 20% of the rows of more.csv" in out and "--all" in out


def test_show_refuses_an_absurd_input_shape_before_allocating(workdir, capsys):
    net = lg.Sequential(lg.Affine(4, 3, rng=0), loss=lg.SoftmaxWithLoss())
    lg.save_checkpoint("m.npz", net)
    assert_one_line_error(*call(["show", "m.npz", "--input-shape", "99999999999999"], capsys),
                          "--input-shape: 99999999999999 is 99,999,999,999,999 values per sample")
    status, out, err = call(["show", "m.npz", "--input-shape", "4"], capsys)
    assert status == 0 and "(N, 3)" in out, err
