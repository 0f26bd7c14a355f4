"""Summary table and pictures (DOT, Mermaid) of a :class:`~layergraph.Graph`."""

import numpy as np

from ..errors import describe
from . import draw
from .probe import probing
from .summary import Summary, SummaryRow


class GraphSummary(Summary):
    """A graph summary: like :class:`~layergraph.network.Summary` plus each node's inputs ("connected to").

    Attributes
    ----------
    rows : list of SummaryRow
    inputs : list of str
        One entry per row: the node's input names joined by ``", "``; a reused layer adds ``(shares <node>)``.
    """

    def __init__(self, rows, input_shapes, inputs):
        super().__init__(rows, input_shapes)
        self.inputs = inputs

    def __str__(self):
        head = ("name", "layer", "output shape", "params", "inputs")
        body = [(r.name, r.kind, "(" + ", ".join(map(str, r.output_shape)) + ")", f"{r.n_params:,}", ins)
                for r, ins in zip(self.rows, self.inputs)]
        widths = [max(len(row[i]) for row in [head, *body]) for i in range(5)]
        line = lambda cells: "  ".join(c.rjust(w) if i == 3 else c.ljust(w)  # noqa: E731
                                       for i, (c, w) in enumerate(zip(cells, widths))).rstrip()
        rule = "-" * len(line(head))
        shown = ", ".join(f"{k} (N, {', '.join(map(str, s))})" for k, s in self.input_shape.items())
        return "\n".join([f"inputs {shown}", rule, line(head), rule, *map(line, body), rule,
                          f"total trainable parameters: {self.total_params:,}"])

    __repr__ = __str__


class GraphDrawMixin:
    """summary / to_dot / to_mermaid of a graph."""

    def _sample_shapes(self, input_shape):
        if isinstance(input_shape, dict):
            missing = [k for k in self.inputs if k not in input_shape]
            extra = [k for k in input_shape if k not in self.inputs]
            if missing or extra:
                raise KeyError(f"{describe(self)}: argument 'input_shape' keys must be {list(self.inputs)} "
                               f"(missing {missing}, unexpected {extra})")
            items = [(k, input_shape[k]) for k in self.inputs]
        elif len(self.inputs) == 1:
            items = [(self.inputs[0], input_shape)]
        else:
            raise ValueError(f"{describe(self)}: argument 'input_shape' must be a dict by input name "
                             f"{list(self.inputs)}")
        return {k: (s,) if isinstance(s, (int, np.integer)) else tuple(s) for k, s in items}

    def _sample_dtypes(self, dtype):
        """Input name -> dtype of the probe sample: *dtype* (one for all, or a dict by input name) or the
        parameters' dtype."""
        default = next((p.dtype for p in self.params.values()), np.float32)
        if not isinstance(dtype, dict):
            return {k: dtype or default for k in self.inputs}
        unknown = [k for k in dtype if k not in self.inputs]
        if unknown:
            raise KeyError(f"{describe(self)}: argument 'dtype' names {unknown}, which are not inputs; inputs: "
                           f"{list(self.inputs)}")
        return {k: dtype.get(k) or default for k in self.inputs}

    def _trace(self, input_shape, dtype=None):
        """Run one zero sample through the graph in inference mode (leaving the graph as it was, see
        :func:`~layergraph.network.probe.probing`); return the sample shapes of the inputs and the output shapes
        of the nodes."""
        shapes = self._sample_shapes(input_shape)
        dtypes = self._sample_dtypes(dtype)
        with probing(self):
            self.forward({k: np.zeros((1, *s), dtype=dtypes[k]) for k, s in shapes.items()}, train=False)
            nodes = {name: self._shapes[name][0][1:] for name in self._nodes}
        return shapes, nodes

    def summary(self, input_shape, dtype=None):
        """A table of each node's name, class, output shape, parameter count and inputs, with the total.

        Parameters
        ----------
        input_shape : int, tuple, or dict input name -> shape
            Shape of one sample, without the batch axis; a dict when the graph has several inputs.
        dtype : dtype or dict input name -> dtype, optional
            Of the probe sample of zeros (default: the parameters' dtype); an integer dtype for an input that
            feeds an ``Embedding``.
        """
        shapes, nodes = self._trace(input_shape, dtype)
        owners, rows, ins_col = {}, [], []
        for name, (layer, ins) in self._nodes.items():
            first = owners.setdefault(id(layer), name)
            count = sum(int(v.size) for v in layer.params.values()) if first == name else 0
            rows.append(SummaryRow(name, type(layer).__name__, ("N", *nodes[name]), count))
            text = ins if isinstance(ins, str) else ", ".join(ins)
            ins_col.append(text + (f" (shares {first})" if first != name else ""))
        return GraphSummary(rows, shapes, ins_col)

    def _records(self, input_shape, dtype=None):
        if input_shape is not None:
            shapes, nodes = self._trace(input_shape, dtype)
            known = True
        else:
            shapes = {k: None for k in self.inputs}
            known = bool(self._shapes) and all(n in self._shapes for n in self._nodes)
            if known and self._in_shapes:
                shapes = {k: self._in_shapes[k][0][1:] for k in self.inputs}
            nodes = {name: self._shapes[name][0][1:] for name in self._nodes} if known else {}
        records = []
        for name, (layer, ins) in self._nodes.items():
            shape = ("N", *nodes[name]) if known else None
            records.append((name, type(layer).__name__, [ins] if isinstance(ins, str) else list(ins), shape))
        inputs = [(k, None if shapes[k] is None else ("N", *shapes[k])) for k in self.inputs]
        return records, inputs

    def to_dot(self, input_shape=None, dtype=None):
        """Graphviz DOT text of the graph; shapes shown when *input_shape* is given (a probe sample of *dtype*, as
        in :meth:`summary`) or after a forward pass."""
        records, inputs = self._records(input_shape, dtype)
        return draw.to_dot(records, inputs, list(self.outputs), title=self.name)

    def to_mermaid(self, input_shape=None, dtype=None):
        """Mermaid flowchart text of the graph (renders in Markdown on code-hosting sites); *input_shape* and
        *dtype* as in :meth:`to_dot`."""
        records, inputs = self._records(input_shape, dtype)
        return draw.to_mermaid(records, inputs, list(self.outputs))
