"""``to_onnx``: write a network (any layer or container) as an ONNX model with a dynamic batch dimension."""

import numbers

import numpy as np

from .._atomic import atomic_write
from ..layers import Affine, Residual
from ..network import Sequential
from .context import ExportContext
from .registry import ExportError

DEFAULT_OPSET = 17
MIN_OPSET = 13
HEADS = ("logits", "proba")


def _import_onnx():
    try:
        import onnx
    except ImportError:
        raise ImportError('ONNX export needs the onnx package: pip install "layergraph[onnx]"') from None
    return onnx


def to_onnx(net, path, *, input_shape=None, head="logits", opset=None, dtype=None):
    """Export *net* in inference mode as an ONNX model, checked with ``onnx.checker``, written atomically to *path*.

    Parameters
    ----------
    net : Layer
        A :class:`~layergraph.Sequential`, a ``Graph``, a ``Residual`` or any single layer with an exporter
        (see :func:`register_exporter`).
    path : str or os.PathLike or None
        Where to write the ``.onnx`` file; None only returns the model.
    input_shape : int, tuple or dict, optional
        One sample's shape without the batch axis (``784`` or ``(1, 28, 28)``); ``None`` entries are dynamic
        axes (e.g. ``(None, 8)`` for sequences of any length). A dict input name -> shape for a graph with several
        inputs (or a list of shapes in input order); a list of shapes for a lone merge layer, whose inputs are
        then named ``x0``, ``x1``, ... When omitted it is taken from the first layer where that layer fixes it
        (an Affine's ``in_features``); otherwise an error asks for it.
    head : {"logits", "proba"}
        ``"proba"`` appends the probability map of the loss layer (softmax for ``SoftmaxWithLoss``, sigmoid for
        ``SigmoidWithLoss``); ``"logits"`` exports the network's own output.
    opset : int, optional
        ONNX opset of the default domain, 13 or newer (default 17).
    dtype : {float32, float64}, optional
        Floating type of the model: by default the dtype of the network's parameters (float32 if it has none).

    Returns
    -------
    onnx.ModelProto
        The model; inputs are named after the graph's inputs (``x`` otherwise), outputs after the graph's output
        nodes (``y`` otherwise), each of shape ``(N, ...)`` with ``N`` dynamic.
    """
    onnx = _import_onnx()
    if not callable(getattr(net, "forward", None)):
        raise TypeError(f"to_onnx: 'net' must be a layer or a network, got {type(net).__name__}")
    if head not in HEADS:
        raise ValueError(f"to_onnx: 'head' must be one of {HEADS}, got {head!r}")
    opset = _check_opset(onnx, opset)
    dtype = _model_dtype(net, dtype)
    in_names = _input_names(net, input_shape)
    shapes = _input_shapes(net, in_names, input_shape)
    out_names = _output_names(net)

    ctx = ExportContext(onnx, dtype, opset, head)
    for name in out_names:
        ctx.unique(name)
    for name in in_names:
        ctx.add_input(name, ("N", *shapes[name]))
    outputs = ctx.export(net, list(in_names))
    if len(outputs) != len(out_names):
        raise ExportError(f"to_onnx: {type(net).__name__} {getattr(net, 'name', '')!r} produced {len(outputs)} "
                          f"output(s), expected {len(out_names)} ({', '.join(out_names)})")
    if head == "proba":
        outputs = _proba_heads(ctx, net, out_names, outputs)
    _name_outputs(ctx, outputs, out_names)
    model = _build_model(onnx, ctx, net, in_names, out_names)
    try:
        onnx.checker.check_model(model, full_check=True)
    except Exception as err:  # onnx raises its own ValidationError / InferenceError types
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ExportError(f"to_onnx: the exported model fails onnx.checker: {first}") from err
    if path is not None:
        with atomic_write(path, "wb") as fh:
            fh.write(model.SerializeToString())
    return model


# -- arguments -----------------------------------------------------------------------------------------------------

def _check_opset(onnx, opset):
    newest = onnx.defs.onnx_opset_version()
    if opset is None:
        return min(DEFAULT_OPSET, newest)
    if not isinstance(opset, numbers.Integral) or isinstance(opset, bool) or not MIN_OPSET <= opset <= newest:
        raise ValueError(f"to_onnx: 'opset' must be an int from {MIN_OPSET} to {newest} (the installed onnx's "
                         f"newest), got {opset!r}")
    return int(opset)


def _model_dtype(net, dtype):
    if dtype is None:
        params = getattr(net, "params", {}) or {}
        floats = [np.asarray(v).dtype for v in params.values() if np.asarray(v).dtype.kind == "f"]
        dtype = floats[0] if floats else np.float32
    dtype = np.dtype(dtype)
    if dtype not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise ValueError(f"to_onnx: 'dtype' must be float32 or float64, got {dtype}")
    return dtype


