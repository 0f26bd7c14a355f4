"""state_dict / load_state_dict: bit-identical resume, copies, and clear errors."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import layergraph.optim as optim

ALL = sorted(optim.OPTIMIZERS)


def setup(dtype, seed=0):
    rng = np.random.default_rng(seed)
    params = {"fc1.W": rng.uniform(0.5, 1.5, (4, 3)).astype(dtype), "fc1.b": rng.uniform(0.5, 1.5, 3).astype(dtype)}
    centers = {k: rng.uniform(-1, 1, v.shape).astype(dtype) for k, v in params.items()}
    return params, centers


def grads(params, centers):
    # Gradient of sum log cosh(p - c) + 0.1 * sum p^4 (non-quadratic).
    return {k: np.tanh(p - centers[k]) + 0.4 * p**3 for k, p in params.items()}


def make(name):
    kw = {"amsgrad": True} if name in ("Adam", "AdamW") else {}
    return optim.OPTIMIZERS[name](weight_decay=0.05, **kw)


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_resume_after_5_steps_is_bit_identical_to_10_straight(name, dtype):
    straight, centers = setup(dtype)
    opt = make(name)
    for _ in range(10):
        opt.update(straight, grads(straight, centers))

    resumed, _ = setup(dtype)
    first = make(name)
    first.lr = first.lr * 0.5  # a changed lr must be restored too
    for _ in range(5):
        first.update(resumed, grads(resumed, centers))
    saved = pickle.loads(pickle.dumps(first.state_dict()))
    fresh = make(name)
    fresh.load_state_dict(saved)
    assert fresh.lr == first.lr
    fresh.lr = opt.lr
    for _ in range(5):
        fresh.update(resumed, grads(resumed, centers))

    # Straight run with the same lr history.
    ref, _ = setup(dtype)
    ref_opt = make(name)
    ref_opt.lr = ref_opt.lr * 0.5
    for i in range(10):
        if i == 5:
            ref_opt.lr = opt.lr
        ref_opt.update(ref, grads(ref, centers))
    for k in ref:
        assert resumed[k].dtype == dtype
        np.testing.assert_array_equal(resumed[k], ref[k])
    assert fresh.steps == 10
    assert fresh.state["fc1.W"]["step"] == 10


def test_resume_with_unchanged_lr_matches_straight_run():
    straight, centers = setup(np.float64)
    opt = optim.NAdam()
    for _ in range(10):
        opt.update(straight, grads(straight, centers))
    resumed, _ = setup(np.float64)
    a = optim.NAdam()
    for _ in range(5):
        a.update(resumed, grads(resumed, centers))
    b = optim.NAdam()
    b.load_state_dict(a.state_dict())
    for _ in range(5):
        b.update(resumed, grads(resumed, centers))
    for k in straight:
        np.testing.assert_array_equal(resumed[k], straight[k])


def test_state_dict_is_plain_and_a_copy():
    params, centers = setup(np.float64)
    opt = optim.Adam(lr=0.01)
    opt.update(params, grads(params, centers))
    d = opt.state_dict()
    assert d["optimizer"] == "Adam"
    assert d["hyperparameters"] == {"lr": 0.01, "weight_decay": 0.0, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8}
    assert d["config"] == {"amsgrad": False}
    m_saved = d["state"]["fc1.W"]["m"].copy()
    opt.update(params, grads(params, centers))
    np.testing.assert_array_equal(d["state"]["fc1.W"]["m"], m_saved)
    assert d["state"]["fc1.W"]["step"] == 1

    fresh = optim.Adam()
    fresh.load_state_dict(d)
    fresh.update(params, grads(params, centers))
    np.testing.assert_array_equal(d["state"]["fc1.W"]["m"], m_saved)  # loading copied it


def test_load_rejects_other_optimizer_and_config():
    d = optim.Adam().state_dict()
    with pytest.raises(ValueError, match="'Adam'"):
        optim.RAdam().load_state_dict(d)
    with pytest.raises(ValueError, match="config"):
        optim.Adam(amsgrad=True).load_state_dict(d)
    with pytest.raises(TypeError, match="'d'"):
        optim.Adam().load_state_dict([1, 2])
    bad = dict(d)
    bad["hyperparameters"] = {**d["hyperparameters"], "beta1": 1.5}
    with pytest.raises(ValueError, match="'beta1'"):
        optim.Adam().load_state_dict(bad)


def test_loaded_state_with_wrong_shape_fails_at_update_naming_key():
    params, centers = setup(np.float64)
    opt = optim.Momentum()
    opt.update(params, grads(params, centers))
    d = opt.state_dict()
    d["state"]["fc1.b"]["v"] = np.zeros(7)
    fresh = optim.Momentum()
    fresh.load_state_dict(d)
    before = {k: v.copy() for k, v in params.items()}
    with pytest.raises(ValueError, match="'fc1.b'"):
        fresh.update(params, grads(params, centers))
    for k in params:  # nothing was updated
        np.testing.assert_array_equal(params[k], before[k])


def test_float64_checkpoint_loads_into_float32_params():
    p64, centers = setup(np.float64)
    opt = optim.Adam()
    opt.update(p64, grads(p64, centers))
    fresh = optim.Adam()
    fresh.load_state_dict(opt.state_dict())
    p32 = {k: v.astype(np.float32) for k, v in p64.items()}
    fresh.update(p32, {k: v.astype(np.float32) for k, v in grads(p64, centers).items()})
    assert fresh.state["fc1.W"]["m"].dtype == np.float32
    assert p32["fc1.W"].dtype == np.float32


def test_reset_forgets_state():
    params, centers = setup(np.float64)
    opt = optim.Adam()
    opt.update(params, grads(params, centers))
    opt.reset()
    assert len(opt.state) == 0 and opt.steps == 0
