"""A network with two outputs on the shipped 8x8 digits: the digit, plus an auxiliary head with a weighted loss.

As in GoogLeNet, an auxiliary classifier reads an early layer and adds its loss, weighted by 0.3, to the main one;
here it also predicts the digit's parity, so the two heads learn different things from shared features.

    x -> fc1 -> relu1 -+-> fc2 -> relu2 -> digit (10 classes, weight 1)
                       +-> parity (2 classes: even/odd, weight 0.3)

Usage::

    python examples/two_outputs.py [--epochs 30] [--seed 0] [--save FILE]
"""

import argparse
import sys
import time

import numpy as np

import layergraph as lg


def build(seed=0, dtype=np.float32):
    """The graph with outputs ``digit`` and ``parity`` and their weighted softmax losses."""
    rng = np.random.default_rng(seed)
    g = lg.Graph()
    g.add("fc1", lg.Affine(64, 64, rng=rng, dtype=dtype), "x").add("relu1", lg.ReLU())
    g.add("fc2", lg.Affine(64, 64, rng=rng, dtype=dtype)).add("relu2", lg.ReLU())
    g.add("digit", lg.Affine(64, 10, rng=rng, dtype=dtype))
    g.add("parity", lg.Affine(64, 2, rng=rng, dtype=dtype), "relu1")
    g.set_outputs("digit", "parity")
    return g.set_loss({"digit": lg.SoftmaxWithLoss(), "parity": lg.SoftmaxWithLoss()}, weights={"parity": 0.3})


def targets(labels):
    """The target dict: the digit and its parity (1 = odd)."""
    return {"digit": labels, "parity": labels % 2}


def main(argv=None):
    p = argparse.ArgumentParser(description="Digit classifier with a weighted auxiliary parity head.")
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--save", default=None, metavar="FILE")
    args = p.parse_args(argv)
    (x_train, t_train), (x_test, t_test) = lg.load_digits()
    net = build(args.seed)
    print(net.summary(64))
    trainer = lg.Trainer(net, lg.optim.Adam(lr=1e-3), batch_size=32, seed=args.seed, verbose=0)
    start = time.perf_counter()
    trainer.fit(x_train, targets(t_train), epochs=args.epochs)
    print(f"{args.epochs} epochs in {time.perf_counter() - start:.1f} s")
    result = trainer.evaluate(x_test, targets(t_test))
    print(f"test: loss {result['loss']:.4f}, digit accuracy {result['digit_accuracy']:.4f}, "
          f"parity accuracy {result['parity_accuracy']:.4f}")
    if args.save:
        lg.save_checkpoint(args.save, net, input_shape=[64])
        print(f"saved {args.save}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
