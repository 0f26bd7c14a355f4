"""Training-step throughput of a 784-100-100-100-100-10 ReLU MLP (SoftmaxWithLoss, Adam).

For each batch size and dtype it times, interleaved in one process:
  - layergraph: one step = forward + loss + backward + Adam update, on a net with packed parameters;
  - floor: the 15 matrix multiplies such a step needs (5 forward, 5 weight gradients, 5 input gradients), alone;
  - torch: the same network, loss and optimizer in PyTorch (when installed), with the same thread count.
Each figure is the median over repeats of the mean step time of a block of steps; the spread is the
interquartile range across repeats in percent of the median. A tracemalloc pass measures the peak memory a
layergraph step allocates (activations and their gradients, which scale with the batch) and what the optimizer
update alone allocates, against the bytes of one copy of the parameters.

Usage: python benchmarks/throughput.py [--repeats 15] [--steps 50] [--batches 32,100,1000] [--dtypes float32,float64]
       [--pause 0.3] [--warmup 0.1]
"""

import argparse
import os
import platform
import time
import tracemalloc

import numpy as np

import layergraph as lg
from _timing import warm_up

SIZES = (784, 100, 100, 100, 100, 10)


def build_net(dtype, seed=0):
    layers = []
    for i in range(len(SIZES) - 1):
        layers.append(lg.Affine(SIZES[i], SIZES[i + 1], dtype=dtype, rng=seed + i))
        if i < len(SIZES) - 2:
            layers.append(lg.ReLU())
    return lg.Sequential(*layers, loss=lg.SoftmaxWithLoss()).flatten_parameters()


def layergraph_step(batch, dtype, rng):
    net, opt = build_net(dtype), lg.optim.Adam(lr=1e-3)
    x = rng.random((batch, SIZES[0])).astype(dtype)
    t = rng.integers(0, SIZES[-1], batch)

    def step():
        _, grads = net.loss_and_gradient(x, t)
        opt.update(net.params, grads)

    return step


def gemm_floor(batch, dtype, rng):
    Ws = [rng.random((SIZES[i], SIZES[i + 1])).astype(dtype) for i in range(len(SIZES) - 1)]
    hs = [rng.random((batch, s)).astype(dtype) for s in SIZES]

    def step():
        for i, W in enumerate(Ws):
            hs[i] @ W  # forward
        for i in range(len(Ws)):
            hs[i].T @ hs[i + 1]  # weight gradients
        for i, W in enumerate(Ws):
            hs[i + 1] @ W.T  # input gradients

    return step


def torch_step(batch, dtype, rng):
    import torch

    tdtype = {np.float32: torch.float32, np.float64: torch.float64}[dtype]
    torch.manual_seed(0)
    mods = []
    for i in range(len(SIZES) - 1):
        mods.append(torch.nn.Linear(SIZES[i], SIZES[i + 1], dtype=tdtype))
        if i < len(SIZES) - 2:
            mods.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*mods)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()
    x = torch.from_numpy(rng.random((batch, SIZES[0])).astype(dtype))
    t = torch.from_numpy(rng.integers(0, SIZES[-1], batch))

    def step():
        opt.zero_grad(set_to_none=False)
        loss_fn(model(x), t).backward()
        opt.step()

    return step


def time_block(step, steps, pause=0.0, warmup=0.1):
    """Mean seconds per step over *steps* calls, after a pause and *warmup* seconds (10 steps at least) of
    untimed calls.

    NumPy's BLAS threads and PyTorch's OpenMP threads busy-wait for a while after each call; the pause lets the
    previous contender's threads go idle, so no contender is timed while another one's threads still spin. The
    warm-up then brings the contender back to its steady state (see ``_timing.warm_up``).
    """
    if pause:
        time.sleep(pause)
    warm_up(step, warmup)
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return (time.perf_counter() - start) / steps


