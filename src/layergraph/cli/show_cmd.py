"""``layergraph show CHECKPOINT``: the saved network as a summary table, DOT, Mermaid or a PNG picture."""

import math
import os
import shutil
import subprocess
import sys

import numpy as np

from .._atomic import atomic_write
from .options import add_model_option, refuse_overwriting_inputs, same_file

FORMATS = ("text", "dot", "mermaid", "png")


def register(sub):
    p = sub.add_parser(
        "show", help="show a saved network (summary table, Graphviz DOT, Mermaid or PNG)",
        description="Rebuild the network saved in a checkpoint and show it: 'text' is the summary table (name, "
                    "class, output shape, parameters and, for graphs, each node's inputs); 'dot' and 'mermaid' are "
                    "pictures as text; 'png' renders the DOT picture with the Graphviz 'dot' program.")
    p.add_argument("checkpoint", metavar="CHECKPOINT", help="a .npz checkpoint")
    p.add_argument("--format", choices=FORMATS, default="text", help="what to print or write (default text)")
    p.add_argument("--out", default=None, metavar="FILE",
                   help="write to FILE instead of standard output (for png the default is CHECKPOINT with the "
                        "extension .png); never the checkpoint itself")
    p.add_argument("--input-shape", default=None, metavar="SHAPE",
                   help="shape of one sample, e.g. 784 or 1,28,28; for several inputs name=1,28,28;other=10 "
                        "(default: what the checkpoint records, else what its first layer implies)")
    p.add_argument("--input-dtype", default=None, metavar="DTYPE",
                   help="dtype of the probe sample that finds the shapes, e.g. int64 for a network that starts "
                        "with an Embedding; for several inputs name=int64;other=float32 (default: the "
                        "parameters' dtype)")
    add_model_option(p)
    p.set_defaults(run=run)


#: Most values one probe sample may hold (the summary runs one sample through the network).
MAX_SAMPLE_VALUES = 2 ** 26


def parse_shape(text):
    """``"1,28,28"`` -> ``(1, 28, 28)``; ``"a=1,28,28;b=10"`` -> ``{"a": (1, 28, 28), "b": (10,)}``.

    Parameters
    ----------
    text : str
        The ``--input-shape`` value.

    Returns
    -------
    tuple of int or dict of str to tuple of int

    Raises
    ------
    ValueError
        Sizes that are not positive integers, or a sample of more than :data:`MAX_SAMPLE_VALUES` values (checked
        before anything is allocated).
    """
    def one(part):
        try:
            dims = tuple(int(v) for v in part.replace("x", ",").split(",") if v.strip())
        except ValueError:
            raise ValueError(f"--input-shape: expected sizes like 1,28,28, got {part!r}") from None
        if not dims or min(dims) < 1:
            raise ValueError(f"--input-shape: expected positive sizes like 1,28,28, got {part!r}")
        check_sample_size(dims, "--input-shape")
        return dims
    if "=" in text:
        out = {}
        for item in text.split(";"):
            name, _, dims = item.partition("=")
            out[name.strip()] = one(dims)
        return out
    return one(text)


def check_sample_size(dims, what):
    """Refuse a sample shape of more than :data:`MAX_SAMPLE_VALUES` values (one line naming *what*)."""
    count = math.prod(dims)
    if count > MAX_SAMPLE_VALUES:
        raise ValueError(f"{what}: {','.join(map(str, dims))} is {count:,} values per sample; `layergraph show` "
                         f"takes at most {MAX_SAMPLE_VALUES:,} (give the shape of one sample, e.g. 1,28,28)")


def parse_dtype(text):
    """``"int64"`` -> ``numpy.dtype('int64')``; ``"tok=int64;feat=float32"`` -> a dict of them by input name."""
    def one(part):
        try:
            return np.dtype(part.strip())
        except TypeError:
            raise ValueError(f"--input-dtype: expected a NumPy dtype name like int64 or float32, got "
                             f"{part.strip()!r}") from None
    if "=" in text:
        return {name.strip(): one(value) for name, _, value in (item.partition("=") for item in text.split(";"))}
    return one(text)


