"""The ``gradcheck_layers`` marker and ``missing_cases`` import a module before they read the case registry, so a
module that no test file imports is judged on the cases it registers."""

import sys

import pytest

from layergraph.gradcheck import registry as case_registry
from layergraph.testing import missing_cases

pytest_plugins = ["pytester"]

COVERED = '''
import layergraph as lg
from layergraph.gradcheck import register_case


class Doubler{tag}(lg.Layer):
    def forward(self, x, train=True):
        return 2.0 * x

    def backward(self, dout):
        return 2.0 * dout


@register_case(Doubler{tag})
def _doubler(rng):
    return Doubler{tag}(), rng.standard_normal((2, 3)), None
'''


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """A directory first on sys.path; the case registry and the modules imported from it are restored after."""
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(case_registry, "_CASES", list(case_registry._CASES))
    before = set(sys.modules)
    yield tmp_path
    for name in set(sys.modules) - before:
        if name.startswith("lg_gcext_"):
            del sys.modules[name]


def test_missing_cases_on_a_module_not_imported_yet(isolated):
    (isolated / "lg_gcext_fresh.py").write_text(COVERED.format(tag="Fresh"))
    assert "lg_gcext_fresh" not in sys.modules
    assert missing_cases("lg_gcext_fresh") == []          # the first call used to list DoublerFresh
    assert missing_cases("lg_gcext_fresh") == []


def test_missing_cases_on_a_package_whose_submodule_is_not_imported_yet(isolated):
    package = isolated / "lg_gcext_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "covered.py").write_text(COVERED.format(tag="Sub"))
    (package / "bare.py").write_text("import layergraph as lg\n\n\nclass Bare(lg.Layer):\n    pass\n")
    assert [cls.__qualname__ for cls in missing_cases("lg_gcext_pkg")] == ["Bare"]


def test_marker_on_a_module_the_test_file_does_not_import(pytester, monkeypatch):
    monkeypatch.setattr(case_registry, "_CASES", list(case_registry._CASES))
    pytester.makepyfile(lg_gcext_marker_layers=COVERED.format(tag="Marker"))
    pytester.makepyfile(test_marker='''
import pytest


@pytest.mark.gradcheck_layers("lg_gcext_marker_layers")      # never imported by this file
def test_gradients(gradcheck_case, assert_gradcheck):
    assert_gradcheck(gradcheck_case)
''')
    pytester.syspathinsert()
    try:
        result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-v")
    finally:
        sys.modules.pop("lg_gcext_marker_layers", None)
    out = result.stdout.str()
    assert "NO-CASE" not in out and "has no gradient-check case" not in out
    assert "test_gradients[DoublerMarker/doubler] PASSED" in out
    result.assert_outcomes(passed=1)
