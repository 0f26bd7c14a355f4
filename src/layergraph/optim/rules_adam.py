"""Update rules of the Adam family and Lion.

Same calling convention as :mod:`layergraph.optim.rules_sgd`:
``rule(param, grad, state, work, **hyperparameters)`` updates ``param`` and ``state`` in
place, only reads ``grad``, and uses the scratch arrays in ``work`` (or allocates its own
when ``work`` is ``None``). The step count ``t`` is ``state["step"]`` after the increment,
so the first update uses ``t = 1``. Bias corrections are computed as Python floats.
"""

from __future__ import annotations

import math

import numpy as np

from .rules_sgd import scratch

__all__ = [
    "N_WORK",
    "adam_init",
    "adam_step",
    "adamw_step",
    "adamax_init",
    "adamax_step",
    "nadam_init",
    "nadam_step",
    "radam_init",
    "radam_step",
    "lion_init",
    "lion_step",
]

#: Number of full-size scratch arrays each rule needs.
N_WORK = {"adam": 1, "adamw": 1, "adamax": 1, "nadam": 2, "radam": 1, "lion": 2}


def _ema(avg, x, beta, t0):
    """avg <- beta * avg + (1 - beta) * x, using scratch ``t0``."""
    avg *= beta
    np.multiply(x, 1.0 - beta, out=t0)
    avg += t0


def _ema_sq(avg, x, beta, t0):
    """avg <- beta * avg + (1 - beta) * x**2, using scratch ``t0``."""
    avg *= beta
    np.multiply(x, x, out=t0)
    t0 *= 1.0 - beta
    avg += t0


def adam_init(param, amsgrad=False):
    """State of :func:`adam_step`: step, ``m``, ``v`` (and ``v_max`` when ``amsgrad``)."""
    state = {"step": 0, "m": np.zeros_like(param), "v": np.zeros_like(param)}
    if amsgrad:
        state["v_max"] = np.zeros_like(param)
    return state


def adam_step(param, grad, state, work=None, *, lr, beta1, beta2, eps, amsgrad=False):
    r"""Adam (Kingma & Ba, 2015, Algorithm 1), optionally with AMSGrad.

    .. math::
        m &\leftarrow \beta_1 m + (1-\beta_1) g, \qquad
        v \leftarrow \beta_2 v + (1-\beta_2) g^2 \\
        \hat m &= m / (1-\beta_1^t), \qquad \hat v = v / (1-\beta_2^t) \\
        \theta &\leftarrow \theta - \eta\, \hat m / (\sqrt{\hat v} + \epsilon)

    With ``amsgrad=True`` (Reddi, Kale & Kumar, 2018) the denominator uses the running
    maximum :math:`v_{max} \leftarrow \max(v_{max}, v)` in place of :math:`v`, bias
    corrected the same way (the form used by PyTorch and Keras).

    Parameters
    ----------
    param : ndarray, shape (...)
        Updated in place.
    grad : ndarray, same shape
    state : dict
        From :func:`adam_init`; ``m``, ``v`` (, ``v_max``) have ``param``'s shape.
    work : sequence of 1 ndarray like ``param``, optional
    lr, beta1, beta2, eps : float
    amsgrad : bool
    """
    (t0,) = scratch(work, param, 1)
    m, v = state["m"], state["v"]
    state["step"] += 1
    t = state["step"]
    _ema(m, grad, beta1, t0)
    _ema_sq(v, grad, beta2, t0)
    if amsgrad:
        np.maximum(state["v_max"], v, out=state["v_max"])
        v = state["v_max"]
    bc1 = 1.0 - beta1**t
    root_bc2 = math.sqrt(1.0 - beta2**t)
    # m_hat / (sqrt(v_hat) + eps) == (root_bc2 / bc1) * m / (sqrt(v) + eps * root_bc2): one pass fewer.
    np.sqrt(v, out=t0)
    t0 += eps * root_bc2
    np.divide(m, t0, out=t0)
    t0 *= lr * root_bc2 / bc1
    param -= t0


