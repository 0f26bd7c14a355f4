"""Run many seeded benchmark tasks on any ``concurrent.futures.Executor``.

A :class:`Task` is a picklable description of one run: a stable id, an explicit
seed, a module-level function and its keyword arguments.  :func:`run_all` submits
the tasks to an executor and, in the calling process, writes one JSON record per
finished task to ``out_dir/<id>.json`` atomically.  Tasks whose record already
exists are skipped, so an interrupted sweep resumes where it stopped.  Because
every task carries its own seed, the records do not depend on which worker ran
what, or in which order.  The executors are in :mod:`layergraph.bench.executors`.
"""

from __future__ import annotations

import concurrent.futures as cf
import hashlib
import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Mapping

from .records import jsonable, qualified_name, write_json_atomic

__all__ = [
    "Task",
    "TaskError",
    "RunSummary",
    "RECORD_KEYS",
    "execute_task",
    "run_all",
    "record_path",
    "stable_id",
]

_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+=-]{0,199}$")


@dataclass(frozen=True)
class Task:
    """One unit of work: ``fn(seed=seed, **kwargs)`` returning a JSON-friendly dict.

    Parameters
    ----------
    id : str
        Stable identifier, also the record's file name; letters, digits and
        ``. _ + = -``, at most 200 characters, not starting with a dot or dash.
    fn : callable
        A module-level (hence picklable) function returning a mapping.
    seed : int, >= 0
        Passed to ``fn`` as ``seed=``; the only source of randomness of the run.
    kwargs : mapping
        Other keyword arguments of ``fn``; must be picklable.  Recorded in the JSON
        (callables by their qualified name).
    """

    id: str
    fn: Callable[..., Mapping]
    seed: int
    kwargs: Mapping = field(default_factory=dict)

    def __post_init__(self):
        if not isinstance(self.id, str):
            raise TypeError(f"Task: id must be a str, got {type(self.id).__name__}")
        if not _ID_RE.match(self.id):
            raise ValueError(
                f"Task: id {self.id!r} is not a valid file name stem; expected letters, digits and '._+=-', "
                "1-200 characters, starting with a letter or digit"
            )
        if not callable(self.fn):
            raise TypeError(f"Task {self.id!r}: fn must be callable, got {type(self.fn).__name__}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise TypeError(f"Task {self.id!r}: seed must be an int, got {type(self.seed).__name__}")
        if self.seed < 0:
            raise ValueError(f"Task {self.id!r}: seed must be >= 0, got {self.seed}")
        if not isinstance(self.kwargs, Mapping):
            raise TypeError(f"Task {self.id!r}: kwargs must be a mapping, got {type(self.kwargs).__name__}")
        if "seed" in self.kwargs:
            raise ValueError(f"Task {self.id!r}: pass the seed as Task.seed, not inside kwargs")


#: Keys :func:`execute_task` puts in every record; a task's result may not use them.
RECORD_KEYS = ("id", "seed", "fn", "params", "wall_seconds")


def execute_task(task: Task) -> dict:
    """Run one task and build its record (this runs on the worker).

    Returns
    -------
    dict
        ``{"id", "seed", "fn", "params", **result, "wall_seconds"}``: ``params`` is the
        task's kwargs made JSON-friendly, then the keys of what ``fn`` returned, then
        the wall-clock seconds of the call.
    """
    t0 = time.perf_counter()
    result = task.fn(seed=task.seed, **task.kwargs)
    wall = time.perf_counter() - t0
    if not isinstance(result, Mapping):
        raise TypeError(f"Task {task.id!r}: {qualified_name(task.fn)} returned {type(result).__name__}, "
                        "expected a dict")
    clash = sorted(set(result) & set(RECORD_KEYS))
    if clash:
        raise ValueError(f"Task {task.id!r}: {qualified_name(task.fn)} returned reserved keys {clash}")
    return {
        "id": task.id,
        "seed": task.seed,
        "fn": qualified_name(task.fn),
        "params": jsonable(dict(task.kwargs), lenient=True),
        **jsonable(dict(result)),
        "wall_seconds": wall,
    }


def stable_id(prefix: str, **fields) -> str:
    """An id that depends only on ``prefix`` and the field values.

    ``stable_id("rosenbrock-adam", lr=0.01, seed=3)`` gives
    ``"rosenbrock-adam-<12 hex digits>"``, the digits hashing the fields as
    canonical JSON (callables by qualified name), so re-creating a sweep yields the
    same ids and resuming finds the finished records.
    """
    canon = json.dumps(jsonable(fields, lenient=True), sort_keys=True, separators=(",", ":"))
    return f"{prefix}-{hashlib.sha256(canon.encode()).hexdigest()[:12]}"


def record_path(out_dir, task_id: str) -> Path:
    """Path of the JSON record of ``task_id`` in ``out_dir``."""
    return Path(out_dir) / f"{task_id}.json"


def _load_finished(path: Path, task_id: str) -> dict | None:
    try:
        with open(path, encoding="utf-8") as fh:
            rec = json.load(fh)
    except (OSError, ValueError):
        return None
    return rec if isinstance(rec, dict) and rec.get("id") == task_id else None


class TaskError(RuntimeError):
    """Raised by :func:`run_all` after the sweep when some tasks failed.

    Attributes
    ----------
    failures : dict
        Task id -> the exception it raised.  Their records were not written, so
        running the sweep again retries exactly these tasks.
    """

    def __init__(self, failures: dict):
        self.failures = failures
        first_id, first_exc = next(iter(failures.items()))
        super().__init__(
            f"{len(failures)} task(s) failed: {sorted(failures)}; first failure in {first_id!r}: "
            f"{type(first_exc).__name__}: {first_exc}"
        )


@dataclass
class RunSummary:
    """What :func:`run_all` did.

    Attributes
    ----------
    records : dict
        Task id -> record, for every task, in task order.
    ran : list of str
        Ids executed in this call, in completion order.
    skipped : list of str
        Ids whose record already existed.
    """

    records: dict
    ran: list
    skipped: list


def run_all(
    tasks: Iterable[Task],
    executor: cf.Executor,
    out_dir,
    progress: Callable[[int, int, str], None] | None = None,
) -> RunSummary:
    """Run tasks on an executor, writing one JSON record per finished task.

    Parameters
    ----------
    tasks : iterable of Task
        Ids must be unique.
    executor : concurrent.futures.Executor
        Any executor; it is not shut down here.
    out_dir : str or Path
        Created if missing.  ``<id>.json`` is written with a temporary file and
        ``os.replace``, so a record is either complete or absent.  A task whose
        record already exists (with the same id inside) is skipped.
    progress : callable, optional
        Called as ``progress(done, total, task_id)`` after each executed task;
        ``total`` counts the tasks that had to run.

    Returns
    -------
    RunSummary

    Notes
    -----
    Each record is written in the calling process as its future completes, and the
    future is dropped right after, so an executor that keeps results on remote
    workers (Dask) can release them: losing a worker later never loses or repeats
    a finished run.

    Raises
    ------
    TaskError
        After all other tasks finished and were written, if some tasks raised.
    """
    if not isinstance(executor, cf.Executor):
        raise TypeError(f"run_all: executor must be a concurrent.futures.Executor, got {type(executor).__name__}")
    if progress is not None and not callable(progress):
        raise TypeError(f"run_all: progress must be callable or None, got {type(progress).__name__}")
    tasks = list(tasks)
    seen = set()
    for i, t in enumerate(tasks):
        if not isinstance(t, Task):
            raise TypeError(f"run_all: tasks[{i}] must be a Task, got {type(t).__name__}")
        if t.id in seen:
            raise ValueError(f"run_all: duplicate task id {t.id!r}")
        seen.add(t.id)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)

    records: dict = {}
    skipped, todo = [], []
    for t in tasks:
        rec = _load_finished(record_path(out, t.id), t.id)
        if rec is None:
            todo.append(t)
        else:
            records[t.id] = rec
            skipped.append(t.id)

    ran: list = []
    failures: dict = {}
    futures = {}
    try:
        for t in todo:
            futures[executor.submit(execute_task, t)] = t.id
        for fut in cf.as_completed(futures):
            tid = futures.pop(fut)  # forget the future: its result leaves the worker as soon as it is written
            try:
                rec = fut.result()
            except Exception as exc:  # the sweep goes on; failures are reported at the end
                failures[tid] = exc
            else:
                write_json_atomic(record_path(out, tid), rec)
                records[tid] = rec
                ran.append(tid)
            if progress is not None:
                progress(len(ran) + len(failures), len(todo), tid)
    finally:
        for fut in futures:
            fut.cancel()
    if failures:
        raise TaskError(failures) from next(iter(failures.values()))
    return RunSummary(records={t.id: records[t.id] for t in tasks}, ran=ran, skipped=skipped)
