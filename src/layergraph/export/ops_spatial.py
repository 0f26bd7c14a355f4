"""Exporters of the convolution, pooling and normalisation layers (NCHW, as in layergraph and ONNX)."""

import numpy as np

from ..layers import AvgPool2D, BatchNorm, Conv2D, GlobalAvgPool, LayerNorm, MaxPool2D
from .registry import exporter


def _pads(pad):
    ph, pw = pad
    return [ph, pw, ph, pw]     # ONNX order: begin of each axis, then end of each axis


@exporter(Conv2D)
def _conv(ctx, layer, inputs):
    W = ctx.initializer(layer.params["W"], "W")       # (O, C, kh, kw): ONNX's layout
    b = ctx.initializer(layer.params["b"], "b")
    return ctx.node("Conv", [inputs[0], W, b], "conv", kernel_shape=list(layer.kernel_size),
                    strides=list(layer.stride), pads=_pads(layer.pad), dilations=[1, 1], group=1)


@exporter(MaxPool2D)
def _max_pool(ctx, layer, inputs):
    # ONNX MaxPool ignores padded cells, as layergraph's -inf padding does.
    return ctx.node("MaxPool", inputs, "maxpool", kernel_shape=list(layer.kernel_size), strides=list(layer.stride),
                    pads=_pads(layer.pad), ceil_mode=0)


@exporter(AvgPool2D)
def _avg_pool(ctx, layer, inputs):
    # layergraph divides every window by kh * kw, padding included: count_include_pad=1.
    return ctx.node("AveragePool", inputs, "avgpool", kernel_shape=list(layer.kernel_size),
                    strides=list(layer.stride), pads=_pads(layer.pad), ceil_mode=0, count_include_pad=1)


@exporter(GlobalAvgPool)
def _global_avg_pool(ctx, layer, inputs):
    if ctx.dtype == np.float64:     # ONNX Runtime's GlobalAveragePool is float32 only; ReduceMean has float64
        pooled = ctx.reduce_mean(inputs[0], [2, 3], "gap")
    else:
        pooled = ctx.node("GlobalAveragePool", inputs, "gap")[0]      # (N, C, 1, 1)
    return ctx.node("Flatten", [pooled], "flatten", axis=1)           # (N, C)


@exporter(BatchNorm)
def _batch_norm(ctx, layer, inputs):
    # Inference uses the running statistics; BatchNormalization takes (N, C) and (N, C, H, W) alike.
    names = [ctx.initializer(layer.params["gamma"], "gamma"), ctx.initializer(layer.params["beta"], "beta"),
             ctx.initializer(layer.buffers["running_mean"], "running_mean"),
             ctx.initializer(layer.buffers["running_var"], "running_var")]
    return ctx.node("BatchNormalization", [inputs[0], *names], "batchnorm", epsilon=float(layer.eps))


@exporter(LayerNorm)
def _layer_norm(ctx, layer, inputs):
    k = len(layer.normalized_shape)
    gamma = ctx.initializer(layer.params["gamma"], "gamma")
    beta = ctx.initializer(layer.params["beta"], "beta")
    if ctx.opset >= 17:
        return ctx.node("LayerNormalization", [inputs[0], gamma, beta], "layernorm", axis=-k,
                        epsilon=float(layer.eps))
    # Before opset 17: (x - mean) / sqrt(var + eps) * gamma + beta over the last k axes.
    axes = list(range(-k, 0))
    x = inputs[0]
    centred = ctx.node("Sub", [x, ctx.reduce_mean(x, axes, "mean")], "centre")[0]
    square = ctx.node("Mul", [centred, centred], "square")[0]
    var = ctx.reduce_mean(square, axes, "var")
    std = ctx.node("Sqrt", [ctx.node("Add", [var, ctx.initializer(layer.eps, "eps")], "add_eps")[0]], "std")[0]
    xhat = ctx.node("Div", [centred, std], "normalise")[0]
    return ctx.node("Add", [ctx.node("Mul", [xhat, gamma], "scale")[0], beta], "shift")
