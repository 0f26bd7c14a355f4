"""Property test: convolution and pooling geometry (kernel, stride, padding, odd sizes) exports exactly."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from export_support import export_and_compare

import layergraph as lg
from layergraph.layers import AvgPool2D, Conv2D, MaxPool2D


@st.composite
def conv_pool_nets(draw):
    c, o = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    ph, pw = draw(st.integers(0, 2)), draw(st.integers(0, 2))
    h = draw(st.integers(max(1, kh - 2 * ph), 9))
    w = draw(st.integers(max(1, kw - 2 * pw), 9))
    oh, ow = (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1
    pk = (draw(st.integers(1, min(3, oh))), draw(st.integers(1, min(3, ow))))
    pool_pad = (draw(st.integers(0, pk[0] // 2)), draw(st.integers(0, pk[1] // 2)))
    stride = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    pool = draw(st.sampled_from([MaxPool2D, AvgPool2D]))(pk, stride=stride, pad=pool_pad)
    seed = draw(st.integers(0, 2 ** 16))
    conv = Conv2D(c, o, (kh, kw), (sh, sw), (ph, pw), rng=seed)
    conv.params["b"][...] = np.random.default_rng(seed).standard_normal(o)
    return lg.Sequential(conv, lg.ReLU(), pool), (c, h, w), seed


@given(conv_pool_nets())
def test_conv_and_pool_geometry(case):
    import tempfile
    from pathlib import Path

    net, shape, seed = case
    x = np.random.default_rng(seed + 1).standard_normal((7, *shape)).astype(np.float32)
    with tempfile.TemporaryDirectory() as tmp:
        export_and_compare(net, x, np.float32, Path(tmp) / "m.onnx", input_shape=shape)
