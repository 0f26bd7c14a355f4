"""Helpers of the ONNX export tests: run an exported file with ONNX Runtime and compare with layergraph."""

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

import layergraph as lg  # noqa: E402

TOL = {np.dtype(np.float32): 1e-5, np.dtype(np.float64): 1e-10}


def session(path):
    """An ONNX Runtime session on the CPU; pytest.skip when the runtime has no kernel for an operator and dtype."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    try:
        return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as err:  # onnxruntime's NotImplemented / Fail exceptions
        text = str(err)
        if "NOT_IMPLEMENTED" in text or "Could not find an implementation" in text:
            pytest.skip(f"ONNX Runtime has no kernel for this model's dtype: {text.splitlines()[0][:200]}")
        raise


def cast_inputs(x, dtype):
    """Cast floating arrays (or a dict of them) to *dtype*; integer arrays (indices) stay as they are."""
    if isinstance(x, dict):
        return {k: cast_inputs(v, dtype) for k, v in x.items()}
    if isinstance(x, list):
        return [cast_inputs(v, dtype) for v in x]
    x = np.asarray(x)
    return x.astype(dtype) if x.dtype.kind == "f" else x.astype(np.int64)


def rows(x, index):
    if isinstance(x, dict):
        return {k: v[index] for k, v in x.items()}
    if isinstance(x, list):
        return [v[index] for v in x]
    return x[index]


def feeds(sess, x):
    names = [i.name for i in sess.get_inputs()]
    if isinstance(x, dict):
        return {n: x[n] for n in names}
    if isinstance(x, list):
        assert len(names) == len(x)
        return dict(zip(names, x))
    assert len(names) == 1
    return {names[0]: x}


def reference(net, x):
    """Inference output of layergraph: ``forward(x, train=False)`` (a fresh state for stateful layers)."""
    reset = getattr(net, "reset_state", None)
    if callable(reset):
        reset()
    return net.forward(x, train=False)


def assert_close(actual, expected, dtype, what=""):
    """Equal to the dtype's relative tolerance, relative to the largest magnitude of the expected output or 1.

    The floor of 1: two correct computations that add the same terms in another order (ONNX Runtime adds a
    convolution's bias after the product, layergraph inside it) differ by rounding errors relative to the terms
    (inputs and weights of magnitude about 1 in these tests), not to a result that cancellation or a ReLU made
    small: one output of 0.0028 then differs by 6e-8 in float32.
    """
    tol = TOL[np.dtype(dtype)]
    expected = np.asarray(expected, dtype=np.float64)
    actual = np.asarray(actual, dtype=np.float64)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    scale = max(float(np.max(np.abs(expected), initial=0.0)), 1.0)
    np.testing.assert_allclose(actual, expected, rtol=tol, atol=tol * scale, err_msg=what)


def export_and_compare(net, x, dtype, path, batches=(1, 7), **kwargs):
    """Export *net* once to *path*, check the file, run it on each batch size and compare with layergraph.

    Returns the ONNX model.
    """
    model = lg.export.to_onnx(net, path, dtype=dtype, **kwargs)
    loaded = onnx.load(str(path))
    onnx.checker.check_model(loaded, full_check=True)
    for inp in loaded.graph.input:
        assert inp.type.tensor_type.shape.dim[0].dim_param == "N", "the batch axis must be dynamic"
    sess = session(path)
    out_names = [o.name for o in sess.get_outputs()]
    for n in batches:
        xb = rows(x, slice(0, n))
        try:
            got = sess.run(None, feeds(sess, xb))
        except Exception as err:  # some kernels reject float64 only when they run
            if "does not support double" in str(err):
                pytest.skip(f"ONNX Runtime: {str(err).splitlines()[0][-120:]}")
            raise
        want = reference(net, xb)
        if not isinstance(want, dict):
            want = {out_names[0]: want}
        assert sorted(want) == sorted(out_names)
        for name, value in zip(out_names, got):
            assert value.dtype == np.dtype(dtype), f"output {name} has dtype {value.dtype}"
            assert_close(value, want[name], dtype, f"output {name!r}, batch {n}")
    return model
