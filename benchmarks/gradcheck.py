"""Gradient checking: layergraph's checker against ``torch.autograd.gradcheck``, head to head.

Usage: ``python benchmarks/gradcheck.py [--rounds 3] [--full-rounds 1] [--no-full] [--no-catalogue]``.

1. **Catalogue**: every buggy layer of the mutation catalogues (``tests/test_gradcheck_mutations.py`` and
   ``tests/test_gradcheck_catalogue2.py``) and every correct twin, checked by ``lg.gradcheck`` (mode ``auto``) and
   by ``torch.autograd.gradcheck`` (defaults) on the *same* NumPy code, wrapped in a ``torch.autograd.Function``
   (forward runs the layer, backward calls its ``backward`` on a snapshot taken right after that forward). Prints
   detections (bugs caught), false failures (correct layers failed) and total time per tool.
2. **Timing**: the float64 784-100-100-10 ReLU network with SoftmaxWithLoss, batch 16: ``lg.gradcheck`` in
   ``auto`` and ``full`` (1 and 2 worker processes) against ``torch.autograd.gradcheck`` on the same function
   written in torch, one BLAS/torch thread, interleaved rounds; median, min and max per row.
"""

import argparse
import copy
import os
import statistics
import sys
import time

import numpy as np

import layergraph as lg

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))


def build(batch, seed=0):
    """The benchmark network (float64), an input batch and labels."""
    net = lg.Sequential(lg.Affine(784, 100, dtype=np.float64, rng=seed), lg.ReLU(),
                        lg.Affine(100, 100, dtype=np.float64, rng=seed + 1), lg.ReLU(),
                        lg.Affine(100, 10, dtype=np.float64, rng=seed + 2), loss=lg.SoftmaxWithLoss())
    rng = np.random.default_rng(seed)
    return net, rng.standard_normal((batch, 784)), rng.integers(0, 10, batch)


# -- the catalogue --------------------------------------------------------------------------------------------------

def catalogue():
    """``[(name, is_bug, make)]`` with ``make() -> (layer, x)``."""
    import test_gradcheck_catalogue2 as c2
    import test_gradcheck_mutations as c1

    out = [(f"correct {k}", False, f) for k, f in sorted(c1.CORRECT.items())]
    out += [(k, True, f) for k, f in sorted(c1.BROKEN.items())]
    for name, (bug, twin, make_x, f32) in sorted(c2.CASES.items()):
        if name in c1.BROKEN:         # the same bug class is already in the first catalogue
            continue
        for label, factory, is_bug in ((name, bug, True), (f"twin of {name}", twin, False)):
            def make(factory=factory, make_x=make_x, f32=f32):
                layer, x = c2._make(factory, 0), make_x(0)
                if f32:
                    layer.astype(np.float32)
                    x = x.astype(np.float32)
                return layer, x
            out.append((label + (" (float32)" if f32 else ""), is_bug, make))
    return out


def torch_check(layer, x):
    """``torch.autograd.gradcheck`` (defaults) on *layer*'s own forward/backward; True when it passes."""
    import torch

    keys = list(layer.params)

    class Wrapped(torch.autograd.Function):
        @staticmethod
        def forward(ctx, xt, *ps):
            for k, p in zip(keys, ps):
                np.copyto(layer.params[k], p.detach().numpy())
            y = layer.forward(xt.detach().numpy(), True)
            ctx.snapshot = copy.deepcopy(layer)
            return torch.from_numpy(np.array(y, copy=True))

        @staticmethod
        def backward(ctx, g):
            snap = ctx.snapshot
            dx = snap.backward(g.detach().numpy().copy())
            grads = [torch.from_numpy(np.array(snap.grads[k], copy=True)) if k in snap.grads else None
                     for k in keys]
            return (torch.from_numpy(np.array(dx, copy=True)), *grads)

    xt = torch.tensor(np.array(x), requires_grad=True)
    ps = [torch.tensor(np.array(layer.params[k]), requires_grad=True) for k in keys]
    try:
        return bool(torch.autograd.gradcheck(lambda *a: Wrapped.apply(*a), (xt, *ps)))
    except Exception:
        return False