def adamw_step(param, grad, state, work=None, *, lr, beta1, beta2, eps, weight_decay, amsgrad=False):
    r"""AdamW: Adam with decoupled weight decay (Loshchilov & Hutter, 2019, Algorithm 2).

    .. math::
        \theta \leftarrow (1 - \eta\lambda)\,\theta, \quad\text{then the Adam step of
        :func:`adam_step` with the same } g

    :math:`\lambda` = ``weight_decay``; the decay never enters ``m`` or ``v``. The decay is
    skipped entirely when ``weight_decay == 0``. State: :func:`adam_init`.
    """
    if weight_decay != 0.0:
        param *= 1.0 - lr * weight_decay
    adam_step(param, grad, state, work, lr=lr, beta1=beta1, beta2=beta2, eps=eps, amsgrad=amsgrad)


def adamax_init(param):
    """State of :func:`adamax_step`: step, ``m`` and the infinity-norm accumulator ``u``."""
    return {"step": 0, "m": np.zeros_like(param), "u": np.zeros_like(param)}


def adamax_step(param, grad, state, work=None, *, lr, beta1, beta2, eps):
    r"""AdaMax (Kingma & Ba, 2015, Algorithm 2).

    .. math::
        m &\leftarrow \beta_1 m + (1-\beta_1) g, \qquad
        u \leftarrow \max(\beta_2 u,\ |g| + \epsilon) \\
        \theta &\leftarrow \theta - \frac{\eta}{1-\beta_1^t}\, \frac{m}{u}

    The paper has no :math:`\epsilon`; adding it inside the max (as PyTorch does) only
    guards against ``0/0`` for coordinates whose gradient has always been zero.
    """
    (t0,) = scratch(work, param, 1)
    m, u = state["m"], state["u"]
    state["step"] += 1
    t = state["step"]
    _ema(m, grad, beta1, t0)
    u *= beta2
    np.abs(grad, out=t0)
    t0 += eps
    np.maximum(u, t0, out=u)
    np.divide(m, u, out=t0)
    t0 *= lr / (1.0 - beta1**t)
    param -= t0


def nadam_init(param):
    """State of :func:`nadam_step`: step, ``m``, ``v`` and ``mu_product`` (float, starts at 1)."""
    return {"step": 0, "m": np.zeros_like(param), "v": np.zeros_like(param), "mu_product": 1.0}


def nadam_step(param, grad, state, work=None, *, lr, beta1, beta2, eps, momentum_decay):
    r"""NAdam (Dozat, 2016, Algorithm 2) with the momentum schedule of the paper.

    .. math::
        \mu_t &= \beta_1\,(1 - \tfrac12\, 0.96^{t\psi}), \qquad
        \Pi_t = \textstyle\prod_{i=1}^{t} \mu_i \\
        m &\leftarrow \beta_1 m + (1-\beta_1) g, \qquad
        v \leftarrow \beta_2 v + (1-\beta_2) g^2, \qquad \hat v = v / (1-\beta_2^t) \\
        \theta &\leftarrow \theta - \eta \left[
            \frac{1-\mu_t}{1-\Pi_t}\, g + \frac{\mu_{t+1}}{1-\Pi_{t+1}}\, m \right]
            \Big/ (\sqrt{\hat v} + \epsilon)

    :math:`\psi` = ``momentum_decay`` (0.004 in the paper, i.e. 0.96 every 250 steps).
    This is the form implemented by PyTorch's ``NAdam`` and Keras' ``Nadam``.
    """
    t0, t1 = scratch(work, param, 2)
    m, v = state["m"], state["v"]
    state["step"] += 1
    t = state["step"]
    mu = beta1 * (1.0 - 0.5 * 0.96 ** (t * momentum_decay))
    mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * momentum_decay))
    prod = state["mu_product"] * mu
    state["mu_product"] = prod
    _ema(m, grad, beta1, t0)
    _ema_sq(v, grad, beta2, t0)
    np.sqrt(v, out=t0)
    t0 /= math.sqrt(1.0 - beta2**t)
    t0 += eps
    np.divide(grad, t0, out=t1)
    t1 *= lr * (1.0 - mu) / (1.0 - prod)
    param -= t1
    np.divide(m, t0, out=t1)
    t1 *= lr * mu_next / (1.0 - prod * mu_next)
    param -= t1


