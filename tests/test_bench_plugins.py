"""Plugins and the public registration API: custom optimizers, problems and metrics from Python and the CLI."""

import json
import textwrap

import numpy as np
import pytest

from layergraph.bench import (Choice, IntUniform, LogUniform, Metric, SequentialExecutor, SweepConfig, Uniform,
                              get_optimizer, load_plugins, optimizer_names, read_records, register_optimizer,
                              run_sweep, sample_space, unregister, write_report)
from layergraph.bench.problems import PROBLEMS
from layergraph.cli import main

PLUGIN = textwrap.dedent('''
    import numpy as np
    from layergraph.bench import register_optimizer, LogUniform, Choice

    class HalfSGD:
        def __init__(self, lr=0.1, flavour="plain", steps=1):
            self.lr, self.flavour, self.steps = lr, flavour, steps

        def update(self, params, grads):
            for k, g in grads.items():
                params[k] -= 0.5 * self.lr * g

    register_optimizer("HalfSGD_{tag}", HalfSGD,
                       search_space={{"lr": LogUniform(0.01, 1.0), "flavour": Choice(["plain", "fancy"])}})
''')


@pytest.fixture
def plugin_file(tmp_path, request):
    tag = request.node.name.split("[")[0][-20:].replace("-", "_")
    path = tmp_path / f"plugin_{tag}.py"
    path.write_text(PLUGIN.format(tag=tag))
    yield path, f"HalfSGD_{tag}"
    from layergraph.bench.registry import OPTIMIZER_FACTORIES

    if f"HalfSGD_{tag}" in OPTIMIZER_FACTORIES:
        unregister("optimizer", f"HalfSGD_{tag}")


def test_unknown_names_list_the_registered_ones():
    with pytest.raises(ValueError, match="unknown optimizer 'adamz'; registered: SGD, Momentum"):
        get_optimizer("adamz")
    with pytest.raises(ValueError, match="registered: digits-mlp, logreg"):
        SweepConfig(problems=("cifar",), optimizers=("sgd",), budget=1)


def test_register_optimizer_validates_and_refuses_silent_replacement():
    with pytest.raises(ValueError, match="'lr'"):
        register_optimizer("NoLr", dict, search_space={"momentum": Uniform(0.5, 0.9)})
    with pytest.raises(TypeError, match="must be LogUniform"):
        register_optimizer("BadDim", dict, search_space={"lr": (0.1, 1.0)})
    with pytest.raises(ValueError, match="already registered"):
        register_optimizer("Adam", dict, search_space={"lr": LogUniform(1e-3, 1e-1)})
    assert "Adam" in optimizer_names()


