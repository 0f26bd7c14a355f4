"""Paired comparison of two versions of layergraph on one training step, in one process.

On a shared machine the time of a step swings by 10-30 % from one run to the next, more than most changes gain, so
two tables taken minutes apart cannot show whether a change helped. This script loads the working tree's
``layergraph`` and, under the name ``layergraph_old``, a copy of the package at another git revision; it builds the
same network (same seeds) with both and alternates them round by round (which goes first alternates too). Each
round times a few steps of each; the per-round ratios new / old share the machine's state, so their median and
interquartile range are what to read. The losses of the first step are printed: equal losses show that both
forward passes compute the same thing (the gradients are the tests' business).

Usage::

    python benchmarks/versions.py --old REV [--net resnet] [--threads 1 2] [--rounds 21] [--steps 3]

``--net``: ``resnet`` (the network of examples/resnet_mnist.py, batch 64), ``cnn`` / ``cnn64`` (SimpleConvNet,
float32 / float64, batch 100), ``mlp``, ``bn-mlp`` (784-100-100-100-100-10, batch 100).
"""

import argparse
import importlib
import os
import re
import subprocess
import sys
import tempfile
import time
from collections import OrderedDict

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "src"))          # the working tree, whatever copy is installed
import layergraph  # noqa: E402


def load_revision(rev, where):
    """Import the package at git revision *rev* as ``layergraph_old`` (extracted under *where*)."""
    tar = subprocess.run(["git", "-C", ROOT, "archive", rev, "src/layergraph"], check=True, capture_output=True)
    subprocess.run(["tar", "-x", "-C", where], input=tar.stdout, check=True)
    pkg = os.path.join(where, "layergraph_old")
    os.rename(os.path.join(where, "src", "layergraph"), pkg)
    absolute = re.compile(r"\b(from|import) layergraph(?=[.\s]|$)", re.M)
    for folder, _, files in os.walk(pkg):
        for name in files:
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                with open(path) as f:
                    text = f.read()
                with open(path, "w") as f:
                    f.write(absolute.sub(r"\1 layergraph_old", text))
    sys.path.insert(0, where)
    return importlib.import_module("layergraph_old")


def resnet(lg, dtype):
    L = lg.layers

    def block(c_in, c_out, stride, rng):
        body = lg.Sequential(OrderedDict(
            conv1=L.Conv2D(c_in, c_out, 3, stride=stride, pad=1, dtype=dtype, rng=rng),
            bn1=L.BatchNorm(c_out, dtype=dtype), relu=lg.ReLU(),
            conv2=L.Conv2D(c_out, c_out, 3, pad=1, dtype=dtype, rng=rng), bn2=L.BatchNorm(c_out, dtype=dtype)))
        proj = None
        if stride != 1 or c_in != c_out:
            proj = lg.Sequential(OrderedDict(conv=L.Conv2D(c_in, c_out, 1, stride=stride, dtype=dtype, rng=rng),
                                             bn=L.BatchNorm(c_out, dtype=dtype)))
        return L.Residual(body, proj)

    rng = np.random.default_rng(0)
    return lg.Sequential(OrderedDict(
        conv0=L.Conv2D(1, 16, 3, pad=1, dtype=dtype, rng=rng), bn0=L.BatchNorm(16, dtype=dtype), relu0=lg.ReLU(),
        res1=block(16, 16, 1, rng), relu1=lg.ReLU(), pool=L.MaxPool2D(2), res2=block(16, 32, 2, rng),
        relu2=lg.ReLU(), gap=L.GlobalAvgPool(), drop=L.Dropout(0.2, rng=rng),
        fc=lg.Affine(32, 10, dtype=dtype, rng=rng)), loss=lg.SoftmaxWithLoss())


def cnn(lg, dtype):
    L = lg.layers
    return lg.Sequential([
        ("conv1", L.Conv2D(1, 30, 5, dtype=dtype, rng=0)), ("relu1", lg.ReLU()), ("pool1", L.MaxPool2D(2)),
        ("fc1", lg.Affine(4320, 100, dtype=dtype, rng=1)), ("relu2", lg.ReLU()),
        ("fc2", lg.Affine(100, 10, dtype=dtype, rng=2))], loss=lg.SoftmaxWithLoss())


def mlp(lg, dtype, bn=False):
    L, sizes, layers = lg.layers, [784, 100, 100, 100, 100], []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        layers.append((f"fc{i}", lg.Affine(a, b, dtype=dtype, rng=i)))
        layers += [(f"bn{i}", L.BatchNorm(b, dtype=dtype))] if bn else []
        layers.append((f"relu{i}", lg.ReLU()))
        layers += [(f"drop{i}", L.Dropout(0.2, rng=10 + i))] if bn else []
    layers.append(("fc5", lg.Affine(100, 10, dtype=dtype, rng=5)))
    return lg.Sequential(layers, loss=lg.SoftmaxWithLoss())


#: name -> (builder(lg, dtype), dtype, input shape of one sample, batch)
NETS = {
    "resnet": (resnet, np.float32, (1, 28, 28), 64),
    "cnn": (cnn, np.float32, (1, 28, 28), 100),
    "cnn64": (cnn, np.float64, (1, 28, 28), 100),
    "mlp": (mlp, np.float32, (784,), 100),
    "bn-mlp": (lambda lg, dt: mlp(lg, dt, bn=True), np.float32, (784,), 100),
}


def paired_rounds(steps, rounds, n_steps):
    """Per-round step times ``{name: array}``, the two steps alternating which goes first."""
    names = list(steps)
    times = {name: [] for name in names}
    for r in range(rounds):
        for name in (names if r % 2 else names[::-1]):
            steps[name]()                        # untimed: the other version's data leave the caches
            start = time.perf_counter()
            for _ in range(n_steps):
                steps[name]()
            times[name].append((time.perf_counter() - start) / n_steps)
    return {name: np.array(t) for name, t in times.items()}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--old", required=True, help="git revision to compare the working tree with")
    p.add_argument("--net", choices=sorted(NETS), default="resnet")
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    p.add_argument("--rounds", type=int, default=21)
    p.add_argument("--steps", type=int, default=3, help="timed steps per round and version")
    args = p.parse_args(argv)
    build, dtype, shape, batch = NETS[args.net]
    with tempfile.TemporaryDirectory() as where:
        old = load_revision(args.old, where)
        rng = np.random.default_rng(0)
        x = rng.standard_normal((batch, *shape)).astype(dtype)
        t = rng.integers(0, 10, batch)
        nets = {"old": build(old, dtype), "new": build(layergraph, dtype)}
        losses = {name: float(net.loss_and_gradient(x, t)[0]) for name, net in nets.items()}
        print(f"{args.net}: first-step loss old {losses['old']:.9g}, new {losses['new']:.9g}")
        print("| threads | old ms | new ms | new / old (median of rounds) | IQR | rounds new faster |")
        print("|---|---|---|---|---|---|")
        for n in args.threads:
            old.set_num_threads(n)
            layergraph.set_num_threads(n)
            times = paired_rounds({name: (lambda net=net: net.loss_and_gradient(x, t)) for name, net in nets.items()},
                                  args.rounds, args.steps)
            ratio = times["new"] / times["old"]
            q1, q3 = np.percentile(ratio, [25, 75])
            print(f"| {n} | {np.median(times['old']) * 1e3:.2f} | {np.median(times['new']) * 1e3:.2f} | "
                  f"{np.median(ratio):.3f} | {q1:.3f}-{q3:.3f} | {np.mean(ratio < 1) * 100:.0f}% of {args.rounds} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
