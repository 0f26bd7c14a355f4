"""Train the SimpleConvNet (LeNet-style) on MNIST: 8,000 training / 2,000 validation images of the test set.

Conv2D(1->30, 5x5) -> ReLU -> MaxPool2D(2) -> Affine(4320->100) -> ReLU -> Affine(100->10) -> SoftmaxWithLoss,
trained with Adam (lr 1e-3, batch 100).

Usage::

    python examples/convnet_mnist.py [--data-dir DIR] [--epochs 10] [--seed 0]
"""

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))

import layergraph as lg  # noqa: E402
from layergraph.layers import Conv2D, MaxPool2D  # noqa: E402

from _mnist_common import DEFAULT_DATA_DIR, load_split, train  # noqa: E402


def simple_convnet(seed=0, dtype=np.float32):
    return lg.Sequential([
        ("conv1", Conv2D(1, 30, 5, dtype=dtype, rng=seed)), ("relu1", lg.ReLU()), ("pool1", MaxPool2D(2)),
        ("fc1", lg.Affine(30 * 12 * 12, 100, dtype=dtype, rng=seed + 1)), ("relu2", lg.ReLU()),
        ("fc2", lg.Affine(100, 10, dtype=dtype, rng=seed + 2)),
    ], loss=lg.SoftmaxWithLoss())


def main(argv=None):
    p = argparse.ArgumentParser(description="Train a LeNet-style convnet on the MNIST test-set split.")
    p.add_argument("--data-dir", default=DEFAULT_DATA_DIR, help="directory with t10k-*-ubyte.gz")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    train_set, val_set = load_split(args.data_dir)
    net = simple_convnet(args.seed)
    print(net.summary((1, 28, 28)))
    acc = train(net, train_set, val_set, args.epochs, seed=args.seed)
    print(f"final validation accuracy {acc:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
