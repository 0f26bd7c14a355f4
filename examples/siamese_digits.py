"""A siamese network on the shipped 8x8 digits: do two images show the same digit?

Both images go through ONE shared encoder (the same ``Sequential`` object added at two nodes, so its weights are
shared and its gradient is the sum over both towers); the two codes are compared by their element-wise product and
sum, and a small head says "same" or "different".

    left  -> encoder ----+--> Multiply --+
                         |               +--> Concat -> Affine -> ReLU -> Affine -> SoftmaxWithLoss (same?)
    right -> encoder ----+--> Add -------+

Pairs are drawn with a seeded generator, half of them of the same digit. Usage::

    python examples/siamese_digits.py [--epochs 20] [--pairs 6000] [--seed 0] [--save FILE]
"""

import argparse
import sys
import time

import numpy as np

import layergraph as lg


def make_pairs(x, labels, n, rng):
    """*n* pairs of rows of *x*: half with equal labels, half with different ones; targets 1 = same digit."""
    by_class = [np.flatnonzero(labels == c) for c in range(10)]
    same = rng.random(n) < 0.5
    left = rng.integers(0, len(x), n)
    right = np.empty(n, dtype=np.int64)
    for i in range(n):
        c = labels[left[i]]
        if same[i]:
            right[i] = rng.choice(by_class[c])
        else:
            other = (c + rng.integers(1, 10)) % 10
            right[i] = rng.choice(by_class[other])
    return {"left": x[left], "right": x[right]}, same.astype(np.int64)


def build(seed=0, dtype=np.float32):
    """The siamese graph with inputs ``left`` and ``right`` (rows of 64 pixels) and a 2-class loss."""
    rng = np.random.default_rng(seed)
    encoder = lg.Sequential([("fc1", lg.Affine(64, 64, rng=rng, dtype=dtype)), ("relu", lg.ReLU()),
                             ("fc2", lg.Affine(64, 16, rng=rng, dtype=dtype))])
    g = lg.Graph(inputs=("left", "right"))
    g.add("enc_left", encoder, "left").add("enc_right", encoder, "right")
    g.add("prod", lg.Multiply(), ["enc_left", "enc_right"]).add("sum", lg.Add(), ["enc_left", "enc_right"])
    g.add("cat", lg.Concat(), ["prod", "sum"])
    g.add("fc", lg.Affine(32, 32, rng=rng, dtype=dtype), "cat").add("relu", lg.ReLU())
    g.add("same", lg.Affine(32, 2, rng=rng, dtype=dtype))
    return g.set_loss(lg.SoftmaxWithLoss())


def main(argv=None):
    p = argparse.ArgumentParser(description="Siamese 'same digit?' network on the shipped digits.")
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--pairs", type=int, default=6000, help="training pairs (test pairs: a quarter of that)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--save", default=None, metavar="FILE")
    args = p.parse_args(argv)
    (x_train, t_train), (x_test, t_test) = lg.load_digits()
    rng = np.random.default_rng(args.seed)
    train_pairs = make_pairs(x_train, t_train, args.pairs, rng)
    test_pairs = make_pairs(x_test, t_test, args.pairs // 4, rng)
    net = build(args.seed)
    print(net.summary({"left": 64, "right": 64}))
    trainer = lg.Trainer(net, lg.optim.Adam(lr=2e-3), batch_size=64, seed=args.seed, verbose=0)
    start = time.perf_counter()
    trainer.fit(*train_pairs, epochs=args.epochs)
    seconds = time.perf_counter() - start
    print(f"{args.epochs} epochs in {seconds:.1f} s")
    print(f"pair accuracy: train {net.accuracy(*train_pairs):.4f}, test pairs of held-out images "
          f"{net.accuracy(*test_pairs):.4f}")
    if args.save:
        lg.save_checkpoint(args.save, net, input_shape={"left": [64], "right": [64]})
        print(f"saved {args.save}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
