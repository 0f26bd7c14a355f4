"""Time the data loaders and print a table.

    python benchmarks/bench_data_loading.py [MNIST_DIR]

MNIST_DIR defaults to ``../shared/data/mnist`` beside the repository; the MNIST
rows are skipped when the t10k files are not there. Each row is the best of
``REPEAT`` runs.
"""

from __future__ import annotations

import gzip
import sys
import tempfile
import time
from pathlib import Path

from layergraph.data import (
    load_digits,
    load_mnist_test_split,
    make_circles,
    make_spiral,
    make_xor,
    read_idx,
)

REPEAT = 5
ROOT = Path(__file__).resolve().parents[1]


def best_of(fn, repeat=REPEAT) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main(argv: list[str]) -> int:
    mnist = Path(argv[1]) if len(argv) > 1 else ROOT.parent / "shared" / "data" / "mnist"
    rows: list[tuple[str, float]] = []
    rows.append(("load_digits()", best_of(load_digits)))
    rows.append(("make_spiral(1000, 3)", best_of(lambda: make_spiral(1000, 3))))
    rows.append(("make_xor(10000)", best_of(lambda: make_xor(10000))))
    rows.append(("make_circles(10000)", best_of(lambda: make_circles(10000))))
    images_gz = mnist / "t10k-images-idx3-ubyte.gz"
    if images_gz.is_file():
        rows.append(("read_idx(t10k images, gzip)", best_of(lambda: read_idx(images_gz))))
        with tempfile.TemporaryDirectory() as tmp:
            raw = Path(tmp) / "t10k-images-idx3-ubyte"
            raw.write_bytes(gzip.decompress(images_gz.read_bytes()))
            rows.append(("read_idx(t10k images, raw)", best_of(lambda: read_idx(raw))))
        rows.append(("load_mnist_test_split()",
                     best_of(lambda: load_mnist_test_split(mnist))))
    else:
        print(f"(MNIST rows skipped: {images_gz} not found)")
    width = max(len(name) for name, _ in rows)
    print(f"{'operation':<{width}}  {'best time (ms)':>14}")
    print(f"{'-' * width}  {'-' * 14}")
    for name, seconds in rows:
        print(f"{name:<{width}}  {seconds * 1e3:>14.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
