"""Convert the UCI handwritten digits CSV into the package's ``digits.npz``.

Run once from the repository root::

    python tools/make_digits.py [../shared/data/digits/digits.csv.gz]

Input: 1,797 rows of 64 pixel values 0..16 (an 8x8 image, row-major) followed by
the label 0..9. Output ``src/layergraph/data/digits.npz`` (``np.savez_compressed``):

- ``images``  uint8 (1797, 64), values 0..16, in CSV row order
- ``labels``  uint8 (1797,), values 0..9
- ``is_test`` bool (1797,), the fixed train/test split used by ``load_digits``

The split is stratified: each class gives its share of ``N_TEST`` = 360 test
samples (quotas by largest remainder, ties to the lower class), and within a
class the test samples are chosen by a permutation from
``numpy.random.default_rng(SEED)``. The split is stored in the file, so it never
depends on the NumPy version that reads it.
"""

from __future__ import annotations

import gzip
import sys
from pathlib import Path

import numpy as np

SEED = 20240601
N_TEST = 360
ROOT = Path(__file__).resolve().parents[3]  # the repository root, for a source checkout
DEFAULT_SOURCE = ROOT.parent / "shared" / "data" / "digits" / "digits.csv.gz"
TARGET = Path(__file__).resolve().parent / "digits.npz"


def read_csv(source: Path) -> tuple[np.ndarray, np.ndarray]:
    """Return images (N, 64) uint8 and labels (N,) uint8 from the CSV (gzip or plain)."""
    opener = gzip.open if source.suffix == ".gz" else open
    with opener(source, "rt") as fh:
        table = np.loadtxt(fh, delimiter=",", dtype=np.int64, ndmin=2)
    if table.shape[1] != 65:
        raise ValueError(f"{source}: expected 65 columns (64 pixels + label), got {table.shape[1]}")
    images, labels = table[:, :64], table[:, 64]
    if images.min() < 0 or images.max() > 16:
        raise ValueError(f"{source}: pixel values must be 0..16, got [{images.min()}, {images.max()}]")
    if labels.min() < 0 or labels.max() > 9:
        raise ValueError(f"{source}: labels must be 0..9, got [{labels.min()}, {labels.max()}]")
    return images.astype(np.uint8), labels.astype(np.uint8)


def stratified_test_mask(labels: np.ndarray, n_test: int, seed: int) -> np.ndarray:
    """Boolean mask choosing ``n_test`` samples, spread over classes in proportion."""
    classes, counts = np.unique(labels, return_counts=True)
    exact = counts * n_test / labels.size
    quota = np.floor(exact).astype(np.int64)
    order = np.argsort(-(exact - quota), kind="stable")
    quota[order[: n_test - quota.sum()]] += 1
    rng = np.random.default_rng(seed)
    mask = np.zeros(labels.size, dtype=bool)
    for cls, q in zip(classes, quota):
        members = np.flatnonzero(labels == cls)
        mask[members[rng.permutation(members.size)[:q]]] = True
    return mask


def main(argv: list[str]) -> int:
    source = Path(argv[1]) if len(argv) > 1 else DEFAULT_SOURCE
    images, labels = read_csv(source)
    is_test = stratified_test_mask(labels, N_TEST, SEED)
    np.savez_compressed(TARGET, images=images, labels=labels, is_test=is_test)
    print(f"wrote {TARGET} ({TARGET.stat().st_size} bytes): {images.shape[0]} samples, "
          f"{int(is_test.sum())} test / {int((~is_test).sum())} train")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
