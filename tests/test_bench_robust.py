"""Robust sweeps: a worker killed mid-sweep costs no finished run; a results directory refuses another sweep."""

import os
import signal
import sys
import time

import pytest

from layergraph.bench import SequentialExecutor, SweepConfig, Task, read_records, run_all, run_sweep
from layergraph.bench.sweep import SweepMismatchError


def slow_task(*, seed, log):
    """Sleeps a little, then appends its seed to ``log`` (one line per execution, so a rerun shows twice)."""
    time.sleep(0.4)
    with open(log, "a", encoding="utf-8") as fh:
        fh.write(f"{seed}\n")
    return {"value": seed}


@pytest.mark.filterwarnings("ignore:Port .* is already in use:UserWarning")  # another cluster on this machine
def test_killed_dask_worker_recomputes_no_finished_run(tmp_path):
    distributed = pytest.importorskip("distributed")
    cloudpickle = pytest.importorskip("cloudpickle")
    from layergraph.bench import DaskExecutor

    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    log = tmp_path / "executions.log"
    tasks = [Task(f"t{i:02d}", slow_task, seed=i, kwargs={"log": str(log)}) for i in range(24)]
    cluster = distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, host="127.0.0.1",
                                       dashboard_address=None)
    client = distributed.Client(cluster)
    pids = list(client.run(os.getpid).values())
    finished_at_kill = []

    def progress(done, total, tid):
        if done == 8 and not finished_at_kill:
            finished_at_kill.extend(p.stem for p in (tmp_path / "runs").glob("*.json"))
            os.kill(pids[0], signal.SIGKILL)

    try:
        with DaskExecutor(client, cluster) as ex:
            summary = run_all(tasks, ex, tmp_path / "runs", progress=progress)
            time.sleep(1.0)  # give a recomputation (the defect) time to show in the log
    finally:
        cloudpickle.unregister_pickle_by_value(sys.modules[__name__])
    assert len(finished_at_kill) >= 8
    assert sorted(read_records(tmp_path / "runs")) == [t.id for t in tasks] == sorted(summary.records)
    runs = [int(line) for line in log.read_text().split()]
    for tid in finished_at_kill:  # every run finished before the kill ran exactly once
        assert runs.count(int(tid[1:])) == 1, (tid, sorted(runs))


def test_python_run_sweep_refuses_a_different_sweep_in_the_same_directory(tmp_path):
    small = SweepConfig(problems=("logreg",), optimizers=("sgd",), budget=1, seeds=1, epochs=1)
    with SequentialExecutor() as ex:
        run_sweep(small, ex, tmp_path)
        bigger = SweepConfig(problems=("logreg",), optimizers=("sgd",), budget=2, seeds=1, epochs=1)
        with pytest.raises(SweepMismatchError, match="budget"):
            run_sweep(bigger, ex, tmp_path)
    assert len(read_records(tmp_path / "runs")) == 2  # nothing was added


def test_final_seeds_may_not_meet_the_tuning_seeds():
    with pytest.raises(ValueError, match="overlap the tuning seeds 10000..10000"):
        SweepConfig(problems=("logreg",), optimizers=("sgd",), budget=2, seeds=5, seed_base=9999)
    with pytest.raises(ValueError, match="overlap"):
        SweepConfig(problems=("logreg",), optimizers=("sgd",), budget=2, seeds=4, tune_seed=3, tune_seeds=3)
    SweepConfig(problems=("logreg",), optimizers=("sgd",), budget=2, seeds=5, seed_base=9995)  # 9995..9999: fine


def test_report_prints_categorical_hyperparameters(tmp_path):
    import json

    from layergraph.bench import write_report

    cfg = SweepConfig(problems=("logreg",), optimizers=("sgd",), budget=1, seeds=2, epochs=1)
    with SequentialExecutor() as ex:
        run_sweep(cfg, ex, tmp_path)
    for p in (tmp_path / "runs").glob("*.json"):  # a schedule chosen by name, as a categorical search gives
        rec = json.loads(p.read_text())
        rec["hyperparameters"]["schedule"] = "warmup_cosine"
        p.write_text(json.dumps(rec))
    text = write_report(tmp_path, plots=False)["report"].read_text()
    assert "schedule=warmup_cosine" in text
