"""Stored baselines: the shipped quick-suite records, and `bench run --baselines` reporting against them."""

import pytest

from layergraph.bench import SequentialExecutor, SweepConfig, run_sweep
from layergraph.bench import baselines
from layergraph.cli import main
from layergraph.cli.bench_cmd import QUICK


def test_shipped_baselines_cover_the_quick_suite():
    if not baselines.BASELINE_FILE.is_file():
        pytest.skip("no stored baselines in this checkout")
    proto = baselines.baseline_protocol()
    assert tuple(proto["problems"]) == QUICK["problems"] and tuple(proto["optimizers"]) == QUICK["optimizers"]
    assert proto["budget"] == QUICK["budget"] and proto["seeds"] == QUICK["seeds"]
    recs = baselines.load_baselines(QUICK["problems"])
    n = len(QUICK["problems"]) * len(QUICK["optimizers"]) * (QUICK["budget"] + QUICK["seeds"])
    assert len(recs) == n and all(r["baseline"] for r in recs)
    assert all("hostname" not in r["machine"] for r in recs)
    assert all(r["optimizer"] != "SGD" for r in baselines.load_baselines(QUICK["problems"], exclude=["sgd"]))


def test_run_with_baselines_reports_only_steps_against_stored_records(tmp_path, monkeypatch, capsys):
    cfg = SweepConfig(problems=("logreg",), optimizers=("SGD", "Momentum"), budget=2, seeds=2, epochs=1)
    with SequentialExecutor() as ex:
        run_sweep(cfg, ex, tmp_path / "stored")
    fake = baselines.pack_baselines(tmp_path / "stored", tmp_path / "quick.json.gz")
    monkeypatch.setattr(baselines, "BASELINE_FILE", fake)
    args = ["bench", "run", "--baselines", "--optimizers", "Adam", "--problem", "logreg", "--epochs", "1",
            "--jobs", "1", "--no-plots", "--quiet"]
    assert main(args + ["--out", str(tmp_path / "mine")]) == 0
    report = (tmp_path / "mine" / "report.md").read_text()
    assert "| SGD (stored baseline)" in report and "| Momentum (stored baseline)" in report and "| Adam " in report
    assert "only step figures (steps to target, the performance profile) and metrics are compared" in report
    row = next(line for line in report.splitlines() if line.startswith("| SGD (stored baseline)"))
    assert row.rstrip(" |").endswith("-")  # no seconds for records from another machine
    mine = [p for p in (tmp_path / "mine" / "runs").glob("*.json")]
    assert len(mine) == 2 + 2  # only Adam was tuned and run
    # `bench report` adds the stored records again
    (tmp_path / "mine" / "report.md").unlink()
    assert main(["bench", "report", str(tmp_path / "mine"), "--no-plots", "--quiet"]) == 0
    assert "| SGD (stored baseline)" in (tmp_path / "mine" / "report.md").read_text()
    capsys.readouterr()
    assert main(args[:-4] + ["--budget", "3", "--jobs", "1", "--no-plots", "--quiet", "--out",
                             str(tmp_path / "other")]) == 1
    assert "--baselines compares with records of the quick protocol" in capsys.readouterr().err
