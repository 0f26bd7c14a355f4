"""Cost of the Graph container: (a) a chain in a Graph against the same Sequential; (b) an Inception-net training
step against the same network in PyTorch.

(a) Two chains, each built twice with identical weights -- once as ``Sequential``, once as ``Graph`` (one node per
    layer): an MLP 784-256-256-10 (ReLU) and a conv chain Conv(1->8, 3x3) -> ReLU -> MaxPool(2) -> Affine(1352->10),
    float32, batch 64, one thread; and a tiny MLP 16-16-16-10 at batch 4, whose step is mostly the containers'
    own Python work, so the difference there is the fixed per-step cost a Graph adds. A step is ``loss_and_gradient`` followed by an Adam update. The two containers
    alternate step by step within each round, so machine load hits both alike; each round gives the ratio of the
    median step times Graph / Sequential, and the table the median of those ratios over rounds with their
    10th-90th percentile spread.
(b) The Inception network of ``examples/inception_mnist.py`` (float32, batch 64, 1x28x28 inputs) and the same
    network written as a ``torch.nn.Module``: a training step is forward, softmax cross-entropy, backward and an
    Adam update. The libraries alternate round by round (each round after a short pause and one untimed step, so
    the other library's spinning worker threads are idle) with 1 and then 2 threads (threadpoolctl limits NumPy's
    BLAS; ``torch.set_num_threads`` PyTorch); the table gives medians, spread and the ratio layergraph / PyTorch.

Usage::

    python benchmarks/graph.py [--rounds 15] [--steps 10] [--chain-steps 40] [--threads 1 2] [--no-torch]
"""

import argparse
import os
import statistics
import sys
import time

import numpy as np
from threadpoolctl import threadpool_limits

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "examples"))

import layergraph as lg  # noqa: E402
from layergraph.layers import Conv2D, MaxPool2D  # noqa: E402


def _parse(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=15, help="rounds; medians and spread are over rounds")
    p.add_argument("--steps", type=int, default=10, help="steps timed per round of (b)")
    p.add_argument("--chain-steps", type=int, default=40, help="alternated steps per round of (a)")
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    p.add_argument("--pause", type=float, default=0.2, help="idle seconds before each timed round of (b)")
    p.add_argument("--no-torch", action="store_true")
    return p.parse_args(argv)


# -- (a) Graph vs Sequential -------------------------------------------------------------------------------------

def chains(seed=0):
    def mlp():
        return [("fc1", lg.Affine(784, 256, rng=seed)), ("r1", lg.ReLU()), ("fc2", lg.Affine(256, 256, rng=seed + 1)),
                ("r2", lg.ReLU()), ("fc3", lg.Affine(256, 10, rng=seed + 2))]

    def conv():
        return [("conv", Conv2D(1, 8, 3, rng=seed)), ("relu", lg.ReLU()), ("pool", MaxPool2D(2)),
                ("fc", lg.Affine(1352, 10, rng=seed + 1))]
    def tiny():   # arrays so small that the step time is mostly the containers' own Python work
        return [("fc1", lg.Affine(16, 16, rng=seed)), ("r1", lg.ReLU()), ("fc2", lg.Affine(16, 16, rng=seed + 1)),
                ("r2", lg.ReLU()), ("fc3", lg.Affine(16, 10, rng=seed + 2))]
    return {"MLP 784-256-256-10": (mlp, (784,), 64), "conv chain": (conv, (1, 28, 28), 64),
            "tiny MLP 16-16-16-10": (tiny, (16,), 4)}


def as_graph(layers):
    g = lg.Graph()
    for name, layer in layers:
        g.add(name, layer)
    return g.set_loss(lg.SoftmaxWithLoss())


def lg_train_step(net, x, t):
    net.flatten_parameters()
    opt = lg.optim.Adam(lr=1e-3)

    def step():
        _, grads = net.loss_and_gradient(x, t)
        opt.update(net.params, grads)
    return step


def timed(step, steps):
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return (time.perf_counter() - start) / steps


def spread(values):
    """10th and 90th percentiles (linear interpolation between the observed values)."""
    lo, hi = np.percentile(values, [10, 90])
    return float(lo), float(hi)


def overhead_table(args, rng):
    rows = []
    for name, (make, shape, batch) in chains().items():
        x = rng.random((batch, *shape), dtype=np.float32)
        t = rng.integers(0, 10, batch)
        seq = lg.Sequential(make(), loss=lg.SoftmaxWithLoss())
        graph = as_graph(make())
        a, b = lg_train_step(seq, x, t), lg_train_step(graph, x, t)
        for _ in range(3):
            a(), b()
        ratios, ta, tb = [], [], []
        for _ in range(args.rounds):
            sa, sb = [], []
            for _ in range(args.chain_steps):  # alternate step by step
                sa.append(timed(a, 1))
                sb.append(timed(b, 1))
            ta.append(statistics.median(sa))
            tb.append(statistics.median(sb))
            ratios.append(tb[-1] / ta[-1])
        lo, hi = spread(ratios)
        rows.append((name, statistics.median(ta), statistics.median(tb), statistics.median(ratios), lo, hi))
    print("(a) Graph holding a chain vs the same Sequential: training step (loss_and_gradient + Adam), float32, "
          f"batch 64, 1 thread; median over {args.rounds} rounds of the ratio of median step times "
          f"({args.chain_steps} alternated steps per round)")
    head = (f"{'chain':<21} {'Sequential ms':>13} {'Graph ms':>9} {'Graph-Seq us':>12} {'Graph/Seq':>9} "
            f"{'p10-p90':>13}")
    print(head + "\n" + "-" * len(head))
    for name, sa, sb, r, lo, hi in rows:
        print(f"{name:<21} {sa * 1e3:13.3f} {sb * 1e3:9.3f} {(sb - sa) * 1e6:12.1f} {r:9.3f} {lo:6.3f}-{hi:.3f}")
    print("(the tiny MLP, batch 4, measures the fixed cost of the container itself: Graph-Seq us is what a Graph "
          "adds per step, whatever the layer sizes)")


