"""ONNX export: :func:`to_onnx` writes a network as an ONNX model; :func:`register_exporter` adds layer classes.

The ``onnx`` package is needed only when exporting (``pip install "layergraph[onnx]"``); importing this module
does not import it.
"""

from . import ops_bench, ops_containers, ops_dense, ops_recurrent, ops_spatial  # noqa: F401  (register the built-ins)
from .context import ExportContext
from .onnx_export import DEFAULT_OPSET, to_onnx
from .registry import ExportError, find_exporter, register_exporter

__all__ = ["to_onnx", "register_exporter", "find_exporter", "ExportContext", "ExportError", "DEFAULT_OPSET"]
