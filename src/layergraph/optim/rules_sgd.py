"""Update rules of the SGD family and of the per-coordinate adaptive methods.

Every rule is a small function ``rule(param, grad, state, work, **hyperparameters)``:

* ``param`` (any shape, floating dtype) is updated **in place**;
* ``grad`` (same shape) is only read, never written;
* ``state`` is the parameter's own dict of moment arrays and counters (created by the
  matching ``*_init`` function), updated in place;
* ``work`` is a sequence of scratch arrays with the shape and dtype of ``param`` (at least
  ``N_WORK[rule_name]`` of them) or ``None`` to let the rule allocate its own. Passing
  reusable scratch arrays makes a step allocation-free.

All arithmetic runs in ``param``'s dtype: hyperparameters are Python floats, which NumPy
never lets upcast an array. The functions hold no hidden state, so the optimizer classes
only have to keep ``state`` dicts around.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "N_WORK",
    "sgd_init",
    "sgd_step",
    "momentum_init",
    "momentum_step",
    "nesterov_init",
    "nesterov_step",
    "adagrad_init",
    "adagrad_step",
    "rmsprop_init",
    "rmsprop_step",
    "adadelta_init",
    "adadelta_step",
]

#: Number of full-size scratch arrays each rule needs.
N_WORK = {
    "sgd": 1,
    "momentum": 1,
    "nesterov": 1,
    "adagrad": 1,
    "rmsprop": 1,
    "adadelta": 2,
}


def scratch(work, param: np.ndarray, n: int) -> list:
    """Return ``n`` scratch arrays like ``param``: from ``work`` if given, else new ones."""
    if work is None:
        return [np.empty_like(param) for _ in range(n)]
    if len(work) < n:
        raise ValueError(f"update rule: argument 'work' must hold at least {n} arrays, got {len(work)}")
    return list(work[:n])


def sgd_init(param):
    """State of :func:`sgd_step`: only the step count."""
    return {"step": 0}


def sgd_step(param, grad, state, work=None, *, lr):
    r"""Plain stochastic gradient descent (Robbins & Monro, 1951).

    .. math:: \theta \leftarrow \theta - \eta\, g

    Parameters
    ----------
    param : ndarray, shape (...)
        Updated in place.
    grad : ndarray, same shape as ``param``
    state : dict
        Holds ``"step"`` (int), incremented.
    work : sequence of 1 ndarray like ``param``, optional
    lr : float
        Learning rate :math:`\eta`.
    """
    (t0,) = scratch(work, param, 1)
    state["step"] += 1
    np.multiply(grad, lr, out=t0)
    param -= t0


def momentum_init(param):
    """State of :func:`momentum_step`: step count and velocity ``v`` (zeros like ``param``)."""
    return {"step": 0, "v": np.zeros_like(param)}


def momentum_step(param, grad, state, work=None, *, lr, momentum):
    r"""Heavy-ball momentum (Polyak, 1964), in the velocity form.

    .. math::
        v \leftarrow \mu v - \eta g, \qquad \theta \leftarrow \theta + v

    ``v`` starts at zero. Shapes: ``param``, ``grad`` and ``state["v"]`` share one shape.
    """
    (t0,) = scratch(work, param, 1)
    v = state["v"]
    state["step"] += 1
    v *= momentum
    np.multiply(grad, lr, out=t0)
    v -= t0
    param += v


def nesterov_init(param):
    """State of :func:`nesterov_step`: step count and momentum buffer ``b`` (zeros)."""
    return {"step": 0, "b": np.zeros_like(param)}


def nesterov_step(param, grad, state, work=None, *, lr, momentum):
    r"""Nesterov accelerated gradient in the form of Sutskever et al. (2013).

    Sutskever et al. write :math:`v \leftarrow \mu v - \eta\nabla f(\theta + \mu v)`,
    :math:`\theta \leftarrow \theta + v`. Re-expressed at the look-ahead point (the
    parametrisation used by PyTorch's ``SGD(nesterov=True)``, no dampening) it becomes

    .. math::
        b \leftarrow \mu b + g, \qquad \theta \leftarrow \theta - \eta\,(g + \mu b)

    with ``b`` starting at zero, so the first step is :math:`-\eta(1+\mu)g`.
    """
    (t0,) = scratch(work, param, 1)
    b = state["b"]
    state["step"] += 1
    b *= momentum
    b += grad
    np.multiply(b, momentum, out=t0)
    t0 += grad
    t0 *= lr
    param -= t0


def adagrad_init(param):
    """State of :func:`adagrad_step`: step count and sum of squared gradients ``h``."""
    return {"step": 0, "h": np.zeros_like(param)}


def adagrad_step(param, grad, state, work=None, *, lr, eps):
    r"""AdaGrad (Duchi, Hazan & Singer, 2011), diagonal version.

    .. math::
        h \leftarrow h + g \odot g, \qquad
        \theta \leftarrow \theta - \eta\, \frac{g}{\sqrt{h} + \epsilon}
    """
    (t0,) = scratch(work, param, 1)
    h = state["h"]
    state["step"] += 1
    np.multiply(grad, grad, out=t0)
    h += t0
    np.sqrt(h, out=t0)
    t0 += eps
    np.divide(grad, t0, out=t0)
    t0 *= lr
    param -= t0


def rmsprop_init(param):
    """State of :func:`rmsprop_step`: step count and moving average ``h`` of ``g**2``."""
    return {"step": 0, "h": np.zeros_like(param)}


def rmsprop_step(param, grad, state, work=None, *, lr, decay_rate, eps):
    r"""RMSprop (Tieleman & Hinton, 2012, Coursera lecture 6.5).

    .. math::
        h \leftarrow \rho h + (1-\rho)\, g \odot g, \qquad
        \theta \leftarrow \theta - \eta\, \frac{g}{\sqrt{h} + \epsilon}

    with :math:`\rho` = ``decay_rate`` and ``h`` starting at zero (no bias correction).
    """
    (t0,) = scratch(work, param, 1)
    h = state["h"]
    state["step"] += 1
    h *= decay_rate
    np.multiply(grad, grad, out=t0)
    t0 *= 1.0 - decay_rate
    h += t0
    np.sqrt(h, out=t0)
    t0 += eps
    np.divide(grad, t0, out=t0)
    t0 *= lr
    param -= t0


def adadelta_init(param):
    """State of :func:`adadelta_step`: step, ``eg2`` = E[g^2] and ``edx2`` = E[dx^2]."""
    return {"step": 0, "eg2": np.zeros_like(param), "edx2": np.zeros_like(param)}


def adadelta_step(param, grad, state, work=None, *, lr, decay_rate, eps):
    r"""ADADELTA (Zeiler, 2012, Algorithm 1), with an optional step multiplier ``lr``.

    .. math::
        E[g^2] &\leftarrow \rho E[g^2] + (1-\rho)\, g^2 \\
        \Delta &= \frac{\sqrt{E[\Delta x^2] + \epsilon}}{\sqrt{E[g^2] + \epsilon}}\, g \\
        E[\Delta x^2] &\leftarrow \rho E[\Delta x^2] + (1-\rho)\, \Delta^2 \\
        \theta &\leftarrow \theta - \eta\, \Delta

    :math:`\rho` = ``decay_rate``. With ``lr = 1`` this is exactly the paper's rule; the
    accumulator uses the unscaled :math:`\Delta` (as PyTorch does).
    """
    t0, t1 = scratch(work, param, 2)
    eg2, edx2 = state["eg2"], state["edx2"]
    state["step"] += 1
    keep = 1.0 - decay_rate
    eg2 *= decay_rate
    np.multiply(grad, grad, out=t0)
    t0 *= keep
    eg2 += t0
    np.add(edx2, eps, out=t0)
    np.sqrt(t0, out=t0)
    np.add(eg2, eps, out=t1)
    np.sqrt(t1, out=t1)
    t0 /= t1
    t0 *= grad  # t0 = delta
    edx2 *= decay_rate
    np.multiply(t0, t0, out=t1)
    t1 *= keep
    edx2 += t1
    t0 *= lr
    param -= t0