# -- (b) Inception vs PyTorch ----------------------------------------------------------------------------------

def torch_inception(torch, net):
    """The PyTorch twin of ``inception_mnist.build()``, with the same weights."""
    nn = torch.nn
    F = torch.nn.functional

    def conv_from(name):
        layer = net[name]
        w = layer.params["W"]
        c = nn.Conv2d(w.shape[1], w.shape[0], w.shape[2], padding=w.shape[2] // 2)
        with torch.no_grad():
            c.weight.copy_(torch.from_numpy(w))
            c.bias.copy_(torch.from_numpy(layer.params["b"].reshape(-1)))
        return c

    class Inception(nn.Module):
        def __init__(self, p):
            super().__init__()
            self.b1 = conv_from(f"{p}_1x1")
            self.b3r, self.b3 = conv_from(f"{p}_3x3_reduce"), conv_from(f"{p}_3x3")
            self.b5r, self.b5a, self.b5b = conv_from(f"{p}_5x5_reduce"), conv_from(f"{p}_5x5a"), conv_from(f"{p}_5x5b")
            self.bp = conv_from(f"{p}_pool_proj")

        def forward(self, x):
            r = F.relu
            return torch.cat([r(self.b1(x)), r(self.b3(r(self.b3r(x)))), r(self.b5b(r(self.b5a(r(self.b5r(x)))))),
                              r(self.bp(F.max_pool2d(x, 3, stride=1, padding=1)))], dim=1)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = conv_from("stem")
            self.inc1, self.inc2 = Inception("inc1"), Inception("inc2")
            fc = net["fc"]
            self.fc = nn.Linear(fc.params["W"].shape[0], fc.params["W"].shape[1])
            with torch.no_grad():
                self.fc.weight.copy_(torch.from_numpy(fc.params["W"].T.copy()))
                self.fc.bias.copy_(torch.from_numpy(fc.params["b"]))

        def forward(self, x):
            x = F.max_pool2d(F.relu(self.stem(x)), 2)
            x = F.max_pool2d(self.inc1(x), 2)
            return self.fc(self.inc2(x).mean(dim=(2, 3)))
    return Net()


def inception_table(args, rng):
    import inception_mnist
    x = rng.random((64, 1, 28, 28), dtype=np.float32)
    t = rng.integers(0, 10, 64)
    torch = None
    if not args.no_torch:
        try:
            import torch
        except ImportError:
            print("PyTorch is not installed: timing layergraph only.")
    net = inception_mnist.build(seed=0)
    steps = {"layergraph": lg_train_step(net, x, t)}
    if torch is not None:
        model = torch_inception(torch, inception_mnist.build(seed=0))
        with torch.no_grad():
            want = net.forward(x, train=False)
            got = model(torch.from_numpy(x)).numpy()
        assert np.allclose(want, got, rtol=1e-3, atol=1e-4), "the PyTorch twin differs from the Graph"
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        xt, tt = torch.from_numpy(x), torch.from_numpy(t)

        def torch_step():
            opt.zero_grad(set_to_none=True)
            torch.nn.functional.cross_entropy(model(xt), tt).backward()
            opt.step()
        steps["torch"] = torch_step
    print(f"\n(b) Inception net (examples/inception_mnist.py) training step: forward, loss, backward, Adam; float32, "
          f"batch 64; median of {args.rounds} interleaved rounds x {args.steps} steps (p10-p90 spread)")
    head = f"{'threads':>7} {'layergraph ms':>13} {'p10-p90':>15} {'torch ms':>9} {'p10-p90':>15} {'ratio':>6}"
    print(head + "\n" + "-" * len(head))
    for threads in args.threads:
        with threadpool_limits(limits=threads):
            if torch is not None:
                torch.set_num_threads(threads)
            for step in steps.values():
                timed(step, 2)
            times = {name: [] for name in steps}
            for _ in range(args.rounds):
                for name, step in steps.items():
                    time.sleep(args.pause)
                    step()
                    times[name].append(timed(step, args.steps))
        med = {k: statistics.median(v) for k, v in times.items()}
        sp = {k: spread(v) for k, v in times.items()}
        ours = f"{med['layergraph'] * 1e3:13.1f} {sp['layergraph'][0] * 1e3:7.1f}-{sp['layergraph'][1] * 1e3:<7.1f}"
        if torch is not None:
            theirs = f"{med['torch'] * 1e3:9.1f} {sp['torch'][0] * 1e3:7.1f}-{sp['torch'][1] * 1e3:<7.1f}"
            ratio = f"{med['layergraph'] / med['torch']:6.2f}"
        else:
            theirs, ratio = f"{'-':>9} {'':15}", f"{'-':>6}"
        print(f"{threads:>7} {ours} {theirs} {ratio}")


def main(argv=None):
    args = _parse(argv)
    rng = np.random.default_rng(0)
    print(f"numpy {np.__version__}; os.cpu_count() = {os.cpu_count()}; load average "
          + " ".join(f"{v:.2f}" for v in os.getloadavg()))
    with threadpool_limits(limits=1):
        overhead_table(args, rng)
    inception_table(args, rng)
    return 0


if __name__ == "__main__":
    sys.exit(main())
