"""float16 parameters: the update is computed in float32 (float32 state) and stored in float16."""

import numpy as np
import pytest

import layergraph as lg
from layergraph.optim import SGD, Adam, AdaGrad, RMSprop
from layergraph.train import Trainer
from train_support import make_data


def reference(name, p16, grads16, lr):
    """Hand-written float32 updates, rounded to float16 after every step."""
    p = p16.astype(np.float32)
    m, v = np.zeros_like(p), np.zeros_like(p)
    out = []
    for t, g16 in enumerate(grads16, 1):
        g = g16.astype(np.float32)
        p = p16.astype(np.float32)
        if name == "Adam":
            m = 0.9 * m + 0.1 * g
            v = 0.999 * v + 0.001 * g * g
            step = lr * (m / (1 - 0.9 ** t)) / (np.sqrt(v / (1 - 0.999 ** t)) + 1e-8)
        else:  # RMSprop, default decay_rate 0.99
            v = 0.99 * v + 0.01 * g * g
            step = lr * g / (np.sqrt(v) + 1e-8)
        p16 = (p - step).astype(np.float16)
        out.append(p16)
    return out


@pytest.mark.parametrize("cls", [Adam, RMSprop])
def test_small_float16_gradients_stay_finite_and_match_float32_arithmetic(cls):
    rng = np.random.default_rng(0)
    p = rng.standard_normal((6, 5)).astype(np.float16)
    grads = [(rng.standard_normal((6, 5)) * 1e-4).astype(np.float16) for _ in range(5)]  # g*g underflows in fp16
    expected = reference(cls.__name__, p.copy(), grads, 1e-3)
    opt = cls(lr=1e-3)
    params = {"w": p}
    for g, want in zip(grads, expected):
        opt.update(params, {"w": g})
        assert params["w"] is p and p.dtype == np.float16
        assert np.all(np.isfinite(p))
        np.testing.assert_allclose(p.astype(np.float32), want.astype(np.float32), rtol=2e-3, atol=1e-4)
    state = opt.state_dict()["state"]["w"]
    assert all(v.dtype == np.float32 for v in state.values() if isinstance(v, np.ndarray))


@pytest.mark.parametrize("cls", [Adam, RMSprop, AdaGrad, SGD])
def test_float16_network_trains_with_the_trainer(cls):
    x, t = make_data(60)
    net = lg.Sequential([("fc1", lg.Affine(4, 8, rng=0)), ("act", lg.Tanh()), ("fc2", lg.Affine(8, 3, rng=1))],
                        loss=lg.SoftmaxWithLoss()).astype(np.float16)
    hist = Trainer(net, cls(lr=1e-2), batch_size=10, seed=0, verbose=0).fit(x.astype(np.float16), t, epochs=5)
    assert all(np.isfinite(hist["loss"])) and hist["loss"][-1] < hist["loss"][0]
    assert all(v.dtype == np.float16 and np.all(np.isfinite(v)) for v in net.params.values())


def test_float16_state_survives_a_state_dict_round_trip():
    rng = np.random.default_rng(1)
    p = rng.standard_normal(7).astype(np.float16)
    g = (rng.standard_normal(7) * 1e-3).astype(np.float16)
    a = Adam(1e-3)
    a.update({"w": p}, {"w": g})
    b = Adam(1e-3)
    b.load_state_dict(a.state_dict())
    pa, pb = p.copy(), p.copy()
    a.update({"w": pa}, {"w": g})
    b.update({"w": pb}, {"w": g})
    np.testing.assert_array_equal(pa, pb)
