"""Finite-difference references for graph tests (float64)."""

import numpy as np


def objective(net, x, weights, train=True):
    """``sum_o sum(y_o * weights_o)`` for array or dict outputs."""
    y = net.forward(x, train=train)
    if isinstance(y, dict):
        return float(sum(np.sum(y[k] * weights[k]) for k in y))
    return float(np.sum(y * weights))


def numeric(fn, array, eps=1e-6):
    """Central differences of the scalar ``fn()`` with respect to every element of *array* (moved in place)."""
    g = np.zeros_like(array)
    for idx in np.ndindex(array.shape):
        old = array[idx]
        array[idx] = old + eps
        up = fn()
        array[idx] = old - eps
        down = fn()
        array[idx] = old
        g[idx] = (up - down) / (2 * eps)
    return g


def check_graph_gradients(net, x, weights, rtol=1e-6, atol=1e-8):
    """Analytic input and parameter gradients of *net* equal finite differences of :func:`objective`."""
    net.forward(x)
    dx = net.backward(weights)
    grads = {k: v.copy() for k, v in net.grads.items()}
    dx = {k: v.copy() for k, v in dx.items()} if isinstance(dx, dict) else dx.copy()
    fn = lambda: objective(net, x, weights)  # noqa: E731
    if isinstance(x, dict):
        for k in x:
            np.testing.assert_allclose(dx[k], numeric(fn, x[k]), rtol=rtol, atol=atol, err_msg=f"input {k}")
    else:
        np.testing.assert_allclose(dx, numeric(fn, x), rtol=rtol, atol=atol, err_msg="input")
    for key, p in net.params.items():
        np.testing.assert_allclose(grads[key], numeric(fn, p), rtol=rtol, atol=atol, err_msg=key)
    return dx, grads