@pytest.mark.parametrize("name", ["Adam", "adam"])
def test_a_builtin_name_is_taken_before_anything_looked_the_builtins_up(name):
    """In a fresh interpreter the first call may be the plugin's registration itself."""
    import subprocess
    import sys

    code = ("from layergraph.bench import LogUniform, register_optimizer\n"
            f"register_optimizer({name!r}, dict, search_space={{'lr': LogUniform(1e-3, 1e-1)}})\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    assert "'Adam' is already registered with another factory; pass replace=True" in proc.stderr


def test_metric_contract():
    assert Metric("mse", higher_is_better=False, target=0.05).target == 0.05
    with pytest.raises(ValueError, match="needs|pass fn"):
        Metric("r2", higher_is_better=True, target=0.9)
    with pytest.raises(ValueError, match="lower is better"):
        Metric("mse", higher_is_better=True, target=0.1)
    with pytest.raises(TypeError):
        Metric("accuracy", None, True, 0.9)  # direction and target are keyword-only
    m = Metric("mae", lambda y, t: float(np.mean(np.abs(y - t))), higher_is_better=False, target=0.2)
    assert m.reached(0.2) and not m.reached(0.21) and m.better(0.1, 0.2)


def test_search_methods_cover_the_space_with_the_same_budget():
    space = {"lr": LogUniform(1e-3, 1.0), "momentum": Uniform(0.5, 0.99), "layers": IntUniform(1, 3),
             "schedule": Choice(["constant", "step", "warmup_cosine"])}
    for method in ("random", "sobol", "halton"):
        trials = sample_space(space, 16, method, seed=7)
        assert len(trials) == 16 and trials == sample_space(space, 16, method, seed=7)
        assert all(1e-3 <= t["lr"] <= 1.0 and 0.5 <= t["momentum"] <= 0.99 and t["layers"] in (1, 2, 3)
                   for t in trials)
        assert {t["schedule"] for t in trials} == {"constant", "step", "warmup_cosine"}
    grid = sample_space(space, 6, "grid")
    assert [(t["lr"], t["schedule"]) for t in grid] == [(0.001, "constant"), (1.0, "constant"), (0.001, "step"),
                                                         (1.0, "step"), (0.001, "warmup_cosine"),
                                                         (1.0, "warmup_cosine")]
    with pytest.raises(ValueError, match="multiple of 3"):
        sample_space(space, 4, "grid")
    # quasi-random points fill the lr axis more evenly than the same number of random draws
    from scipy.stats import qmc

    u = np.array([[np.log(t["lr"] / 1e-3) / np.log(1e3)] for t in sample_space(space, 16, "sobol", seed=1)])
    assert qmc.discrepancy(np.clip(u, 0, 1)) < 0.02


def test_categorical_hyperparameters_run_and_print_in_the_report(plugin_file, tmp_path):
    path, name = plugin_file
    cfg = SweepConfig(problems=("logreg",), optimizers=(name,), budget=2, seeds=2, epochs=1, method="grid",
                      plugins=(str(path),))
    with SequentialExecutor() as ex:
        run_sweep(cfg, ex, tmp_path / "res")
    text = write_report(tmp_path / "res", plots=False)["report"].read_text()
    assert "flavour=plain" in text or "flavour=fancy" in text
    proto = json.loads((tmp_path / "res" / "protocol.json").read_text())
    assert proto["search_spaces"][name]["flavour"] == "one of [plain, fancy]"


def test_cli_plugin_by_path_and_by_module_name(plugin_file, tmp_path, monkeypatch, capsys):
    path, name = plugin_file
    args = ["bench", "run", "--problem", "logreg", "--optimizers", name, "--budget", "2", "--seeds", "2",
            "--epochs", "1", "--jobs", "1", "--no-plots", "--quiet"]
    assert main(args + ["--out", str(tmp_path / "a"), "--plugin", str(path)]) == 0
    monkeypatch.syspath_prepend(str(path.parent))
    assert main(args + ["--out", str(tmp_path / "b"), "--plugin", path.stem]) == 0
    a = read_records(tmp_path / "a" / "runs")
    assert len(a) == 4 and {r["optimizer"] for r in a.values()} == {name}
    assert main(args[:5] + ["NotThere"] + args[6:] + ["--out", str(tmp_path / "c")]) == 1
    assert "unknown optimizer 'NotThere'; registered:" in capsys.readouterr().err
    assert main(args + ["--out", str(tmp_path / "d"), "--plugin", str(tmp_path / "missing.py")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "missing.py" in err


def test_entry_points_are_loaded(monkeypatch):
    from layergraph.bench import plugins

    calls = []

    class EP:
        name = "fake"

        def load(self):
            return lambda: calls.append("loaded")

    monkeypatch.setattr(plugins, "_ENTRY_POINTS_DONE", [])
    monkeypatch.setattr("importlib.metadata.entry_points", lambda group: [EP()] if group == "layergraph.bench"
                        else [])
    load_plugins([])
    load_plugins([])
    assert calls == ["loaded"]


def test_regression_problem_reports_mse_lower_is_better(tmp_path):
    cfg = SweepConfig(problems=("friedman-regression",), optimizers=("sgd", "adam"), budget=2, seeds=2,
                      epochs=3)
    with SequentialExecutor() as ex:
        res = run_sweep(cfg, ex, tmp_path)
    recs = list(read_records(tmp_path / "runs").values())
    assert all("test_accuracy" not in r["final"] for r in recs)
    assert all(r["final"]["test_mse"] > 0 for r in recs if not r["diverged"])
    text = write_report(tmp_path, plots=False)["report"].read_text()
    assert "Headline metric: mse (lower is better); target (validation) mse <= 0.12" in text
    assert "test mse (seed interval)" in text and "1.0000 ± 0" not in text
    # the reference is the optimizer with the LOWEST mean test MSE
    means = {o: np.mean([r["final"]["test_mse"] for r in recs if r["optimizer"] == o and r["phase"] == "final"
                         and not r["diverged"]]) for o in ("SGD", "Adam")}
    best = min(means, key=means.get)
    assert f"reference for the paired comparison: **{best}**" in text
    # selection picked the lowest validation MSE among the tuning trials
    tune = [r for r in recs if r["phase"] == "tune" and r["optimizer"] == "Adam"]
    assert res["selection"]["friedman-regression"]["Adam"]["trial"] == min(
        tune, key=lambda r: r["final"]["val_mse"])["trial"]
    assert "friedman-regression" in PROBLEMS
