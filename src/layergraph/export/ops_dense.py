"""Exporters of the dense and element-wise layers, Dropout and Flatten, and the probability heads of the losses."""

import math

import numpy as np

from ..layers import (ELU, GELU, Affine, Dropout, Flatten, LeakyReLU, MeanSquaredError, ReLU, Sigmoid,
                      SigmoidWithLoss, SiLU, Softmax, SoftmaxWithLoss, Softplus, Tanh)
from .registry import ExportError, exporter


@exporter(Affine)
def _affine(ctx, layer, inputs):
    # y = x.reshape(N, -1) @ W + b: Flatten then one Gemm (W kept in its (in, out) layout, no transpose).
    flat = ctx.node("Flatten", inputs, "flatten", axis=1)[0]
    W = ctx.initializer(layer.params["W"], "W")
    b = ctx.initializer(layer.params["b"], "b")
    return ctx.node("Gemm", [flat, W, b], "gemm")


def _unary(op_type, **attributes):
    def export(ctx, layer, inputs):
        return ctx.node(op_type, inputs, **attributes)

    return export


for _cls, _op in ((ReLU, "Relu"), (Sigmoid, "Sigmoid"), (Tanh, "Tanh")):
    exporter(_cls)(_unary(_op))

# ONNX Runtime has float32 kernels only for Elu and Softplus: a float64 model spells them out with operators that
# have float64 kernels (Exp, Log, Where), in forms that stay finite for any input.


@exporter(Softplus)
def _softplus(ctx, layer, inputs):
    if ctx.dtype == np.float32:
        return ctx.node("Softplus", inputs)
    # log(1 + exp(x)) = max(x, 0) + log1p(u), u = exp(-|x|), with log1p(u) = log(w) * u / (w - 1), w = 1 + u
    # (exact to rounding, Goldberg's trick; u itself where w rounds to 1).
    (x,) = inputs
    u = ctx.node("Exp", [ctx.node("Neg", [ctx.node("Abs", [x], "abs")[0]], "neg")[0]], "exp")[0]
    one = ctx.initializer(1.0, "one")
    w = ctx.node("Add", [u, one], "w")[0]
    d = ctx.node("Sub", [w, one], "w_minus_one")[0]
    safe_d = ctx.node("Max", [d, ctx.initializer(np.finfo(np.float64).tiny, "tiny")], "safe")[0]
    ratio = ctx.node("Div", [ctx.node("Mul", [ctx.node("Log", [w], "log")[0], u], "log_u")[0], safe_d], "ratio")[0]
    rounded = ctx.node("Equal", [d, ctx.initializer(0.0, "zero")], "rounds_to_one")[0]
    log1p = ctx.node("Where", [rounded, u, ratio], "log1p")[0]
    return ctx.node("Add", [ctx.node("Relu", [x], "relu")[0], log1p], "softplus")


@exporter(LeakyReLU)
def _leaky_relu(ctx, layer, inputs):
    if ctx.dtype == np.float32 or float(np.float32(layer.alpha)) == layer.alpha:
        return ctx.node("LeakyRelu", inputs, alpha=float(layer.alpha))
    # ONNX attributes are float32: a float64 model takes the slope as a float64 constant instead.
    return ctx.node("PRelu", [inputs[0], ctx.initializer(layer.alpha, "alpha")], "leakyrelu")


@exporter(ELU)
def _elu(ctx, layer, inputs):
    if ctx.dtype == np.float32:
        return ctx.node("Elu", inputs, alpha=float(layer.alpha))
    # x for x > 0, alpha * (exp(min(x, 0)) - 1) otherwise
    (x,) = inputs
    zero = ctx.initializer(0.0, "zero")
    neg = ctx.node("Exp", [ctx.node("Min", [x, zero], "min")[0]], "exp")[0]
    neg = ctx.node("Sub", [neg, ctx.initializer(1.0, "one")], "expm1")[0]
    neg = ctx.node("Mul", [neg, ctx.initializer(layer.alpha, "alpha")], "scale")[0]
    positive = ctx.node("Greater", [x, zero], "positive")[0]
    return ctx.node("Where", [positive, x, neg], "elu")


@exporter(Softmax)
def _softmax(ctx, layer, inputs):
    return ctx.node("Softmax", inputs, axis=-1)


@exporter(GELU)
def _gelu(ctx, layer, inputs):
    # The exact GELU, x * (1 + erf(x / sqrt(2))) / 2: the Gelu operator from opset 20, else spelled out with Erf.
    if ctx.opset >= 20:
        return ctx.node("Gelu", inputs, approximate="none")
    (x,) = inputs
    scaled = ctx.node("Mul", [x, ctx.initializer(1.0 / math.sqrt(2.0), "inv_sqrt2")], "scale")[0]
    erf = ctx.node("Erf", [scaled], "erf")[0]
    cdf = ctx.node("Add", [erf, ctx.initializer(1.0, "one")], "add_one")[0]
    half = ctx.node("Mul", [cdf, ctx.initializer(0.5, "half")], "cdf")[0]
    return ctx.node("Mul", [x, half], "gelu")


@exporter(SiLU)
def _silu(ctx, layer, inputs):
    (x,) = inputs
    s = ctx.node("Sigmoid", [x], "sigmoid")[0]
    return ctx.node("Mul", [x, s], "silu")


@exporter(Dropout)
def _dropout(ctx, layer, inputs):
    return list(inputs)   # inference is the identity: no node


@exporter(Flatten)
def _flatten(ctx, layer, inputs):
    return ctx.node("Flatten", inputs, axis=1)


# -- heads: a loss layer exported on the network's output is its probability map (head="proba") ------------------

@exporter(SoftmaxWithLoss)
def _softmax_head(ctx, layer, inputs):
    return ctx.node("Softmax", inputs, "proba", axis=-1)


@exporter(SigmoidWithLoss)
def _sigmoid_head(ctx, layer, inputs):
    return ctx.node("Sigmoid", inputs, "proba")


@exporter(MeanSquaredError)
def _mse_head(ctx, layer, inputs):
    raise ExportError(f"export: head='proba' needs a loss with a probability output, but {ctx.scope!r} is a "
                      f"MeanSquaredError (regression); use head='logits'")
