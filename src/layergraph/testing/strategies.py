"""Hypothesis strategies for layer inputs: shapes, scales, dtypes and seeds.

Arrays are drawn from a ``np.random.Generator`` seeded by a drawn integer rather than element by element, so
examples are fast and shrink to small batches, small scales and simple seeds. Requires ``hypothesis``.

Examples
--------
>>> from hypothesis import given, settings
>>> from layergraph.testing import strategies as lgst
>>> @settings(max_examples=20, deadline=None)
... @given(x=lgst.inputs((3, 4)), seed=lgst.seeds())
... def test_swish(x, seed):
...     assert_gradients(Swish(), x, seed=seed)
"""

import numpy as np
from hypothesis import strategies as st

FLOAT_DTYPES = (np.float64, np.float32)


def seeds():
    """Seeds for ``np.random.default_rng`` and for ``gradcheck(seed=...)``."""
    return st.integers(min_value=0, max_value=2**32 - 1)


def scales(min_value=0.1, max_value=10.0):
    """Input scales, log-uniform between *min_value* and *max_value*."""
    if not 0 < min_value <= max_value:
        raise ValueError(f"scales: need 0 < min_value <= max_value, got {min_value}, {max_value}")
    lo, hi = np.log(min_value), np.log(max_value)
    return st.floats(min_value=lo, max_value=hi).map(lambda v: float(np.exp(v)))


def dtypes(choices=FLOAT_DTYPES):
    """Floating dtypes (``np.dtype`` objects)."""
    return st.sampled_from([np.dtype(d) for d in choices])


def feature_shapes(min_dims=1, max_dims=3, min_side=1, max_side=5):
    """Per-sample shapes (without the batch axis), e.g. ``(3,)`` or ``(2, 4, 3)``."""
    return st.lists(st.integers(min_side, max_side), min_size=min_dims, max_size=max_dims).map(tuple)


@st.composite
def inputs(draw, feature_shape=None, *, batch=(1, 6), scale=(0.1, 10.0), dtype=(np.float64,), margin=0.0):
    """Input batches ``(N, *feature_shape)``: standard normal times a drawn scale, in a drawn dtype.

    Parameters
    ----------
    feature_shape : tuple or strategy, optional
        Shape of one sample; drawn from :func:`feature_shapes` when None.
    batch : (int, int)
        Inclusive range of the batch size ``N``.
    scale : (float, float)
        Range of the scale (log-uniform).
    dtype : sequence of dtypes
        Dtypes to draw from.
    margin : float
        Push every element at least ``margin * scale`` away from 0 (keeps inputs of ReLU-like layers off the kink).
    """
    if feature_shape is None:
        feature_shape = feature_shapes()
    shape = draw(feature_shape) if isinstance(feature_shape, st.SearchStrategy) else tuple(feature_shape)
    n = draw(st.integers(batch[0], batch[1]))
    s = draw(scales(*scale))
    dt = draw(dtypes(dtype))
    rng = np.random.default_rng(draw(seeds()))
    x = rng.standard_normal((n, *shape))
    if margin:
        x += np.copysign(margin, x)
    return (s * x).astype(dt)
