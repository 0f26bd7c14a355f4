"""Datasets as plain NumPy arrays: MNIST (IDX files), the shipped digits, toy 2-D sets.

Every loader returns ``(x_train, t_train), (x_test, t_test)``; the generators
return ``(x, t)``. See ``docs/data.md``.
"""

from ._common import one_hot
from .digits import DIGITS_PATH, load_digits
from .fetch import MNIST_MIRRORS, ChecksumError, DownloadError, fetch_mnist, verify_file
from .idx import IDX_TYPES, IDXFormatError, read_idx, write_idx
from .mnist import (
    MNIST_FILES,
    MNISTNotFoundError,
    cache_dir,
    find_mnist_files,
    load_mnist,
    load_mnist_test_split,
    mnist_search_dirs,
)
from .sequences import ADDING_BASELINE_MSE, adding_problem, sequential_digits
from .synthetic import make_circles, make_spiral, make_xor

__all__ = [
    "ADDING_BASELINE_MSE",
    "adding_problem",
    "sequential_digits",
    "ChecksumError",
    "DIGITS_PATH",
    "DownloadError",
    "IDXFormatError",
    "IDX_TYPES",
    "MNISTNotFoundError",
    "MNIST_FILES",
    "MNIST_MIRRORS",
    "cache_dir",
    "fetch_mnist",
    "find_mnist_files",
    "load_digits",
    "load_mnist",
    "load_mnist_test_split",
    "make_circles",
    "make_spiral",
    "make_xor",
    "mnist_search_dirs",
    "one_hot",
    "read_idx",
    "verify_file",
    "write_idx",
]