def _names(value, default):
    if isinstance(value, (tuple, list)) and value and all(isinstance(v, str) for v in value):
        return tuple(value)
    return default


def _several_shapes(input_shape):
    return isinstance(input_shape, (tuple, list)) and len(input_shape) > 0 and all(
        isinstance(s, (tuple, list)) for s in input_shape)


def _input_names(net, input_shape=None):
    names = _names(getattr(net, "inputs", None), None)
    if names is not None:
        return names
    if _several_shapes(input_shape):       # a layer taking a list (a merge layer) on its own: x0, x1, ...
        return tuple(f"x{i}" for i in range(len(input_shape)))
    return ("x",)


def _output_names(net):
    return _names(getattr(net, "outputs", None), ("y",))


def _as_shape(value, what):
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = (value,)
    if not isinstance(value, (tuple, list)) or not all(
            v is None or (isinstance(v, numbers.Integral) and not isinstance(v, bool) and v > 0) for v in value):
        raise ValueError(f"to_onnx: {what} must be one sample's shape without the batch axis (positive ints, "
                         f"None for a dynamic axis), got {value!r}")
    return tuple(None if v is None else int(v) for v in value)


def _input_shapes(net, names, input_shape):
    if isinstance(input_shape, dict):
        missing = [n for n in names if n not in input_shape]
        extra = [k for k in input_shape if k not in names]
        if missing or extra:
            raise ValueError(f"to_onnx: 'input_shape' must have one entry per input {list(names)}; "
                             f"missing {missing}, unknown {extra}")
        return {n: _as_shape(input_shape[n], f"input_shape[{n!r}]") for n in names}
    if _several_shapes(input_shape):
        if len(input_shape) != len(names):
            raise ValueError(f"to_onnx: 'input_shape' gives {len(input_shape)} shapes for the inputs {list(names)}")
        return {n: _as_shape(s, f"input_shape[{n!r}]") for n, s in zip(names, input_shape)}
    if input_shape is not None:
        if len(names) != 1:
            raise ValueError(f"to_onnx: the network has inputs {list(names)}: give 'input_shape' as a dict "
                             f"input name -> shape")
        return {names[0]: _as_shape(input_shape, "'input_shape'")}
    shapes, missing = {}, []
    for name in names:
        first = _leading_layer(net, name)
        if isinstance(first, Affine):
            shapes[name] = (first.in_features,)
        else:
            missing.append((name, first))
    if not missing:
        return shapes
    name, first = missing[0]
    what = f"{type(first).__name__} {getattr(first, 'name', '')!r}" if first is not None else f"input {name!r}"
    raise ExportError(f"to_onnx: cannot infer the input shape ({what} does not fix it); pass input_shape=, "
                      f"one sample's shape without the batch axis, e.g. input_shape=(1, 28, 28)"
                      + (" in a dict input name -> shape" if len(names) > 1 else ""))


def _leading_layer(net, input_name):
    """The first layer applied to graph input *input_name*, looking inside Sequential, Residual and graphs."""
    layer = net
    for _ in range(100):
        if isinstance(layer, Sequential):
            if not len(layer):
                return None
            layer = layer[0]
        elif isinstance(layer, Residual):
            layer = layer.block
        elif getattr(layer, "nodes", None) is not None and isinstance(getattr(layer, "inputs", None), tuple):
            readers = [lay for lay, incoming in layer.nodes.values() if incoming == input_name]
            if not readers or input_name not in layer.inputs:
                return None
            layer = readers[0]
            input_name = _input_names(layer)[0]
        else:
            return layer
    return layer


# -- outputs -------------------------------------------------------------------------------------------------------

def _loss_for(net, output, count):
    loss = getattr(net, "loss_layer", None)
    if isinstance(loss, dict):
        return loss.get(output)
    if loss is None:
        losses = getattr(net, "losses", None)
        if isinstance(losses, dict):
            return losses.get(output)
    return loss if count == 1 or loss is None else None


def _proba_heads(ctx, net, out_names, outputs):
    result = []
    for name, tensor in zip(out_names, outputs):
        loss = _loss_for(net, name, len(out_names))
        if loss is None:
            raise ExportError(f"to_onnx: head='proba' needs a loss layer for output {name!r}, but "
                              f"{type(net).__name__} {getattr(net, 'name', '')!r} has none; use head='logits'")
        qualname = getattr(loss, "name", None) or "loss"
        result.append(ctx.export(loss, [tensor], name=qualname)[0])
    return result


