"""Every optimizer drives a convex quadratic to within 1e-6 of its minimiser.

f(x) = 1/2 (x - x*)^T A (x - x*) with A symmetric positive definite (eigenvalues 1..10).
Methods whose step does not shrink with the gradient (the Adam family, RMSprop, Lion)
are run with an exponentially decaying learning rate, as one would in practice.
"""

from __future__ import annotations

import numpy as np
import pytest

import layergraph.optim as optim
from layergraph.optim.schedules import ExponentialLR, attach

rng = np.random.default_rng(1234)
Q, _ = np.linalg.qr(rng.standard_normal((6, 6)))
A = Q @ np.diag(np.linspace(1.0, 10.0, 6)) @ Q.T
X_STAR = rng.uniform(-1.0, 1.0, 6)
X0 = X_STAR + np.linspace(-1.0, 1.0, 6)

CASES = {
    "SGD": (lambda: optim.SGD(lr=0.15), None, 300),
    "Momentum": (lambda: optim.Momentum(lr=0.05, momentum=0.5), None, 300),
    "Nesterov": (lambda: optim.Nesterov(lr=0.05, momentum=0.5), None, 300),
    "AdaGrad": (lambda: optim.AdaGrad(lr=0.5), None, 1000),
    "AdaDelta": (lambda: optim.AdaDelta(lr=0.1, eps=1e-3), None, 2000),
    "RMSprop": (lambda: optim.RMSprop(), ExponentialLR(0.05, 0.995), 1500),
    "Adam": (lambda: optim.Adam(), ExponentialLR(0.1, 0.995), 1500),
    "Adamax": (lambda: optim.Adamax(beta2=0.99), ExponentialLR(0.1, 0.995), 2000),
    "AdamW": (lambda: optim.AdamW(weight_decay=0.0), ExponentialLR(0.1, 0.995), 1500),
    "NAdam": (lambda: optim.NAdam(), ExponentialLR(0.1, 0.995), 1500),
    "RAdam": (lambda: optim.RAdam(), ExponentialLR(0.05, 0.997), 3000),
    "Lion": (lambda: optim.Lion(), ExponentialLR(0.05, 0.99), 2000),
}


def test_every_optimizer_has_a_case():
    assert set(CASES) == set(optim.OPTIMIZERS)


@pytest.mark.parametrize("name", sorted(CASES))
def test_converges_to_minimum(name):
    make, schedule, steps = CASES[name]
    opt = make()
    driver = attach(opt, schedule) if schedule is not None else None
    params = {"x": X0.copy()}
    start = np.abs(params["x"] - X_STAR).max()
    for _ in range(steps):
        opt.update(params, {"x": A @ (params["x"] - X_STAR)})
        if driver is not None:
            driver.step()
    err = np.abs(params["x"] - X_STAR).max()
    assert start > 0.5
    assert err < 1e-6, f"{name}: max |x - x*| = {err:.3g} after {steps} steps"


def test_sgd_with_weight_decay_converges_to_the_regularised_minimum():
    # Coupled L2: minimiser of f(x) + wd/2 |x|^2 solves (A + wd I) x = A x*.
    wd = 0.7
    opt = optim.SGD(lr=0.1, weight_decay=wd)
    params = {"x": X0.copy()}
    for _ in range(500):
        opt.update(params, {"x": A @ (params["x"] - X_STAR)})
    target = np.linalg.solve(A + wd * np.eye(6), A @ X_STAR)
    assert np.abs(params["x"] - target).max() < 1e-6
