"""Packed parameters (``flatten_parameters``) take the optimizers' one-pass path: results must be bit-identical
to the per-parameter path, and anything that breaks the packing must fall back correctly."""

import tracemalloc

import numpy as np
import pytest

import layergraph as lg
from layergraph.optim import OPTIMIZERS, ParamGroup


def make_net(dtype=np.float64, seed=0):
    return lg.Sequential(lg.Affine(6, 5, dtype=dtype, rng=seed), lg.Tanh(), lg.Affine(5, 4, dtype=dtype, rng=seed + 1),
                         loss=lg.SoftmaxWithLoss())


def data(seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((7, 6)), rng.integers(0, 4, 7)


def run(net, opt, steps=6):
    x, t = data()
    for _ in range(steps):
        opt.update(net.params, net.gradient(x, t))
    return {k: v.copy() for k, v in net.params.items()}


CONFIGS = [(name, {}) for name in OPTIMIZERS] + [(name, {"weight_decay": 0.01}) for name in ("SGD", "Adam", "AdamW")]


@pytest.mark.parametrize("name,kwargs", CONFIGS, ids=[f"{n}{'+wd' if k else ''}" for n, k in CONFIGS])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_packed_path_is_bit_identical(name, kwargs, dtype):
    cls = OPTIMIZERS[name]
    packed = make_net(dtype).flatten_parameters()
    plain = make_net(dtype)
    opt_packed, opt_plain = cls(lr=0.01, **kwargs), cls(lr=0.01, **kwargs)
    a, b = run(packed, opt_packed), run(plain, opt_plain)
    assert opt_packed._plan is not None and opt_plain._plan is None  # the two paths really were different
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)
    sa, sb = opt_packed.state_dict(), opt_plain.state_dict()
    for key in sa["state"]:
        for field, value in sa["state"][key].items():
            np.testing.assert_array_equal(value, sb["state"][key][field], err_msg=f"{key}.{field}")


def test_flatten_keeps_values_and_ownership():
    net = make_net()
    before = {k: v.copy() for k, v in net.params.items()}
    net.flatten_parameters()
    for key, value in net.params.items():
        np.testing.assert_array_equal(value, before[key])
        assert value.base is not None and net.grads[key].shape == value.shape
    assert len({id(v.base) for v in net.params.values()}) == 1
    x, t = data()
    assert lg.gradcheck(net, x, t).ok


def test_rebinding_a_parameter_falls_back_and_stays_correct():
    packed, plain = make_net().flatten_parameters(), make_net()
    opt_packed, opt_plain = lg.optim.Adam(lr=0.01), lg.optim.Adam(lr=0.01)
    run(packed, opt_packed, 3)
    run(plain, opt_plain, 3)
    for net in (packed, plain):
        layer = net["Affine2"]
        layer.params["W"] = layer.params["W"].copy()  # no longer a view into the packed buffer
    a, b = run(packed, opt_packed, 3), run(plain, opt_plain, 3)
    assert opt_packed._plan is None
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])


def test_resume_from_state_dict_into_packed_optimizer():
    ref_net, ref_opt = make_net().flatten_parameters(), lg.optim.Adam(lr=0.01)
    ref = run(ref_net, ref_opt, 8)
    net, opt = make_net().flatten_parameters(), lg.optim.Adam(lr=0.01)
    run(net, opt, 4)
    saved_net, saved_opt = net.state_dict(), opt.state_dict()
    net2, opt2 = make_net(seed=5).flatten_parameters(), lg.optim.Adam(lr=0.01)
    net2.load_state_dict(saved_net)
    opt2.load_state_dict(saved_opt)
    out = run(net2, opt2, 4)
    for key in ref:
        np.testing.assert_array_equal(out[key], ref[key])


def test_reset_restarts_state_in_packed_path():
    net, opt = make_net().flatten_parameters(), lg.optim.Adam(lr=0.01)
    run(net, opt, 3)
    opt.reset()
    fresh_net, fresh_opt = make_net().flatten_parameters(), lg.optim.Adam(lr=0.01)
    fresh_net.load_state_dict(net.state_dict())
    a, b = run(net, opt, 2), run(fresh_net, fresh_opt, 2)
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])


def test_groups_with_different_settings_use_the_per_parameter_path():
    groups = [ParamGroup("*.b", weight_decay=0.0)]
    packed, plain = make_net().flatten_parameters(), make_net()
    opt_packed = lg.optim.SGD(lr=0.1, weight_decay=0.1, groups=groups)
    opt_plain = lg.optim.SGD(lr=0.1, weight_decay=0.1, groups=groups)
    a, b = run(packed, opt_packed), run(plain, opt_plain)
    assert opt_packed._plan is None
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])


def test_non_finite_gradient_detected_in_packed_path():
    net, opt = make_net().flatten_parameters(), lg.optim.Adam(lr=0.01)
    x, t = data()
    grads = net.gradient(x, t)
    before = {k: v.copy() for k, v in net.params.items()}
    grads["Affine2.b"][1] = np.nan
    with pytest.raises(lg.optim.NonFiniteGradientError, match="Affine2.b"):
        opt.update(net.params, grads)
    for key, value in net.params.items():
        np.testing.assert_array_equal(value, before[key])


def test_packed_update_allocates_no_parameter_sized_arrays():
    net = lg.Sequential(lg.Affine(300, 200, rng=0), lg.ReLU(), lg.Affine(200, 10, rng=1),
                        loss=lg.SoftmaxWithLoss()).flatten_parameters()
    opt = lg.optim.Adam()
    x, t = np.random.default_rng(0).random((16, 300), dtype=np.float32), np.arange(16) % 10
    for _ in range(2):
        opt.update(net.params, net.gradient(x, t))
    grads = net.gradient(x, t)
    tracemalloc.start()
    opt.update(net.params, grads)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    smallest_param = min(v.nbytes for v in net.params.values() if v.ndim == 2)
    assert peak < smallest_param / 4, peak
