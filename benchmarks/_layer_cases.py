"""The rows of ``benchmarks/layers.py``: each builds a layergraph step and the same step in PyTorch.

A case is a function ``(dtype, batch, rng, torch) -> (layergraph_step, torch_step or None)``; every step is a
zero-argument callable doing one forward + backward pass on fixed data. ``CASES`` lists them in table order as
``(name, dtype, default batch, builder)``.
"""

import os
import sys
from collections import OrderedDict

import numpy as np

import layergraph as lg
from layergraph.layers import AvgPool2D, BatchNorm, Conv2D, Dropout, MaxPool2D

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples"))
from resnet_mnist import small_resnet  # noqa: E402  (the very network of the example)


# -- layergraph networks ---------------------------------------------------------------------------------------------

def convnet(dtype, seed=0):
    return lg.Sequential([
        ("conv1", Conv2D(1, 30, 5, dtype=dtype, rng=seed)), ("relu1", lg.ReLU()), ("pool1", MaxPool2D(2)),
        ("fc1", lg.Affine(4320, 100, dtype=dtype, rng=seed + 1)), ("relu2", lg.ReLU()),
        ("fc2", lg.Affine(100, 10, dtype=dtype, rng=seed + 2)),
    ], loss=lg.SoftmaxWithLoss())


def mlp(dtype, seed=0, bn=False):
    sizes = [784, 100, 100, 100, 100]
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        layers.append((f"fc{i}", lg.Affine(a, b, dtype=dtype, rng=seed + i)))
        if bn:
            layers += [(f"bn{i}", BatchNorm(b, dtype=dtype))]
        layers.append((f"relu{i}", lg.ReLU()))
        if bn:
            layers.append((f"drop{i}", Dropout(0.2, rng=seed + 10 + i)))
    layers.append(("fc5", lg.Affine(100, 10, dtype=dtype, rng=seed + 5)))
    return lg.Sequential(layers, loss=lg.SoftmaxWithLoss())


# -- the same networks in PyTorch -------------------------------------------------------------------------------------

def torch_convnet(nn):
    return nn.Sequential(nn.Conv2d(1, 30, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(4320, 100),
                         nn.ReLU(), nn.Linear(100, 10))


def torch_mlp(nn, bn=False):
    sizes, mods = [784, 100, 100, 100, 100], []
    for a, b in zip(sizes[:-1], sizes[1:]):
        mods += [nn.Linear(a, b)] + ([nn.BatchNorm1d(b)] if bn else []) + [nn.ReLU()]
        mods += [nn.Dropout(0.2)] if bn else []
    return nn.Sequential(*mods, nn.Linear(100, 10))


def torch_resnet(nn):
    """``examples/resnet_mnist.py``'s network: same layers, shapes and parameter count."""

    class Block(nn.Module):
        def __init__(self, c_in, c_out, stride):
            super().__init__()
            self.body = nn.Sequential(nn.Conv2d(c_in, c_out, 3, stride, 1), nn.BatchNorm2d(c_out), nn.ReLU(),
                                      nn.Conv2d(c_out, c_out, 3, 1, 1), nn.BatchNorm2d(c_out))
            self.projection = None
            if stride != 1 or c_in != c_out:
                self.projection = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride), nn.BatchNorm2d(c_out))

        def forward(self, x):
            return self.body(x) + (x if self.projection is None else self.projection(x))

    return nn.Sequential(nn.Conv2d(1, 16, 3, 1, 1), nn.BatchNorm2d(16), nn.ReLU(), Block(16, 16, 1), nn.ReLU(),
                         nn.MaxPool2d(2), Block(16, 32, 2), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                         nn.Dropout(0.2), nn.Linear(32, 10))


# -- steps ------------------------------------------------------------------------------------------------------------

def lg_net_step(net, x, t):
    def step():
        net.loss_and_gradient(x, t)
    return step


def torch_net_step(torch, model, x, t):
    model.train()
    xt, tt = torch.from_numpy(x), torch.from_numpy(t)
    loss_fn = torch.nn.CrossEntropyLoss()

    def step():
        for p in model.parameters():
            p.grad = None
        loss_fn(model(xt), tt).backward()
    return step


def _torch_dtype(torch, dtype):
    return torch.float32 if np.dtype(dtype) == np.float32 else torch.float64


