"""MNIST loaders: locate the IDX files, read and check them, shape the arrays.

Files are looked for, in this order, in

1. the ``path`` argument (and ``path/mnist``),
2. ``$LAYERGRAPH_DATA`` (and ``$LAYERGRAPH_DATA/mnist``),
3. the cache directory ``$XDG_CACHE_HOME/layergraph/mnist``
   (``~/.cache/layergraph/mnist`` when ``XDG_CACHE_HOME`` is unset),

and the first directory holding every needed file is used. Each file may be
gzip-compressed (``name.gz``) or raw (``name``).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ._common import check_flags, check_positive_int, prepare_images, prepare_labels
from .idx import read_idx

__all__ = [
    "MNIST_FILES",
    "MNISTNotFoundError",
    "cache_dir",
    "mnist_search_dirs",
    "find_mnist_files",
    "load_mnist",
    "load_mnist_test_split",
]

#: The four MNIST archives: size in bytes and checksums of the ``.gz`` files.
MNIST_FILES: dict[str, dict] = {
    "train-images-idx3-ubyte.gz": {
        "size": 9912422,
        "md5": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        "sha256": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    },
    "train-labels-idx1-ubyte.gz": {
        "size": 28881,
        "md5": "d53e105ee54ea40749a09fcbcd1e9432",
        "sha256": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    },
    "t10k-images-idx3-ubyte.gz": {
        "size": 1648877,
        "md5": "9fb629c4189551a2d022fa330f9573f3",
        "sha256": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    },
    "t10k-labels-idx1-ubyte.gz": {
        "size": 4542,
        "md5": "ec29112dd5afa0611ce80d1b7f02629c",
        "sha256": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
    },
}

_TRAIN = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte")
_TEST = ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
_FETCH_HINT = (
    "Get them with `layergraph data fetch mnist` (or `layergraph.data.fetch_mnist()`), "
    "which downloads them into {cache}, or put them in a directory and pass it as `path` "
    "or set LAYERGRAPH_DATA to it."
)


class MNISTNotFoundError(FileNotFoundError):
    """The MNIST files are in none of the places searched."""


def cache_dir() -> Path:
    """The layergraph cache directory.

    Returns
    -------
    pathlib.Path
        ``$XDG_CACHE_HOME/layergraph`` if ``XDG_CACHE_HOME`` is set to an absolute
        path, else ``~/.cache/layergraph``. It is not created.
    """
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    base = Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".cache"
    return base / "layergraph"


def mnist_search_dirs(path=None) -> list[tuple[Path, str]]:
    """Directories searched for the MNIST files, in order.

    Parameters
    ----------
    path : str or os.PathLike, optional
        A directory given by the caller; searched first.

    Returns
    -------
    list of (pathlib.Path, str)
        Each directory with a short note saying where it comes from.
    """
    dirs: list[tuple[Path, str]] = []
    if path is not None:
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"MNIST: path must be a str or os.PathLike, got {type(path).__name__}")
        p = Path(path).expanduser()
        dirs += [(p, "argument `path`"), (p / "mnist", "argument `path`")]
    env = os.environ.get("LAYERGRAPH_DATA", "")
    if env:
        e = Path(env).expanduser()
        dirs += [(e, "$LAYERGRAPH_DATA"), (e / "mnist", "$LAYERGRAPH_DATA")]
    dirs.append((cache_dir() / "mnist", "cache directory"))
    return dirs


def _file_in(directory: Path, base: str) -> Path | None:
    dotted = base.replace("-idx", ".idx")
    for name in (base + ".gz", base, dotted + ".gz", dotted):
        candidate = directory / name
        if candidate.is_file():
            return candidate
    return None


def find_mnist_files(path=None, *, splits=("train", "test")) -> dict[str, Path]:
    """Locate the MNIST IDX files.

    Parameters
    ----------
    path : str or os.PathLike, optional
        Directory searched first (see the module docstring for the order).
    splits : tuple of {"train", "test"}
        Which pairs of files are needed.

    Returns
    -------
    dict
        Base name (e.g. ``"t10k-images-idx3-ubyte"``) -> path of the file found,
        all from the same directory.

    Raises
    ------
    MNISTNotFoundError
        (a ``FileNotFoundError``) listing every directory searched, what was
        missing in each, and how to get the files.
    """
    needed: list[str] = []
    for split in splits:
        if split not in ("train", "test"):
            raise ValueError(f"find_mnist_files: splits must be 'train' or 'test', got {split!r}")
        needed += list(_TRAIN if split == "train" else _TEST)
    report = []
    test_only = None
    for directory, origin in mnist_search_dirs(path):
        if not directory.is_dir():
            report.append(f"  - {directory} ({origin}): no such directory")
            continue
        found = {base: _file_in(directory, base) for base in needed}
        missing = [base for base, f in found.items() if f is None]
        if not missing:
            return found  # type: ignore[return-value]
        if all(_file_in(directory, b) for b in _TEST):
            test_only = directory
        report.append(f"  - {directory} ({origin}): missing {', '.join(m + '[.gz]' for m in missing)}")
    lines = [f"MNIST files not found: need {', '.join(n + '[.gz]' for n in needed)}.", "Looked in:"]
    lines += report
    lines.append(_FETCH_HINT.format(cache=cache_dir() / "mnist"))
    if test_only is not None and "train" in splits:
        lines.append(
            f"Note: {test_only} holds the 10,000 test images only; "
            "load_mnist_test_split() splits them into train and validation sets."
        )
    raise MNISTNotFoundError("\n".join(lines))


def _read_pair(images_path: Path, labels_path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Read and cross-check one images file and one labels file."""
    images = read_idx(images_path)
    labels = read_idx(labels_path)
    if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != (28, 28):
        raise ValueError(
            f"MNIST images file {str(images_path)!r}: expected uint8 data of shape (N, 28, 28), "
            f"got {images.dtype} {images.shape}"
        )
    if labels.dtype != np.uint8 or labels.ndim != 1:
        raise ValueError(
            f"MNIST labels file {str(labels_path)!r}: expected uint8 data of shape (N,), "
            f"got {labels.dtype} {labels.shape}"
        )
    if labels.shape[0] != images.shape[0]:
        raise ValueError(
            f"MNIST count mismatch: {str(images_path)!r} holds {images.shape[0]} images but "
            f"{str(labels_path)!r} holds {labels.shape[0]} labels"
        )
    if labels.size and labels.max() > 9:
        raise ValueError(
            f"MNIST labels file {str(labels_path)!r}: labels must be 0..9, found {int(labels.max())}"
        )
    return images, labels


