"""Messages that say what happened, parameter hygiene, the history check, replay files and their CLI/plugin
options. Layers are written here."""

import numpy as np
import pytest

import layergraph as lg
from layergraph.cli import main
from layergraph.gradcheck import GradCheckError
from test_gradcheck_catalogue2 import HiddenWeight, Linear, StaleCache

pytest_plugins = ["pytester"]


def _x(seed=0, shape=(5, 4)):
    return np.random.default_rng(seed).standard_normal(shape)


class GlobalNoise(lg.Layer):
    """Draws from the global np.random (not reproducible from a Generator the checker can restore)."""

    def forward(self, x, train=True):
        self.mask = np.random.random(x.shape) > 0.3
        return x * self.mask

    def backward(self, dout):
        return dout * self.mask


class _Helper:
    def __init__(self):
        self.gen = np.random.default_rng(0)


class HiddenGenerator(GlobalNoise):
    """Its Generator sits inside a helper object that is not a layer."""

    def __init__(self):
        super().__init__()
        self.helper = _Helper()

    def forward(self, x, train=True):
        self.mask = self.helper.gen.random(x.shape) > 0.3
        return x * self.mask


@pytest.mark.parametrize("layer", [GlobalNoise(), HiddenGenerator()], ids=["global", "helper"])
def test_unreproducible_randomness_is_named_as_such(layer):
    report = lg.gradcheck(layer, _x())
    assert not report.ok
    assert "random draws are not reproducible from its Generator: pass rng=... and draw only from it" \
        in report.error
    assert "kinks" not in report.error


class InPlaceForward(lg.Layer):
    def forward(self, x, train=True):
        x *= 2.0
        return x

    def backward(self, dout):
        return 2.0 * dout


def test_in_place_write_to_x_is_named():
    report = lg.gradcheck(InPlaceForward(), _x())
    assert "forward wrote into its input argument x" in report.error


class FortranLinear(Linear):
    """W stored as a transposed (non-contiguous) view."""

    def __init__(self, seed=0):
        super().__init__(4, 3, seed)
        self.params["W"] = np.asfortranarray(self.params["W"])
        self.grads["W"] = np.zeros_like(self.params["W"])

    def astype(self, dtype):
        return self


@pytest.mark.parametrize("mode", ["full", "auto"])
def test_non_contiguous_parameter_is_checked_not_blamed(mode):
    layer = FortranLinear()
    layer.params["W"] = layer.params["W"].T.copy().T          # non C-contiguous
    assert not layer.params["W"].flags.c_contiguous
    report = lg.gradcheck(layer, _x(1), mode=mode)
    assert report.ok, str(report)
    assert report.tensors["W"].checked > 0


def test_failure_names_layer_tensor_element_and_check():
    class OneWrong(Linear):
        def backward(self, dout):
            dx = super().backward(dout)
            self.grads["W"] = self.grads["W"].copy()
            self.grads["W"][2, 1] += 1.0
            return dx

    report = lg.gradcheck(OneWrong(4, 3, 0), _x(2), mode="full")
    line = next(f for f in report.failures() if "tensor W" in f)
    assert line.startswith("OneWrong: tensor W:") and "(2, 1)" in line and "finite differences" in line


def test_stale_cache_fails_the_history_check_by_name():
    report = lg.gradcheck(StaleCache(4, 4, 0), _x(3))
    history = next(h for h in report.hygiene if h.name == "history")
    assert not history.ok and "earlier forward" in history.detail
    assert lg.gradcheck(Linear(4, 4, 0), _x(3)).ok


def test_unregistered_attribute_parameter_named_and_strict_switch():
    report = lg.gradcheck(HiddenWeight(4, 0), _x(4))
    bad = next(h for h in report.hygiene if h.name == "no unregistered parameters")
    assert not bad.ok and "'W'" in bad.detail
    relaxed = lg.gradcheck(HiddenWeight(4, 0), _x(4), strict=False)
    assert relaxed.ok
    assert "'W'" in next(h for h in relaxed.hygiene if h.name == "no unregistered parameters").detail


