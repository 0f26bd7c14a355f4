"""ReLU's forward against ``np.maximum(x, 0)``, bit for bit, on every layout and special value."""

import numpy as np
import pytest

import layergraph as lg
from layergraph.layers.activations import ROW, max_zero


def assert_same_bits(y, ref):
    """Equal values, NaN in the same places and the same sign of every zero."""
    assert y.dtype == ref.dtype and y.shape == ref.shape
    np.testing.assert_array_equal(np.isnan(y), np.isnan(ref))
    np.testing.assert_array_equal(np.signbit(y), np.signbit(ref))
    np.testing.assert_array_equal(y, ref)


def special(dtype, shape, rng):
    x = rng.standard_normal(shape).astype(dtype)
    flat = x.reshape(-1)
    values = [np.nan, -0.0, 0.0, np.inf, -np.inf, np.finfo(dtype).tiny / 4, -np.finfo(dtype).tiny / 4, -np.nan]
    for start in (0, ROW - 3, flat.size - len(values)):       # first row, across a row boundary, the tail
        if start + len(values) <= flat.size:
            flat[start:start + len(values)] = values
    return x


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(3, 4, 5, 6), (3, 2, 61, 67)])    # below and above one row of values
def test_relu_forward_equals_maximum_with_zero_on_special_values_and_layouts(dtype, shape):
    x = special(dtype, shape, np.random.default_rng(0))
    layer = lg.ReLU()
    for arr in (x, x[:, :, ::2], x.transpose(0, 2, 3, 1), x[:1], x.reshape(-1)[:ROW + 7], np.asfortranarray(x)):
        y = layer.forward(arr)
        assert y.flags.writeable and not np.shares_memory(y, arr)
        assert_same_bits(y, np.maximum(arr, 0))
    y1 = layer.forward(x)
    y2 = layer.forward(x * 2)
    assert not np.shares_memory(y1, y2)


def test_relu_forward_on_sizes_around_whole_rows():
    layer = lg.ReLU()
    rng = np.random.default_rng(1)
    for n in (5, ROW - 1, ROW, ROW + 3, 3 * ROW, 3 * ROW + 7):
        x = rng.standard_normal(n).astype(np.float32)
        x[::7] = -0.0
        assert_same_bits(layer.forward(x), np.maximum(x, 0))


def test_max_zero_refuses_non_contiguous_input():
    with pytest.raises(ValueError, match="C-contiguous"):
        max_zero(np.asfortranarray(np.ones((ROW, 2), dtype=np.float32)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_threads", [1, 2, 3])
def test_relu_by_units_on_threads_equals_the_one_piece_formulas(dtype, n_threads, monkeypatch):
    from layergraph.layers import activations

    monkeypatch.setattr(activations, "PARALLEL_BYTES", 2 * ROW * np.dtype(dtype).itemsize)
    monkeypatch.setattr(activations, "UNIT", 2 * ROW)
    calls = []
    parallel_for = lg.threads.parallel_for
    monkeypatch.setattr(lg.threads, "parallel_for", lambda n, fn, **kw: calls.append(n) or parallel_for(n, fn, **kw))
    rng = np.random.default_rng(2)
    layer = lg.ReLU()
    with lg.threads.num_threads(n_threads):
        for n in (2 * ROW - 1, 2 * ROW, 5 * ROW + 11):
            x = special(dtype, (n,), rng)
            edge = min(2 * ROW, n - 4)                      # a unit boundary (or the end)
            x[edge - 4:edge + 4] = [np.nan, -0.0, 0.0, -1.0, 1.0, np.inf, -np.inf, -0.0]
            dout = special(dtype, (n,), rng)
            calls.clear()
            with np.errstate(invalid="ignore"):                # inf * 0 in both the layer and the reference
                y = layer.forward(x)
                dx = layer.backward(dout)
                ref = dout * (x > 0)
            assert_same_bits(y, np.maximum(x, 0))
            assert_same_bits(dx, ref)
            units = -(-n // (2 * ROW))
            assert calls == ([units, units] if n_threads > 1 and n >= 2 * ROW else [])