def _net_case(lg_build, torch_build, image):
    def case(dtype, batch, rng, torch):
        shape = (batch, 1, 28, 28) if image else (batch, 784)
        x, t = rng.random(shape).astype(dtype), rng.integers(0, 10, batch)
        ours = lg_net_step(lg_build(dtype), x, t)
        theirs = None
        if torch is not None:
            torch.manual_seed(0)
            model = torch_build(torch.nn).to(_torch_dtype(torch, dtype))
            theirs = torch_net_step(torch, model, x, t)
        return ours, theirs
    return case


def _pool_case(kind, kernel, stride, pad):
    """Forward + backward of one pooling layer on ``(batch, 30, 24, 24)`` ReLU-like input (ties at 0)."""
    def case(dtype, batch, rng, torch):
        x = np.maximum(rng.standard_normal((batch, 30, 24, 24)), 0).astype(dtype)
        layer = (MaxPool2D if kind == "max" else AvgPool2D)(kernel, stride=stride, pad=pad)
        dout = rng.standard_normal(layer.forward(x).shape).astype(dtype)

        def ours():
            layer.forward(x)
            layer.backward(dout)
        theirs = None
        if torch is not None:
            nn = torch.nn
            pool = (nn.MaxPool2d if kind == "max" else nn.AvgPool2d)(kernel, stride, pad)
            xt = torch.from_numpy(x).requires_grad_()
            dt = torch.from_numpy(dout)

            def theirs():
                xt.grad = None
                pool(xt).backward(dt)
        return ours, theirs
    return case


CASES = [
    ("SimpleConvNet", np.float32, 100, _net_case(convnet, torch_convnet, True)),
    ("SimpleConvNet", np.float64, 100, _net_case(convnet, torch_convnet, True)),
    ("ResNet (example)", np.float32, 64, _net_case(lambda dt: small_resnet(0).astype(dt),
                                                   torch_resnet, True)),
    ("MaxPool 2x2 s2", np.float32, 100, _pool_case("max", 2, 2, 0)),
    ("AvgPool 2x2 s2", np.float32, 100, _pool_case("avg", 2, 2, 0)),
    ("MaxPool 3x3 s2 p1", np.float32, 100, _pool_case("max", 3, 2, 1)),
    ("AvgPool 3x3 s2 p1", np.float32, 100, _pool_case("avg", 3, 2, 1)),
    ("MLP", np.float32, 100, _net_case(mlp, torch_mlp, False)),
    ("MLP", np.float64, 100, _net_case(mlp, torch_mlp, False)),
    ("BN-MLP", np.float32, 100, _net_case(lambda dt: mlp(dt, bn=True), lambda nn: torch_mlp(nn, bn=True), False)),
    ("BN-MLP", np.float64, 100, _net_case(lambda dt: mlp(dt, bn=True), lambda nn: torch_mlp(nn, bn=True), False)),
]


def memory_probe(library, batch):
    """Peak memory (bytes) of one SimpleConvNet float32 step above what is resident before it.

    Run in a fresh process with ``MALLOC_MMAP_THRESHOLD_=65536`` so that freed arrays go back to the system: the
    peak resident set (``VmHWM``, reset through ``/proc/self/clear_refs``) then follows the live allocations.
    For layergraph the ``tracemalloc`` peak of a step on a fresh network (its scratch buffers included) plus the
    preallocated gradient arrays is returned as well.
    """
    import re
    import tracemalloc

    rng = np.random.default_rng(0)
    torch = None
    if library == "torch":
        import torch
        torch.set_num_threads(1)
    ours, theirs = CASES[0][3](np.float32, batch, rng, torch)
    step = theirs if library == "torch" else ours
    traced = None
    if library == "layergraph":
        tracemalloc.start()
        step()
        traced = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        traced += 4 * (30 * 25 + 30 + 4320 * 100 + 100 + 100 * 10 + 10)   # gradients, allocated up front
    for _ in range(3):
        step()

    def status(key):
        with open("/proc/self/status") as f:
            return int(re.search(key + r":\s+(\d+) kB", f.read()).group(1)) * 1024

    peaks = []
    for _ in range(3):
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        base = status("VmRSS")
        step()
        peaks.append(status("VmHWM") - base)
    return max(peaks), traced