def test_grads_with_extra_keys_are_reported():
    class Extra(Linear):
        def backward(self, dout):
            dx = super().backward(dout)
            self.grads["bogus"] = np.zeros(3)
            return dx

    report = lg.gradcheck(Extra(4, 4, 0), _x())
    h = next(h for h in report.hygiene if h.name == "grads match params")
    assert not h.ok and "bogus" in h.detail


def test_identically_zero_gradient_of_a_used_parameter_fails():
    class ZeroB(Linear):
        def backward(self, dout):
            dx = super().backward(dout)
            self.grads["b"] = np.zeros_like(self.params["b"])
            return dx

    report = lg.gradcheck(ZeroB(4, 4, 0), _x(), mode="directional")
    h = next(h for h in report.hygiene if h.name == "no zero gradient")
    assert not h.ok and "'b'" in h.detail


def test_float32_layer_reports_both_paths():
    layer = lg.Affine(4, 3, rng=0)                       # float32 by default
    report = lg.gradcheck(layer, _x().astype(np.float32))
    assert report.ok and report.paths == ["float64", "float32"] and report.float32.dtype == "float32"
    assert "paths=float64+float32" in str(report)
    native = lg.gradcheck(layer, _x().astype(np.float32), precision="native")
    assert native.paths == ["float32"] and native.float32 is None


def test_kink_failure_reports_both_one_sided_values():
    from test_gradcheck_catalogue2 import LeakySignAtKink, _zeros

    report = lg.gradcheck(LeakySignAtKink(), _zeros(0), mode="full")
    rep = report.tensors["x"]
    assert rep.kinks_failed == 3 and not rep.ok
    f = rep.kink_failures[0]
    # f = R * leaky(x): right derivative R, left 0.1 R, the buggy analytic value -R
    assert abs(f.analytic + f.right) < 1e-6 and abs(f.left - 0.1 * f.right) < 1e-6
    assert "outside the one-sided interval" in rep.problem


def test_several_kinks_at_once_are_skipped_not_failed():
    class OddRelu(lg.Layer):
        """relu(x) - relu(-x) == x, with both ReLUs as a kink signature; backward uses relu'(0) = 0."""

        def forward(self, x, train=True):
            self.x = x
            return np.maximum(x, 0) - np.maximum(-x, 0)

        def backward(self, dout):
            return dout * ((self.x > 0) + (self.x < 0))

        def kink_branches(self):
            return np.stack([self.x > 0, -self.x > 0])

    x = _x(5, (3, 4))
    x[0, 0] = x[2, 3] = 0.0
    report = lg.gradcheck(OddRelu(), x, mode="full")
    assert report.ok, str(report)
    assert report.tensors["x"].kinks_skipped == 2


# -- replay ---------------------------------------------------------------------------------------------------------

class SavedBroken(lg.Layer):
    """A float64 layer whose constructor arguments are kept as attributes (so its architecture is describable)."""

    def __init__(self, features=3, scale=2.0, rng=0):
        super().__init__()
        self.features, self.scale, self.rng = features, scale, np.random.default_rng(rng)
        self.params = {"w": self.rng.standard_normal(features)}
        self.grads = {"w": np.zeros(features)}

    def forward(self, x, train=True):
        self.x = x
        self.noise = self.rng.random(x.shape) > 0.2 if train else np.ones(x.shape, bool)
        return np.tanh(x * self.params["w"]) * self.noise

    def backward(self, dout):
        d = dout * self.noise * (1 - np.tanh(self.x * self.params["w"]) ** 2)
        self.grads["w"] = np.sum(d * self.x, axis=0) * self.scale        # wrong by the factor scale
        return d * self.params["w"]


