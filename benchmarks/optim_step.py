"""Per-step time and allocations of every optimizer on a 784-100-100-100-100-10 network.

Usage::

    python benchmarks/optim_step.py [--repeats 7] [--steps 200]

Parameters are built by hand (``fc{i}.W`` of shape (in, out), ``fc{i}.b`` of shape
(out,)); gradients are fixed random arrays. For each optimizer and dtype the script
prints the median time of one ``update`` (state and scratch already created), the peak
memory traced by :mod:`tracemalloc` during one steady-state step, and that peak as a
multiple of the largest parameter array (``fc1.W``): a value well below 1 means the step
allocates no full-size temporaries. The last column gives the memory of the scratch
arrays the optimizer keeps (one set per parameter shape, created once, reused every step).
Each optimizer runs twice per dtype: with separate arrays, and with the arrays packed into one buffer
(``layout = packed``, as after ``Sequential.flatten_parameters()``), where the rule runs once over the whole buffer.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
import tracemalloc

import numpy as np

import layergraph.optim as optim

SIZES = [784, 100, 100, 100, 100, 10]


def make_params(dtype, seed=0, packed=False):
    """Parameter and gradient dicts; with *packed*, views into one buffer each, as ``flatten_parameters`` makes."""
    rng = np.random.default_rng(seed)
    params, grads = {}, {}
    for i, (n_in, n_out) in enumerate(zip(SIZES[:-1], SIZES[1:]), start=1):
        params[f"fc{i}.W"] = (rng.standard_normal((n_in, n_out)) * np.sqrt(2.0 / n_in)).astype(dtype)
        params[f"fc{i}.b"] = np.zeros(n_out, dtype=dtype)
        grads[f"fc{i}.W"] = (rng.standard_normal((n_in, n_out)) * 1e-2).astype(dtype)
        grads[f"fc{i}.b"] = (rng.standard_normal(n_out) * 1e-2).astype(dtype)
    if packed:
        params, grads = _pack(params), _pack(grads)
    return params, grads


def _pack(arrays):
    buf = np.concatenate([a.ravel() for a in arrays.values()])
    out, offset = {}, 0
    for key, a in arrays.items():
        out[key] = buf[offset:offset + a.size].reshape(a.shape)
        offset += a.size
    return out


def configs():
    yield "SGD", lambda: optim.SGD(lr=1e-3)
    yield "Momentum", lambda: optim.Momentum(lr=1e-3)
    yield "Nesterov", lambda: optim.Nesterov(lr=1e-3)
    yield "AdaGrad", lambda: optim.AdaGrad(lr=1e-3)
    yield "AdaDelta", lambda: optim.AdaDelta()
    yield "RMSprop", lambda: optim.RMSprop(lr=1e-4)
    yield "Adam", lambda: optim.Adam(lr=1e-4)
    yield "Adam(amsgrad)", lambda: optim.Adam(lr=1e-4, amsgrad=True)
    yield "Adam+L2", lambda: optim.Adam(lr=1e-4, weight_decay=1e-4)
    yield "Adamax", lambda: optim.Adamax(lr=1e-4)
    yield "AdamW", lambda: optim.AdamW(lr=1e-4, weight_decay=1e-2)
    yield "NAdam", lambda: optim.NAdam(lr=1e-4)
    yield "RAdam", lambda: optim.RAdam(lr=1e-4)
    yield "Lion", lambda: optim.Lion(lr=1e-5)


def time_step(opt, params, grads, steps, repeats):
    per_step = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(steps):
            opt.update(params, grads)
        per_step.append((time.perf_counter() - t0) / steps)
    return statistics.median(per_step)


def traced_peak(opt, params, grads):
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        opt.update(params, grads)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--steps", type=int, default=200)
    args = ap.parse_args(argv)

    n_params = sum(a * b + b for a, b in zip(SIZES[:-1], SIZES[1:]))
    print(f"# optimizer step on {'-'.join(map(str, SIZES))} ({n_params} parameters, 10 arrays)")
    print(f"# numpy {np.__version__}, python {platform.python_version()}, {platform.machine()}; "
          f"median of {args.repeats} x {args.steps} steps\n")
    header = ["optimizer", "dtype", "layout", "us/step", "ns/param", "peak alloc/step (B)", "x largest param", "scratch (KiB)"]
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for name, build in configs():
        for dtype, layout in [(d, lay) for d in (np.float32, np.float64) for lay in ("separate", "packed")]:
            params, grads = make_params(dtype, packed=layout == "packed")
            ids = {k: id(v) for k, v in params.items()}
            opt = build()
            for _ in range(3):  # create state and scratch
                opt.update(params, grads)
            sec = time_step(opt, params, grads, args.steps, args.repeats)
            peak = traced_peak(opt, params, grads)
            largest = params["fc1.W"].nbytes
            assert all(id(v) == ids[k] for k, v in params.items()), "update must be in place"
            assert all(v.dtype == dtype for v in params.values()), "dtype must be kept"
            print(f"| {name} | {np.dtype(dtype).name} | {layout} | {sec * 1e6:8.1f} | {sec * 1e9 / n_params:6.2f} | "
                  f"{peak} | {peak / largest:.4f} | {opt.scratch_nbytes() / 1024:.0f} |")


if __name__ == "__main__":
    main()
