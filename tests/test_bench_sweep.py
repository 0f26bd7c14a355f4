"""Sweeps: resume, reproducibility, executors (sequential, process pool, Dask) and the written report."""

import csv
import json
import os

import pytest

from layergraph.bench import (LocalProcessPool, SequentialExecutor, SweepConfig, Task, TaskError, mean_ci,
                              read_records, run_all, run_sweep, strip_timings, write_report)
from layergraph.bench.executors import BLAS_THREAD_VARS

CONFIG = SweepConfig(problems=("logreg",), optimizers=("sgd", "adam"), budget=2, seeds=2, epochs=2)


def records(path):
    return {k: strip_timings(v) for k, v in read_records(path / "runs").items()}


@pytest.fixture(scope="module")
def sequential(tmp_path_factory):
    out = tmp_path_factory.mktemp("seq")
    with SequentialExecutor() as ex:
        res = run_sweep(CONFIG, ex, out)
    return out, res


def test_sweep_writes_one_record_per_run_with_explicit_seeds(sequential):
    out, res = sequential
    recs = read_records(out / "runs")
    assert len(recs) == CONFIG.n_runs == 8 and len(res["ran"]) == 8
    finals = [r for r in recs.values() if r["phase"] == "final"]
    assert sorted(r["seed"] for r in finals) == [0, 0, 1, 1]
    for r in finals:  # the final runs use the selected tuning setting
        assert r["hyperparameters"] == res["selection"]["logreg"][r["optimizer"]]["hyperparameters"]
    assert json.loads((out / "protocol.json").read_text())["budget"] == 2


def test_same_sweep_twice_gives_identical_records_apart_from_timings(sequential, tmp_path):
    out, _ = sequential
    with SequentialExecutor() as ex:
        run_sweep(CONFIG, ex, tmp_path)
    a, b = records(out), records(tmp_path)
    assert a == b
    raw = read_records(out / "runs")
    assert all("wall_seconds" in r and "seconds" in r["history"] for r in raw.values())


def test_resume_skips_finished_runs(sequential, tmp_path):
    out, _ = sequential
    import shutil

    shutil.copytree(out, tmp_path / "r")
    with SequentialExecutor() as ex:
        again = run_sweep(CONFIG, ex, tmp_path / "r")
    assert again["ran"] == [] and len(again["skipped"]) == 8
    victim = sorted((tmp_path / "r" / "runs").glob("*final*.json"))[0]
    victim.unlink()
    with SequentialExecutor() as ex:
        again = run_sweep(CONFIG, ex, tmp_path / "r")
    assert again["ran"] == [victim.stem]
    assert records(tmp_path / "r") == records(out)


def boom(*, seed):
    if seed == 1:
        raise RuntimeError("bad seed")
    return {"value": seed}


def test_failed_tasks_are_reported_after_the_others_and_retried(tmp_path):
    tasks = [Task(f"t{i}", boom, seed=i) for i in range(3)]
    with pytest.raises(TaskError, match="t1"):
        with SequentialExecutor() as ex:
            run_all(tasks, ex, tmp_path)
    assert sorted(p.stem for p in tmp_path.glob("*.json")) == ["t0", "t2"]
    with pytest.raises(ValueError, match="duplicate"):
        run_all([tasks[0], tasks[0]], SequentialExecutor(), tmp_path)


def test_process_pool_gives_the_same_records_and_one_blas_thread(sequential, tmp_path):
    out, _ = sequential
    before = {k: os.environ.get(k) for k in BLAS_THREAD_VARS}
    with LocalProcessPool(2) as pool:
        run_sweep(CONFIG, pool, tmp_path)
        seen = {pool.submit(os.getenv, k).result() for k in BLAS_THREAD_VARS}
    assert seen == {"1"}
    assert {k: os.environ.get(k) for k in BLAS_THREAD_VARS} == before  # the parent's environment is restored
    assert records(tmp_path) == records(out)


def test_report_files_and_ci_match_the_records(sequential):
    out, _ = sequential
    files = write_report(out, plots=False)
    rows = list(csv.DictReader(open(files["csv"], encoding="utf-8")))
    assert len(rows) == 8
    text = files["report"].read_text(encoding="utf-8")
    for opt in ("SGD", "Adam"):
        accs = [float(r["test_metric"]) for r in rows if r["optimizer"] == opt and r["phase"] == "final"]
        mean, half = mean_ci(accs)
        assert f"{mean:.4f} ± {half:.4f}" in text
    assert "Performance profile" in text and "| SGD" in text


def test_report_plots_are_png_files(sequential):
    pytest.importorskip("matplotlib")
    out, _ = sequential
    files = write_report(out, plots=True)
    assert {p.name for p in files["plots"]} == {"curves-logreg.png", "sensitivity-logreg.png", "profile.png"}
    for p in files["plots"]:
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_dask_cluster_gives_the_same_records(sequential, tmp_path):
    distributed = pytest.importorskip("distributed")
    from layergraph.bench import DaskExecutor

    out, _ = sequential
    cluster = distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, host="127.0.0.1",
                                       dashboard_address=None)
    with DaskExecutor(distributed.Client(cluster), cluster) as ex:
        run_sweep(CONFIG, ex, tmp_path)
    assert records(tmp_path) == records(out)


def test_report_flags_a_learning_rate_selected_at_the_edge_of_the_range():
    from layergraph.bench.report_notes import at_edge as _at_edge   # a grid search, or no range known

    tuned = [{"hyperparameters": {"lr": v}} for v in (0.001, 0.01, 0.1)]
    assert _at_edge({"lr": 0.1}, tuned) and _at_edge({"lr": 0.001}, tuned)
    assert not _at_edge({"lr": 0.01}, tuned)
    assert not _at_edge({"lr": 0.1}, tuned[1:])  # two values: every value is an edge, no signal


def blas_threads_now():
    from threadpoolctl import threadpool_info

    return sorted({p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"})


def test_sequential_executor_runs_with_one_blas_thread():
    pytest.importorskip("threadpoolctl")
    with SequentialExecutor() as ex:
        assert ex.submit(blas_threads_now).result() in ([1], [])
    with SequentialExecutor(blas_threads=None) as ex:
        assert ex.submit(blas_threads_now).result() == blas_threads_now()
