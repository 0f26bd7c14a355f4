"""Exporters of the layers that the optimizer benchmark's problems are built from."""

from ..bench.quadratic import QuadraticDeviation
from .registry import exporter


@exporter(QuadraticDeviation)
def _quadratic_deviation(ctx, layer, inputs):
    # y = (theta - x) @ S: theta broadcasts over the batch axis.
    theta = ctx.initializer(layer.params["theta"], "theta")
    scale = ctx.initializer(layer.buffers["scale"], "scale")
    diff = ctx.node("Sub", [theta, inputs[0]], "sub")[0]
    return ctx.node("MatMul", [diff, scale], "matmul")
