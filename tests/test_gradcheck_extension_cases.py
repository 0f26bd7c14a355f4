"""Malformed gradient-check cases: ``register_case`` rejects what it can at registration, and building a case whose
function raises or returns something other than ``(layer, x, t)`` raises ``GradCaseError``, one line naming the
case and its class, so that case fails alone."""

import dataclasses
import pickle
import sys

import numpy as np
import pytest

import layergraph as lg
from layergraph.gradcheck import GradCase, GradCaseError, all_cases, register_case
from layergraph.gradcheck import registry as case_registry
from layergraph.testing import check_case

pytest_plugins = ["pytester"]


class Twice(lg.Layer):
    def forward(self, x, train=True):
        return 2.0 * x

    def backward(self, dout):
        return 2.0 * dout


@pytest.fixture(autouse=True)
def registry():
    """The case registry, restored after each test."""
    saved = list(case_registry._CASES)
    yield case_registry._CASES
    case_registry._CASES[:] = saved


def _build(label, function):
    register_case(Twice, label)(function)
    (case,) = [c for c in all_cases() if c.label == f"Twice/{label}"]
    return case.build(np.random.default_rng(0))


def test_a_case_function_without_rng_is_rejected_at_registration():
    def no_rng():
        return Twice(), np.ones((2, 3)), None

    with pytest.raises(TypeError) as info:
        register_case(Twice)(no_rng)
    message = str(info.value)
    assert "\n" not in message
    assert f"register_case({__name__}.Twice)" in message and "no_rng()" in message
    assert "one argument rng" in message and "build(rng) -> (layer, x, t)" in message
    assert not any(c.label == "Twice/no_rng" for c in all_cases())

    def two_args(rng, scale):
        return Twice(), rng.standard_normal((2, 3)) * scale, None

    with pytest.raises(TypeError, match=r"two_args\(rng, scale\) must take one argument rng"):
        register_case(Twice)(two_args)


def test_register_case_checks_its_own_arguments():
    def _case(rng):
        return Twice(), rng.standard_normal((2, 3)), None

    with pytest.raises(TypeError, match=r"expected a layer class .* got .*_case; write @register_case\(MyLayer\)"):
        register_case(_case)                         # @register_case without the class
    with pytest.raises(TypeError, match=r"register_case\(.*Twice\): modes must be a non-empty sequence of bools"):
        register_case(Twice, modes=())
    with pytest.raises(TypeError, match=r"modes must be"):
        register_case(Twice, modes="train")
    with pytest.raises(TypeError, match=r"label must be a str"):
        register_case(Twice, 3)
    with pytest.raises(TypeError, match=r"expected a function build\(rng\)"):
        register_case(Twice)(None)
    # what is accepted: one argument (with or without extras that have defaults), lambdas, numpy bool modes
    register_case(Twice, "defaults", modes=(np.True_, False))(lambda rng, n=3: (Twice(), rng.standard_normal((2, n)),
                                                                               None))
    (case,) = [c for c in all_cases() if c.label == "Twice/defaults"]
    assert case.modes == (True, False) and all(type(m) is bool for m in case.modes)


@pytest.mark.parametrize("result, says", [
    ("pair", "returned a tuple of 2 items"),
    ("none", "returned a NoneType"),
    ("array", "returned a ndarray"),
    ("no layer", "returned a ndarray as the layer, which has no forward and backward methods"),
    ("no x", "returned None as the input x"),
])
def test_a_malformed_result_names_the_case_and_the_class(result, says):
    def build(rng):
        x = rng.standard_normal((2, 3))
        return {"pair": (Twice(), x), "none": None, "array": x, "no layer": (x, x, None),
                "no x": (Twice(), None, None)}[result]

    with pytest.raises(GradCaseError) as info:
        _build("bad", build)
    message = str(info.value)
    assert "\n" not in message
    assert f"gradient-check case 'Twice/bad' of layer class {__name__}.Twice" in message
    assert says in message and "expected build(rng) -> (layer, x, t)" in message
    assert info.value.label == "Twice/bad" and info.value.layer_type is Twice
    assert isinstance(info.value, ValueError)


