"""The export context handed to every exporter: adds constants and ONNX nodes, names them after the layer.

An exporter is a function ``function(ctx, layer, inputs) -> list of output tensor names``. It builds its part of the
ONNX graph with :meth:`ExportContext.initializer` and :meth:`ExportContext.node`; a container exports its parts with
:meth:`ExportContext.export`, which finds each part's exporter in the registry and names the nodes it adds after
the part's qualified name (``"block1.fc1"``).
"""

import numpy as np

from .registry import exporter_for


class ExportContext:
    """Collects the nodes, initializers and graph inputs of one export (see :func:`layergraph.export.to_onnx`).

    Attributes
    ----------
    dtype : numpy.dtype
        Floating dtype of the exported model (float32 or float64); floating constants are cast to it.
    opset : int
        ONNX opset version of the default domain.
    head : {"logits", "proba"}
        The requested output head.
    """

    def __init__(self, onnx_module, dtype, opset, head="logits"):
        self._onnx = onnx_module
        self.dtype = np.dtype(dtype)
        self.opset = int(opset)
        self.head = head
        self.nodes = []
        self.initializers = []
        self.graph_inputs = {}          # name -> [elem dtype, shape]
        self.domains = {}               # operator domains other than the default -> opset version to import
        self._used = set()
        self._scope = []
        self._constants = {}            # id(array) -> (array, name): shared arrays become one initializer

    # -- naming ------------------------------------------------------------------------------------------------

    @property
    def scope(self):
        """Qualified name of the layer being exported (``""`` outside any layer)."""
        return self._scope[-1] if self._scope else ""

    def unique(self, base):
        """Return *base*, or *base* with a counter appended, so that no two names in the model are equal."""
        name, i = base, 1
        while name in self._used:
            i += 1
            name = f"{base}_{i}"
        self._used.add(name)
        return name

    def _qualified(self, hint, separator):
        scope = self.scope
        return f"{scope}{separator}{hint}" if scope else hint

    # -- building blocks ---------------------------------------------------------------------------------------

    def add_input(self, name, shape, dtype=None):
        """Declare a graph input *name* with *shape* (``None`` entries are dynamic, the first is ``"N"``)."""
        self._used.add(name)
        self.graph_inputs[name] = [np.dtype(dtype or self.dtype), tuple(shape)]
        return name

    def initializer(self, array, hint):
        """Add the constant *array* to the model and return its tensor name.

        Floating arrays are cast to the model's dtype; integer arrays keep theirs. The name is the layer's qualified
        name and *hint* (``"fc1.W"``), made unique.
        """
        key = id(array)
        cached = self._constants.get(key)
        if cached is not None and cached[0] is array:     # the same array again (a shared layer): one constant
            return cached[1]
        original, array = array, np.asarray(array)
        if array.dtype.kind == "f":
            array = array.astype(self.dtype)
        elif array.dtype.kind == "b":
            array = array.astype(np.bool_)
        name = self.unique(self._qualified(hint, "."))
        self.initializers.append(self._onnx.numpy_helper.from_array(np.ascontiguousarray(array), name))
        if isinstance(original, np.ndarray):
            self._constants[key] = (original, name)
        return name

    def constant(self, values, hint, dtype=np.int64):
        """An integer (by default int64) constant such as axes or a shape; returns its tensor name."""
        return self.initializer(np.asarray(values, dtype=dtype), hint)

    def node(self, op_type, inputs, hint=None, *, outputs=1, domain=None, **attributes):
        """Add an ONNX node and return the list of its output tensor names.

        Parameters
        ----------
        op_type : str
            ONNX operator, e.g. ``"Gemm"``.
        inputs : list of str
            Input tensor names (``""`` for an omitted optional input).
        hint : str, optional
            Short label of the node within the layer (default: the operator); the node is named
            ``"<qualified name>/<hint>"``.
        outputs : int, default 1
            Number of outputs to create (e.g. 3 for an ``LSTM`` returning ``Y``, ``Y_h`` and ``Y_c``).
        domain : str, optional
            Operator domain (default: the ONNX standard domain); the model imports it at version 1 unless
            ``ctx.domains[domain]`` is set to another version.
        **attributes
            ONNX attributes of the node.
        """
        if isinstance(inputs, str):
            inputs = [inputs]
        base = self._qualified(hint or op_type, "/")
        node_name = self.unique(base)
        out_names = [self.unique(f"{node_name}:{i}") for i in range(outputs)]
        if domain:
            self.domains.setdefault(domain, 1)
        node = self._onnx.helper.make_node(op_type, list(inputs), out_names, name=node_name, domain=domain,
                                           **attributes)
        self.nodes.append(node)
        return out_names

    def cast_input(self, name, dtype):
        """Make tensor *name* have *dtype*: a graph input not yet used is redeclared, anything else gets a Cast."""
        dtype = np.dtype(dtype)
        if name in self.graph_inputs and not any(name in n.input for n in self.nodes):
            self.graph_inputs[name][0] = dtype
            return name
        to = self._onnx.helper.np_dtype_to_tensor_dtype(dtype)
        return self.node("Cast", [name], "cast", to=to)[0]

    # -- composition -------------------------------------------------------------------------------------------

    def export(self, layer, inputs, name=None):
        """Export *layer* (any layer, container or loss) on the tensors *inputs* through the registry.

        Parameters
        ----------
        layer : Layer
        inputs : list of str
        name : str, optional
            Qualified name to give its nodes (default ``layer.name``).

        Returns
        -------
        list of str
            The layer's output tensor names.
        """
        if isinstance(inputs, str):
            inputs = [inputs]
        qualname = name or getattr(layer, "name", None) or type(layer).__name__
        function = exporter_for(layer, qualname)
        self._scope.append(qualname)
        try:
            outputs = function(self, layer, list(inputs))
        finally:
            self._scope.pop()
        if isinstance(outputs, str):
            outputs = [outputs]
        if not isinstance(outputs, (list, tuple)) or not all(isinstance(o, str) for o in outputs):
            raise TypeError(f"export: the exporter of {type(layer).__name__} {qualname!r} must return a list of "
                            f"tensor names, got {outputs!r}")
        return list(outputs)

    # -- helpers for exporters ---------------------------------------------------------------------------------

    def squeeze(self, name, axes, hint="squeeze"):
        """``Squeeze`` *name* along *axes* (opset 13 form: axes as an input)."""
        return self.node("Squeeze", [name, self.constant(axes, f"{hint}_axes")], hint)[0]

    def unsqueeze(self, name, axes, hint="unsqueeze"):
        """``Unsqueeze`` *name* at *axes*."""
        return self.node("Unsqueeze", [name, self.constant(axes, f"{hint}_axes")], hint)[0]

    def reduce_mean(self, name, axes, hint="mean"):
        """Mean over *axes* keeping dimensions, in the form the opset wants (axes attribute before 18)."""
        if self.opset >= 18:
            return self.node("ReduceMean", [name, self.constant(axes, f"{hint}_axes")], hint, keepdims=1)[0]
        return self.node("ReduceMean", [name], hint, axes=list(axes), keepdims=1)[0]

    def transpose(self, name, perm, hint="transpose"):
        """``Transpose`` *name* by *perm*."""
        return self.node("Transpose", [name], hint, perm=list(perm))[0]