def peak_step_memory(batch, dtype):
    """Peak bytes allocated by a whole step and by the optimizer update alone (after warm-up)."""
    net, opt = build_net(dtype), lg.optim.Adam(lr=1e-3)
    rng = np.random.default_rng(1)
    x, t = rng.random((batch, SIZES[0])).astype(dtype), rng.integers(0, SIZES[-1], batch)
    for _ in range(3):
        opt.update(net.params, net.gradient(x, t))
    tracemalloc.start()
    grads = net.gradient(x, t)
    step_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    opt.update(net.params, grads)
    update_peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    param_bytes = sum(p.nbytes for p in net.params.values())
    return max(step_peak, base + update_peak), update_peak, param_bytes


def thread_count():
    try:
        from threadpoolctl import threadpool_info

        counts = [i["num_threads"] for i in threadpool_info() if i.get("user_api") == "blas"]
        if counts:
            return counts[0]
    except ImportError:
        pass
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        if os.environ.get(var):
            return int(os.environ[var])
    return os.cpu_count()


def summarize(samples):
    arr = np.asarray(samples) * 1e3
    med = float(np.median(arr))
    q1, q3 = np.percentile(arr, [25, 75])
    return med, 100 * (q3 - q1) / med


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--steps", type=int, default=50, help="steps per timed block at batch 100 (scaled by batch)")
    ap.add_argument("--batches", default="32,100,1000")
    ap.add_argument("--dtypes", default="float32,float64")
    ap.add_argument("--no-torch", action="store_true")
    ap.add_argument("--pause", type=float, default=0.3, help="seconds of idle time before each timed block")
    ap.add_argument("--warmup", type=float, default=0.1,
                    help="seconds of untimed steps (10 at least) after each pause, before the clock starts")
    args = ap.parse_args()
    threads = thread_count()
    try:
        if args.no_torch:
            raise ImportError
        import torch

        torch.set_num_threads(threads)
        have_torch = True
    except ImportError:
        have_torch = False
    print(f"# {platform.machine()}, {os.cpu_count()} cores, BLAS threads {threads}, numpy {np.__version__}"
          + (f", torch {torch.__version__} ({torch.get_num_threads()} threads)" if have_torch else ", no torch"))
    print(f"# {lg.threads.blas_summary()}")
    print(f"# median of {args.repeats} interleaved repeats; spread = IQR / median")
    head = "| batch | dtype | layergraph ms | floor ms | torch ms | lg/torch | lg/floor | spread lg/floor/torch " \
           "| step alloc | update alloc | params |"
    print(head)
    print("|---" * (head.count("|") - 1) + "|")
    for batch in (int(b) for b in args.batches.split(",")):
        for dtype in (getattr(np, d) for d in args.dtypes.split(",")):
            rng = np.random.default_rng(0)
            contenders = {"lg": layergraph_step(batch, dtype, rng), "floor": gemm_floor(batch, dtype, rng)}
            if have_torch:
                contenders["torch"] = torch_step(batch, dtype, rng)
            steps = max(5, int(args.steps * 100 / batch))
            for step in contenders.values():
                time_block(step, steps, warmup=args.warmup)  # first calls: allocations, thread start-up
            samples = {k: [] for k in contenders}
            for _ in range(args.repeats):
                for name, step in contenders.items():
                    samples[name].append(time_block(step, steps, args.pause, args.warmup))
            stats = {k: summarize(v) for k, v in samples.items()}
            lg_ms, floor_ms = stats["lg"][0], stats["floor"][0]
            torch_ms = stats["torch"][0] if have_torch else float("nan")
            peak, update_peak, param_bytes = peak_step_memory(batch, dtype)
            spread = "/".join(f"{stats[k][1]:.0f}%" for k in contenders)
            print(f"| {batch} | {np.dtype(dtype).name} | {lg_ms:.3f} | {floor_ms:.3f} | {torch_ms:.3f} "
                  f"| {lg_ms / torch_ms:.2f} | {lg_ms / floor_ms:.2f} | {spread} | {peak / 1024:.0f} KiB "
                  f"| {update_peak / 1024:.1f} KiB | {param_bytes / 1024:.0f} KiB |")


if __name__ == "__main__":
    main()
