"""Inference time of exported networks: layergraph ``predict`` vs ONNX Runtime on the exported file vs PyTorch.

    python benchmarks/export.py [--rounds 15] [--repeat 5]

Networks: the Quick-start MLP (784-100-10), the LeNet-style convnet of examples/convnet_mnist.py and the small
ResNet of examples/resnet_mnist.py (PyTorch rows for the first two, built with the same weights). Each round times
every (network, batch, threads, engine) cell once, in an order that is interleaved and rotated from round to round,
each time as the best of ``--repeat`` calls; the table shows the median over rounds and the interquartile range.
Threads: numpy's BLAS through threadpoolctl, ``torch.set_num_threads`` and ONNX Runtime's intra-op pool.
Also prints how long ``to_onnx`` takes for each network.
"""

import argparse
import os
import sys
import tempfile
import time
from collections import OrderedDict, defaultdict

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "examples"))

import onnxruntime as ort  # noqa: E402
import torch  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

import layergraph as lg  # noqa: E402
from convnet_mnist import simple_convnet  # noqa: E402
from resnet_mnist import small_resnet  # noqa: E402


def quickstart():
    return lg.Sequential(lg.Affine(784, 100, rng=1), lg.ReLU(), lg.Affine(100, 10, rng=2), loss=lg.SoftmaxWithLoss())


def torch_mlp(net):
    fc1, fc2 = net["Affine1"], net["Affine2"]
    model = torch.nn.Sequential(torch.nn.Linear(784, 100), torch.nn.ReLU(), torch.nn.Linear(100, 10))
    with torch.no_grad():
        model[0].weight.copy_(torch.from_numpy(fc1.params["W"].T.copy()))
        model[0].bias.copy_(torch.from_numpy(fc1.params["b"]))
        model[2].weight.copy_(torch.from_numpy(fc2.params["W"].T.copy()))
        model[2].bias.copy_(torch.from_numpy(fc2.params["b"]))
    return model.eval()


def torch_convnet(net):
    model = torch.nn.Sequential(torch.nn.Conv2d(1, 30, 5), torch.nn.ReLU(), torch.nn.MaxPool2d(2), torch.nn.Flatten(),
                                torch.nn.Linear(4320, 100), torch.nn.ReLU(), torch.nn.Linear(100, 10))
    with torch.no_grad():
        model[0].weight.copy_(torch.from_numpy(net["conv1"].params["W"]))
        model[0].bias.copy_(torch.from_numpy(net["conv1"].params["b"]))
        for i, name in ((4, "fc1"), (6, "fc2")):
            model[i].weight.copy_(torch.from_numpy(net[name].params["W"].T.copy()))
            model[i].bias.copy_(torch.from_numpy(net[name].params["b"]))
    return model.eval()


def best_of(fn, repeat):
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=15)
    p.add_argument("--repeat", type=int, default=5)
    args = p.parse_args(argv)

    nets = OrderedDict(mlp=(quickstart(), (784,), torch_mlp), convnet=(simple_convnet(), (1, 28, 28), torch_convnet),
                       resnet=(small_resnet(), (1, 28, 28), None))
    rng = np.random.default_rng(0)
    tmp = tempfile.mkdtemp()
    cells = []
    for name, (net, shape, to_torch) in nets.items():
        path = os.path.join(tmp, f"{name}.onnx")
        start = time.perf_counter()
        lg.export.to_onnx(net, path, input_shape=shape)
        print(f"to_onnx({name}): {1e3 * (time.perf_counter() - start):.1f} ms, {os.path.getsize(path):,} bytes")
        tnet = to_torch(net) if to_torch else None
        for threads in (1, 2):
            opts = ort.SessionOptions()
            opts.intra_op_num_threads, opts.inter_op_num_threads = threads, 1
            sess = ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])
            for batch in (1, 256):
                x = rng.random((batch, *shape), dtype=np.float32)
                tx = torch.from_numpy(x)
                ref = net.predict(x)
                np.testing.assert_allclose(sess.run(None, {"x": x})[0], ref, rtol=1e-4, atol=1e-5)
                key = (name, batch, threads)
                cells.append((key, "layergraph", lambda net=net, x=x: net.predict(x)))
                cells.append((key, "onnxruntime", lambda sess=sess, x=x: sess.run(None, {"x": x})))
                if tnet is not None:
                    def run_torch(tnet=tnet, tx=tx):
                        with torch.inference_mode():
                            tnet(tx)
                    cells.append((key, "pytorch", run_torch))

    times = defaultdict(list)
    for r in range(args.rounds):
        shift = r % len(cells)
        for key, engine, fn in cells[shift:] + cells[:shift]:
            threads = key[2]
            torch.set_num_threads(threads)
            with threadpool_limits(limits=threads):
                times[key, engine].append(best_of(fn, args.repeat))

    print(f"\nmedian of {args.rounds} rounds (best of {args.repeat} calls each), ms [interquartile range]; "
          f"{os.cpu_count()} CPUs, numpy {np.__version__}, onnxruntime {ort.__version__}, torch {torch.__version__}")
    header = f"{'network':<8} {'batch':>5} {'thr':>3} | {'layergraph':>24} | {'onnxruntime':>24} | {'pytorch':>24}"
    print(header)
    print("-" * len(header))
    for key in dict.fromkeys(k for k, _, _ in cells):
        row = f"{key[0]:<8} {key[1]:>5} {key[2]:>3}"
        for engine in ("layergraph", "onnxruntime", "pytorch"):
            values = times.get((key, engine))
            if not values:
                row += f" | {'-':>24}"
                continue
            q1, med, q3 = (1e3 * np.percentile(values, q) for q in (25, 50, 75))
            row += " | " + f"{med:.3f} [{q1:.3f}-{q3:.3f}]".rjust(24)
        print(row)
    return 0


if __name__ == "__main__":
    sys.exit(main())
