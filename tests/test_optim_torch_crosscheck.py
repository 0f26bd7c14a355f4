"""Optional cross-check against PyTorch's optimizers (skipped when torch is not installed).

The rules are pinned to the papers by tests/test_optim_rules.py; this file additionally
checks that the ones documented as "the PyTorch form" agree with torch.optim in float64.
"""

from __future__ import annotations

import numpy as np
import pytest

import layergraph.optim as optim

torch = pytest.importorskip("torch")

STEPS = 30


def grad_np(x, c):
    # Gradient of sum log cosh(x - c) + 0.05 * sum x^4.
    return np.tanh(x - c) + 0.2 * x**3


CASES = [
    ("SGD", lambda: optim.SGD(lr=0.05, weight_decay=0.1), lambda p: torch.optim.SGD(p, lr=0.05, weight_decay=0.1)),
    ("Momentum", lambda: optim.Momentum(lr=0.05, momentum=0.8), lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.8)),
    (
        "Nesterov",
        lambda: optim.Nesterov(lr=0.05, momentum=0.8),
        lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.8, nesterov=True),
    ),
    ("AdaGrad", lambda: optim.AdaGrad(lr=0.1, eps=1e-7), lambda p: torch.optim.Adagrad(p, lr=0.1, eps=1e-7)),
    (
        "RMSprop",
        lambda: optim.RMSprop(lr=0.01, decay_rate=0.9, eps=1e-6),
        lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=0.9, eps=1e-6),
    ),
    (
        "AdaDelta",
        lambda: optim.AdaDelta(lr=0.5, decay_rate=0.9, eps=1e-4),
        lambda p: torch.optim.Adadelta(p, lr=0.5, rho=0.9, eps=1e-4),
    ),
    (
        "Adam",
        lambda: optim.Adam(lr=0.02, beta1=0.8, beta2=0.95, eps=1e-6, weight_decay=0.05),
        lambda p: torch.optim.Adam(p, lr=0.02, betas=(0.8, 0.95), eps=1e-6, weight_decay=0.05),
    ),
    (
        "AMSGrad",
        lambda: optim.Adam(lr=0.02, beta1=0.8, beta2=0.95, eps=1e-6, amsgrad=True),
        lambda p: torch.optim.Adam(p, lr=0.02, betas=(0.8, 0.95), eps=1e-6, amsgrad=True),
    ),
    (
        "AdamW",
        lambda: optim.AdamW(lr=0.02, beta1=0.8, beta2=0.95, eps=1e-6, weight_decay=0.3),
        lambda p: torch.optim.AdamW(p, lr=0.02, betas=(0.8, 0.95), eps=1e-6, weight_decay=0.3),
    ),
    (
        "Adamax",
        lambda: optim.Adamax(lr=0.02, beta1=0.8, beta2=0.95, eps=1e-8),
        lambda p: torch.optim.Adamax(p, lr=0.02, betas=(0.8, 0.95), eps=1e-8),
    ),
    (
        "NAdam",
        lambda: optim.NAdam(lr=0.02, beta1=0.85, beta2=0.95, eps=1e-7, momentum_decay=0.1),
        lambda p: torch.optim.NAdam(p, lr=0.02, betas=(0.85, 0.95), eps=1e-7, momentum_decay=0.1),
    ),
]


@pytest.fixture
def torch_float64():
    # torch keeps scalar optimizer state (step, NAdam's mu_product) in the default dtype.
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(old)


@pytest.mark.parametrize("name, ours, theirs", CASES, ids=[c[0] for c in CASES])
def test_matches_torch_optim(name, ours, theirs, torch_float64):
    rng = np.random.default_rng(3)
    x0 = rng.uniform(0.5, 1.5, (4, 5))
    c = rng.uniform(-1.0, 1.0, (4, 5))
    params = {"fc1.W": x0.copy()}
    opt = ours()
    tp = torch.tensor(x0.copy(), dtype=torch.float64, requires_grad=True)
    topt = theirs([tp])
    for _ in range(STEPS):
        opt.update(params, {"fc1.W": grad_np(params["fc1.W"], c)})
        tp.grad = torch.from_numpy(grad_np(tp.detach().numpy().copy(), c))
        topt.step()
    np.testing.assert_allclose(params["fc1.W"], tp.detach().numpy(), rtol=1e-12, atol=0)
