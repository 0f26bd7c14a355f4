"""Pictures of networks: Graphviz DOT and Mermaid flowchart text, shared by ``Sequential`` and ``Graph``.

Both take *records*: one ``(name, class name, input names, output shape or None)`` tuple per node, plus the
network's input names (with their shapes when known) and output names.
"""

import re

import numpy as np

from .probe import probing


def _shape_text(shape):
    if shape is None:
        return ""
    return "(" + ", ".join(str(s) for s in shape) + ")"


def _node_ids(inputs, records):
    """Name -> identifier usable in DOT and Mermaid (letters, digits, ``_``), unique even when names are not."""
    ids, used = {}, set()
    for name in [n for n, _ in inputs] + [r[0] for r in records]:
        base = "n_" + re.sub(r"[^0-9A-Za-z_]", "_", name)
        ident, i = base, 1
        while ident in used:
            i += 1
            ident = f"{base}_{i}"
        ids[name] = ident
        used.add(ident)
    return ids


def to_dot(records, inputs, outputs, title="network"):
    """Graphviz DOT text: inputs as ellipses, layers as boxes (name, class, output shape), outputs double-framed.

    Parameters
    ----------
    records : list of (str, str, list of str, tuple or None)
    inputs : list of (str, tuple or None)
        Input names and sample shapes (``None`` when unknown).
    outputs : list of str
    """
    _node_id = _node_ids(inputs, records).__getitem__
    lines = [f'digraph "{_escape(title)}" {{', "  rankdir=TB;", '  node [fontname="Helvetica", fontsize=10];']
    for name, shape in inputs:
        label = _dot_label(name, _shape_text(shape))
        lines.append(f'  {_node_id(name)} [shape=ellipse, label="{label}"];')
    for name, kind, _, shape in records:
        label = _dot_label(name, kind, _shape_text(shape))
        extra = ", peripheries=2" if name in outputs else ""
        lines.append(f'  {_node_id(name)} [shape=box, label="{label}"{extra}];')
    for name, _, srcs, _ in records:
        for src in srcs:
            lines.append(f"  {_node_id(src)} -> {_node_id(name)};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def to_mermaid(records, inputs, outputs):
    """Mermaid flowchart text (``flowchart TD``) with the same nodes and edges as :func:`to_dot`."""
    _node_id = _node_ids(inputs, records).__getitem__
    lines = ["flowchart TD"]
    for name, shape in inputs:
        label = name + (f"<br/>{_shape_text(shape)}" if shape is not None else "")
        lines.append(f'  {_node_id(name)}(["{_quote(label)}"])')
    for name, kind, _, shape in records:
        label = f"{name}<br/>{kind}" + (f"<br/>{_shape_text(shape)}" if shape is not None else "")
        if name in outputs:
            lines.append(f'  {_node_id(name)}[["{_quote(label)}"]]')
        else:
            lines.append(f'  {_node_id(name)}["{_quote(label)}"]')
    for name, _, srcs, _ in records:
        for src in srcs:
            lines.append(f"  {_node_id(src)} --> {_node_id(name)}")
    return "\n".join(lines) + "\n"


def _dot_label(*parts):
    """Non-empty *parts* escaped for a DOT string and joined by DOT line breaks."""
    return "\\n".join(_escape(p) for p in parts if p)


def _escape(text):
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _quote(text):
    return text.replace('"', "#quot;")


def chain_records(net, input_shape=None, dtype=None):
    """``(records, inputs, outputs)`` of a chain of layers (``Sequential``) reading the input ``"x"``.

    With *input_shape* (one sample), a probe sample of zeros of *dtype* (default: the parameters' dtype; pass an
    integer dtype for a network that starts with an ``Embedding``) runs through the chain to find the output
    shapes; the network is left as it was (see :func:`~layergraph.network.probe.probing`)."""
    shape = None if input_shape is None else ((input_shape,) if isinstance(input_shape, int) else tuple(input_shape))
    x = None
    if shape is not None:
        dtype = dtype or next((p.dtype for p in net.params.values()), np.float32)
        x = np.zeros((1, *shape), dtype=dtype)
    records, prev = [], "x"
    names = set(net.layers)
    with probing(net):
        for name, layer in net.layers.items():
            if x is not None:
                x = layer.forward(x, train=False)
            records.append((name, type(layer).__name__, [prev], None if x is None else ("N", *x.shape[1:])))
            prev = name
    src = "x" if "x" not in names else "input"
    records = [(n, k, [src if s == "x" and i == 0 else s for s in ins], sh)
               for i, (n, k, ins, sh) in enumerate(records)]
    inputs = [(src, None if shape is None else ("N", *shape))]
    return records, inputs, [prev] if records else []
