"""Plugins that fail to import are named in one line; plugins next to the caller import by module name."""

import sys
import textwrap

import pytest

from layergraph.bench import SweepConfig, load_plugins, read_records, unregister
from layergraph.bench.registry import OPTIMIZER_FACTORIES
from layergraph.cli import main

OK_PLUGIN = "X = 1\n"
IMPORT_ERROR = "import nonexistent_pkg_xyz\n"
RAISES = "raise RuntimeError('boom at import')\n"
MULTILINE = "raise ValueError('first line\\nsecond line')\n"

OPTIMIZER_PLUGIN = textwrap.dedent('''
    from layergraph.bench import LogUniform, register_optimizer


    class CwdSGD:
        def __init__(self, lr=0.1):
            self.lr = lr

        def update(self, params, grads):
            for k, g in grads.items():
                params[k] -= self.lr * g


    register_optimizer("CwdSGD", CwdSGD, search_space={"lr": LogUniform(0.01, 1.0)})
''')


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """A current directory that is not on sys.path; sys.path and sys.modules are restored afterwards."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", str(tmp_path))])
    before = set(sys.modules)
    yield tmp_path
    for name in set(sys.modules) - before:
        if name.startswith("lg_plugerr_"):
            del sys.modules[name]
    if "CwdSGD" in OPTIMIZER_FACTORIES:
        unregister("optimizer", "CwdSGD")


def _write(directory, name, text):
    path = directory / name
    path.write_text(text)
    return path


def test_cli_names_the_plugin_whose_import_fails(workdir, capsys):
    _write(workdir, "lg_plugerr_ok.py", OK_PLUGIN)
    _write(workdir, "lg_plugerr_imperr.py", IMPORT_ERROR)
    code = main(["bench", "run", "--plugin", "lg_plugerr_ok.py", "--plugin", "lg_plugerr_imperr.py"])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1
    assert "'lg_plugerr_imperr.py'" in err and "lg_plugerr_ok" not in err
    assert "ModuleNotFoundError: No module named 'nonexistent_pkg_xyz'" in err


def test_plugin_raising_at_import_is_named_with_the_exception(workdir, capsys):
    _write(workdir, "lg_plugerr_boom.py", RAISES)
    assert main(["bench", "run", "--plugin", "lg_plugerr_boom.py"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "'lg_plugerr_boom.py'" in err and "RuntimeError: boom at import" in err


def test_sweep_config_names_the_plugin_and_chains_the_original(workdir):
    path = _write(workdir, "lg_plugerr_boom2.py", RAISES)
    with pytest.raises(ImportError) as info:
        SweepConfig(problems=("logreg",), optimizers=("sgd",), budget=1, plugins=(str(path),))
    message = str(info.value)
    assert str(path) in message and "RuntimeError: boom at import" in message and "\n" not in message
    assert isinstance(info.value.__cause__, RuntimeError)
    # by module name (found in the current directory) the name is in the message
    with pytest.raises(ImportError, match=r"plugin 'lg_plugerr_boom2' .*RuntimeError: boom at import"):
        load_plugins(["lg_plugerr_boom2"])


def test_a_multi_line_message_becomes_one_line(workdir):
    _write(workdir, "lg_plugerr_multi.py", MULTILINE)
    with pytest.raises(ImportError) as info:
        load_plugins(["lg_plugerr_multi.py"])
    assert str(info.value) == ("plugin 'lg_plugerr_multi.py' failed to import: ValueError: first line; "
                               "second line")
    assert isinstance(info.value.__cause__, ValueError)


def test_failing_entry_point_is_named(monkeypatch):
    from layergraph.bench import plugins

    class EP:
        name, value = "broken", "broken_pkg.bench:register"

        def load(self):
            raise AttributeError("module 'broken_pkg.bench' has no attribute 'register'")

    monkeypatch.setattr(plugins, "_ENTRY_POINTS_DONE", [])
    monkeypatch.setattr("importlib.metadata.entry_points", lambda group: [EP()])
    with pytest.raises(ImportError, match=r"entry point 'broken' \(broken_pkg.bench:register\).*AttributeError"):
        load_plugins([])


def test_plugin_module_in_the_current_directory_reaches_the_workers(workdir, capsys):
    _write(workdir, "lg_plugerr_cwdopt.py", OPTIMIZER_PLUGIN)
    args = ["bench", "run", "--plugin", "lg_plugerr_cwdopt", "--problem", "logreg", "--optimizers", "CwdSGD",
            "--budget", "1", "--seeds", "1", "--epochs", "1", "--jobs", "2", "--no-plots", "--quiet",
            "--out", str(workdir / "res")]
    assert main(args) == 0, capsys.readouterr().err
    records = read_records(workdir / "res" / "runs")
    assert len(records) == 2 and {r["optimizer"] for r in records.values()} == {"CwdSGD"}
    # a name found nowhere is one line naming it
    assert main(["bench", "run", "--plugin", "lg_plugerr_absent"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "'lg_plugerr_absent'" in err and "current directory" in err
