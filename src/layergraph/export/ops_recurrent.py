"""Exporters of the sequence layers: Embedding as Gather, RNN / LSTM / GRU as the ONNX operators, TimeDistributed.

layergraph is batch-first, ``(N, T, D)``, and keeps one matrix per layer with the gate blocks side by side
(``Wx (D, G*H)``, ``Wh (H, G*H)``). ONNX's recurrent operators take time-major input ``(T, N, D)`` and weights
``W (1, G*H, D)``, ``R (1, G*H, H)`` with their own gate order (LSTM i, o, f, c; GRU z, r, h), so the exporters
transpose the input and reorder the blocks:

* LSTM: layergraph i, f, g, o -> ONNX i, o, f, c (blocks 0, 3, 1, 2); ``B = [b, 0]``.
* GRU: layergraph r, z, n -> ONNX z, r, h (blocks 1, 0, 2); ``B = [bx, bh]`` with ``linear_before_reset=1``, which
  is layergraph's (and PyTorch's) ``n = tanh(x Wx_n + bx_n + r * (h Wh_n + bh_n))``.
* RNN: one block; ``B = [b, 0]``.

The initial state is zero, as in a fresh (or reset) layer: a ``stateful`` layer's carried state is not exported.
"""

import numpy as np

from ..layers import GRU, LSTM, RNN, Embedding, TimeDistributed
from .registry import register_exporter

_INT64_MAX = np.iinfo(np.int64).max


def _blocks(matrix, order, gates):
    """Rows of ``matrix.T`` (``(gates*H, D)``) regrouped by gate block in *order*, with a leading axis of 1."""
    rows = np.asarray(matrix).T
    h = rows.shape[0] // gates
    return np.concatenate([rows[k * h:(k + 1) * h] for k in order], axis=0)[None]


def _reorder(vector, order, gates):
    vector = np.asarray(vector)
    h = vector.shape[0] // gates
    return np.concatenate([vector[k * h:(k + 1) * h] for k in order])


def _recurrent(ctx, layer, inputs, op_type, order, gates, bias, **attributes):
    hidden = int(layer.params["Wh"].shape[0])
    W = ctx.initializer(_blocks(layer.params["Wx"], order, gates), "W")
    R = ctx.initializer(_blocks(layer.params["Wh"], order, gates), "R")
    B = ctx.initializer(bias[None], "B")
    x_tnd = ctx.transpose(inputs[0], (1, 0, 2), "time_major")
    y, y_h = ctx.node(op_type, [x_tnd, W, R, B], op_type.lower(), outputs=2, hidden_size=hidden,
                      direction="forward", **attributes)
    if getattr(layer, "return_sequences", True):
        y = ctx.squeeze(y, [1], "squeeze_direction")                  # (T, N, H)
        return [ctx.transpose(y, (1, 0, 2), "batch_first")]           # (N, T, H)
    return [ctx.squeeze(y_h, [0], "last_state")]                      # (N, H)


def export_lstm(ctx, layer, inputs):
    """LSTM as the ONNX ``LSTM`` operator (gates i, f, g, o reordered to i, o, f, c)."""
    order = (0, 3, 1, 2)
    b = _reorder(layer.params["b"], order, 4)
    return _recurrent(ctx, layer, inputs, "LSTM", order, 4, np.concatenate([b, np.zeros_like(b)]))


def export_gru(ctx, layer, inputs):
    """GRU as the ONNX ``GRU`` operator (gates r, z, n reordered to z, r, h; linear_before_reset=1)."""
    order = (1, 0, 2)
    bias = np.concatenate([_reorder(layer.params["bx"], order, 3), _reorder(layer.params["bh"], order, 3)])
    return _recurrent(ctx, layer, inputs, "GRU", order, 3, bias, linear_before_reset=1)


def export_rnn(ctx, layer, inputs):
    """RNN as the ONNX ``RNN`` operator with its tanh or ReLU activation."""
    act = "Relu" if str(getattr(layer, "nonlinearity", "tanh")).lower() == "relu" else "Tanh"
    b = np.asarray(layer.params["b"])
    return _recurrent(ctx, layer, inputs, "RNN", (0,), 1, np.concatenate([b, np.zeros_like(b)]),
                      activations=[act])


def export_embedding(ctx, layer, inputs):
    """Embedding as ``Gather`` of the rows of ``W`` at int64 indices."""
    indices = ctx.cast_input(inputs[0], np.int64)
    return ctx.node("Gather", [ctx.initializer(layer.params["W"], "W"), indices], "gather", axis=0)


def _slice(ctx, name, start, end, hint):
    return ctx.node("Slice", [name, ctx.constant([start], f"{hint}_start"), ctx.constant([end], f"{hint}_end")],
                    hint)[0]


def export_time_distributed(ctx, layer, inputs):
    """TimeDistributed: the inner layer on ``(N*T, ...)`` between two ``Reshape``."""
    # (N, T, ...) -> (N*T, ...) -> inner layer -> (N, T, ...), with the sizes read at run time (dynamic N and T).
    x = inputs[0]
    shape = ctx.node("Shape", [x], "shape")[0]
    folded = ctx.node("Concat", [ctx.constant([-1], "minus_one"), _slice(ctx, shape, 2, _INT64_MAX, "rest")],
                      "folded_shape", axis=0)[0]
    scope = ctx.scope
    inner = layer.layer
    qualname = f"{scope}.layer" if scope and scope != type(layer).__name__ else None
    out = ctx.export(inner, [ctx.node("Reshape", [x, folded], "fold")[0]], name=qualname)[0]
    out_rest = _slice(ctx, ctx.node("Shape", [out], "out_shape")[0], 1, _INT64_MAX, "out_rest")
    unfolded = ctx.node("Concat", [_slice(ctx, shape, 0, 2, "batch_time"), out_rest], "unfolded_shape", axis=0)[0]
    return ctx.node("Reshape", [out, unfolded], "unfold")


for _cls, _function in ((LSTM, export_lstm), (GRU, export_gru), (RNN, export_rnn), (Embedding, export_embedding),
                        (TimeDistributed, export_time_distributed)):
    register_exporter(_cls, _function)