def _shape(images, labels, normalize, flatten, one_hot):
    x = prepare_images(images, scale=255.0, normalize=normalize, flatten=flatten, side=28)
    t = prepare_labels(labels, one_hot_labels=one_hot, n_classes=10)
    return x, t


def load_mnist(path=None, *, normalize=True, flatten=True, one_hot=False):
    """Load the MNIST training (60,000) and test (10,000) sets.

    Parameters
    ----------
    path : str or os.PathLike, optional
        Directory holding the four IDX files (searched first; then
        ``$LAYERGRAPH_DATA``, then the cache directory).
    normalize : bool, default True
        Return float32 pixels in [0, 1] (``x / 255``); else the uint8 values 0..255.
    flatten : bool, default True
        Images as rows of shape (N, 784); else (N, 1, 28, 28).
    one_hot : bool, default False
        Labels as float32 rows (N, 10); else int64 class indices (N,).

    Returns
    -------
    (x_train, t_train), (x_test, t_test) : tuple of tuples of numpy.ndarray
        ``x_train`` (60000, 784) and ``x_test`` (10000, 784) by default.

    Raises
    ------
    MNISTNotFoundError
        If no searched directory holds all four files; the message lists each place
        and how to get the files.
    ValueError
        If a file is corrupt or images and labels disagree.
    """
    check_flags("load_mnist", normalize=normalize, flatten=flatten, one_hot=one_hot)
    files = find_mnist_files(path, splits=("train", "test"))
    train = _read_pair(files[_TRAIN[0]], files[_TRAIN[1]])
    test = _read_pair(files[_TEST[0]], files[_TEST[1]])
    return (_shape(*train, normalize, flatten, one_hot),
            _shape(*test, normalize, flatten, one_hot))


def load_mnist_test_split(path=None, n_train=8000, *, normalize=True, flatten=True,
                          one_hot=False):
    """Split the 10,000 MNIST test images into a training and a validation set.

    For machines that hold only the ``t10k-*`` files: the first ``n_train``
    images (in file order) form the training set and the rest the validation set.
    The project's examples and benchmarks use the default 8,000 / 2,000 split.

    Parameters
    ----------
    path : str or os.PathLike, optional
        Directory holding ``t10k-images-idx3-ubyte[.gz]`` and
        ``t10k-labels-idx1-ubyte[.gz]`` (same search order as :func:`load_mnist`).
    n_train : int, default 8000
        Number of training images, ``1 <= n_train < N``.
    normalize, flatten, one_hot : bool
        As in :func:`load_mnist`.

    Returns
    -------
    (x_train, t_train), (x_val, t_val) : tuple of tuples of numpy.ndarray
        By default ``x_train`` (8000, 784) and ``x_val`` (2000, 784).

    Raises
    ------
    MNISTNotFoundError
        If the test files are not found.
    ValueError
        If ``n_train`` leaves an empty side, or a file is corrupt.
    """
    check_flags("load_mnist_test_split", normalize=normalize, flatten=flatten, one_hot=one_hot)
    n_train = check_positive_int(n_train, name="n_train", owner="load_mnist_test_split")
    files = find_mnist_files(path, splits=("test",))
    images, labels = _read_pair(files[_TEST[0]], files[_TEST[1]])
    n = images.shape[0]
    if n_train >= n:
        raise ValueError(
            f"load_mnist_test_split: n_train must be < {n} (the number of test images) so "
            f"the validation set is not empty, got {n_train}"
        )
    x, t = _shape(images, labels, normalize, flatten, one_hot)
    return (x[:n_train], t[:n_train]), (x[n_train:], t[n_train:])