def _name_outputs(ctx, outputs, out_names):
    """Give each output tensor its public name: rename the producing node's output, or add an Identity."""
    produced = {}
    for node in ctx.nodes:
        for i, out in enumerate(node.output):
            produced[out] = (node, i)
    renamed = {}
    for tensor, name in zip(outputs, out_names):
        tensor = renamed.get(tensor, tensor)
        if tensor in produced and tensor not in ctx.graph_inputs:
            node, i = produced.pop(tensor)
            node.output[i] = name
            for other in ctx.nodes:
                for k, inp in enumerate(other.input):
                    if inp == tensor:
                        other.input[k] = name
            renamed[tensor] = name
        else:  # a graph input, a constant, or a tensor already given another output's name
            ctx.nodes.append(ctx._onnx.helper.make_node("Identity", [tensor], [name],
                                                        name=ctx.unique(f"{name}/identity")))


def _build_model(onnx, ctx, net, in_names, out_names):
    helper = onnx.helper
    inputs = []
    for name in in_names:
        dtype, shape = ctx.graph_inputs[name]
        dims = [d if d is not None else f"{name}_dim{i}" for i, d in enumerate(shape)]
        inputs.append(helper.make_tensor_value_info(name, helper.np_dtype_to_tensor_dtype(dtype), dims))
    elem = helper.np_dtype_to_tensor_dtype(ctx.dtype)
    outputs = [helper.make_tensor_value_info(name, elem, None) for name in out_names]
    graph = helper.make_graph(ctx.nodes, _graph_name(net), inputs, outputs, initializer=ctx.initializers)
    opsets = [helper.make_opsetid("", ctx.opset)] + [helper.make_opsetid(d, v) for d, v in ctx.domains.items()]
    model = helper.make_model(graph, opset_imports=opsets,
                              producer_name="layergraph", producer_version=_version())
    model.ir_version = min(model.ir_version, _ir_version_for(onnx, ctx.opset))
    helper.set_model_props(model, {"layergraph.class": type(net).__name__, "layergraph.head": ctx.head})
    model = _with_output_shapes(onnx, model)
    if any(not out.type.tensor_type.HasField("shape") for out in model.graph.output):
        _shapes_from_layergraph(onnx, model, ctx, net, in_names)
    return model


def _graph_name(net):
    name = getattr(net, "name", None) or type(net).__name__
    return str(name)


def _version():
    from .. import __version__

    return __version__


def _ir_version_for(onnx, opset):
    """The IR version that goes with *opset* (so older runtimes load the file), from onnx's own table."""
    for _release, ir, op, *_ in onnx.helper.VERSION_TABLE:
        if op == opset:
            return ir
    return onnx.IR_VERSION


def _with_output_shapes(onnx, model):
    """Fill the outputs' shapes (batch axis ``N``) from ONNX shape inference, where it finds them."""
    try:
        inferred = onnx.shape_inference.infer_shapes(model, strict_mode=True)
    except Exception as err:  # onnx's InferenceError: the shapes do not fit, it names the node (the layer)
        dims = {vi.name: [d.dim_param or d.dim_value for d in vi.type.tensor_type.shape.dim][1:]
                for vi in model.graph.input}
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ExportError(f"to_onnx: the input shape {dims} (one sample, without the batch axis) does not fit "
                          f"the network: {first}") from None
    known = {vi.name: vi for vi in list(inferred.graph.output) + list(inferred.graph.value_info)}
    for out in model.graph.output:
        vi = known.get(out.name)
        if vi is not None and vi.type.tensor_type.HasField("shape"):
            out.type.CopyFrom(vi.type)
    return model


def _shapes_from_layergraph(onnx, model, ctx, net, in_names):
    """Output shapes that ONNX shape inference cannot find (operators of other domains): from one layergraph
    inference pass on a zero sample (``N`` stays dynamic)."""
    shapes = {name: ctx.graph_inputs[name][1][1:] for name in in_names}
    if any(d is None for shape in shapes.values() for d in shape):
        raise ExportError("to_onnx: the output shapes cannot be inferred (an operator outside the ONNX standard "
                          "domain); give input_shape with fixed sizes")
    samples = {name: np.zeros((1, *shapes[name]), dtype=ctx.graph_inputs[name][0]) for name in in_names}
    if len(in_names) == 1:
        x = samples[in_names[0]]
    else:   # a graph takes a dict by input name, a lone merge layer a list
        x = samples if _names(getattr(net, "inputs", None), None) else [samples[name] for name in in_names]
    y = net.forward(x, train=False)
    if not isinstance(y, dict):
        y = {model.graph.output[0].name: y}
    for out in model.graph.output:
        if not out.type.tensor_type.HasField("shape"):
            dims = ["N", *np.shape(y[out.name])[1:]]
            shaped = onnx.helper.make_tensor_value_info(out.name, out.type.tensor_type.elem_type, dims)
            out.type.CopyFrom(shaped.type)