def default_png(checkpoint):
    """Where ``--format png`` writes without ``--out``: the checkpoint's path with ``.png`` for its extension, or
    with ``.png`` added when that would be the checkpoint itself (a checkpoint named ``net.png``)."""
    out = os.path.splitext(checkpoint)[0] + ".png"
    return checkpoint + ".png" if same_file(out, checkpoint) else out


def _input_shape(ckpt):
    """The sample shape recorded in the checkpoint, or implied by a leading Affine layer; None when unknown."""
    shape = ckpt.meta.get("input_shape")
    if isinstance(shape, dict):
        return {k: tuple(int(v) for v in s) for k, s in shape.items()}
    if isinstance(shape, (list, tuple)) and shape:
        return tuple(int(v) for v in shape)
    from .build import run_options

    cli = run_options(ckpt.meta)
    if isinstance(cli.get("arch"), (list, tuple)) and cli["arch"]:
        return (int(cli["arch"][0]),)
    layers = ckpt.architecture.get("layers") or []
    if layers and "graph" not in ckpt.architecture and layers[0].get("class") == "Affine":
        w = layers[0].get("params", {}).get("W")
        if w:
            return (int(w[0][0]),)
    return None


def render(net, fmt, input_shape, dtype=None):
    """The text of *net* in format *fmt* (``text``, ``dot`` or ``mermaid``); *dtype* of the probe sample as in
    ``summary``."""
    if fmt == "dot":
        return net.to_dot(input_shape, dtype=dtype)
    if fmt == "mermaid":
        return net.to_mermaid(input_shape, dtype=dtype)
    if input_shape is None:
        lines = ["(pass --input-shape to see output shapes)"]
        nodes = getattr(net, "nodes", None)
        items = nodes.items() if nodes is not None else ((k, (v, None)) for k, v in net.layers.items())
        for name, (layer, ins) in items:
            count = sum(int(v.size) for v in layer.params.values())
            lines.append(f"{name}  {type(layer).__name__}  {count:,}" + (f"  <- {ins}" if ins else ""))
        return "\n".join(lines) + "\n"
    return str(net.summary(input_shape, dtype=dtype)) + "\n"


def run(args):
    from ..train import load_checkpoint

    out = args.out or (default_png(args.checkpoint) if args.format == "png" else None)
    if out is not None:
        refuse_overwriting_inputs("--out", out, [("CHECKPOINT", args.checkpoint)])
    from .build import rebuild_network

    ckpt = load_checkpoint(args.checkpoint)
    net = rebuild_network(ckpt, args.model)
    if args.input_shape:
        shape = parse_shape(args.input_shape)
    else:
        shape = _input_shape(ckpt)
        for dims in (shape.values() if isinstance(shape, dict) else [shape] if shape else []):
            check_sample_size(dims, f"{args.checkpoint}: the recorded input shape")
    dtype = parse_dtype(args.input_dtype) if args.input_dtype else None
    if isinstance(dtype, dict) and not isinstance(getattr(net, "inputs", None), (list, tuple)):
        raise ValueError(f"--input-dtype: the network has one input; give one dtype like int64, got "
                         f"{args.input_dtype!r}")
    if args.format == "png":
        dot = shutil.which("dot")
        if dot is None:
            print("layergraph show: the Graphviz 'dot' program is not installed; install Graphviz (e.g. "
                  "'apt-get install graphviz' or 'brew install graphviz') or use --format dot", file=sys.stderr)
            return 1
        done = subprocess.run([dot, "-Tpng"], input=render(net, "dot", shape, dtype).encode(),
                              capture_output=True, check=False)
        if done.returncode != 0:
            raise OSError(f"dot failed: {done.stderr.decode(errors='replace').strip()}")
        with atomic_write(out) as fh:
            fh.write(done.stdout)
        print(f"wrote {out}")
        return 0
    text = render(net, args.format, shape, dtype)
    if out:
        with atomic_write(out, "w", encoding="utf-8") as fh:
            fh.write(text)
        print(f"wrote {out}")
    else:
        sys.stdout.write(text)
    return 0
