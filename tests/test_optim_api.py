"""Optimizer API: validation, in-place updates, dtypes, non-finite gradients, allocation."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

import layergraph.optim as optim

ALL = sorted(optim.OPTIMIZERS)


def make(name, **kw):
    return optim.OPTIMIZERS[name](**kw)


def toy(dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    params = {
        "fc1.W": rng.standard_normal((6, 5)).astype(dtype),
        "fc1.b": rng.standard_normal(5).astype(dtype),
        "bn1.gamma": rng.standard_normal(5).astype(dtype),
    }
    return params


def grads_for(params, seed=1):
    # Gradient of sum(log cosh(p - 0.5)) plus a seeded perturbation: non-trivial, deterministic.
    rng = np.random.default_rng(seed)
    return {k: (np.tanh(p - 0.5) + 0.1 * rng.standard_normal(p.shape)).astype(p.dtype) for k, p in params.items()}


# ---------------------------------------------------------------- construction
HYPER_CASES = [
    ("SGD", "lr", -0.1),
    ("Adam", "lr", -1e-3),
    ("Momentum", "momentum", 1.0),
    ("Nesterov", "momentum", -0.1),
    ("Adam", "beta1", 1.0),
    ("Adam", "beta2", -0.5),
    ("AdamW", "beta2", 1.5),
    ("Adamax", "beta1", 1.0),
    ("NAdam", "beta1", 2.0),
    ("RAdam", "beta2", 1.0),
    ("Lion", "beta1", 1.0),
    ("Adam", "eps", 0.0),
    ("AdaGrad", "eps", -1e-8),
    ("RMSprop", "eps", 0.0),
    ("RMSprop", "decay_rate", 1.0),
    ("AdaDelta", "decay_rate", -0.1),
    ("NAdam", "momentum_decay", -1.0),
    ("SGD", "weight_decay", -1.0),
    ("AdamW", "lr", float("nan")),
]


@pytest.mark.parametrize("name, arg, value", HYPER_CASES)
def test_bad_hyperparameter_raises_value_error_naming_it(name, arg, value):
    with pytest.raises(ValueError, match=f"'{arg}'"):
        make(name, **{arg: value})


@pytest.mark.parametrize("name", ALL)
def test_non_numeric_lr_is_type_error(name):
    with pytest.raises(TypeError, match="'lr'"):
        make(name, lr="0.1")
    with pytest.raises(TypeError, match="'lr'"):
        make(name, lr=True)


@pytest.mark.parametrize("name", ALL)
def test_lr_setter_validates_and_takes_plain_float(name):
    opt = make(name, lr=0.1)
    opt.lr = np.float32(0.5)
    assert type(opt.lr) is float and opt.lr == 0.5
    with pytest.raises(ValueError, match="'lr'"):
        opt.lr = -1.0


def test_other_construction_errors():
    with pytest.raises(ValueError, match="on_nonfinite"):
        optim.SGD(on_nonfinite="warn")
    with pytest.raises(TypeError, match="groups"):
        optim.SGD(groups=[{"match": "*.b"}])
    with pytest.raises(TypeError, match="amsgrad"):
        optim.Adam(amsgrad=1)
    with pytest.raises(TypeError, match="match"):
        optim.ParamGroup(3)
    with pytest.raises(ValueError, match="lr_scale"):
        optim.ParamGroup("*.b", lr_scale=-1.0)


def test_param_group_matching():
    g = optim.ParamGroup(["*.b", "bn*.*"])
    assert g.matches("fc1.b") and g.matches("bn2.beta")
    assert not g.matches("fc1.W") and not g.matches("fc1.bias_like")
    nd = optim.no_decay()
    assert [nd.matches(n) for n in ("b", "fc1.b", "bn1.gamma", "bn1.beta", "fc1.W", "W")] == [
        True, True, True, True, False, False,
    ]


# ---------------------------------------------------------------- update validation
def test_key_mismatch_names_the_key():
    opt = optim.Adam()
    params = toy()
    grads = grads_for(params)
    del grads["fc1.b"]
    with pytest.raises(ValueError, match="'fc1.b'"):
        opt.update(params, grads)
    grads = grads_for(params)
    grads["fc9.W"] = np.zeros(3)
    with pytest.raises(ValueError, match="'fc9.W'"):
        opt.update(params, grads)


def test_shape_mismatch_names_the_key_and_shapes():
    opt = optim.SGD()
    params = toy()
    grads = grads_for(params)
    grads["fc1.W"] = grads["fc1.W"].T.copy()
    with pytest.raises(ValueError, match=r"'fc1.W'.*\(6, 5\).*\(5, 6\)"):
        opt.update(params, grads)


def test_bad_types_raise_type_error():
    opt = optim.SGD()
    params = toy()
    with pytest.raises(TypeError, match="params"):
        opt.update([params["fc1.W"]], [params["fc1.W"]])
    with pytest.raises(TypeError, match="'w'"):
        opt.update({"w": [1.0, 2.0]}, {"w": np.ones(2)})
    with pytest.raises(TypeError, match="floating"):
        opt.update({"w": np.ones(2, dtype=np.int64)}, {"w": np.ones(2)})


def test_read_only_param_is_rejected():
    p = np.ones(3)
    p.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        optim.SGD().update({"w": p}, {"w": np.ones(3)})


# ---------------------------------------------------------------- in place, dtype, no mutation
@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_update_is_in_place_keeps_dtype_and_leaves_grads_alone(name, dtype):
    kw = {} if name == "AdamW" else {"weight_decay": 0.1}
    opt = make(name, **kw)
    params = toy(dtype)
    before = {k: v.copy() for k, v in params.items()}
    ids = {k: id(v) for k, v in params.items()}
    for i in range(3):
        grads = grads_for(params, seed=i)
        grads_copy = {k: v.copy() for k, v in grads.items()}
        assert opt.update(params, grads) is True
        for k in grads:
            np.testing.assert_array_equal(grads[k], grads_copy[k])
    for k, p in params.items():
        assert id(p) == ids[k]
        assert p.dtype == dtype
        assert not np.array_equal(p, before[k])
        for v in opt.state[k].values():
            if isinstance(v, np.ndarray):
                assert v.dtype == dtype and v.shape == p.shape


@pytest.mark.parametrize("name", ALL)
def test_float32_follows_float64(name):
    p64, p32 = toy(np.float64), toy(np.float32)
    o64, o32 = make(name), make(name)
    for i in range(5):
        g64 = grads_for(p64, seed=i)
        o64.update(p64, g64)
        o32.update(p32, {k: v.astype(np.float32) for k, v in g64.items()})
    for k in p64:
        # Lion moves by +-lr per coordinate, so a sign flip near 0 could differ by 2 lr.
        np.testing.assert_allclose(p32[k], p64[k], rtol=1e-4, atol=1e-5)


def test_state_is_lazy_and_keyed_by_name():
    opt = optim.Adam()
    params = toy()
    sub = {"fc1.W": params["fc1.W"]}
    opt.update(sub, grads_for(sub))
    assert set(opt.state) == {"fc1.W"}
    opt.update(params, grads_for(params))
    assert opt.state["fc1.W"]["step"] == 2 and opt.state["fc1.b"]["step"] == 1
    assert opt.steps == 2


# ---------------------------------------------------------------- non-finite gradients
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nonfinite_gradient_raises_with_key_and_changes_nothing(bad):
    opt = optim.Adam()
    params = toy()
    opt.update(params, grads_for(params))
    snap_p = {k: v.copy() for k, v in params.items()}
    snap_s = opt.state_dict()
    grads = grads_for(params)
    grads["fc1.b"][2] = bad
    with pytest.raises(optim.NonFiniteGradientError, match="'fc1.b'") as info:
        opt.update(params, grads)
    assert info.value.key == "fc1.b"
    assert isinstance(info.value, ValueError)
    for k in params:
        np.testing.assert_array_equal(params[k], snap_p[k])
    after = opt.state_dict()
    assert after["steps"] == snap_s["steps"] == 1
    for k in after["state"]:
        np.testing.assert_array_equal(after["state"][k]["m"], snap_s["state"][k]["m"])


def test_nonfinite_skip_policy_skips_the_whole_step():
    opt = optim.Momentum(on_nonfinite="skip")
    params = toy()
    snap = {k: v.copy() for k, v in params.items()}
    grads = grads_for(params)
    grads["bn1.gamma"][0] = np.nan
    assert opt.update(params, grads) is False
    assert opt.skipped_steps == 1 and opt.steps == 0 and len(opt.state) == 0
    for k in params:
        np.testing.assert_array_equal(params[k], snap[k])


def test_nonfinite_ignore_policy_propagates():
    opt = optim.SGD(on_nonfinite="ignore")
    params = toy()
    grads = grads_for(params)
    grads["fc1.W"][0, 0] = np.nan
    opt.update(params, grads)
    assert np.isnan(params["fc1.W"][0, 0]) and np.isfinite(params["fc1.W"][1:]).all()


def test_huge_but_finite_gradient_is_not_reported_as_nonfinite():
    opt = optim.SGD(lr=1e-30)
    p = {"w": np.zeros(4, dtype=np.float32)}
    g = {"w": np.full(4, 3e38, dtype=np.float32)}  # a float32 sum would overflow
    opt.update(p, g)
    assert np.isfinite(p["w"]).all()


# ---------------------------------------------------------------- allocations
@pytest.mark.parametrize("name", ALL)
def test_steady_state_step_allocates_no_full_size_array(name):
    kw = {} if name == "AdamW" else {"weight_decay": 0.01}
    opt = make(name, **kw)
    rng = np.random.default_rng(0)
    params = {"w": rng.standard_normal(50_000), "b": rng.standard_normal(100)}
    grads = {k: rng.standard_normal(v.shape) for k, v in params.items()}
    opt.update(params, grads)  # creates state and scratch
    tracemalloc.start()
    try:
        opt.update(params, grads)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < params["w"].nbytes // 4, f"{name}: step peak {peak} bytes"
