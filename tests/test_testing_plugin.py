"""layergraph.testing: assert_gradients, strategies, the pytest plugin and the ``layergraph gradcheck`` command."""

import numpy as np
import pytest
from hypothesis import given, settings

import layergraph as lg
from layergraph.cli import main
from layergraph.gradcheck import GradCheckError
from layergraph.testing import assert_gradients
from layergraph.testing import strategies as lgst

pytest_plugins = ["pytester"]

USER_MODULE = '''
import numpy as np
import layergraph as lg
from layergraph.gradcheck import register_case


class Swish(lg.Layer):
    """y = x * sigmoid(x)."""

    def forward(self, x, train=True):
        self.x, self.s = x, 1.0 / (1.0 + np.exp(-x))
        return x * self.s

    def backward(self, dout):
        return dout * (self.s + self.x * self.s * (1.0 - self.s))


class BrokenSwish(Swish):
    def backward(self, dout):
        return dout * self.s                      # forgets the second term


class Unchecked(lg.Layer):
    def forward(self, x, train=True):
        return x

    def backward(self, dout):
        return dout


@register_case(Swish)
def _swish(rng):
    return Swish(), rng.standard_normal((3, 4)), None


@register_case(BrokenSwish)
def _broken(rng):
    return BrokenSwish(), rng.standard_normal((3, 4)), None
'''


def test_assert_gradients_passes_and_raises():
    report = assert_gradients(lg.Tanh(), np.random.default_rng(0).standard_normal((3, 2)), mode="full")
    assert report.ok

    class Wrong(lg.Layer):
        def forward(self, x, train=True):
            return 3 * x

        def backward(self, dout):
            return dout

    with pytest.raises(GradCheckError, match="reproduce with"):
        assert_gradients(Wrong(), np.ones((2, 2)))


@settings(max_examples=20, deadline=None)
@given(x=lgst.inputs((2, 3), batch=(1, 4), scale=(0.5, 2.0), dtype=(np.float32,), margin=0.1))
def test_inputs_strategy_respects_shape_dtype_scale_and_margin(x):
    assert x.dtype == np.float32 and x.shape[1:] == (2, 3) and 1 <= x.shape[0] <= 4
    assert np.all(np.abs(x) >= 0.5 * 0.1 * 0.999)


def test_strategies_reject_bad_scale_range():
    with pytest.raises(ValueError, match="scales"):
        lgst.scales(2.0, 1.0)


def test_plugin_marker_checks_every_layer_of_a_module(pytester):
    pytester.makepyfile(lg_plugin_user_layers=USER_MODULE)
    pytester.makepyfile(test_user='''
import pytest
import lg_plugin_user_layers

@pytest.mark.gradcheck_layers("lg_plugin_user_layers")
def test_gradients(gradcheck_case, assert_gradcheck):
    assert_gradcheck(gradcheck_case)
''')
    pytester.syspathinsert()
    result = pytester.runpytest_inprocess("--gradcheck-mode", "full", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=2)
    out = result.stdout.str()
    assert "Unchecked" in out and "has no gradient-check case" in out
    assert "BrokenSwish" in out and "mode='full'" in out


def test_plugin_fixture_checks_a_layer_directly(pytester):
    pytester.makepyfile(test_direct='''
import numpy as np
import layergraph as lg

def test_direct(assert_gradcheck):
    report = assert_gradcheck(lg.Sigmoid(), np.ones((2, 3)))
    assert report.mode == "sampled"
''')
    result = pytester.runpytest_inprocess("--gradcheck-mode", "sampled", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_cli_checks_builtins_and_user_modules(tmp_path, monkeypatch, capsys):
    assert main(["gradcheck"]) == 0
    out = capsys.readouterr().out
    assert "Affine/2d" in out and "all" in out and "pass" in out
    (tmp_path / "lg_cli_user_layers.py").write_text(USER_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    assert main(["gradcheck", "--module", "lg_cli_user_layers", "--mode", "directional"]) == 1
    out = capsys.readouterr().out
    assert "PASS  Swish/swish" in out
    assert "FAIL  BrokenSwish/broken" in out
    assert "Unchecked" in out and "no case registered" in out
    assert main(["gradcheck", "--module", "no_such_module_xyz"]) == 1
    assert "cannot import" in capsys.readouterr().err
