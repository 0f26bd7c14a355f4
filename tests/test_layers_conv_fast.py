"""The fast convolution paths against naive loops written here, over seeded random geometries.

Every path is forced in turn: wide-row and window gathers, one chunk or many (with a shorter last chunk), the
stride-1 input gradient (including paddings up to the kernel size, where dout is cropped) and the strided col2im;
float32 and float64; forward, weight, bias and input gradients.
"""

import numpy as np
import pytest

from layergraph.layers import Conv2D
from layergraph.layers import _im2col as im2col


def loop_conv(x, W, b, stride, pad, dout):
    """y, dW, db, dx by plain loops over output positions (float64)."""
    n, c, h, w = x.shape
    o, _, kh, kw = W.shape
    (sh, sw), (ph, pw) = stride, pad
    xp = np.zeros((n, c, h + 2 * ph, w + 2 * pw))
    xp[:, :, ph:ph + h, pw:pw + w] = x
    oh, ow = (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1
    y = np.zeros((n, o, oh, ow))
    dW, dxp = np.zeros(W.shape), np.zeros(xp.shape)
    for a in range(n):
        for p in range(oh):
            for q in range(ow):
                patch = xp[a, :, p * sh:p * sh + kh, q * sw:q * sw + kw]
                y[a, :, p, q] = np.tensordot(W, patch, axes=3) + b
                if dout is not None:
                    g = dout[a, :, p, q]
                    dW += g[:, None, None, None] * patch
                    dxp[a, :, p * sh:p * sh + kh, q * sw:q * sw + kw] += np.tensordot(g, W, axes=1)
    db = None if dout is None else dout.sum(axis=(0, 2, 3))
    return y, dW, db, dxp[:, :, ph:ph + h, pw:pw + w]


def draw_geometry(rng):
    kh, kw = rng.integers(1, 6, 2)
    sh, sw = rng.integers(1, 4, 2)
    ph, pw = rng.integers(0, kh + 1), rng.integers(0, kw + 1)     # up to the kernel size: crops dout too
    h = max(1, kh - 2 * ph) + rng.integers(0, 9)
    w = max(1, kw - 2 * pw) + rng.integers(0, 20)                  # wide planes too (OW > 16)
    return dict(n=int(rng.integers(1, 6)), c=int(rng.integers(1, 5)), o=int(rng.integers(1, 6)), hw=(int(h), int(w)),
                kernel=(int(kh), int(kw)), stride=(int(sh), int(sw)), pad=(int(ph), int(pw)))


@pytest.fixture(params=[(1, 1, True, 10**9), (1, 1, False, 10**9), (1 << 20, 4096, True, 10**9),
                        (1 << 20, 4096, False, 10**9), (1, 1, False, 1), (1 << 20, 4096, False, 1)],
                ids=["chunk-1-wide", "chunk-1-windows", "default-wide", "default-windows", "chunk-1-per-sample",
                     "default-per-sample"])
def kernels(request, monkeypatch):
    """Force chunks of one sample (many chunks) or the default sizes, with and without wide-row gathers, with
    per-sample products or chunk-wide ones."""
    chunk_bytes, min_columns, wide, per_sample_length = request.param
    monkeypatch.setattr(im2col, "CHUNK_BYTES", chunk_bytes)
    monkeypatch.setattr(im2col, "MIN_COLUMNS", min_columns)
    monkeypatch.setattr(im2col, "WIDE_ROWS", wide)
    monkeypatch.setattr(im2col, "PER_SAMPLE_LENGTH", per_sample_length)
    return request.param


@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-11), (np.float32, 2e-4)])
def test_conv_fast_paths_match_loops(kernels, dtype, tol):
    rng = np.random.default_rng([kernels[0], kernels[1], int(kernels[2]), kernels[3], np.dtype(dtype).itemsize])
    for _ in range(12):
        g = draw_geometry(rng)
        layer = Conv2D(g["c"], g["o"], g["kernel"], g["stride"], g["pad"], dtype=dtype, rng=rng)
        layer.params["b"][...] = rng.standard_normal(g["o"])
        x = rng.standard_normal((g["n"], g["c"], *g["hw"])).astype(dtype)
        y = layer.forward(x)
        dout = rng.standard_normal(y.shape).astype(dtype)
        dx = layer.backward(dout)
        W, b = (layer.params[k].astype(np.float64) for k in ("W", "b"))
        y_ref, dW, db, dx_ref = loop_conv(x.astype(np.float64), W, b, g["stride"], g["pad"], dout.astype(np.float64))
        assert y.dtype == dx.dtype == layer.grads["W"].dtype == dtype
        for got, ref in ((y, y_ref), (layer.grads["W"], dW), (layer.grads["b"], db), (dx, dx_ref)):
            np.testing.assert_allclose(got, ref, rtol=tol, atol=tol * max(1.0, np.abs(ref).max()), err_msg=str(g))


