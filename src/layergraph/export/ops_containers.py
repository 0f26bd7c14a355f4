"""Exporters of the containers (Sequential, Residual, Graph) and of the merge layers.

Containers add no nodes of their own (except Residual's sum): they export each part through the registry, so a
part of any class, built-in or registered by the user, works inside them.
"""

from ..layers import Add, Average, Concat, Multiply, Residual
from ..network import Graph, Sequential
from .registry import register_exporter


def _child_name(scope, container, part):
    """``"<scope>.<part>"``, or *part* alone for an unnamed top-level container (as layergraph names parts).

    Built from the export scope rather than the part's own ``name``, so a container used at several places (a
    shared encoder) gets its nodes named after each place.
    """
    own = scope or getattr(container, "name", "")
    return part if not own or own == type(container).__name__ else f"{own}.{part}"


def export_sequential(ctx, net, inputs):
    """Exporter of :class:`~layergraph.Sequential`: its layers in order (the loss layer is left out)."""
    scope = ctx.scope
    for name, layer in net.layers.items():
        inputs = ctx.export(layer, inputs, name=_child_name(scope, net, name))
    return inputs


def export_residual(ctx, res, inputs):
    """Exporter of :class:`~layergraph.layers.Residual`: block, skip path (identity or projection), ``Add``."""
    scope = ctx.scope
    out = ctx.export(res.block, inputs, name=_child_name(scope, res, "block"))
    skip = inputs
    if res.projection is not None:
        skip = ctx.export(res.projection, inputs, name=_child_name(scope, res, "projection"))
    return ctx.node("Add", [out[0], skip[0]], "add")


def export_graph(ctx, graph, inputs):
    """Exporter of ``Graph``: every node in order on its input tensors; returns the output nodes' tensors."""
    names = tuple(graph.inputs)
    if len(inputs) != len(names):
        raise ValueError(f"export: graph {ctx.scope!r} has inputs {list(names)} but got {len(inputs)} tensor(s)")
    env = dict(zip(names, inputs))
    scope = ctx.scope
    for node, (layer, incoming) in graph.nodes.items():
        incoming = [incoming] if isinstance(incoming, str) else list(incoming)
        out = ctx.export(layer, [env[name] for name in incoming], name=_child_name(scope, graph, node))
        env[node] = out[0]
    return [env[name] for name in graph.outputs]


def export_add(ctx, layer, inputs):
    """``Add``: one variadic ``Sum``."""
    return ctx.node("Sum", inputs, "add")


def export_multiply(ctx, layer, inputs):
    """``Multiply``: a chain of ``Mul``."""
    out = inputs[0]
    for i, other in enumerate(inputs[1:]):
        out = ctx.node("Mul", [out, other], f"mul{i + 1}" if len(inputs) > 2 else "mul")[0]
    return [out]


def export_average(ctx, layer, inputs):
    """``Average``: ``Sum`` divided by the number of inputs."""
    # Sum then Div (rather than the Mean operator, which ONNX Runtime runs in float32 only).
    total = ctx.node("Sum", inputs, "sum")[0]
    return ctx.node("Div", [total, ctx.initializer(float(len(inputs)), "count")], "average")


def export_concat(ctx, layer, inputs):
    """``Concat`` along the layer's ``axis`` (counted with the batch axis, negative allowed)."""
    return ctx.node("Concat", inputs, "concat", axis=int(layer.axis))


register_exporter(Sequential, export_sequential)
register_exporter(Residual, export_residual)

for _cls, _function in ((Graph, export_graph), (Add, export_add), (Multiply, export_multiply),
                        (Average, export_average), (Concat, export_concat)):
    register_exporter(_cls, _function)
