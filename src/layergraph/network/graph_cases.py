"""Gradient-check registry cases of :class:`~layergraph.Graph`: fan-out, sharing, several inputs and outputs."""

import numpy as np

from ..gradcheck.registry import register_case
from ..layers.activations import Sigmoid, Tanh
from ..layers.affine import Affine
from ..layers.losses import MeanSquaredError, SoftmaxWithLoss
from ..layers.merge import Add, Concat, Multiply
from .graph import Graph
from .sequential import Sequential

F64 = np.float64


@register_case(Graph, "fan-out")
def _fan_out(rng):
    g = Graph()
    g.add("h", Affine(3, 4, dtype=F64, rng=rng), "x").add("t", Tanh(), "h").add("s", Sigmoid(), "h")
    g.add("m", Multiply(), ["t", "s", "h"]).add("sum", Add(), ["m", "h"])
    return g, rng.standard_normal((3, 3)), None


@register_case(Graph, "shared-encoder")
def _shared(rng):
    enc = Sequential([("fc", Affine(3, 3, dtype=F64, rng=rng)), ("act", Tanh())])
    g = Graph(inputs=("left", "right"))
    g.add("el", enc, "left").add("er", enc, "right").add("prod", Multiply(), ["el", "er"])
    g.add("again", enc, "prod").add("cat", Concat(), ["again", "el"])
    return g, {"left": rng.standard_normal((2, 3)), "right": rng.standard_normal((2, 3))}, None


@register_case(Graph, "several-inputs")
def _inputs(rng):
    g = Graph(inputs=("a", "b"))
    g.add("fa", Affine(3, 4, dtype=F64, rng=rng), "a").add("fb", Affine(2 * 2 * 2, 4, dtype=F64, rng=rng), "b")
    g.add("sum", Add(), ["fa", "fb"]).add("act", Tanh())
    return g, {"a": rng.standard_normal((3, 3)), "b": rng.standard_normal((3, 2, 2, 2))}, None


@register_case(Graph, "several-outputs-weighted-losses")
def _outputs(rng):
    g = Graph()
    g.add("h", Affine(4, 5, dtype=F64, rng=rng), "x").add("act", Tanh())
    g.add("main", Affine(5, 3, dtype=F64, rng=rng), "act").add("aux", Affine(5, 2, dtype=F64, rng=rng), "h")
    g.set_outputs("main", "aux").set_loss({"main": SoftmaxWithLoss(), "aux": MeanSquaredError()},
                                          weights={"aux": 0.3})
    t = {"main": rng.integers(0, 3, 4), "aux": rng.standard_normal((4, 2))}
    return g, rng.standard_normal((4, 4)), t
