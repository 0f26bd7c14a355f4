"""``layergraph gradcheck --module``: modules next to the caller, by name or by path, and in worker processes."""

import multiprocessing
import sys

import pytest

from layergraph.cli import main
from layergraph.gradcheck import registry as case_registry

LAYERS = '''
import numpy as np
import layergraph as lg
from layergraph.gradcheck import register_case


class Scaled{tag}(lg.Layer):
    """y = x * w with {n} weights (enough elements for the worker processes)."""

    def __init__(self):
        super().__init__()
        self.params = {{"w": np.linspace(0.5, 1.5, {n})}}
        self.grads = {{"w": np.zeros({n})}}

    def forward(self, x, train=True):
        self.x = x
        return x * self.params["w"]

    def backward(self, dout):
        self.grads["w"] = np.sum(dout * self.x, axis=0)
        return dout * self.params["w"]


@register_case(Scaled{tag})
def _scaled(rng):
    return Scaled{tag}(), rng.standard_normal((2, {n})), None
'''


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """An empty current directory that is not on sys.path; sys.path, sys.modules and the case registry are
    restored afterwards."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", str(tmp_path))])
    monkeypatch.setattr(case_registry, "_CASES", list(case_registry._CASES))
    before = set(sys.modules)
    yield tmp_path
    for name in set(sys.modules) - before:
        if name.startswith("lg_gcmod_"):
            del sys.modules[name]


def _write(directory, stem, tag, n=6):
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{stem}.py").write_text(LAYERS.format(tag=tag, n=n))


@pytest.mark.parametrize("how", ["name", "file", "relative path"])
def test_module_in_the_current_directory(workdir, capsys, how):
    stem = f"lg_gcmod_{how.replace(' ', '_')}"
    if how == "relative path":
        _write(workdir / "sub", stem, "Rel")
        spec = f"./sub/{stem}.py"
    else:
        _write(workdir, stem, how.capitalize())
        spec = stem if how == "name" else f"{stem}.py"
    assert main(["gradcheck", "--module", spec]) == 0
    out = capsys.readouterr().out
    tag = {"name": "Name", "file": "File", "relative path": "Rel"}[how]
    assert f"PASS  Scaled{tag}/scaled" in out
    assert "all 1 checks pass" in out


def test_module_found_by_worker_processes(workdir, capsys, monkeypatch):
    if "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("worker processes need fork")
    _write(workdir, "lg_gcmod_workers", "Wide", n=600)   # 600 >= MIN_ELEMENTS: the weights go to the pool
    contexts = []
    real = multiprocessing.get_context

    def spy(method=None):
        contexts.append(method)
        return real(method)

    monkeypatch.setattr(multiprocessing, "get_context", spy)
    assert main(["gradcheck", "--module", "lg_gcmod_workers", "--mode", "full", "--jobs", "2"]) == 0
    out = capsys.readouterr().out
    assert "PASS  ScaledWide/scaled" in out
    assert "fork" in contexts


def test_module_that_does_not_exist_is_one_line_naming_it(workdir, capsys):
    assert main(["gradcheck", "--module", "lg_gcmod_absent"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "'lg_gcmod_absent'" in err and "current directory" in err and "Traceback" not in err
    assert main(["gradcheck", "--module", "absent_dir/lg_gcmod_absent.py"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no such file" in err and "lg_gcmod_absent.py" in err


def test_module_raising_at_import_names_module_and_exception(workdir, capsys):
    (workdir / "lg_gcmod_raises.py").write_text("raise RuntimeError('boom at import')\n")
    assert main(["gradcheck", "--module", "lg_gcmod_raises.py"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "'lg_gcmod_raises.py'" in err and "RuntimeError: boom at import" in err
