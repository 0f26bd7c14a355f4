"""Every gradient-check case with an inference mode exports to ONNX and runs in ONNX Runtime like layergraph.

Skipped: loss layers (their inference meaning is the probability head, tested in test_export_api.py), and cases
whose built object is a gradient-check probe wrapping the layer rather than the layer itself (e.g. a probe that
restores a carried recurrent state before every call, or one that feeds fixed indices to an Embedding): those layers
are exported directly in test_export_sequences.py. A target ``t`` carried by a non-loss case (a graph with its
losses) is ignored: the graph's outputs are exported. Each exported file is run on batch sizes 1 and 7 (dynamic
batch axis), in float32 and in float64 where ONNX Runtime has float64 kernels.
"""

import numpy as np
import pytest

from export_support import cast_inputs, export_and_compare

import layergraph as lg
from layergraph.gradcheck import all_cases
from layergraph.layers import Loss


def _is_loss_case(case):
    return issubclass(case.layer_type, Loss)


CASES = [c for c in all_cases() if c.layer_type.__module__.startswith("layergraph.") and not _is_loss_case(c)]


def _concat(parts):
    if isinstance(parts[0], dict):
        return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    if isinstance(parts[0], list):
        return [np.concatenate([p[i] for p in parts]) for i in range(len(parts[0]))]
    return np.concatenate(parts)


def _rows(x):
    if isinstance(x, dict):
        return len(next(iter(x.values())))
    return len(x[0]) if isinstance(x, list) else len(x)


def _build(case, n=7):
    """The case's layer (seed 0) and at least *n* input rows, from builds with further seeds (same shapes)."""
    layer, x, t = case.build(np.random.default_rng(0))
    parts, seed = [x], 1
    while _rows(x) * len(parts) < n:
        parts.append(case.build(np.random.default_rng(seed))[1])
        seed += 1
    return layer, _concat(parts), t


def _input_shape(x):
    if isinstance(x, dict):
        return {k: v.shape[1:] for k, v in x.items()}
    if isinstance(x, list):
        return [v.shape[1:] for v in x]
    return x.shape[1:]


def test_the_walk_covers_the_builtin_layers():
    covered = {c.layer_type for c in CASES}
    for cls in (lg.Affine, lg.ReLU, lg.Conv2D, lg.BatchNorm, lg.LayerNorm, lg.Residual, lg.Dropout, lg.GELU):
        assert cls in covered
    assert all(lg.export.find_exporter(c.layer_type) is not None for c in CASES)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.label)
def test_case_exports_and_matches_onnx_runtime(case, dtype, tmp_path):
    layer, x, _ = _build(case)
    if not isinstance(layer, case.layer_type):
        pytest.skip(f"the case builds a gradient-check probe ({type(layer).__name__}), "
                    f"not a {case.layer_type.__name__}")
    layer.astype(dtype)
    x = cast_inputs(x, dtype)
    export_and_compare(layer, x, dtype, tmp_path / "model.onnx", input_shape=_input_shape(x))