def test_a_build_that_raises_names_the_case_and_chains_the_error():
    def build(rng):
        raise RuntimeError("no such weight\nsecond line")

    with pytest.raises(GradCaseError) as info:
        _build("raises", build)
    assert str(info.value) == (f"gradient-check case 'Twice/raises' of layer class {__name__}.Twice: build(rng) "
                               "raised RuntimeError: no such weight; second line; expected build(rng) -> (layer, x, "
                               "t), t None except for loss layers")
    assert isinstance(info.value.__cause__, RuntimeError)


def test_a_well_formed_case_is_unchanged():
    def _twice(rng):
        return [Twice(), rng.standard_normal((2, 3)), None]      # a list is fine too

    assert register_case(Twice)(_twice) is _twice                # the decorator returns the function itself
    (case,) = [c for c in all_cases() if c.label == "Twice/twice"]
    layer, x, t = case.build(np.random.default_rng(0))
    assert isinstance(layer, Twice) and x.shape == (2, 3) and t is None
    assert case.build.__wrapped__ is _twice and case.build.__name__ == "_twice"
    assert all(r.ok for r in check_case(case))


def test_built_in_cases_still_build_compare_and_pickle():
    builtin = [c for c in all_cases() if c.layer_type.__module__.startswith("layergraph.")]
    assert builtin
    for case in builtin:
        layer, x, t = case.build(np.random.default_rng(0))
        assert callable(layer.forward)
    case = builtin[0]
    assert dataclasses.replace(case) == case and hash(dataclasses.replace(case)) == hash(case)
    assert pickle.loads(pickle.dumps(case)) == case
    renamed = dataclasses.replace(case, label="Renamed/one")
    assert renamed.build.__wrapped__ is case.build.__wrapped__ and renamed.build.label == "Renamed/one"


def test_a_directly_constructed_case_is_checked_too():
    case = GradCase(Twice, "Twice/direct", lambda rng: (Twice(), rng.standard_normal((2, 3))))
    with pytest.raises(GradCaseError, match=r"'Twice/direct' .*returned a tuple of 2 items"):
        case.build(np.random.default_rng(0))


BAD_MODULE = '''
import layergraph as lg
from layergraph.gradcheck import register_case


class Good(lg.Layer):
    def forward(self, x, train=True):
        return 2.0 * x

    def backward(self, dout):
        return 2.0 * dout


class Pair(Good):
    pass


@register_case(Good)
def _good(rng):
    return Good(), rng.standard_normal((2, 3)), None


@register_case(Pair)
def _pair(rng):
    return Pair(), rng.standard_normal((2, 3))
'''


def test_the_pytest_marker_fails_only_the_malformed_case(pytester):
    pytester.makepyfile(lg_gcext_badcase=BAD_MODULE)
    pytester.makepyfile(test_cases='''
import pytest


@pytest.mark.gradcheck_layers("lg_gcext_badcase")
def test_gradients(gradcheck_case, assert_gradcheck):
    assert_gradcheck(gradcheck_case)
''')
    pytester.syspathinsert()
    try:
        result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-v")
    finally:
        sys.modules.pop("lg_gcext_badcase", None)
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*test_gradients[[]Good/good[]] PASSED*", "*test_gradients[[]Pair/pair[]] FAILED*"])
    result.stdout.fnmatch_lines(["E *GradCaseError: gradient-check case 'Pair/pair' of layer class "
                                 "lg_gcext_badcase.Pair: build(rng) returned a tuple of 2 items; expected "
                                 "build(rng) -> (layer, x, t)*"])


def test_the_command_line_fails_only_the_malformed_case(tmp_path, monkeypatch, capsys):
    from layergraph.cli import main

    monkeypatch.chdir(tmp_path)
    (tmp_path / "lg_gcext_climod.py").write_text(BAD_MODULE)
    try:
        code = main(["gradcheck", "--module", "lg_gcext_climod.py"])
    finally:
        sys.modules.pop("lg_gcext_climod", None)
    out = capsys.readouterr().out
    assert code == 1
    assert "PASS  Good/good" in out and "FAIL  Pair/pair" in out and "1 failed" in out
    assert ("gradient-check case 'Pair/pair' of layer class lg_gcext_climod.Pair: build(rng) returned a tuple of 2 "
            "items; expected build(rng) -> (layer, x, t)") in out
