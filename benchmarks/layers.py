"""Per-step time (forward + backward, batch 100) of two reference networks, against PyTorch when it is installed.

Networks:

* SimpleConvNet: Conv2D(1->30, 5x5) -> ReLU -> MaxPool2D(2) -> Affine(4320->100) -> ReLU -> Affine(100->10)
  -> SoftmaxWithLoss, on 1x28x28 inputs;
* BN-MLP: 784-100-100-100-100-10 with BatchNorm, ReLU and Dropout(0.2) after each hidden Affine.

For each network and dtype (float32, float64) the layergraph step is ``net.loss_and_gradient(x, t)`` and the PyTorch
step is ``loss = f(model(x), t); loss.backward()`` (gradients reset to None first). Both libraries run with the
same thread count, interleaved round by round in one process (each round starts after a short pause and one
untimed step, so that the other library's spinning worker threads are idle); the table shows the median
per-step time and the ratio layergraph / PyTorch (below 1 means layergraph is faster).

Usage::

    python benchmarks/layers.py [--threads 2] [--rounds 7] [--steps 20]
"""

import argparse
import os
import sys


def _parse():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--threads", type=int, default=os.cpu_count(), help="threads for BLAS and PyTorch")
    p.add_argument("--rounds", type=int, default=7, help="interleaved rounds; the median is reported")
    p.add_argument("--steps", type=int, default=20, help="steps timed per round")
    p.add_argument("--batch", type=int, default=100)
    p.add_argument("--pause", type=float, default=0.5, help="seconds of idle time before each timed round")
    p.add_argument("--no-torch", action="store_true", help="skip PyTorch even if installed")
    return p.parse_args()


ARGS = _parse()
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = str(ARGS.threads)   # before NumPy loads its BLAS

import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

import layergraph as lg  # noqa: E402
from layergraph.layers import BatchNorm, Conv2D, Dropout, MaxPool2D  # noqa: E402


def convnet(dtype, seed=0):
    return lg.Sequential([
        ("conv1", Conv2D(1, 30, 5, dtype=dtype, rng=seed)), ("relu1", lg.ReLU()), ("pool1", MaxPool2D(2)),
        ("fc1", lg.Affine(4320, 100, dtype=dtype, rng=seed + 1)), ("relu2", lg.ReLU()),
        ("fc2", lg.Affine(100, 10, dtype=dtype, rng=seed + 2)),
    ], loss=lg.SoftmaxWithLoss())


def bn_mlp(dtype, seed=0):
    sizes = [784, 100, 100, 100, 100]
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        layers += [(f"fc{i}", lg.Affine(a, b, dtype=dtype, rng=seed + i)), (f"bn{i}", BatchNorm(b, dtype=dtype)),
                   (f"relu{i}", lg.ReLU()), (f"drop{i}", Dropout(0.2, rng=seed + 10 + i))]
    layers.append(("fc5", lg.Affine(100, 10, dtype=dtype, rng=seed + 5)))
    return lg.Sequential(layers, loss=lg.SoftmaxWithLoss())


def torch_nets(torch):
    nn = torch.nn

    def conv():
        return nn.Sequential(nn.Conv2d(1, 30, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(4320, 100),
                             nn.ReLU(), nn.Linear(100, 10))

    def mlp():
        sizes, mods = [784, 100, 100, 100, 100], []
        for a, b in zip(sizes[:-1], sizes[1:]):
            mods += [nn.Linear(a, b), nn.BatchNorm1d(b), nn.ReLU(), nn.Dropout(0.2)]
        return nn.Sequential(*mods, nn.Linear(100, 10))

    return {"SimpleConvNet": conv, "BN-MLP": mlp}


def data(kind, dtype, batch, rng):
    shape = (batch, 1, 28, 28) if kind == "SimpleConvNet" else (batch, 784)
    return rng.random(shape).astype(dtype), rng.integers(0, 10, batch)


def lg_step_fn(net, x, t):
    def step():
        net.loss_and_gradient(x, t)
    return step


def torch_step_fn(torch, model, x, t):
    model.train()
    xt, tt = torch.from_numpy(x), torch.from_numpy(t)
    loss_fn = torch.nn.CrossEntropyLoss()

    def step():
        for p in model.parameters():
            p.grad = None
        loss_fn(model(xt), tt).backward()
    return step


def settle(step):
    """Let the other library's idle worker threads stop spinning, then warm up: NumPy's BLAS and PyTorch's OpenMP
    keep separate thread pools whose threads busy-wait for a while after each call, which would otherwise slow
    down whichever library runs next."""
    time.sleep(ARGS.pause)
    step()


def per_step(step, steps):
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return (time.perf_counter() - start) / steps


def main():
    torch = None
    if not ARGS.no_torch:
        try:
            import torch
            torch.set_num_threads(ARGS.threads)
        except ImportError:
            print("PyTorch is not installed: timing layergraph only (pip install torch to compare).")
    rng = np.random.default_rng(0)
    builders = {"SimpleConvNet": convnet, "BN-MLP": bn_mlp}
    tnets = torch_nets(torch) if torch else {}
    rows = []
    for kind, build in builders.items():
        for dtype in (np.float32, np.float64):
            x, t = data(kind, dtype, ARGS.batch, rng)
            steps = {"layergraph": lg_step_fn(build(dtype), x, t)}
            if torch:
                model = tnets[kind]().to(torch.float32 if dtype == np.float32 else torch.float64)
                steps["torch"] = torch_step_fn(torch, model, x, t)
            for step in steps.values():   # warm-up
                per_step(step, 3)
            times = {name: [] for name in steps}
            for _ in range(ARGS.rounds):  # interleaved rounds
                for name, step in steps.items():
                    settle(step)
                    times[name].append(per_step(step, ARGS.steps))
            med = {name: statistics.median(v) for name, v in times.items()}
            rows.append((kind, np.dtype(dtype).name, med["layergraph"], med.get("torch")))
    print(f"per-step time, forward + backward, batch {ARGS.batch}, {ARGS.threads} thread(s), "
          f"median of {ARGS.rounds} rounds x {ARGS.steps} steps; numpy {np.__version__}"
          + (f", torch {torch.__version__}" if torch else ""))
    head = f"{'network':<14} {'dtype':<8} {'layergraph ms':>13} {'torch ms':>9} {'ratio':>6}"
    print(head)
    print("-" * len(head))
    for kind, dt, ours, theirs in rows:
        t_ms = f"{theirs * 1e3:9.2f}" if theirs else f"{'-':>9}"
        ratio = f"{ours / theirs:6.2f}" if theirs else f"{'-':>6}"
        print(f"{kind:<14} {dt:<8} {ours * 1e3:13.2f} {t_ms} {ratio}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
