"""``layergraph bench``: smoke tests with tiny budgets, and one-line errors."""

import json
import subprocess
import sys

import pytest

from layergraph.cli import main

TINY = ["--problem", "logreg", "--optimizers", "sgd,Adam", "--budget", "2", "--seeds", "2", "--epochs", "1",
        "--jobs", "1", "--no-plots"]


def test_bench_run_then_report(tmp_path, capsys):
    out = tmp_path / "res"
    assert main(["bench", "run", *TINY, "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert "| SGD" in captured.out and "| Adam" in captured.out and "8 runs in" in captured.out
    assert "8/8 runs" in captured.err  # the progress display
    assert len(list((out / "runs").glob("*.json"))) == 8
    assert (out / "results.csv").is_file() and (out / "report.md").is_file()
    first = (out / "report.md").read_text()
    assert main(["bench", "run", *TINY, "--out", str(out), "--quiet"]) == 0  # resumed: nothing to run
    assert "0 runs in" in capsys.readouterr().out
    (out / "report.md").unlink()
    assert main(["bench", "report", str(out), "--no-plots", "--quiet"]) == 0
    assert (out / "report.md").read_text() == first


def test_bench_run_refuses_a_directory_of_another_sweep(tmp_path, capsys):
    out = tmp_path / "res"
    assert main(["bench", "run", *TINY, "--out", str(out), "--quiet"]) == 0
    capsys.readouterr()
    changed = [a if a != "2" else "3" for a in TINY]
    assert main(["bench", "run", *changed, "--out", str(out), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "different sweep" in err and "budget" in err


@pytest.mark.parametrize("args, message", [
    (["--optimizers", "sgd,adamz"], "unknown optimizer 'adamz'"),
    (["--problem", "imagenet"], "unknown problem 'imagenet'"),
])
def test_bench_run_bad_names_are_one_line_errors(tmp_path, capsys, args, message):
    assert main(["bench", "run", "--jobs", "1", "--out", str(tmp_path / "x"), *args]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err


def test_bench_run_mnist_without_files_says_where_it_looked(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("LAYERGRAPH_DATA", str(tmp_path / "nowhere"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert main(["bench", "run", "--problem", "mnist-mlp", "--jobs", "1", "--out", str(tmp_path / "x")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "nowhere" in err


def test_bench_report_of_a_missing_directory(tmp_path, capsys):
    assert main(["bench", "report", str(tmp_path / "none")]) == 1
    assert "does not exist" in capsys.readouterr().err


def test_bench_functions(tmp_path, capsys):
    out = tmp_path / "fn"
    assert main(["bench", "functions", "--functions", "bowl,rosenbrock", "--optimizers", "sgd,adam", "--steps",
                 "30", "--jobs", "1", "--no-plots", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "SGD(lr=" in text and "Adam(lr=" in text and "rosenbrock" in text
    assert len(list((out / "runs").glob("*.json"))) == 2 * 2 * 13
    assert (out / "functions.md").read_text().count("| bowl") == 2


def test_console_entry_point_runs_bench_in_a_subprocess(tmp_path):
    out = tmp_path / "res"
    proc = subprocess.run([sys.executable, "-m", "layergraph", "bench", "run", *TINY, "--jobs", "2", "--out",
                           str(out), "--quiet"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    recs = [json.loads(p.read_text()) for p in (out / "runs").glob("*.json")]
    assert len(recs) == 8 and {r["problem"]["name"] for r in recs} == {"logreg"}


def test_quick_duration_is_quoted_the_same_in_help_readme_and_docs(capsys):
    from pathlib import Path

    from layergraph.cli.bench_cmd import QUICK_DURATION

    root = Path(__file__).resolve().parents[1]
    assert f"`layergraph bench run --quick` ({QUICK_DURATION})" in (root / "README.md").read_text()
    assert f"layergraph bench run --quick                       # {QUICK_DURATION}" in (
        root / "docs" / "benchmarking.md").read_text()
    with pytest.raises(SystemExit):
        main(["bench", "run", "--help"])
    assert QUICK_DURATION in " ".join(capsys.readouterr().out.split())
