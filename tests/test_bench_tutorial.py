"""The tutorial of docs/benchmarking.md, run as written: a plugin file, then `layergraph bench run --plugin` on a
process pool (-j 2), a local Dask cluster (--dask-local 2) and a scheduler with two workers started here on
127.0.0.1 (--scheduler); the three give identical records, and the report is in the problem's metric."""

import re
import shlex
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from layergraph.bench import read_records, strip_timings

ROOT = Path(__file__).resolve().parents[1]
DOC = (ROOT / "docs" / "benchmarking.md").read_text(encoding="utf-8")


def tutorial_block(marker, lang):
    m = re.search(rf"<!-- {re.escape(marker)} -->\n```{lang}\n(.*?)```", DOC, flags=re.S)
    assert m, f"docs/benchmarking.md has no block after <!-- {marker} -->"
    return m.group(1)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_workers(address, n, timeout=90):
    from distributed import Client

    with Client(address, timeout=timeout) as client:
        client.wait_for_workers(n, timeout=timeout)


def records(path):
    return {k: strip_timings(v) for k, v in read_records(path / "runs").items()}


def test_tutorial_runs_as_written_with_identical_records(tmp_path, monkeypatch, capsys):
    from layergraph.cli import main

    pytest.importorskip("distributed")
    (tmp_path / "my_opt.py").write_text(tutorial_block("tutorial-plugin: my_opt.py", "python"))
    port = str(free_port())
    commands = [c.replace("8786", port) for c in tutorial_block("tutorial-commands", "bash").strip().splitlines()]
    assert [c.split()[:2] for c in commands] == [["layergraph", "bench"]] * 2 + [["dask", "scheduler"],
                                                                                 ["dask", "worker"],
                                                                                 ["layergraph", "bench"]]
    daemons = []
    try:
        for cmd in commands:
            argv = shlex.split(cmd)
            if argv[0] == "dask":  # the same programs as `dask scheduler` / `dask worker`, from this interpreter
                module = {"scheduler": "distributed.cli.dask_scheduler", "worker": "distributed.cli.dask_worker"}
                daemons.append(subprocess.Popen([sys.executable, "-m", module[argv[1]], *argv[2:], "--no-dashboard"],
                                                cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
                if argv[1] == "worker":
                    wait_for_workers(f"tcp://127.0.0.1:{port}", 2)
                continue
            # `layergraph ...` in this process (the console script itself is tested in test_bench_cli.py)
            monkeypatch.chdir(tmp_path)
            assert main(argv[1:] + ["--quiet", "--no-plots"]) == 0, capsys.readouterr().err
    finally:
        for d in reversed(daemons):
            d.terminate()
        for d in reversed(daemons):
            try:
                d.wait(timeout=30)
            except subprocess.TimeoutExpired:
                d.kill()
    pool, local, cluster = (records(tmp_path / d) for d in ("res-pool", "res-dask-local", "res-cluster"))
    assert len(pool) == 2 * (4 + 3)
    assert pool == local == cluster
    assert {r["optimizer"] for r in pool.values()} == {"SignMomentum", "Adam"}
    assert all(r["params"]["plugins"] == [str(tmp_path / "my_opt.py")] for r in pool.values())
    report = (tmp_path / "res-pool" / "report.md").read_text()
    assert "Headline metric: mse (lower is better); target (validation) mse <= 0.05" in report
    assert "test mse (seed interval)" in report and "| SignMomentum" in report
