"""The :class:`Graph` container: named layers wired as a directed acyclic graph (building and naming).

Computation lives in :mod:`.graph_exec`, the loss and training API in :mod:`.graph_train`, summaries and pictures
in :mod:`.graph_draw`.
"""

from types import MappingProxyType

from ..errors import describe
from ..layers.composite import Composite
from . import carried_state, lookup, membership
from .carried_state import CarriedStateMixin
from .graph_draw import GraphDrawMixin
from .graph_exec import GraphExecMixin
from .graph_train import GraphTrainMixin
from .sequential import check_name


class Graph(GraphExecMixin, GraphTrainMixin, GraphDrawMixin, CarriedStateMixin, membership.OwnedPartsMixin,
            Composite):
    """Named layers wired as a graph: branches, merges, several inputs and outputs, shared layers.

    Nodes run in insertion order, and a node may only read graph inputs and earlier nodes, so the graph is acyclic
    by construction. A graph with one output is itself a layer: it nests in :class:`Sequential`, ``Residual`` and
    other graphs.

    Parameters
    ----------
    inputs : str or sequence of str, default ("x",)
        Names of the graph inputs.

    Attributes
    ----------
    inputs : tuple of str
    outputs : tuple of str
        The output node names (default: the last node added).
    nodes : mapping
        Read-only ordered mapping node name -> ``(layer, input_names)``; ``input_names`` is a str, or a list of
        str for a merge layer (or a nested graph with several inputs).
    loss_layer : Loss or None
        The loss of a single-output graph.
    losses : dict
        Output name -> loss layer; ``loss_weights`` output name -> weight (missing outputs weigh 1).

    Examples
    --------
    >>> g = Graph(inputs=("x",))
    >>> g.add("a", Affine(4, 3), "x").add("b", Affine(4, 3), "x").add("sum", Add(), ["a", "b"])
    >>> g.forward(np.ones((2, 4))).shape
    (2, 3)

    Notes
    -----
    ``params``, ``grads`` and ``buffers`` are flat dicts keyed ``"<node>.<key>"`` holding the layers' own arrays;
    a layer added at several nodes shares its arrays and is listed once, under its first node. The graph owns the
    layers of its nodes and names them, unless another live network named them first (a layer may serve several
    networks, see :mod:`layergraph.network.membership`); a stateful layer cannot be shared between nodes.
    """

    def __init__(self, inputs=("x",)):
        if isinstance(inputs, str):
            inputs = (inputs,)
        inputs = tuple(inputs)
        self.name = type(self).__name__
        if not inputs:
            raise ValueError("Graph: 'inputs' must name at least one input")
        for name in inputs:
            check_name(self, name, "input")
        if len(set(inputs)) != len(inputs):
            raise ValueError(f"Graph: duplicate input name in {list(inputs)}")
        self.inputs = inputs
        self._nodes = {}
        self._outputs = None
        self._last = ()
        self._loss_single = None       # one loss for the single output, whichever node that is
        self._loss_dict = {}           # output name -> loss
        self.loss_weights = {}
        self._init_exec()

    # -- building ----------------------------------------------------------------------------------------------

    def add(self, name, layer=None, inputs=None):
        """Append a node; return self.

        Parameters
        ----------
        name : str
            Node name (non-empty, no ``"."``, not ``"loss"``, unique among inputs and nodes). ``add(layer, inputs)``
            names the node after the layer's class with a counter (``Conv2D1``, ``Conv2D2``).
        layer : Layer
            The layer; the same object at several nodes shares its parameters (not for a stateful layer). The graph
            becomes its owner and names it after its first node.
        inputs : str or list of str, optional
            A graph input or earlier node; a list for a merge layer. Default: the last node added (the first graph
            input for the first node).

        Raises
        ------
        TypeError, ValueError
            A bad name or wiring, a layer already elsewhere in this network, a container that holds this graph, a
            graph with several outputs, a shared stateful layer; the graph is left unchanged.
        """
        if not isinstance(name, str) and layer is not None and inputs is None and not _is_layer(layer):
            name, layer, inputs = None, name, layer
        elif not isinstance(name, str) and layer is None:
            name, layer = None, name
        if not _is_layer(layer):
            raise TypeError(f"{describe(self)}: node {name or '?'!r} must be a layer with forward() and backward(), "
                            f"got {type(layer).__name__}")
        if name is None:
            name = self._auto_name(layer)
        check_name(self, name, "node")
        if name in self._nodes or name in self.inputs:
            raise ValueError(f"{describe(self)}: duplicate name {name!r}; input and node names must be unique")
        inputs = self._check_inputs(name, layer, inputs)
        first = self._owner(layer)
        membership.check_addable(self, name, layer, "node", shared=first is not None)
        if first is not None:
            carried_state.check_not_shared(self, name, layer, first)
        self._nodes[name] = (layer, inputs)
        self._last = (name,)
        if first is None:
            self._adopt(name, layer)
        self._reset_exec()
        return self

    def set_outputs(self, *names):
        """Choose the output nodes (default: the last node added); return self."""
        if len(names) == 1 and isinstance(names[0], (list, tuple)):
            names = tuple(names[0])
        if not names:
            raise ValueError(f"{describe(self)}.set_outputs: name at least one node")
        for name in names:
            if name not in self._nodes:
                raise ValueError(f"{describe(self)}.set_outputs: {name!r} is not a node; nodes: {list(self._nodes)}")
        if len(set(names)) != len(names):
            raise ValueError(f"{describe(self)}.set_outputs: duplicate output in {list(names)}")
        owner = membership.owner_of(self)
        if owner is not None and len(names) > 1:
            raise ValueError(f"{describe(self)}.set_outputs: the graph is {owner[1]!r} in {describe(owner[0])}, "
                             f"where it is a layer and must have one output; got {list(names)}")
        if self._loss_single is not None and len(names) != 1:
            raise ValueError(f"{describe(self)}.set_outputs: the graph has one loss layer for one output; call "
                             f"set_loss with a dict output name -> loss for outputs {list(names)}")
        stale = [k for k in [*self._loss_dict, *self.loss_weights] if k not in names]
        if stale:
            raise ValueError(f"{describe(self)}.set_outputs: the losses name {stale}, which would no longer be "
                             f"outputs; call set_loss again")
        self._outputs = tuple(names)
        return self

    @property
    def outputs(self):
        """Tuple of output node names."""
        if self._outputs is not None:
            return self._outputs
        return self._last

    @property
    def nodes(self):
        """Read-only ordered mapping node name -> ``(layer, input_names)``."""
        return MappingProxyType(self._nodes)

    @property
    def takes_list(self):
        """True when the graph has several inputs: as a node of another graph it then reads a list of names."""
        return len(self.inputs) > 1

    def __len__(self):
        return len(self._nodes)

    def __contains__(self, name):
        return name in self._nodes

    def __iter__(self):
        return iter(self._nodes)

    def __getitem__(self, key):
        """The layer at node *key*, or dotted through nested layers (``"block.conv1"``); nodes have no positions."""
        return lookup.by_path(self, key, "node")

    # -- helpers -----------------------------------------------------------------------------------------------

    def _parts(self):
        """``(first node, layer)`` for each distinct layer, then the loss layer(s)."""
        seen = set()
        for name, (layer, _) in self._nodes.items():
            if id(layer) not in seen:
                seen.add(id(layer))
                yield name, layer
        if self.loss_layer is not None:
            yield "loss", self.loss_layer

    def _owner(self, layer):
        """Name of the first node holding *layer*, or None."""
        return next((name for name, (other, _) in self._nodes.items() if other is layer), None)

    def _owned_parts(self):
        """``(first node, layer)`` of each distinct layer: the layers this graph owns (see :mod:`.membership`)."""
        return [(name, layer) for name, layer in self._parts() if name in self._nodes]

    def _holds_part(self, name, layer):
        """True when *layer* is the layer of node *name*."""
        node = self._nodes.get(name)
        return node is not None and node[0] is layer

    def shared_nodes(self):
        """Mapping first node -> list of later nodes that reuse its layer (only layers used more than once)."""
        out = {}
        for name, (layer, _) in self._nodes.items():
            owner = self._owner(layer)
            if owner != name:
                out.setdefault(owner, []).append(name)
        return out

    def _check_inputs(self, name, layer, inputs):
        where = f"{describe(self)}: node {name!r}"
        if inputs is None:
            inputs = next(reversed(self._nodes)) if self._nodes else self.inputs[0]
        if isinstance(inputs, tuple):
            inputs = list(inputs)
        names = [inputs] if isinstance(inputs, str) else inputs
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise TypeError(f"{where}: 'inputs' must be a name or a list of names, got {inputs!r}")
        for src in names:
            if src not in self._nodes and src not in self.inputs:
                raise ValueError(f"{where}: input {src!r} does not exist (inputs {list(self.inputs)}, "
                                 f"nodes {list(self._nodes)})")
        takes_list = bool(getattr(layer, "takes_list", False))
        if takes_list and isinstance(inputs, str):
            raise ValueError(f"{where}: {type(layer).__name__} merges several inputs; give a list of names, "
                             f"got {inputs!r}")
        if takes_list and len(names) < getattr(layer, "min_inputs", 2):
            raise ValueError(f"{where}: {type(layer).__name__} needs at least {getattr(layer, 'min_inputs', 2)} "
                             f"inputs, got {names}")
        if isinstance(layer, Graph) and takes_list and len(names) != len(layer.inputs):
            raise ValueError(f"{where}: the nested graph has inputs {list(layer.inputs)}, got {len(names)} names "
                             f"{names}")
        if not takes_list and isinstance(inputs, list):
            raise ValueError(f"{where}: {type(layer).__name__} takes one input; give one name, got a list {names}")
        return list(inputs) if isinstance(inputs, list) else inputs

    def _auto_name(self, layer):
        base, i = type(layer).__name__, 1
        while f"{base}{i}" in self._nodes or f"{base}{i}" in self.inputs:
            i += 1
        return f"{base}{i}"

    def extra_repr(self):
        lines = [f"\n  ({name} <- {ins}): " + repr(layer).replace("\n", "\n  ")
                 for name, (layer, ins) in self._nodes.items()]
        return f"inputs={list(self.inputs)}, outputs={list(self.outputs)}" + "".join(lines) + ("\n" if lines else "")


def _is_layer(obj):
    return callable(getattr(obj, "forward", None)) and callable(getattr(obj, "backward", None))