@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-11), (np.float32, 2e-4)])
def test_same_convolutions_take_the_joint_backward_and_match_loops(kernels, dtype, tol, monkeypatch):
    """Stride 1, odd kernels, padding k // 2 ("same" size): weight and input gradients come from one loop over the
    chunks (the centre tap of the input gradient's columns stands in for dout) whenever the gathers use wide rows."""
    taken = []
    joint = im2col.backward_same
    monkeypatch.setattr(im2col, "backward_same", lambda *args: taken.append(joint(*args)) or taken[-1])
    rng = np.random.default_rng([kernels[0], kernels[1], int(kernels[2]), kernels[3], 5])
    for _ in range(10):
        kh, kw = (int(2 * k + 1) for k in rng.integers(0, 3, 2))
        c, o = (int(v) for v in rng.integers(1, 5, 2))
        layer = Conv2D(c, o, (kh, kw), 1, (kh // 2, kw // 2), dtype=dtype, rng=rng)
        layer.params["b"][...] = rng.standard_normal(o)
        x = rng.standard_normal((int(rng.integers(1, 6)), c, int(rng.integers(1, 9)), int(rng.integers(1, 21))))
        x = x.astype(dtype)
        y = layer.forward(x)
        dout = rng.standard_normal(y.shape).astype(dtype)
        dx = layer.backward(dout)
        W = layer.params["W"].astype(np.float64)
        y_ref, dW, db, dx_ref = loop_conv(x.astype(np.float64), W, layer.params["b"].astype(np.float64), (1, 1),
                                          (kh // 2, kw // 2), dout.astype(np.float64))
        for got, ref in ((y, y_ref), (layer.grads["W"], dW), (layer.grads["b"], db), (dx, dx_ref)):
            np.testing.assert_allclose(got, ref, rtol=tol, atol=tol * max(1.0, np.abs(ref).max()))
    used = sum(t is not None for t in taken)
    assert used > 0 if kernels[2] else used == 0   # wide-row gathers on: some kernels take it; off: none can


def test_conv_chunked_batches_with_a_shorter_last_chunk(monkeypatch):
    """Nine samples in chunks of two: four full chunks and one of a single sample, on every path."""
    rng = np.random.default_rng(7)
    for stride, wide, per_sample_length in [((1, 1), True, 10**9), ((1, 1), False, 10**9), ((2, 1), True, 10**9),
                                            ((1, 1), False, 1)]:
        monkeypatch.setattr(im2col, "WIDE_ROWS", wide)
        monkeypatch.setattr(im2col, "PER_SAMPLE_LENGTH", per_sample_length)
        layer = Conv2D(3, 4, (3, 2), stride, (1, 2), dtype=np.float64, rng=rng)
        x = rng.standard_normal((9, 3, 7, 6))
        monkeypatch.setattr(im2col, "CHUNK_BYTES", 2 * 3 * 6 * 100 * 8)
        monkeypatch.setattr(im2col, "MIN_COLUMNS", 1)
        y = layer.forward(x)
        dout = rng.standard_normal(y.shape)
        dx = layer.backward(dout)
        y_ref, dW, _, dx_ref = loop_conv(x, layer.params["W"], layer.params["b"], stride, (1, 2), dout)
        np.testing.assert_allclose(y, y_ref, atol=1e-12)
        np.testing.assert_allclose(layer.grads["W"], dW, atol=1e-11)
        np.testing.assert_allclose(dx, dx_ref, atol=1e-12)


def test_chunk_size_rule():
    assert im2col.chunk_samples(100, 25, 576, 4) == min(100, max(im2col.CHUNK_BYTES // (25 * 576 * 4),
                                                                -(-im2col.MIN_COLUMNS // 576)))
    assert im2col.chunk_samples(3, 10_000, 10_000, 8) == 1
    assert im2col.chunk_samples(5, 1, 1, 4) == 5
    # one product per sample: as many samples as fit in CHUNK_BYTES of columns, at least one, at most n
    for n, k, length, size in ((100, 25, 576, 4), (100, 25, 576, 8), (7, 9, 10_000, 4), (3, 10_000, 10_000, 8)):
        m = im2col.per_sample_chunk(n, k, length, size)
        per_sample = k * length * size
        assert 1 <= m <= n
        assert m == 1 or m * per_sample <= im2col.CHUNK_BYTES
        assert m == n or (m + 1) * per_sample > im2col.CHUNK_BYTES


def test_outputs_and_input_gradients_are_fresh_arrays():
    """Scratch buffers are reused across calls, but what the caller holds is never overwritten."""
    rng = np.random.default_rng(3)
    layer = Conv2D(2, 3, 3, pad=1, rng=0)
    x1, x2 = rng.standard_normal((2, 4, 2, 6, 6)).astype(np.float32)
    y1 = layer.forward(x1)
    d1 = layer.backward(np.ones_like(y1))
    keep_y, keep_d = y1.copy(), d1.copy()
    y2 = layer.forward(x2)
    d2 = layer.backward(2 * np.ones_like(y2))
    np.testing.assert_array_equal(y1, keep_y)
    np.testing.assert_array_equal(d1, keep_d)
    assert not np.shares_memory(y1, y2) and not np.shares_memory(d1, d2)


@pytest.mark.parametrize("c, o, needs_dx", [(2, 3, True), (1, 3, False), (1, 3, True)])
def test_one_layer_over_changing_input_sizes_matches_loops(c, o, needs_dx):
    """Scratch buffers (padded inputs, wide-row gradients) are reused while shapes repeat: a layer fed inputs of
    several sizes in turn, switching between wide-row and window gathers (for 1 -> 3 channels the window gather is
    taken above 16 output columns), must still see zeros where it expects them."""
    rng = np.random.default_rng(11)
    sizes = ((6, 7), (10, 17), (10, 15), (7, 6), (10, 17), (9, 5), (10, 15))
    for kernel, pad in (((3, 3), (1, 1)), ((3, 2), (2, 1)), ((5, 5), (0, 0)), ((3, 3), (0, 0))):
        layer = Conv2D(c, o, kernel, 1, pad, dtype=np.float64, rng=rng)
        layer.params["b"][...] = rng.standard_normal(o)
        layer.requires_input_grad = needs_dx
        for hw in sizes:
            x = rng.standard_normal((2, c, *hw)) * 3.0
            y = layer.forward(x)
            dout = rng.standard_normal(y.shape)
            dx = layer.backward(dout)
            y_ref, dW, db, dx_ref = loop_conv(x, layer.params["W"], layer.params["b"], (1, 1), pad, dout)
            what = str((c, o, kernel, pad, hw))
            np.testing.assert_allclose(y, y_ref, atol=1e-11, err_msg=what)
            np.testing.assert_allclose(layer.grads["W"], dW, atol=1e-10, err_msg=what)
            np.testing.assert_allclose(layer.grads["b"], db, atol=1e-11, err_msg=what)
            if needs_dx:
                np.testing.assert_allclose(dx, dx_ref, atol=1e-11, err_msg=what)
            else:
                assert dx is None


@pytest.mark.parametrize("stride, pad", [((1, 1), (1, 1)), ((1, 1), (0, 2)), ((2, 1), (1, 0))])
def test_conv_results_are_the_same_for_every_thread_count(stride, pad):
    """Chunk bounds depend on shapes only and partial weight gradients are added in chunk order: forward, dW, db
    and dx are equal bit for bit with 1, 2 and 3 threads."""
    import layergraph as lg
    rng = np.random.default_rng(5)
    x = rng.standard_normal((23, 4, 13, 12)).astype(np.float32)
    results = []
    for n in (1, 2, 3):
        layer = Conv2D(4, 6, 3, stride, pad, rng=1)
        with lg.threads.num_threads(n):
            y = layer.forward(x)
            dx = layer.backward(np.cos(y))
        results.append((y, layer.grads["W"].copy(), layer.grads["b"].copy(), dx))
    for other in results[1:]:
        for a, b in zip(results[0], other):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("n, hw, kernel, stride, pad", [(16, (9, 9), 3, 2, 1), (12, (11, 6), (3, 2), (3, 2), (1, 0)),
                                                        (3, (30, 40), 3, 2, 1)])
def test_strided_input_gradient_with_samples_last_or_not_matches_loops(n, hw, kernel, stride, pad):
    """Chunks with more samples than output columns fold with the samples as the innermost axis; others do not."""
    rng = np.random.default_rng(n)
    layer = Conv2D(3, 4, kernel, stride, pad, dtype=np.float64, rng=rng)
    x = rng.standard_normal((n, 3, *hw))
    y = layer.forward(x)
    dout = rng.standard_normal(y.shape)
    ow, k = y.shape[3], 3 * int(np.prod(layer.kernel_size))
    m = max(e - s for s, e in im2col.chunk_bounds(n, im2col.chunk_samples(n, k, y.shape[2] * ow, 8)))
    assert (m > ow) == (n > 3)                                 # the cases cover both layouts
    _, _, _, dx_ref = loop_conv(x, layer.params["W"], layer.params["b"], layer.stride, layer.pad, dout)
    np.testing.assert_allclose(layer.backward(dout), dx_ref, rtol=1e-11, atol=1e-11)
