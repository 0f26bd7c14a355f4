"""``layergraph export CHECKPOINT OUT.onnx``: write a saved network as an ONNX model (needs ``layergraph[onnx]``)."""

import argparse
import os
import sys

from .options import add_model_option, refuse_overwriting_inputs


def input_shape(text):
    """``type=`` for ``--input-shape``: ``784``, ``1,28,28`` or ``1x28x28``; ``?`` marks a dynamic axis."""
    parts = [p.strip() for p in text.replace("x", ",").split(",")]
    shape = []
    for part in parts:
        if part in ("?", "None"):
            shape.append(None)
            continue
        try:
            value = int(part)
        except ValueError:
            value = 0
        if value < 1:
            raise argparse.ArgumentTypeError(f"expected one sample's shape such as 784 or 1,28,28 (positive "
                                             f"sizes, ? for a dynamic axis), got {text!r}")
        shape.append(value)
    return tuple(shape)


def register(sub):
    p = sub.add_parser(
        "export", help="export a saved network as an ONNX model",
        description="Rebuild the network saved in a checkpoint and write it in inference mode as an ONNX model "
                    "with a dynamic batch axis, checked with onnx.checker (needs: pip install \"layergraph[onnx]\").")
    p.add_argument("checkpoint", metavar="CHECKPOINT", help="a .npz checkpoint (e.g. runs/<run>/checkpoint.npz)")
    p.add_argument("out", metavar="OUT.onnx", help="the ONNX file to write (never the checkpoint itself)")
    p.add_argument("--head", choices=["logits", "proba"], default="logits",
                   help="logits: the network's output (default); proba: followed by the softmax or sigmoid of "
                        "its loss layer")
    p.add_argument("--input-shape", type=input_shape, default=None, metavar="SHAPE",
                   help="one sample's shape without the batch axis, e.g. 1,28,28 (default: the input_shape saved in "
                        "the checkpoint's metadata, else from the first Affine)")
    p.add_argument("--opset", type=int, default=None, help="ONNX opset (default 17)")
    p.add_argument("--dtype", choices=["float32", "float64"], default=None,
                   help="floating type of the model (default: the network's)")
    add_model_option(p)
    p.set_defaults(run=run)


def run(args):
    from ..export import to_onnx
    from ..train import load_checkpoint

    refuse_overwriting_inputs("OUT.onnx", args.out, [("CHECKPOINT", args.checkpoint)])
    from .build import rebuild_network

    ckpt = load_checkpoint(args.checkpoint)
    net = rebuild_network(ckpt, args.model)
    shape = args.input_shape if args.input_shape is not None else _saved_shape(ckpt.meta.get("input_shape"))
    try:
        model = to_onnx(net, args.out, input_shape=shape, head=args.head, opset=args.opset,
                        dtype=args.dtype)
    except ImportError as err:
        print(f"layergraph export: error: {err}", file=sys.stderr)
        return 1
    graph = model.graph
    print(f"wrote {args.out} ({os.path.getsize(args.out):,} bytes): opset {model.opset_import[0].version}, "
          f"{len(graph.node)} nodes, {len(graph.initializer)} constants, head {args.head}")
    for kind, values in (("input", graph.input), ("output", graph.output)):
        for value in values:
            print(f"{kind} {value.name}: {_shape(value)}")
    return 0


def _saved_shape(saved):
    """The ``input_shape`` recorded in a checkpoint's metadata (a list, or a dict input name -> list), if any."""
    if isinstance(saved, dict):
        return {str(k): tuple(v) if isinstance(v, (list, tuple)) else v for k, v in saved.items()}
    if isinstance(saved, (list, tuple)):
        return tuple(saved)
    return saved if isinstance(saved, int) else None


def _shape(value):
    dims = value.type.tensor_type.shape.dim
    text = ", ".join(d.dim_param or str(d.dim_value) if (d.dim_param or d.dim_value) else "?" for d in dims)
    return f"({text})" if value.type.tensor_type.HasField("shape") else "(unknown)"
