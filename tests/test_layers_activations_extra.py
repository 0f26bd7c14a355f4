"""ELU, GELU, SiLU/Swish and Softplus against independent formulas, and their gradient checks."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import norm

import layergraph as lg
from layergraph.layers import ELU, GELU, SiLU, Softplus, Swish

X = np.linspace(-6, 6, 241)


def test_elu():
    y = ELU(alpha=1.5).forward(X)
    np.testing.assert_allclose(y, [v if v > 0 else 1.5 * (math.exp(v) - 1) for v in X], rtol=1e-12, atol=1e-15)


def test_gelu_exact_uses_normal_cdf():
    np.testing.assert_allclose(GELU().forward(X), X * norm.cdf(X), rtol=1e-12, atol=1e-15)


def test_silu_and_alias():
    assert Swish is SiLU
    np.testing.assert_allclose(SiLU().forward(X), X / (1 + np.exp(-X)), rtol=1e-12)


def test_softplus_stable():
    np.testing.assert_allclose(Softplus().forward(X), np.log1p(np.exp(X)), rtol=1e-12)
    big = Softplus().forward(np.array([-1000.0, 1000.0]))
    assert np.all(np.isfinite(big)) and big[1] == 1000.0 and big[0] >= 0


@pytest.mark.parametrize("layer", [ELU(0.5), GELU(), SiLU(), Softplus()])
def test_derivative_matches_central_difference_of_forward(layer):
    h = 1e-6
    x = X[np.abs(X) > 1e-3]
    numeric = (type(layer)(*([layer.alpha] if isinstance(layer, ELU) else [])).forward(x + h)
               - type(layer)(*([layer.alpha] if isinstance(layer, ELU) else [])).forward(x - h)) / (2 * h)
    layer.forward(x)
    np.testing.assert_allclose(layer.backward(np.ones_like(x)), numeric, rtol=1e-6, atol=1e-8)


@settings(max_examples=10, deadline=None)
@given(st.sampled_from([ELU, GELU, SiLU, Softplus]), st.integers(0, 2**16))
def test_gradcheck(cls, seed):
    x = 3 * np.random.default_rng(seed).standard_normal((3, 4))
    x += np.copysign(0.05, x)
    assert lg.gradcheck(cls(), x).ok


def test_dtype_kept_and_validation():
    x32 = np.ones((2, 2), dtype=np.float32)
    for cls in (ELU, GELU, SiLU, Softplus):
        assert cls().forward(x32).dtype == np.float32
    with pytest.raises(ValueError, match="alpha"):
        ELU(alpha=-1.0)
    with pytest.raises(TypeError, match="alpha"):
        ELU(alpha="1")
