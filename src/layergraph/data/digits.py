"""The UCI handwritten digits (8x8, 1,797 samples), shipped inside the package.

Source: "Optical Recognition of Handwritten Digits" (E. Alpaydin, C. Kaynak, 1998),
UCI Machine Learning Repository, CC BY 4.0. ``digits.npz`` was made from the
source CSV by ``layergraph/data/_make_digits.py`` and stores the fixed train/test split.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ._common import check_flags, prepare_images, prepare_labels

__all__ = ["DIGITS_PATH", "load_digits"]

#: Location of the shipped data file.
DIGITS_PATH = Path(__file__).with_name("digits.npz")


def _read_npz(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    with np.load(path, allow_pickle=False) as npz:
        try:
            images, labels, is_test = npz["images"], npz["labels"], npz["is_test"]
        except KeyError as exc:
            raise ValueError(
                f"digits file {str(path)!r}: missing array {exc}; expected images, labels, is_test"
            ) from None
    n = images.shape[0]
    if (images.dtype != np.uint8 or images.shape != (n, 64) or labels.dtype != np.uint8
            or labels.shape != (n,) or is_test.dtype != np.bool_ or is_test.shape != (n,)):
        raise ValueError(
            f"digits file {str(path)!r}: expected images uint8 (N, 64), labels uint8 (N,), "
            f"is_test bool (N,); got {images.dtype} {images.shape}, {labels.dtype} "
            f"{labels.shape}, {is_test.dtype} {is_test.shape}"
        )
    return images, labels, is_test


def load_digits(*, normalize=True, flatten=True, one_hot=False):
    """Load the shipped 8x8 handwritten digits with their fixed train/test split.

    The split is stratified by class: 1,437 training and 360 test samples, each
    side in the original file order (see ``docs/data.md``).

    Parameters
    ----------
    normalize : bool, default True
        Return float32 pixels in [0, 1] (``x / 16``); else the uint8 values 0..16.
    flatten : bool, default True
        Images as rows of shape (N, 64); else (N, 1, 8, 8).
    one_hot : bool, default False
        Labels as float32 rows (N, 10); else int64 class indices (N,).

    Returns
    -------
    (x_train, t_train), (x_test, t_test) : tuple of tuples of numpy.ndarray
        By default ``x_train`` float32 (1437, 64), ``t_train`` int64 (1437,),
        ``x_test`` float32 (360, 64), ``t_test`` int64 (360,).
    """
    check_flags("load_digits", normalize=normalize, flatten=flatten, one_hot=one_hot)
    images, labels, is_test = _read_npz(DIGITS_PATH)
    out = []
    for mask in (~is_test, is_test):
        x = prepare_images(images[mask], scale=16.0, normalize=normalize, flatten=flatten, side=8)
        t = prepare_labels(labels[mask], one_hot_labels=one_hot, n_classes=10)
        out.append((x, t))
    return tuple(out)