def test_save_and_replay_reproduce_the_failure(tmp_path):
    layer = SavedBroken(3, 2.0, 5)
    x = _x(6, (4, 3))
    with pytest.raises(GradCheckError) as info:
        lg.gradcheck(layer, x, mode="full", seed=3, raise_on_fail=True)
    path = info.value.save(tmp_path / "case.npz")
    with np.load(path, allow_pickle=False) as data:
        assert "architecture" in data.files and "dout" in data.files
    again = lg.gradcheck.replay(path, custom_objects={"SavedBroken": SavedBroken})
    first = info.value.report
    assert not again.ok and again.mode == "full" and again.seed == 3 and again.layer == first.layer
    assert again.tensors["w"].worst_index == first.tensors["w"].worst_index
    assert again.tensors["w"].analytic == first.tensors["w"].analytic
    assert again.tensors["w"].numeric == first.tensors["w"].numeric
    with pytest.raises(ValueError, match="unknown layer class"):
        lg.gradcheck.replay(path)


def test_replay_of_a_network_with_a_loss(tmp_path):
    net = lg.Sequential(lg.Affine(4, 3, dtype=np.float64, rng=0), lg.Tanh(), loss=lg.SoftmaxWithLoss())
    x, t = _x(7, (5, 4)), np.array([0, 1, 2, 1, 0])
    report = lg.gradcheck(net, x, t, mode="sampled", seed=2)
    path = GradCheckError(report).save(tmp_path / "net.npz")
    again = lg.gradcheck.replay(path)
    assert again.ok and again.mode == "sampled"
    assert [r.max_abs_err for r in again.tensors.values()] == [r.max_abs_err for r in report.tensors.values()]


def test_cli_jobs_and_save_failures(tmp_path, monkeypatch, capsys):
    from test_testing_plugin import USER_MODULE

    (tmp_path / "lg_cli_saved_layers.py").write_text(USER_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    out_dir = tmp_path / "failures"
    code = main(["gradcheck", "--module", "lg_cli_saved_layers", "--jobs", "2", "--save-failures", str(out_dir)])
    assert code == 1
    saved = sorted(p.name for p in out_dir.iterdir())
    assert saved == ["BrokenSwish_broken.npz"]
    import lg_cli_saved_layers as mod
    again = lg.gradcheck.replay(out_dir / saved[0], custom_objects={"BrokenSwish": mod.BrokenSwish})
    assert not again.ok


def test_plugin_save_failures(pytester):
    from test_testing_plugin import USER_MODULE

    pytester.makepyfile(lg_plugin_saved_layers=USER_MODULE)
    pytester.makepyfile(test_saved='''
import numpy as np
import lg_plugin_saved_layers as m

def test_broken(assert_gradcheck):
    assert_gradcheck(m.BrokenSwish(), np.linspace(-1, 1, 12).reshape(3, 4))
''')
    pytester.syspathinsert()
    result = pytester.runpytest_inprocess("--save-failures", "saved", "-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    files = list((pytester.path / "saved").iterdir())
    assert len(files) == 1 and files[0].suffix == ".npz"
    assert "saved to" in result.stdout.str()


def test_workers_give_the_same_report():
    net = lg.Sequential(lg.Affine(40, 20, dtype=np.float64, rng=0), lg.Tanh(), lg.Affine(20, 3, dtype=np.float64,
                                                                                       rng=1),
                        loss=lg.SoftmaxWithLoss())
    x, t = _x(8, (6, 40)), np.arange(6) % 3
    one = lg.gradcheck(net, x, t, mode="full")
    two = lg.gradcheck(net, x, t, mode="full", workers=2)
    assert one.ok and two.ok
    for name in one.tensors:
        assert one.tensors[name].max_abs_err == two.tensors[name].max_abs_err
        assert one.tensors[name].worst_index == two.tensors[name].worst_index
    with pytest.raises(ValueError, match="workers"):
        lg.gradcheck(net, x, t, workers=0)