def radam_init(param):
    """State of :func:`radam_step`: step, ``m``, ``v``."""
    return {"step": 0, "m": np.zeros_like(param), "v": np.zeros_like(param)}


def radam_step(param, grad, state, work=None, *, lr, beta1, beta2, eps):
    r"""Rectified Adam (Liu et al., 2020, Algorithm 2).

    .. math::
        \rho_\infty &= \frac{2}{1-\beta_2} - 1, \qquad
        \rho_t = \rho_\infty - \frac{2t\beta_2^t}{1-\beta_2^t} \\
        m &\leftarrow \beta_1 m + (1-\beta_1) g, \quad
        v \leftarrow \beta_2 v + (1-\beta_2) g^2, \quad \hat m = \frac{m}{1-\beta_1^t} \\
        \text{if } \rho_t > 4:&\quad
        r_t = \sqrt{\frac{(\rho_t-4)(\rho_t-2)\rho_\infty}{(\rho_\infty-4)(\rho_\infty-2)\rho_t}},
        \quad \theta \leftarrow \theta - \eta\, r_t\, \hat m / (\sqrt{\hat v} + \epsilon) \\
        \text{else}:&\quad \theta \leftarrow \theta - \eta\, \hat m

    :math:`\hat v = v/(1-\beta_2^t)`; the paper writes :math:`\sqrt{(1-\beta_2^t)/v}` without
    :math:`\epsilon`, added here in the same place as in Adam.
    """
    (t0,) = scratch(work, param, 1)
    m, v = state["m"], state["v"]
    state["step"] += 1
    t = state["step"]
    _ema(m, grad, beta1, t0)
    _ema_sq(v, grad, beta2, t0)
    bc1 = 1.0 - beta1**t
    bc2 = 1.0 - beta2**t
    rho_inf = 2.0 / (1.0 - beta2) - 1.0
    rho_t = rho_inf - 2.0 * t * beta2**t / bc2
    if rho_t > 4.0:
        r = math.sqrt(
            (rho_t - 4.0) * (rho_t - 2.0) * rho_inf / ((rho_inf - 4.0) * (rho_inf - 2.0) * rho_t)
        )
        np.sqrt(v, out=t0)
        t0 /= math.sqrt(bc2)
        t0 += eps
        np.divide(m, t0, out=t0)
        t0 *= lr * r / bc1
    else:
        np.multiply(m, lr / bc1, out=t0)
    param -= t0


def lion_init(param):
    """State of :func:`lion_step`: step and momentum ``m``."""
    return {"step": 0, "m": np.zeros_like(param)}


def lion_step(param, grad, state, work=None, *, lr, beta1, beta2):
    r"""Lion, EvoLved Sign Momentum (Chen et al., 2023, Program 1).

    .. math::
        c &= \beta_1 m + (1-\beta_1) g \\
        \theta &\leftarrow \theta - \eta\, \mathrm{sign}(c) \\
        m &\leftarrow \beta_2 m + (1-\beta_2) g
    """
    t0, t1 = scratch(work, param, 2)
    m = state["m"]
    state["step"] += 1
    np.multiply(m, beta1, out=t0)
    np.multiply(grad, 1.0 - beta1, out=t1)
    t0 += t1
    np.sign(t0, out=t1)  # not in place: an aliased np.sign is ~10x slower
    t1 *= lr
    param -= t1
    _ema(m, grad, beta2, t0)
