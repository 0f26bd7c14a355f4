"""Architecture descriptions of :class:`~layergraph.Graph` networks (used by checkpoints to rebuild them).

A graph is described as ``{"name", "class", "layers": [...], "loss": ..., "graph": {...}}``. ``"layers"`` holds
the per-layer descriptions of :mod:`layergraph.train.architecture` (``name``, ``class``, ``config``, ``params``),
one per distinct layer under its first node, so the generic checks on layer descriptions cover graphs too.
``"graph"`` holds the wiring: ``inputs``, ``outputs``, ``nodes`` (``[name, inputs, layer]`` with ``layer`` the
name of the entry in ``"layers"``, which differs from ``name`` for a shared layer), ``losses`` (output name ->
loss description) and ``loss_weights``.
"""


def is_graph(layer):
    """True for a :class:`~layergraph.Graph` (or subclass)."""
    from ..network.graph import Graph
    return isinstance(layer, Graph)


def describe_graph(name, graph, describe_layer):
    """The description of *graph* under *name*; *describe_layer(name, layer)* describes one layer."""
    owners, nodes, layers = {}, [], []
    for node, (layer, ins) in graph.nodes.items():
        first = owners.setdefault(id(layer), node)
        if first == node:
            layers.append(describe_layer(node, layer))
        nodes.append([node, ins if isinstance(ins, str) else list(ins), first])
    losses = {out: describe_layer("loss", loss) for out, loss in graph.losses.items()}
    single = graph.loss_layer
    return {"name": name, "class": type(graph).__name__, "layers": layers,
            "loss": None if single is None else describe_layer("loss", single),
            "graph": {"inputs": list(graph.inputs), "outputs": list(graph.outputs), "nodes": nodes,
                      "losses": losses, "loss_weights": dict(graph.loss_weights)}}


def build_graph(desc, cls, make):
    """Rebuild a graph of class *cls* from :func:`describe_graph` output; *make(layer_desc)* builds one layer."""
    wiring = desc.get("graph")
    if not isinstance(wiring, dict):
        raise ValueError(f"build_network: graph {desc.get('name')!r} has no wiring")
    try:
        built = {layer["name"]: make(layer) for layer in desc["layers"]}
        graph = cls(inputs=tuple(wiring["inputs"]))
        for node, ins, owner in wiring["nodes"]:
            if owner not in built:
                raise ValueError(f"node {node!r} uses layer {owner!r}, which is not described")
            graph.add(node, built[owner], ins)
        graph.set_outputs(*wiring["outputs"])
        losses = {out: make(loss) for out, loss in (wiring.get("losses") or {}).items()}
        if losses:
            graph.set_loss(losses, weights=wiring.get("loss_weights") or {})
    except (KeyError, TypeError) as err:
        raise ValueError(f"build_network: graph {desc.get('name')!r} has a malformed description ({err})") from None
    return graph
