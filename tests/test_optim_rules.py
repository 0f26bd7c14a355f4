"""Each optimizer against a reference written here from its paper's equations.

The references are plain float64 NumPy loops that never call the library; they run for
40 steps on a non-quadratic objective (log-cosh plus a Rosenbrock-like coupling), and the
library's parameters must agree element-wise to 1e-12 relative.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import layergraph.optim as optim

STEPS = 40
RTOL = 1e-12
COUPLING = 0.3


def grad_f(x, c):
    """Gradient of sum log cosh(x - c) + a/2 sum (x[i+1] - x[i]^2)^2 over flat x."""
    flat = x.reshape(-1)
    g = np.tanh(flat - c.reshape(-1))
    r = flat[1:] - flat[:-1] ** 2
    g[1:] += COUPLING * r
    g[:-1] += COUPLING * r * (-2.0 * flat[:-1])
    return g.reshape(x.shape)


def problem(seed=0):
    rng = np.random.default_rng(seed)
    shapes = {"fc1.W": (3, 4), "fc1.b": (4,), "bn1.gamma": (5,)}
    params = {k: rng.uniform(1.0, 1.5, size=s) for k, s in shapes.items()}
    centers = {k: rng.uniform(1.6, 2.2, size=s) for k, s in shapes.items()}
    return params, centers


def run_library(opt, steps=STEPS, seed=0):
    params, centers = problem(seed)
    for _ in range(steps):
        grads = {k: grad_f(p, centers[k]) for k, p in params.items()}
        opt.update(params, grads)
    return params


def run_reference(step_fn, init_fn, steps=STEPS, seed=0, per_key=None):
    """Apply ``step_fn(x, g, s, t, key) -> (x, s)`` to every key; ``t`` starts at 1."""
    params, centers = problem(seed)
    out = {}
    for k, x in params.items():
        s = init_fn(x)
        for t in range(1, steps + 1):
            x, s = step_fn(x, grad_f(x, centers[k]), s, t, k)
        out[k] = x
    return out


def assert_same(lib, ref):
    assert lib.keys() == ref.keys()
    for k in lib:
        np.testing.assert_allclose(lib[k], ref[k], rtol=RTOL, atol=0, err_msg=k)


def zeros(*names):
    return lambda x: {n: np.zeros_like(x) for n in names}


# ---------------------------------------------------------------- SGD family
def test_sgd_matches_reference():
    lr = 0.05

    def step(x, g, s, t, k):
        return x - lr * g, s

    assert_same(run_library(optim.SGD(lr=lr)), run_reference(step, zeros()))


def test_momentum_matches_heavy_ball():
    lr, mu = 0.03, 0.8

    def step(x, g, s, t, k):
        v = mu * s["v"] - lr * g
        return x + v, {"v": v}

    assert_same(run_library(optim.Momentum(lr=lr, momentum=mu)), run_reference(step, zeros("v")))


def test_nesterov_is_sutskever_at_the_lookahead_point():
    # Sutskever et al. (2013): v <- mu v - lr grad(theta + mu v); theta <- theta + v.
    # The library iterate is the look-ahead point theta + mu v.
    lr, mu = 0.03, 0.85
    params, centers = problem()
    lib = run_library(optim.Nesterov(lr=lr, momentum=mu))
    for k, theta in params.items():
        v = np.zeros_like(theta)
        for _ in range(STEPS):
            v = mu * v - lr * grad_f(theta + mu * v, centers[k])
            theta = theta + v
        np.testing.assert_allclose(lib[k], theta + mu * v, rtol=RTOL, atol=0, err_msg=k)


def test_adagrad_matches_reference():
    lr, eps = 0.1, 1e-7

    def step(x, g, s, t, k):
        h = s["h"] + g * g
        return x - lr * g / (np.sqrt(h) + eps), {"h": h}

    assert_same(run_library(optim.AdaGrad(lr=lr, eps=eps)), run_reference(step, zeros("h")))


def test_rmsprop_matches_reference():
    lr, rho, eps = 0.01, 0.9, 1e-6

    def step(x, g, s, t, k):
        h = rho * s["h"] + (1 - rho) * g**2
        return x - lr * g / (np.sqrt(h) + eps), {"h": h}

    lib = run_library(optim.RMSprop(lr=lr, decay_rate=rho, eps=eps))
    assert_same(lib, run_reference(step, zeros("h")))


@pytest.mark.parametrize("lr", [1.0, 0.5])
def test_adadelta_matches_zeiler_algorithm_1(lr):
    rho, eps = 0.9, 1e-4

    def step(x, g, s, t, k):
        eg2 = rho * s["eg2"] + (1 - rho) * g**2
        dx = -np.sqrt(s["edx2"] + eps) / np.sqrt(eg2 + eps) * g
        edx2 = rho * s["edx2"] + (1 - rho) * dx**2
        return x + lr * dx, {"eg2": eg2, "edx2": edx2}

    lib = run_library(optim.AdaDelta(lr=lr, decay_rate=rho, eps=eps))
    assert_same(lib, run_reference(step, zeros("eg2", "edx2")))


# ---------------------------------------------------------------- Adam family
def adam_reference(lr, b1, b2, eps, amsgrad=False, decoupled=0.0):
    def step(x, g, s, t, k):
        m = b1 * s["m"] + (1 - b1) * g
        v = b2 * s["v"] + (1 - b2) * g**2
        vmax = np.maximum(s["vmax"], v)
        m_hat = m / (1 - b1**t)
        v_hat = (vmax if amsgrad else v) / (1 - b2**t)
        # Loshchilov & Hutter, Algorithm 2 line 12 with lambda = lr * weight_decay.
        x = x - (lr * m_hat / (np.sqrt(v_hat) + eps) + decoupled * x)
        return x, {"m": m, "v": v, "vmax": vmax}

    return run_reference(step, zeros("m", "v", "vmax"))


def test_adam_matches_kingma_ba_algorithm_1():
    lib = run_library(optim.Adam(lr=0.02, beta1=0.8, beta2=0.95, eps=1e-6))
    assert_same(lib, adam_reference(0.02, 0.8, 0.95, 1e-6))


def test_adam_defaults_match_reference():
    assert_same(run_library(optim.Adam()), adam_reference(1e-3, 0.9, 0.999, 1e-8))


def test_amsgrad_matches_reference_and_differs_from_adam():
    lib = run_library(optim.Adam(lr=0.05, beta1=0.8, beta2=0.9, eps=1e-6, amsgrad=True))
    ref = adam_reference(0.05, 0.8, 0.9, 1e-6, amsgrad=True)
    assert_same(lib, ref)
    plain = adam_reference(0.05, 0.8, 0.9, 1e-6)
    assert any(not np.allclose(ref[k], plain[k], rtol=1e-9) for k in ref)


def test_adamw_matches_decoupled_decay():
    lr, wd = 0.02, 0.5
    lib = run_library(optim.AdamW(lr=lr, beta1=0.8, beta2=0.95, eps=1e-6, weight_decay=wd))
    assert_same(lib, adam_reference(lr, 0.8, 0.95, 1e-6, decoupled=lr * wd))


def test_adamax_matches_kingma_ba_algorithm_2():
    lr, b1, b2, eps = 0.02, 0.8, 0.95, 1e-8

    def step(x, g, s, t, k):
        m = b1 * s["m"] + (1 - b1) * g
        u = np.maximum(b2 * s["u"], np.abs(g) + eps)
        return x - (lr / (1 - b1**t)) * m / u, {"m": m, "u": u}

    lib = run_library(optim.Adamax(lr=lr, beta1=b1, beta2=b2, eps=eps))
    assert_same(lib, run_reference(step, zeros("m", "u")))


def test_nadam_matches_dozat_algorithm_2():
    lr, b1, b2, eps, psi = 0.02, 0.85, 0.95, 1e-7, 0.1

    def mu(i):
        return b1 * (1 - 0.5 * 0.96 ** (i * psi))

    def step(x, g, s, t, k):
        prod_t = math.prod(mu(i) for i in range(1, t + 1))
        prod_next = prod_t * mu(t + 1)
        g_hat = g / (1 - prod_t)
        m = b1 * s["m"] + (1 - b1) * g
        m_hat = m / (1 - prod_next)
        n = b2 * s["n"] + (1 - b2) * g**2
        n_hat = n / (1 - b2**t)
        m_bar = (1 - mu(t)) * g_hat + mu(t + 1) * m_hat
        return x - lr * m_bar / (np.sqrt(n_hat) + eps), {"m": m, "n": n}

    lib = run_library(optim.NAdam(lr=lr, beta1=b1, beta2=b2, eps=eps, momentum_decay=psi))
    assert_same(lib, run_reference(step, zeros("m", "n")))


@pytest.mark.parametrize("beta2", [0.999, 0.99])
def test_radam_matches_liu_algorithm_2(beta2):
    lr, b1, eps = 0.02, 0.85, 1e-8
    rho_inf = 2 / (1 - beta2) - 1
    branches = set()

    def step(x, g, s, t, k):
        m = b1 * s["m"] + (1 - b1) * g
        v = beta2 * s["v"] + (1 - beta2) * g**2
        m_hat = m / (1 - b1**t)
        rho_t = rho_inf - 2 * t * beta2**t / (1 - beta2**t)
        if rho_t > 4:
            branches.add("rectified")
            r = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
            v_hat = v / (1 - beta2**t)
            x = x - lr * r * m_hat / (np.sqrt(v_hat) + eps)
        else:
            branches.add("sgdm")
            x = x - lr * m_hat
        return x, {"m": m, "v": v}

    lib = run_library(optim.RAdam(lr=lr, beta1=b1, beta2=beta2, eps=eps))
    assert_same(lib, run_reference(step, zeros("m", "v")))
    assert branches == {"rectified", "sgdm"}


def test_lion_matches_chen_program_1():
    lr, b1, b2 = 0.01, 0.9, 0.99

    def step(x, g, s, t, k):
        c = b1 * s["m"] + (1 - b1) * g
        x = x - lr * np.sign(c)
        return x, {"m": b2 * s["m"] + (1 - b2) * g}

    assert_same(run_library(optim.Lion(lr=lr, beta1=b1, beta2=b2)), run_reference(step, zeros("m")))


# ---------------------------------------------------------------- weight decay and groups
@pytest.mark.parametrize(
    "make, ref_step, names",
    [
        (
            lambda wd: optim.SGD(lr=0.05, weight_decay=wd),
            lambda x, g, s, t: (x - 0.05 * g, s),
            (),
        ),
        (
            lambda wd: optim.RMSprop(lr=0.01, decay_rate=0.9, eps=1e-6, weight_decay=wd),
            lambda x, g, s, t: (
                x - 0.01 * g / (np.sqrt(0.9 * s["h"] + 0.1 * g**2) + 1e-6),
                {"h": 0.9 * s["h"] + 0.1 * g**2},
            ),
            ("h",),
        ),
        (
            lambda wd: optim.Lion(lr=0.01, weight_decay=wd),
            lambda x, g, s, t: (
                x - 0.01 * np.sign(0.9 * s["m"] + 0.1 * g),
                {"m": 0.99 * s["m"] + 0.01 * g},
            ),
            ("m",),
        ),
    ],
)
def test_coupled_weight_decay_adds_wd_times_param_to_gradient(make, ref_step, names):
    wd = 0.2

    def step(x, g, s, t, k):
        return ref_step(x, g + wd * x, s, t)

    assert_same(run_library(make(wd)), run_reference(step, zeros(*names)))


def test_groups_override_lr_and_weight_decay_per_name():
    lr, wd = 0.05, 0.3
    groups = [
        optim.ParamGroup("*.b", lr_scale=0.5, weight_decay=0.0),
        optim.ParamGroup(lambda name: name.startswith("bn"), weight_decay=0.05),
    ]
    lib = run_library(optim.Momentum(lr=lr, momentum=0.9, weight_decay=wd, groups=groups))
    settings = {"fc1.W": (lr, wd), "fc1.b": (0.5 * lr, 0.0), "bn1.gamma": (lr, 0.05)}

    def step(x, g, s, t, k):
        k_lr, k_wd = settings[k]
        v = 0.9 * s["v"] - k_lr * (g + k_wd * x)
        return x + v, {"v": v}

    assert_same(lib, run_reference(step, zeros("v")))


def test_adamw_no_decay_group_excludes_biases_and_batchnorm():
    lr, wd = 0.02, 0.5
    lib = run_library(optim.AdamW(lr=lr, weight_decay=wd, groups=[optim.no_decay()]))
    decayed = adam_reference(lr, 0.9, 0.999, 1e-8, decoupled=lr * wd)
    plain = adam_reference(lr, 0.9, 0.999, 1e-8)
    np.testing.assert_allclose(lib["fc1.W"], decayed["fc1.W"], rtol=RTOL, atol=0)
    np.testing.assert_allclose(lib["fc1.b"], plain["fc1.b"], rtol=RTOL, atol=0)
    np.testing.assert_allclose(lib["bn1.gamma"], plain["bn1.gamma"], rtol=RTOL, atol=0)


def test_lr_change_between_steps_takes_effect():
    opt = optim.SGD(lr=0.1)
    params, centers = problem()
    x = params["fc1.W"].copy()
    for i in range(STEPS):
        opt.lr = 0.1 / (1 + i)
        grads = {k: grad_f(p, centers[k]) for k, p in params.items()}
        opt.update(params, grads)
        x = x - (0.1 / (1 + i)) * grad_f(x, centers["fc1.W"])
    np.testing.assert_allclose(params["fc1.W"], x, rtol=RTOL, atol=0)
