"""Train a small GoogLeNet-style network of Inception modules on MNIST (8,000 / 2,000 split of the test set).

stem:   Conv2D(1->16, 3x3, pad 1) -> ReLU -> MaxPool2D(2)                                 (16, 14, 14)
inc1:   Inception(16 -> 8 + 12 + 6 + 6 = 32)                                              (32, 14, 14)
pool:   MaxPool2D(2)                                                                      (32, 7, 7)
inc2:   Inception(32 -> 16 + 20 + 8 + 8 = 52)                                             (52, 7, 7)
head:   GlobalAvgPool -> Affine(52->10) -> SoftmaxWithLoss

An Inception module has four branches read from the same input and joined by ``Concat`` along the channels:
a 1x1 convolution; a 1x1 reduction then a 3x3 convolution; a 1x1 reduction then two 3x3 convolutions (the
receptive field of a 5x5); a 3x3 max pooling (stride 1, pad 1) then a 1x1 projection.

Usage::

    python examples/inception_mnist.py [--data-dir DIR] [--epochs 10] [--n-train 8000] [--seed 0] [--save FILE]
"""

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))

import layergraph as lg  # noqa: E402
from layergraph.layers import Concat, Conv2D, GlobalAvgPool, MaxPool2D  # noqa: E402

from _mnist_common import DEFAULT_DATA_DIR, load_split, train  # noqa: E402


def add_inception(g, prefix, source, c_in, c1, c3r, c3, c5r, c5, cp, rng, dtype=np.float32):
    """Add an Inception module reading node *source* to graph *g*; return the name of its ``Concat`` node."""
    def conv(name, src, cin, cout, k):
        g.add(f"{prefix}_{name}", Conv2D(cin, cout, k, pad=k // 2, rng=rng, dtype=dtype), src)
        g.add(f"{prefix}_{name}_relu", lg.ReLU(), f"{prefix}_{name}")
        return f"{prefix}_{name}_relu"

    b1 = conv("1x1", source, c_in, c1, 1)
    b3 = conv("3x3", conv("3x3_reduce", source, c_in, c3r, 1), c3r, c3, 3)
    b5 = conv("5x5b", conv("5x5a", conv("5x5_reduce", source, c_in, c5r, 1), c5r, c5, 3), c5, c5, 3)
    g.add(f"{prefix}_pool", MaxPool2D(3, stride=1, pad=1), source)
    bp = conv("pool_proj", f"{prefix}_pool", c_in, cp, 1)
    g.add(prefix, Concat(axis=1), [b1, b3, b5, bp])
    return prefix


def build(seed=0, dtype=np.float32):
    """The network as a :class:`layergraph.Graph` with a softmax cross-entropy loss; input ``(N, 1, 28, 28)``."""
    rng = np.random.default_rng(seed)
    g = lg.Graph(inputs=("image",))
    g.add("stem", Conv2D(1, 16, 3, pad=1, rng=rng, dtype=dtype), "image").add("stem_relu", lg.ReLU())
    g.add("stem_pool", MaxPool2D(2))
    add_inception(g, "inc1", "stem_pool", 16, 8, 8, 12, 4, 6, 6, rng, dtype)
    g.add("pool", MaxPool2D(2), "inc1")
    add_inception(g, "inc2", "pool", 32, 16, 12, 20, 6, 8, 8, rng, dtype)
    g.add("gap", GlobalAvgPool(), "inc2").add("fc", lg.Affine(52, 10, rng=rng, dtype=dtype))
    return g.set_loss(lg.SoftmaxWithLoss())


def main(argv=None):
    p = argparse.ArgumentParser(description="Train a small Inception network on the MNIST test-set split.")
    p.add_argument("--data-dir", default=DEFAULT_DATA_DIR, help="directory with t10k-*-ubyte.gz")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--n-train", type=int, default=8000, help="training images taken first from the test set")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--save", default=None, metavar="FILE", help="write a checkpoint (show it: layergraph show FILE)")
    args = p.parse_args(argv)
    (x_train, t_train), val_set = load_split(args.data_dir)
    net = build(args.seed)
    print(net.summary((1, 28, 28)))
    acc = train(net, (x_train[:args.n_train], t_train[:args.n_train]), val_set, args.epochs, batch_size=64,
                lr=2e-3, seed=args.seed)
    print(f"final validation accuracy {acc:.4f}")
    if args.save:
        lg.save_checkpoint(args.save, net, input_shape=[1, 28, 28])
        print(f"saved {args.save}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
