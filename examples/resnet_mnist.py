"""Train a small ResNet-style network on MNIST: 8,000 training / 2,000 validation images of the test set.

stem:   Conv2D(1->16, 3x3, pad 1) -> BatchNorm -> ReLU                                   (16, 28, 28)
res1:   Residual(Conv 3x3 -> BN -> ReLU -> Conv 3x3 -> BN) -> ReLU                      (16, 28, 28)
pool:   MaxPool2D(2)                                                                     (16, 14, 14)
res2:   Residual(Conv 3x3 stride 2 -> BN -> ReLU -> Conv 3x3 -> BN,
                 projection = Conv 1x1 stride 2 -> BN) -> ReLU                           (32, 7, 7)
head:   GlobalAvgPool -> Dropout(0.2) -> Affine(32->10) -> SoftmaxWithLoss

Speed: one training step (forward + backward, float32, one thread) takes about 27 ms at batch 64 and 46 ms at this
example's batch of 100 on a 2-core AMD EPYC with AVX-512 when OpenBLAS runs its AVX-512 kernels (34 and 57 ms with
its AVX2 kernels), against 20-25 ms for the same network in PyTorch 2.13 at batch 64 (row "ResNet (example)" of
``benchmarks/layers.py``; on an earlier AVX2 machine the step took 70-90 ms at batch 64; see docs/performance.md).

Usage::

    python examples/resnet_mnist.py [--data-dir DIR] [--epochs 5] [--seed 0]
"""

import argparse
import os
import sys
from collections import OrderedDict

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))

import layergraph as lg  # noqa: E402
from layergraph.layers import BatchNorm, Conv2D, Dropout, GlobalAvgPool, MaxPool2D, Residual  # noqa: E402

from _mnist_common import DEFAULT_DATA_DIR, load_split, train  # noqa: E402



def basic_block(c_in, c_out, stride, rng):
    """Two 3x3 convolutions with BatchNorm; a 1x1 projection on the skip path when the shape changes."""
    body = lg.Sequential(OrderedDict(
        conv1=Conv2D(c_in, c_out, 3, stride=stride, pad=1, rng=rng), bn1=BatchNorm(c_out), relu=lg.ReLU(),
        conv2=Conv2D(c_out, c_out, 3, pad=1, rng=rng), bn2=BatchNorm(c_out)))
    projection = None
    if stride != 1 or c_in != c_out:
        projection = lg.Sequential(OrderedDict(conv=Conv2D(c_in, c_out, 1, stride=stride, rng=rng),
                                               bn=BatchNorm(c_out)))
    return Residual(body, projection)


def small_resnet(seed=0):
    rng = np.random.default_rng(seed)
    return lg.Sequential(OrderedDict(
        conv0=Conv2D(1, 16, 3, pad=1, rng=rng), bn0=BatchNorm(16), relu0=lg.ReLU(),
        res1=basic_block(16, 16, 1, rng), relu1=lg.ReLU(),
        pool=MaxPool2D(2),
        res2=basic_block(16, 32, 2, rng), relu2=lg.ReLU(),
        gap=GlobalAvgPool(), drop=Dropout(0.2, rng=rng), fc=lg.Affine(32, 10, rng=rng),
    ), loss=lg.SoftmaxWithLoss())


def main(argv=None):
    p = argparse.ArgumentParser(description="Train a small ResNet-style net on the MNIST test-set split.")
    p.add_argument("--data-dir", default=DEFAULT_DATA_DIR, help="directory with t10k-*-ubyte.gz")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    train_set, val_set = load_split(args.data_dir)
    net = small_resnet(args.seed)
    print(net.summary((1, 28, 28)))
    print("parameter keys:", ", ".join(k for k in net.params if k.startswith("res2.")))
    acc = train(net, train_set, val_set, args.epochs, lr=2e-3, seed=args.seed)
    print(f"final validation accuracy {acc:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
