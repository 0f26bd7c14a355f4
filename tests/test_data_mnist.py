"""MNIST loaders on small generated IDX files, and on the real test files when present."""

import gzip
import hashlib
from pathlib import Path

import numpy as np
import pytest

from layergraph.data import (
    MNISTNotFoundError,
    cache_dir,
    find_mnist_files,
    load_mnist,
    load_mnist_test_split,
)

from conftest import MNIST_DIR as REAL_MNIST
NAMES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch, tmp_path):
    """Never look at the real environment or the user's cache."""
    monkeypatch.delenv("LAYERGRAPH_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))


def ubyte_idx(arr):
    arr = np.asarray(arr, dtype=np.uint8)
    header = bytes([0, 0, 0x08, arr.ndim]) + b"".join(d.to_bytes(4, "big") for d in arr.shape)
    return header + arr.tobytes()


def make_fake_mnist(directory, *, n_train=30, n_test=12, seed=0, splits=("train", "test"),
                    compressed=True, label_offset=0):
    """Write random images and labels; return {split: (images, labels)}."""
    rng = np.random.default_rng(seed)
    directory.mkdir(parents=True, exist_ok=True)
    out = {}
    for split in splits:
        n = n_train if split == "train" else n_test
        images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        labels = ((np.arange(n) + label_offset) % 10).astype(np.uint8)
        for name, arr in zip(NAMES[split], (images, labels)):
            blob = ubyte_idx(arr)
            if compressed:
                (directory / (name + ".gz")).write_bytes(gzip.compress(blob))
            else:
                (directory / name).write_bytes(blob)
        out[split] = (images, labels)
    return out


def test_load_mnist_default_format(tmp_path):
    raw = make_fake_mnist(tmp_path / "m")
    (x_tr, t_tr), (x_te, t_te) = load_mnist(tmp_path / "m")
    for (x, t), split in (((x_tr, t_tr), "train"), ((x_te, t_te), "test")):
        images, labels = raw[split]
        n = images.shape[0]
        assert x.shape == (n, 784) and x.dtype == np.float32
        assert t.shape == (n,) and t.dtype == np.int64
        np.testing.assert_allclose(x, images.reshape(n, -1).astype(np.float64) / 255.0, rtol=1e-6)
        assert 0.0 <= x.min() and x.max() <= 1.0
        np.testing.assert_array_equal(t, labels)


def test_load_mnist_options(tmp_path):
    raw = make_fake_mnist(tmp_path, compressed=False)
    (x_tr, t_tr), (x_te, t_te) = load_mnist(tmp_path, normalize=False, flatten=False, one_hot=True)
    images, labels = raw["train"]
    assert x_tr.dtype == np.uint8 and x_tr.shape == (30, 1, 28, 28)
    np.testing.assert_array_equal(x_tr[:, 0], images)
    assert t_tr.shape == (30, 10) and t_tr.dtype == np.float32
    np.testing.assert_array_equal(t_tr, np.eye(10)[labels])
    assert x_te.shape == (12, 1, 28, 28) and t_te.shape == (12, 10)


def test_search_order_path_then_env_then_cache(tmp_path, monkeypatch):
    make_fake_mnist(tmp_path / "given", label_offset=1)
    make_fake_mnist(tmp_path / "env" / "mnist", label_offset=2)  # the mnist/ subdirectory
    make_fake_mnist(tmp_path / "xdg-cache" / "layergraph" / "mnist", label_offset=3)

    def first_label(**kw):
        (_, t), _ = load_mnist(**kw)
        return int(t[0])

    assert first_label() == 3  # only the cache
    monkeypatch.setenv("LAYERGRAPH_DATA", str(tmp_path / "env"))
    assert first_label() == 2  # the environment variable beats the cache
    assert first_label(path=tmp_path / "given") == 1  # the argument beats both
    assert first_label(path=str(tmp_path / "no-such-dir")) == 2  # falls through


def test_directory_must_hold_every_file(tmp_path, monkeypatch):
    # the test pair in one place and the train pair elsewhere are not mixed
    make_fake_mnist(tmp_path / "a", splits=("test",), label_offset=1)
    make_fake_mnist(tmp_path / "b", label_offset=4)
    monkeypatch.setenv("LAYERGRAPH_DATA", str(tmp_path / "b"))
    files = find_mnist_files(tmp_path / "a")
    assert {p.parent for p in files.values()} == {tmp_path / "b"}
    test_only = find_mnist_files(tmp_path / "a", splits=("test",))
    assert {p.parent for p in test_only.values()} == {tmp_path / "a"}


def test_cache_dir_honours_xdg(tmp_path, monkeypatch):
    assert cache_dir() == tmp_path / "xdg-cache" / "layergraph"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/path")  # ignored by the XDG spec
    assert cache_dir() == Path.home() / ".cache" / "layergraph"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert cache_dir() == Path.home() / ".cache" / "layergraph"


def test_missing_files_message_lists_every_place(tmp_path, monkeypatch):
    env_dir = tmp_path / "env"
    env_dir.mkdir()
    monkeypatch.setenv("LAYERGRAPH_DATA", str(env_dir))
    given = tmp_path / "given"
    with pytest.raises(MNISTNotFoundError) as info:
        load_mnist(given)
    assert isinstance(info.value, FileNotFoundError)
    msg = str(info.value)
    for place in (given, given / "mnist", env_dir, env_dir / "mnist",
                  tmp_path / "xdg-cache" / "layergraph" / "mnist"):
        assert f"{place} (" in msg
    assert "layergraph data fetch mnist" in msg
    assert "train-images-idx3-ubyte" in msg and "t10k-labels-idx1-ubyte" in msg


def test_test_only_directory(tmp_path):
    raw = make_fake_mnist(tmp_path, splits=("test",), n_test=25)
    with pytest.raises(MNISTNotFoundError, match="load_mnist_test_split"):
        load_mnist(tmp_path)
    (x_tr, t_tr), (x_va, t_va) = load_mnist_test_split(tmp_path, n_train=20)
    images, labels = raw["test"]
    assert x_tr.shape == (20, 784) and x_va.shape == (5, 784)
    np.testing.assert_allclose(x_tr, images[:20].reshape(20, -1) / 255.0, rtol=1e-6)
    np.testing.assert_allclose(x_va, images[20:].reshape(5, -1) / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(t_tr, labels[:20])
    np.testing.assert_array_equal(t_va, labels[20:])


@pytest.mark.parametrize("n_train", [0, 25, 26])
def test_split_sizes_must_leave_both_sides(tmp_path, n_train):
    make_fake_mnist(tmp_path, splits=("test",), n_test=25)
    with pytest.raises(ValueError, match="n_train"):
        load_mnist_test_split(tmp_path, n_train=n_train)


def test_bad_argument_types(tmp_path):
    make_fake_mnist(tmp_path)
    with pytest.raises(TypeError, match="normalize"):
        load_mnist(tmp_path, normalize="yes")
    with pytest.raises(TypeError, match="n_train"):
        load_mnist_test_split(tmp_path, n_train=8000.0)
    with pytest.raises(TypeError, match="path"):
        load_mnist(42)


def _rewrite(directory, name, arr):
    (directory / (name + ".gz")).write_bytes(gzip.compress(ubyte_idx(arr)))


def test_count_mismatch_names_both_files(tmp_path):
    raw = make_fake_mnist(tmp_path)
    _rewrite(tmp_path, "train-labels-idx1-ubyte", raw["train"][1][:-1])
    with pytest.raises(ValueError, match="30 images.*29 labels") as info:
        load_mnist(tmp_path)
    assert "train-images-idx3-ubyte.gz" in str(info.value)
    assert "train-labels-idx1-ubyte.gz" in str(info.value)


def test_wrong_image_size_and_label_range(tmp_path):
    raw = make_fake_mnist(tmp_path)
    _rewrite(tmp_path, "t10k-images-idx3-ubyte", np.zeros((12, 27, 28)))
    with pytest.raises(ValueError, match=r"\(N, 28, 28\).*\(12, 27, 28\)"):
        load_mnist(tmp_path)
    _rewrite(tmp_path, "t10k-images-idx3-ubyte", raw["test"][0])
    _rewrite(tmp_path, "t10k-labels-idx1-ubyte", np.full(12, 10))
    with pytest.raises(ValueError, match="0..9, found 10"):
        load_mnist(tmp_path)


def test_corrupt_file_error_reaches_the_caller(tmp_path):
    make_fake_mnist(tmp_path)
    path = tmp_path / "train-images-idx3-ubyte.gz"
    blob = gzip.decompress(path.read_bytes())
    path.write_bytes(gzip.compress(blob[:-10]))
    with pytest.raises(ValueError, match="truncated") as info:
        load_mnist(tmp_path)
    assert str(path) in str(info.value)


# ---------------------------------------------------------------- real files

needs_real = pytest.mark.skipif(
    not (REAL_MNIST / "t10k-images-idx3-ubyte.gz").is_file(),
    reason=f"real MNIST test files not present in {REAL_MNIST}",
)


@needs_real
def test_real_files_checksums():
    def md5(name):
        return hashlib.md5((REAL_MNIST / name).read_bytes()).hexdigest()

    assert md5("t10k-images-idx3-ubyte.gz") == "9fb629c4189551a2d022fa330f9573f3"
    assert md5("t10k-labels-idx1-ubyte.gz") == "ec29112dd5afa0611ce80d1b7f02629c"


@needs_real
def test_real_test_split():
    (x_tr, t_tr), (x_va, t_va) = load_mnist_test_split(REAL_MNIST)
    assert x_tr.shape == (8000, 784) and x_va.shape == (2000, 784)
    assert x_tr.dtype == np.float32 and t_tr.dtype == np.int64
    assert 0.0 <= x_tr.min() and x_tr.max() == 1.0
    # the first test labels of MNIST are well known: 7 2 1 0 4 1 4 9 5 9
    np.testing.assert_array_equal(t_tr[:10], [7, 2, 1, 0, 4, 1, 4, 9, 5, 9])
    # every digit occurs in both parts, roughly a tenth each
    for t in (t_tr, t_va):
        counts = np.bincount(t, minlength=10)
        assert counts.min() > 0.07 * t.size and counts.max() < 0.13 * t.size
    # the pixels are the raw bytes / 255, in file order
    blob = gzip.decompress((REAL_MNIST / "t10k-images-idx3-ubyte.gz").read_bytes())
    raw = np.frombuffer(blob, dtype=np.uint8, offset=16).reshape(10000, 784)
    np.testing.assert_allclose(x_va, raw[8000:] / 255.0, rtol=1e-6)
    (x_img, _), _ = load_mnist_test_split(REAL_MNIST, flatten=False, normalize=False)
    assert x_img.shape == (8000, 1, 28, 28) and x_img.dtype == np.uint8
    np.testing.assert_array_equal(x_img.reshape(8000, 784), raw[:8000])


@needs_real
def test_real_directory_lacks_training_files():
    with pytest.raises(MNISTNotFoundError, match="load_mnist_test_split"):
        load_mnist(REAL_MNIST)
