"""The fast pooling paths against naive loops written here: max pooling with ties (first maximum), overlapping
windows (one bincount scatter) and disjoint ones, separable average pooling; float32 and float64.
"""

import numpy as np
import pytest

from layergraph.layers import AvgPool2D, MaxPool2D


def loop_pool(x, kernel, stride, pad, kind, dout):
    """Pooling output and input gradient by loops; max routes to the first maximum in row-major order."""
    n, c, h, w = x.shape
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, pad
    xp = np.full((n, c, h + 2 * ph, w + 2 * pw), -np.inf if kind == "max" else 0.0)
    xp[:, :, ph:ph + h, pw:pw + w] = x
    oh, ow = (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1
    y, dxp = np.zeros((n, c, oh, ow)), np.zeros(xp.shape)
    for a in range(n):
        for f in range(c):
            for p in range(oh):
                for q in range(ow):
                    win = xp[a, f, p * sh:p * sh + kh, q * sw:q * sw + kw]
                    if kind == "max":
                        i, j = divmod(int(np.argmax(win)), kw)
                        y[a, f, p, q] = win[i, j]
                        dxp[a, f, p * sh + i, q * sw + j] += dout[a, f, p, q]
                    else:
                        y[a, f, p, q] = win.mean()
                        dxp[a, f, p * sh:p * sh + kh, q * sw:q * sw + kw] += dout[a, f, p, q] / win.size
    return y, dxp[:, :, ph:ph + h, pw:pw + w]


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-12), (np.float32, 1e-5)])
def test_pool_fast_paths_match_loops(kind, dtype, tol):
    rng = np.random.default_rng(11 if kind == "max" else 12)
    cases = [((2, 2), None, (0, 0)), ((3, 3), (2, 2), (1, 1)), ((3, 2), (1, 2), (1, 0)), ((2, 3), (3, 1), (0, 1))]
    cases += [(tuple(rng.integers(1, 5, 2)), tuple(rng.integers(1, 4, 2)), None) for _ in range(6)]
    for kernel, stride, pad in cases:
        kernel = tuple(int(k) for k in kernel)
        pad = tuple(int(rng.integers(0, k // 2 + 1)) for k in kernel) if pad is None else pad
        layer = (MaxPool2D if kind == "max" else AvgPool2D)(kernel, stride=stride, pad=pad)
        stride = layer.stride
        shape = (2, 3, kernel[0] + int(rng.integers(0, 7)), kernel[1] + int(rng.integers(0, 8)))
        x = rng.integers(-2, 3, shape).astype(dtype)          # small integers: many tied maxima
        y = layer.forward(x)
        dout = rng.standard_normal(y.shape).astype(dtype)
        dx = layer.backward(dout)
        y_ref, dx_ref = loop_pool(x.astype(np.float64), kernel, stride, pad, kind, dout.astype(np.float64))
        assert y.dtype == dx.dtype == dtype
        np.testing.assert_allclose(y, y_ref, rtol=tol, atol=tol, err_msg=f"{kernel} {stride} {pad}")
        np.testing.assert_allclose(dx, dx_ref, rtol=tol, atol=tol, err_msg=f"{kernel} {stride} {pad}")
