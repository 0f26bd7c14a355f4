"""A plugin (or ``gradcheck --module``) given as a file path imports the modules beside it: its directory goes
first on ``sys.path``, as running the file as a script does, in the main process and in worker processes."""

import multiprocessing
import os
import subprocess
import sys
import textwrap

import pytest

from layergraph.bench import load_plugins, read_records, unregister
from layergraph.bench.plugins import PluginImportError, import_module_or_path
from layergraph.bench.registry import OPTIMIZER_FACTORIES
from layergraph.cli import main
from layergraph.gradcheck import registry as case_registry

HELPER = textwrap.dedent('''
    """The optimizer class, beside the plugin that registers it."""


    class SiblingSGD:
        def __init__(self, lr=0.1):
            self.lr = lr

        def update(self, params, grads):
            for k, g in grads.items():
                params[k] -= self.lr * g
''')

PLUGIN = textwrap.dedent('''
    import lg_plugpath_helper
    from layergraph.bench import LogUniform, register_optimizer

    register_optimizer("SiblingSGD", lg_plugpath_helper.SiblingSGD, search_space={"lr": LogUniform(0.01, 1.0)})
''')

LAYER_HELPER = textwrap.dedent('''
    import numpy as np


    def weights(n):
        return np.linspace(0.5, 1.5, n)
''')

LAYER_MODULE = textwrap.dedent('''
    import numpy as np
    import layergraph as lg
    from layergraph.gradcheck import register_case

    import lg_plugpath_layer_helper


    class SiblingScaled(lg.Layer):
        def __init__(self, n=600):
            super().__init__()
            self.params = {"w": lg_plugpath_layer_helper.weights(n)}
            self.grads = {"w": np.zeros(n)}

        def forward(self, x, train=True):
            self.x = x
            return x * self.params["w"]

        def backward(self, dout):
            self.grads["w"] = np.sum(dout * self.x, axis=0)
            return dout * self.params["w"]


    @register_case(SiblingScaled)
    def _scaled(rng):
        return SiblingScaled(), rng.standard_normal((2, 600)), None
''')


@pytest.fixture
def dirs(tmp_path, monkeypatch):
    """``(cwd, plugin_dir)``: an empty current directory and a separate directory holding the plugin files,
    neither on sys.path; sys.path, sys.modules, the case registry and the optimizer registry are restored."""
    cwd, plugin_dir = tmp_path / "cwd", tmp_path / "plugins"
    cwd.mkdir()
    plugin_dir.mkdir()
    monkeypatch.chdir(cwd)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", str(cwd), str(plugin_dir))])
    monkeypatch.setattr(case_registry, "_CASES", list(case_registry._CASES))
    before = set(sys.modules)
    yield cwd, plugin_dir
    for name in set(sys.modules) - before:
        if name.startswith("lg_plugpath_"):
            del sys.modules[name]
    if "SiblingSGD" in OPTIMIZER_FACTORIES:
        unregister("optimizer", "SiblingSGD")


def test_a_plugin_path_imports_the_module_beside_it(dirs):
    cwd, plugin_dir = dirs
    (plugin_dir / "lg_plugpath_helper.py").write_text(HELPER)
    (plugin_dir / "lg_plugpath_opt.py").write_text(PLUGIN)
    (module,) = load_plugins([str(plugin_dir / "lg_plugpath_opt.py")], entry_points=False)
    assert module.lg_plugpath_helper.__file__ == str(plugin_dir / "lg_plugpath_helper.py")
    assert "SiblingSGD" in OPTIMIZER_FACTORIES
    assert sys.path[-1] == str(plugin_dir)                  # at the end: nothing already importable is shadowed
    import_module_or_path(str(plugin_dir / "lg_plugpath_opt.py"))
    assert sys.path.count(str(plugin_dir)) == 1             # not added twice


def test_a_relative_plugin_path_too(dirs):
    cwd, plugin_dir = dirs
    sub = cwd / "sub"
    sub.mkdir()
    (sub / "lg_plugpath_helper.py").write_text(HELPER)
    (sub / "lg_plugpath_opt.py").write_text(PLUGIN)
    module = import_module_or_path("sub/lg_plugpath_opt.py")
    assert module.lg_plugpath_helper.SiblingSGD.__name__ == "SiblingSGD"
    assert sys.path[-1] == str(sub)


