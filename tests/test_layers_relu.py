"""ReLU's forward against ``np.maximum(x, 0)``, bit for bit, on every layout and special value."""

import numpy as np
import pytest

import layergraph as lg


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_forward_equals_maximum_with_zero_on_special_values_and_layouts(dtype):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 4, 5, 6)).astype(dtype)
    x.flat[:6] = [np.nan, -0.0, 0.0, np.inf, -np.inf, np.finfo(dtype).tiny / 4]
    layer = lg.ReLU()
    for arr in (x, x[:, :, ::2], x.transpose(0, 2, 3, 1), x[:1], x.reshape(-1)[:7]):
        y = layer.forward(arr)
        ref = np.maximum(arr, 0)
        assert y.dtype == arr.dtype and y.shape == arr.shape and y.flags.writeable
        np.testing.assert_array_equal(y, ref)
        assert not np.signbit(y[~np.isnan(y)]).any()          # never -0.0
    y1 = layer.forward(x)
    y2 = layer.forward(x * 2)
    assert not np.shares_memory(y1, y2)


def test_relu_forward_on_sizes_around_whole_rows():
    from layergraph.layers.activations import ROW
    layer = lg.ReLU()
    for n in (5, ROW - 1, ROW, ROW + 3, 3 * ROW, 3 * ROW + 7):
        x = np.linspace(-1.0, 1.0, n, dtype=np.float32)
        np.testing.assert_array_equal(layer.forward(x), np.maximum(x, 0))
