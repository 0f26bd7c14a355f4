"""Every built-in layer has a registered case, and every case passes in float64 and float32 over drawn inputs."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import layergraph as lg
from layergraph.gradcheck import all_cases
from layergraph.testing import check_case, layer_classes, missing_cases
from layergraph.testing import strategies as lgst

BUILTIN = [c for c in all_cases() if c.layer_type.__module__.startswith("layergraph.")]


def test_every_public_layer_class_has_a_case():
    classes = layer_classes("layergraph.layers")
    assert lg.Affine in classes and lg.ReLU in classes and lg.Layer not in classes
    assert missing_cases("layergraph.layers") == []


def test_missing_cases_finds_an_unregistered_class(tmp_path, monkeypatch):
    (tmp_path / "lg_user_mod.py").write_text(
        "import layergraph as lg\n"
        "class Twice(lg.Layer):\n"
        "    def forward(self, x, train=True):\n        return 2 * x\n"
        "    def backward(self, dout):\n        return 2 * dout\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert [c.__name__ for c in missing_cases("lg_user_mod")] == ["Twice"]


@pytest.mark.parametrize("mode", ["auto", "full"])
@pytest.mark.parametrize("case", BUILTIN, ids=[c.label for c in BUILTIN])
def test_registered_case_passes_float64_default_tolerances(case, mode):
    for report in check_case(case, mode=mode):
        assert report.ok and report.kinks == 0
        assert all(t.max_rel_err < 1e-7 for t in report.tensors.values())


@pytest.mark.parametrize("case", BUILTIN, ids=[c.label for c in BUILTIN])
def test_registered_case_passes_native_float32(case):
    layer, x, t = case.build(np.random.default_rng(1))
    layer.astype(np.float32)
    if t is not None and np.asarray(t).dtype.kind == "f":
        t = np.asarray(t, dtype=np.float32)          # a float32 pipeline has float32 targets too
    report = lg.gradcheck(layer, _float32(x), t, precision="native", mode="full")
    assert report.ok, str(report)
    assert report.dtype == "float32"


def _float32(x):
    """The case's input in float32, keeping its structure (a list for merge layers, a dict for graphs)."""
    if isinstance(x, dict):
        return {k: np.asarray(v, dtype=np.float32) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [np.asarray(v, dtype=np.float32) for v in x]
    return np.asarray(x, dtype=np.float32)


ELEMENTWISE = [lg.Sigmoid, lg.Tanh, lg.Softmax, lambda: lg.LeakyReLU(0.3), lg.ReLU]


@settings(max_examples=15, deadline=None)
@given(make=st.sampled_from(ELEMENTWISE),
       x=lgst.inputs(lgst.feature_shapes(max_dims=2, max_side=4), scale=(0.2, 5.0),
                     dtype=(np.float32, np.float64), margin=0.05),
       seed=lgst.seeds(), precision=st.sampled_from(["float64", "native"]))
def test_activations_pass_over_drawn_shapes_scales_dtypes(make, x, seed, precision):
    report = lg.gradcheck(make(), x, seed=seed, precision=precision, mode="full")
    assert report.ok, str(report)


@settings(max_examples=12, deadline=None)
@given(n_in=st.integers(1, 6), n_out=st.integers(1, 5), x_seed=lgst.seeds(), seed=lgst.seeds(),
       scale=lgst.scales(0.1, 10.0), batch=st.integers(1, 5), dtype=st.sampled_from([np.float32, np.float64]),
       mode=st.sampled_from(["auto", "full", "sampled", "directional"]))
def test_affine_passes_over_drawn_shapes_and_modes(n_in, n_out, x_seed, seed, scale, batch, dtype, mode):
    layer = lg.Affine(n_in, n_out, dtype=dtype, rng=x_seed)
    x = (scale * np.random.default_rng(x_seed).standard_normal((batch, n_in))).astype(dtype)
    for precision in ("float64", "native"):
        report = lg.gradcheck(layer, x, seed=seed, mode=mode, precision=precision)
        assert report.ok, str(report)


@settings(max_examples=10, deadline=None)
@given(batch=st.integers(1, 6), classes=st.integers(2, 5), seed=lgst.seeds(), scale=lgst.scales(0.1, 20.0))
def test_softmax_with_loss_passes_over_drawn_inputs(batch, classes, seed, scale):
    rng = np.random.default_rng(seed)
    x = scale * rng.standard_normal((batch, classes))
    t = rng.integers(0, classes, batch)
    assert lg.gradcheck(lg.SoftmaxWithLoss(), x, t, seed=seed, mode="full").ok
    assert lg.gradcheck(lg.SoftmaxWithLoss(), x.astype(np.float32), t, seed=seed, precision="native").ok


def test_modes_agree_on_a_network():
    net = lg.Sequential(lg.Affine(12, 9, dtype=np.float64, rng=0), lg.Tanh(), lg.Affine(9, 4, dtype=np.float64, rng=1),
                        loss=lg.SoftmaxWithLoss())
    x = np.random.default_rng(0).standard_normal((5, 12))
    t = np.array([0, 1, 2, 3, 0])
    reports = {m: lg.gradcheck(net, x, t, mode=m, samples=8) for m in ("full", "sampled", "directional", "auto")}
    assert all(r.ok for r in reports.values())
    full, sampled = reports["full"], reports["sampled"]
    for name, rep in sampled.tensors.items():
        assert rep.checked <= full.tensors[name].checked
        assert rep.max_abs_err <= full.tensors[name].max_abs_err   # a subset of the same deterministic differences
    # the directional derivative agrees with the full element-wise gradient contracted with the same kind of
    # direction: both pass with the same tolerance model
    assert all(r.directional.ok for r in reports["directional"].tensors.values())


def test_stacked_input_perturbations_match_one_at_a_time():
    from test_gradcheck_mutations import BatchNormLike

    net = lg.Sequential(lg.Affine(6, 5, dtype=np.float64, rng=0), lg.Sigmoid())
    x = np.random.default_rng(4).standard_normal((4, 6))
    fast = lg.gradcheck(net, x, mode="full")
    # a BatchNorm-like layer mixes samples: stacking is refused and the check still passes (one at a time)
    bn = lg.gradcheck(lg.Sequential(lg.Affine(6, 5, dtype=np.float64, rng=0), BatchNormLike(5, 1)), x, mode="full")
    assert fast.ok and bn.ok
    assert fast.tensors["x"].evaluations < bn.tensors["x"].evaluations
