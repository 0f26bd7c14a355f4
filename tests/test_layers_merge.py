"""Merge layers (Add, Multiply, Average, Concat) against independent formulas and finite differences, float64."""

import numpy as np
import pytest

import layergraph as lg


def numeric_list_grads(layer, xs, dout, eps=1e-6):
    """d sum(forward(xs) * dout) / d xs[i], by central differences on copies of the inputs."""
    grads = []
    for i, x in enumerate(xs):
        g = np.zeros_like(x)
        for idx in np.ndindex(x.shape):
            vals = []
            for step in (eps, -eps):
                moved = [v.copy() for v in xs]
                moved[i][idx] += step
                vals.append(float(np.sum(layer.forward(moved) * dout)))
            g[idx] = (vals[0] - vals[1]) / (2 * eps)
        grads.append(g)
    return grads


def inputs(rng, shapes):
    return [rng.standard_normal(s) for s in shapes]


@pytest.mark.parametrize("make, formula", [
    (lg.Add, lambda xs: xs[0] + xs[1] + xs[2]),
    (lg.Average, lambda xs: (xs[0] + xs[1] + xs[2]) / 3.0),
    (lg.Multiply, lambda xs: xs[0] * xs[1] * xs[2]),
])
def test_elementwise_merges_match_formula_and_finite_differences(make, formula):
    rng = np.random.default_rng(0)
    xs = inputs(rng, [(3, 4)] * 3)
    saved = [x.copy() for x in xs]
    layer = make()
    y = layer.forward(xs)
    np.testing.assert_allclose(y, formula(saved), rtol=1e-13)
    dout = rng.standard_normal(y.shape)
    dout_saved = dout.copy()
    dxs = layer.backward(dout)
    assert isinstance(dxs, list) and len(dxs) == 3
    for got, want in zip(dxs, numeric_list_grads(make(), saved, dout)):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-8)
    for x, s in zip(xs, saved):
        np.testing.assert_array_equal(x, s)
    np.testing.assert_array_equal(dout, dout_saved)


def test_multiply_gradient_with_zeros_in_inputs():
    xs = [np.array([[0.0, 2.0]]), np.array([[3.0, 0.0]]), np.array([[5.0, 7.0]])]
    layer = lg.Multiply()
    layer.forward(xs)
    dxs = layer.backward(np.ones((1, 2)))
    np.testing.assert_array_equal(dxs[0], [[15.0, 0.0]])
    np.testing.assert_array_equal(dxs[1], [[0.0, 14.0]])
    np.testing.assert_array_equal(dxs[2], [[0.0, 0.0]])


@pytest.mark.parametrize("axis, shapes", [
    (1, [(2, 1, 3, 3), (2, 2, 3, 3), (2, 3, 3, 3)]),
    (-1, [(3, 2, 2), (3, 2, 4)]),
    (2, [(2, 3, 1), (2, 3, 2)]),
    (-3, [(2, 1, 2, 2), (2, 4, 2, 2)]),
])
def test_concat_matches_slicing_and_finite_differences(axis, shapes):
    rng = np.random.default_rng(1)
    xs = inputs(rng, shapes)
    layer = lg.Concat(axis)
    y = layer.forward(xs)
    ax = axis % len(shapes[0])
    start = 0
    for x in xs:
        piece = np.take(y, np.arange(start, start + x.shape[ax]), axis=ax)
        np.testing.assert_array_equal(piece, x)
        start += x.shape[ax]
    assert y.shape[ax] == start
    dout = rng.standard_normal(y.shape)
    dxs = layer.backward(dout)
    for got, want, x in zip(dxs, numeric_list_grads(lg.Concat(axis), xs, dout), xs):
        assert got.shape == x.shape
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("make", [lg.Add, lg.Average, lg.Multiply])
def test_elementwise_merges_never_broadcast(make):
    with pytest.raises(lg.ShapeError, match=r"equal shapes.*\(2, 3\).*\(2, 1\)"):
        make().forward([np.ones((2, 3)), np.ones((2, 1))])


def test_concat_shape_errors():
    with pytest.raises(lg.ShapeError, match="axis 1"):
        lg.Concat(1).forward([np.ones((2, 3, 4)), np.ones((2, 3, 5))])
    with pytest.raises(lg.ShapeError):
        lg.Concat(3).forward([np.ones((2, 3)), np.ones((2, 3))])
    with pytest.raises(ValueError, match="batch axis"):
        lg.Concat(0)
    with pytest.raises(lg.ShapeError):
        lg.Concat(-2).forward([np.ones((2, 3)), np.ones((2, 3))])     # resolves to the batch axis
    with pytest.raises(TypeError, match="'axis'"):
        lg.Concat(1.5)


@pytest.mark.parametrize("make", [lg.Add, lg.Average, lg.Multiply, lg.Concat])
def test_merge_needs_a_list_of_at_least_two(make):
    with pytest.raises(ValueError, match="at least 2"):
        make().forward([np.ones((2, 3))])
    with pytest.raises(TypeError, match="list of arrays"):
        make().forward(np.ones((2, 3)))
    with pytest.raises(lg.CallOrderError):
        make().backward(np.ones((2, 3)))


def test_merge_layers_are_merge_subclasses_and_exported():
    for cls in (lg.Add, lg.Multiply, lg.Average, lg.Concat):
        assert issubclass(cls, lg.Merge) and issubclass(cls, lg.layers.Merge) and cls.takes_list
    assert lg.Average().forward([np.ones((1, 2), np.float32)] * 2).dtype == np.float32


def test_a_user_merge_layer_works_in_a_graph():
    class Max(lg.Merge):
        def forward(self, xs, train=True):
            xs = self._inputs(xs)
            self._check_equal_shapes(xs)
            self._first = xs[0] >= xs[1]
            return np.where(self._first, xs[0], xs[1])

        def backward(self, dout):
            return [dout * self._first, dout * ~self._first]

    g = lg.Graph(inputs=("a", "b")).add("m", Max(), ["a", "b"])
    y = g.forward({"a": np.array([[1.0, 5.0]]), "b": np.array([[2.0, 3.0]])})
    np.testing.assert_array_equal(y, [[2.0, 5.0]])
    d = g.backward(np.array([[10.0, 20.0]]))
    np.testing.assert_array_equal(d["a"], [[0.0, 20.0]])
    np.testing.assert_array_equal(d["b"], [[10.0, 0.0]])