def run_catalogue():
    import torch

    torch.set_num_threads(1)
    rows, totals = [], {"layergraph": [0, 0, 0.0], "torch": [0, 0, 0.0]}
    bugs = 0
    for name, is_bug, make in catalogue():
        bugs += is_bug
        results = []
        for tool in ("layergraph", "torch"):
            layer, x = make()
            start = time.perf_counter()
            ok = lg.gradcheck(layer, x).ok if tool == "layergraph" else torch_check(layer, x)
            elapsed = time.perf_counter() - start
            caught, false = (not ok and is_bug), (not ok and not is_bug)
            totals[tool][0] += caught
            totals[tool][1] += false
            totals[tool][2] += elapsed
            results.append("caught" if caught else ("FALSE FAIL" if false else ("missed" if is_bug else "pass")))
        rows.append((name, "bug" if is_bug else "correct", *results))
    header = ("layer", "kind", "layergraph", "torch.autograd.gradcheck")
    _table(header, rows)
    print(f"\n{bugs} buggy layers, {len(rows) - bugs} correct ones")
    for tool, (caught, false, total) in totals.items():
        print(f"{tool:>11}: caught {caught}/{bugs}, false failures {false}/{len(rows) - bugs}, total {total:.2f} s")


# -- timing on the 784-100-100-10 network ---------------------------------------------------------------------------

def torch_net(net, x, t):
    """The network as a torch function of (x, W1, b1, W2, b2, W3, b3) and the float64 inputs."""
    import torch

    tensors = [torch.tensor(x, requires_grad=True)]
    for name in ("Affine1", "Affine2", "Affine3"):
        tensors += [torch.tensor(net[name].params["W"], requires_grad=True),
                    torch.tensor(net[name].params["b"], requires_grad=True)]
    labels = torch.tensor(t)

    def f(x, w1, b1, w2, b2, w3, b3):
        h = torch.relu(x @ w1 + b1)
        h = torch.relu(h @ w2 + b2)
        return torch.nn.functional.cross_entropy(h @ w3 + b3, labels)

    return f, tuple(tensors)


def run_timing(rounds, full_rounds, do_full, batch):
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(1)
    net, x, t = build(batch)
    f, inputs = torch_net(net, x, t)
    jobs = [("layergraph auto", lambda: lg.gradcheck(net, x, t, mode="auto").ok, rounds),
            ("torch gradcheck fast_mode", lambda: torch.autograd.gradcheck(f, inputs, fast_mode=True), rounds)]
    if do_full:
        jobs += [("layergraph full, 1 worker", lambda: lg.gradcheck(net, x, t, mode="full").ok, full_rounds),
                 ("layergraph full, 2 workers", lambda: lg.gradcheck(net, x, t, mode="full", workers=2).ok,
                  full_rounds),
                 ("torch gradcheck (default)", lambda: torch.autograd.gradcheck(f, inputs), full_rounds)]
    times = {name: [] for name, _, _ in jobs}
    results = {}
    with threadpool_limits(1, user_api="blas"):
        for r in range(max(n for _, _, n in jobs)):
            for name, fn, n in jobs:          # interleaved: every tool once per round
                if r < n:
                    start = time.perf_counter()
                    results[name] = fn()
                    times[name].append(time.perf_counter() - start)
                    print(f"  round {r + 1}: {name}: {times[name][-1]:.2f} s", flush=True)
    base = statistics.median(times["torch gradcheck (default)"]) if do_full else None
    rows = []
    for name, _, _ in jobs:
        ts = times[name]
        ratio = f"{statistics.median(ts) / base:.2f}x" if base else "-"
        rows.append((name, str(len(ts)), f"{statistics.median(ts):.3f}", f"{min(ts):.3f}", f"{max(ts):.3f}",
                     ratio, "PASS" if results[name] else "FAIL"))
    print(f"\ngradcheck timing, float64 784-100-100-10 ReLU net + softmax cross-entropy, batch {batch}, "
          f"one BLAS/torch thread per process")
    _table(("check", "rounds", "median s", "min s", "max s", "vs torch default", "result"), rows)


def _table(header, rows):
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    for r in [header] + rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="rounds of the fast rows (default 5)")
    parser.add_argument("--full-rounds", type=int, default=1, help="rounds of the full checks (default 1)")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--no-full", action="store_true", help="skip the slow full checks")
    parser.add_argument("--no-catalogue", action="store_true", help="skip the head-to-head on the catalogue")
    parser.add_argument("--no-timing", action="store_true", help="skip the timing on the network")
    args = parser.parse_args(argv)
    if not args.no_catalogue:
        run_catalogue()
    if not args.no_timing:
        run_timing(args.rounds, args.full_rounds, not args.no_full, args.batch)


if __name__ == "__main__":
    main()
