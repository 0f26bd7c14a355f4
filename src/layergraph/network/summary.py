"""The table printed by ``Sequential.summary``."""

from dataclasses import dataclass

from .probe import probing


@dataclass
class SummaryRow:
    """One row: qualified name, class name, output shape (batch axis shown as ``N``), parameter count."""

    name: str
    kind: str
    output_shape: tuple
    n_params: int


def summary_rows(net, x, prefix):
    """Run *x* through *net* in inference mode; return the rows (nested containers expanded) and the output.

    The network is left as it was (see :func:`~layergraph.network.probe.probing`)."""
    with probing(net):
        return _rows(net, x, prefix)


def _rows(net, x, prefix):
    rows = []
    for name, layer in net.layers.items():
        qual = prefix + name
        expand = getattr(layer, "layers", None) is not None and hasattr(layer, "_parts")
        if expand:
            inner, x = _rows(layer, x, qual + ".")
            rows += inner
        else:
            x = layer.forward(x, train=False)
            count = sum(int(v.size) for v in getattr(layer, "params", {}).values())
            rows.append(SummaryRow(qual, type(layer).__name__, ("N", *x.shape[1:]), count))
    return rows, x


class Summary:
    """A network summary: ``rows`` (list of :class:`SummaryRow`), ``total_params``; ``str()`` is the table."""

    def __init__(self, rows, input_shape):
        self.rows = rows
        self.input_shape = input_shape
        self.total_params = sum(r.n_params for r in rows)

    def __str__(self):
        head = ("name", "layer", "output shape", "params")
        body = [(r.name, r.kind, "(" + ", ".join(map(str, r.output_shape)) + ")", f"{r.n_params:,}")
                for r in self.rows]
        widths = [max(len(row[i]) for row in [head, *body]) for i in range(4)]
        line = lambda cells: "  ".join(c.rjust(w) if i == 3 else c.ljust(w)  # noqa: E731
                                       for i, (c, w) in enumerate(zip(cells, widths))).rstrip()
        rule = "-" * len(line(head))
        inp = "(N, " + ", ".join(map(str, self.input_shape)) + ")"
        out = [f"input {inp}", rule, line(head), rule, *map(line, body), rule,
               f"total trainable parameters: {self.total_params:,}"]
        return "\n".join(out)

    __repr__ = __str__