def test_a_missing_sibling_is_still_one_line_and_leaves_sys_path_alone(dirs):
    cwd, plugin_dir = dirs
    (plugin_dir / "lg_plugpath_lonely.py").write_text("import lg_plugpath_nowhere\n")
    before = list(sys.path)
    with pytest.raises(PluginImportError) as info:
        import_module_or_path(str(plugin_dir / "lg_plugpath_lonely.py"))
    assert str(info.value) == (f"plugin {str(plugin_dir / 'lg_plugpath_lonely.py')!r} failed to import: "
                               "ModuleNotFoundError: No module named 'lg_plugpath_nowhere'")
    assert sys.path == before


def test_a_fresh_interpreter_imports_a_plugin_path_with_its_sibling(dirs):
    """What a spawned worker does: import the plugin by its absolute path, from another directory."""
    cwd, plugin_dir = dirs
    (plugin_dir / "lg_plugpath_helper.py").write_text(HELPER)
    (plugin_dir / "lg_plugpath_opt.py").write_text(PLUGIN)
    code = ("import sys; from layergraph.bench import load_plugins; "
            f"load_plugins([{str(plugin_dir / 'lg_plugpath_opt.py')!r}], entry_points=False); "
            "from layergraph.bench.registry import OPTIMIZER_FACTORIES; print('SiblingSGD' in OPTIMIZER_FACTORIES)")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "True"


def test_bench_run_with_a_plugin_path_and_worker_processes(dirs, capsys):
    cwd, plugin_dir = dirs
    (plugin_dir / "lg_plugpath_helper.py").write_text(HELPER)
    (plugin_dir / "lg_plugpath_opt.py").write_text(PLUGIN)
    args = ["bench", "run", "--plugin", str(plugin_dir / "lg_plugpath_opt.py"), "--problem", "logreg",
            "--optimizers", "SiblingSGD", "--budget", "1", "--seeds", "1", "--epochs", "1", "--jobs", "2",
            "--no-plots", "--quiet", "--out", str(cwd / "res")]
    assert main(args) == 0, capsys.readouterr().err
    records = read_records(cwd / "res" / "runs")
    assert len(records) == 2 and {r["optimizer"] for r in records.values()} == {"SiblingSGD"}


def test_gradcheck_module_path_with_worker_processes(dirs, capsys, monkeypatch):
    if "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("worker processes need fork")
    cwd, plugin_dir = dirs
    (plugin_dir / "lg_plugpath_layer_helper.py").write_text(LAYER_HELPER)
    (plugin_dir / "lg_plugpath_layers.py").write_text(LAYER_MODULE)
    contexts = []
    real = multiprocessing.get_context

    def spy(method=None):
        contexts.append(method)
        return real(method)

    monkeypatch.setattr(multiprocessing, "get_context", spy)
    code = main(["gradcheck", "--module", str(plugin_dir / "lg_plugpath_layers.py"), "--mode", "full", "-j", "2"])
    out = capsys.readouterr()
    assert code == 0, out.err
    assert "PASS  SiblingScaled/scaled" in out.out and "all 1 checks pass" in out.out
    assert "fork" in contexts                               # the 600 weights went to the worker processes


def test_a_plugins_own_sibling_wins_over_a_module_of_the_same_name_elsewhere(tmp_path, monkeypatch):
    other, plug = tmp_path / "other", tmp_path / "plug"
    other.mkdir()
    plug.mkdir()
    (other / "lg_pp_helpers.py").write_text("WHERE = 'other'\n")
    (plug / "lg_pp_helpers.py").write_text("WHERE = 'plugin'\n")
    (plug / "lg_pp_opt.py").write_text("import lg_pp_helpers\nWHERE = lg_pp_helpers.WHERE\n")
    monkeypatch.syspath_prepend(str(other))
    try:
        module = import_module_or_path(str(plug / "lg_pp_opt.py"))
        assert module.WHERE == "plugin"
        assert sys.path[-1] == str(plug) and sys.path[0] != str(plug)   # afterwards at the end only
    finally:
        for name in ("lg_pp_opt", "lg_pp_helpers"):
            sys.modules.pop(name, None)
        if str(plug) in sys.path:
            sys.path.remove(str(plug))
