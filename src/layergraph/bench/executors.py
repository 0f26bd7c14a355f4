"""Executors for benchmark sweeps, all behind the ``concurrent.futures.Executor`` interface.

:class:`SequentialExecutor` runs in the calling thread (``--jobs 1``, tests),
:class:`LocalProcessPool` is a local process pool with one BLAS thread per worker
(the default), and :class:`DaskExecutor` runs on a Dask distributed cluster
through ``Client.get_executor()`` (needs the ``[dask]`` extra).
:func:`make_executor` picks one from command-line style options.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import multiprocessing
import os
import threading

__all__ = [
    "SequentialExecutor",
    "LocalProcessPool",
    "DaskExecutor",
    "BLAS_THREAD_VARS",
    "process_executor",
    "dask_executor",
    "make_executor",
]


class SequentialExecutor(cf.Executor):
    """An executor that runs each call immediately in the calling thread.

    For ``--jobs 1``, debugging (tracebacks and breakpoints work as usual) and
    tests.  ``submit`` returns an already finished future; an exception raised by
    the call is stored in the future, as with the other executors.

    Parameters
    ----------
    blas_threads : int or None, default 1
        BLAS threads during each call, applied with threadpoolctl when it is
        installed (otherwise the process keeps the count it started with).  Matrix
        products can round differently with another thread count, so one thread,
        as in the pool's workers, makes the records equal to theirs bit for bit.
        None leaves the BLAS alone.
    """

    def __init__(self, blas_threads: int | None = 1):
        self._shutdown = False
        self.blas_threads = None if blas_threads is None else _check_workers(blas_threads, "SequentialExecutor",
                                                                              "blas_threads")

    def submit(self, fn, /, *args, **kwargs) -> cf.Future:
        if self._shutdown:
            raise RuntimeError("SequentialExecutor: cannot submit after shutdown")
        fut: cf.Future = cf.Future()
        fut.set_running_or_notify_cancel()
        try:
            with _blas_limit(self.blas_threads):
                result = fn(*args, **kwargs)
        except Exception as exc:
            fut.set_exception(exc)
        else:
            fut.set_result(result)
        return fut

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._shutdown = True


def _blas_limit(n):
    """threadpoolctl's limit to ``n`` BLAS threads, or a do-nothing context without it (or for None)."""
    if n is not None:
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:
            pass
        else:
            return threadpool_limits(n, user_api="blas")
    return contextlib.nullcontext()


def _check_workers(n, who: str, arg: str) -> int:
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"{who}: {arg} must be an int, got {type(n).__name__}")
    if n < 1:
        raise ValueError(f"{who}: {arg} must be >= 1, got {n}")
    return n


#: Thread-count variables of the common BLAS / OpenMP runtimes, read once when numpy loads.
BLAS_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS",
                    "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")
_ENV_LOCK = threading.Lock()


def _limit_blas_threads(n: int) -> None:
    """Worker initializer: layergraph's own kernels get ``n`` threads; the BLAS pools are also capped through
    threadpoolctl when it is installed."""
    from .. import threads
    threads.set_num_threads(n, blas=False)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return
    threadpool_limits(n)


class LocalProcessPool(cf.ProcessPoolExecutor):
    """A process pool whose workers start with ``blas_threads`` BLAS / OpenMP threads each.

    The BLAS libraries read their thread count from the environment when numpy
    is first imported, which in a "spawn" worker happens before any user code
    runs.  So the variables of :data:`BLAS_THREAD_VARS` are set in the parent's
    environment only while :meth:`submit` runs (the pool starts its worker
    processes there) and restored afterwards.  When threadpoolctl is installed,
    the worker initializer applies the same limit through it as well.

    Parameters
    ----------
    max_workers : int, optional
        Default ``os.cpu_count()``.
    blas_threads : int, default 1
    mp_context : str, default "spawn"
        "spawn" gives every worker a fresh interpreter (no inherited BLAS pools
        or locks); scripts must guard their entry point with
        ``if __name__ == "__main__":``.
    """

    def __init__(self, max_workers: int | None = None, *, blas_threads: int = 1, mp_context: str = "spawn"):
        self.blas_threads = _check_workers(blas_threads, "LocalProcessPool", "blas_threads")
        super().__init__(max_workers=max_workers, mp_context=multiprocessing.get_context(mp_context),
                         initializer=_limit_blas_threads, initargs=(self.blas_threads,))

    def submit(self, fn, /, *args, **kwargs) -> cf.Future:
        value = str(self.blas_threads)
        with _ENV_LOCK:
            saved = {k: os.environ.get(k) for k in BLAS_THREAD_VARS}
            os.environ.update({k: value for k in BLAS_THREAD_VARS})
            try:
                return super().submit(fn, *args, **kwargs)
            finally:
                for k, v in saved.items():
                    if v is None:
                        os.environ.pop(k, None)
                    else:
                        os.environ[k] = v


def process_executor(jobs: int | None = None, mp_context: str = "spawn", blas_threads: int = 1) -> LocalProcessPool:
    """A local process pool of single-BLAS-thread workers (see :class:`LocalProcessPool`).

    Parameters
    ----------
    jobs : int, optional
        Number of worker processes; default ``os.cpu_count()``.
    mp_context : str, default "spawn"
    blas_threads : int, default 1
        BLAS / OpenMP threads per worker: one, so that ``jobs`` workers use ``jobs`` cores.
    """
    if jobs is not None:
        _check_workers(jobs, "process_executor", "jobs")
    return LocalProcessPool(jobs, blas_threads=blas_threads, mp_context=mp_context)


class DaskExecutor(cf.Executor):
    """A ``concurrent.futures`` view of a Dask client that owns the client (and cluster).

    ``submit`` sends the call with ``client.submit(..., pure=False)`` and returns a
    ``concurrent.futures.Future``.  As soon as a call finishes its result is copied
    into that future and the Dask future is released, so the worker forgets the
    result at once: a worker lost later costs no finished run (the scheduler would
    otherwise recompute every result still held on it).  ``shutdown`` cancels what
    is pending and closes the client and, if it was started here, the local cluster.
    Use as a context manager.  Dask's nannies start their workers with
    ``OMP_NUM_THREADS``, ``MKL_NUM_THREADS`` and ``OPENBLAS_NUM_THREADS`` set to 1
    (the ``distributed.nanny.pre-spawn-environ`` setting), so a worker with one
    thread uses one core, as in :class:`LocalProcessPool`.
    """

    def __init__(self, client, cluster=None):
        self.client = client
        self.cluster = cluster
        self._pending: dict = {}
        self._lock = threading.Lock()
        self._shutdown = False

    @property
    def pending(self) -> int:
        """Calls submitted whose result has not arrived yet (each holds one Dask future)."""
        with self._lock:
            return len(self._pending)

    def submit(self, fn, /, *args, **kwargs) -> cf.Future:
        if self._shutdown:
            raise RuntimeError("DaskExecutor: cannot submit after shutdown")
        dfut = self.client.submit(fn, *args, pure=False, **kwargs)
        out: cf.Future = cf.Future()
        with self._lock:
            self._pending[id(out)] = dfut

        def transfer(f):
            try:
                result = f.result()
            except cf.CancelledError:
                if out.cancel():
                    out.set_running_or_notify_cancel()
            except BaseException as exc:  # the call raised on the worker (or the worker was lost for good)
                if not out.done():
                    out.set_exception(exc)
            else:
                if not out.done():
                    out.set_result(result)
            finally:
                with self._lock:
                    self._pending.pop(id(out), None)
                f.release()

        def cancel_remote(c):
            if c.cancelled():
                with self._lock:
                    d = self._pending.pop(id(c), None)
                if d is not None:
                    d.cancel()

        out.add_done_callback(cancel_remote)
        dfut.add_done_callback(transfer)
        return out

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        if self._shutdown:
            return
        self._shutdown = True
        try:
            with self._lock:
                pending = list(self._pending.values())
                self._pending.clear()
            if pending:
                if wait and not cancel_futures:
                    from distributed import wait as dask_wait

                    dask_wait(pending)
                else:
                    self.client.cancel(pending)
        finally:
            self.client.close()
            if self.cluster is not None:
                self.cluster.close()


def dask_executor(scheduler: str | None = None, local_workers: int | None = None) -> DaskExecutor:
    """An executor on a Dask distributed cluster (needs ``pip install layergraph[dask]``).

    Parameters
    ----------
    scheduler : str, optional
        Address of a running scheduler, e.g. ``"tcp://10.0.0.5:8786"``.
    local_workers : int, optional
        Instead of connecting, start a ``LocalCluster`` of this many single-threaded
        worker processes bound to 127.0.0.1 with the dashboard off.  When neither
        argument is given, a local cluster with ``os.cpu_count()`` workers is started.

    Returns
    -------
    DaskExecutor
        Shut it down (or use ``with``) to close the client and the local cluster.
    """
    if scheduler is not None and local_workers is not None:
        raise ValueError("dask_executor: give either scheduler or local_workers, not both")
    if scheduler is not None and not isinstance(scheduler, str):
        raise TypeError(f"dask_executor: scheduler must be an address string, got {type(scheduler).__name__}")
    if local_workers is not None:
        _check_workers(local_workers, "dask_executor", "local_workers")
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:
        raise ImportError(
            "dask_executor needs Dask distributed, which is not installed: pip install layergraph[dask]"
        ) from exc
    if scheduler is not None:
        return DaskExecutor(Client(scheduler))
    cluster = LocalCluster(
        n_workers=local_workers or os.cpu_count() or 1,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
    )
    try:
        client = Client(cluster)
    except BaseException:
        cluster.close()
        raise
    return DaskExecutor(client, cluster)


def make_executor(
    jobs: int | None = None, scheduler: str | None = None, dask_local: int | None = None
) -> cf.Executor:
    """Choose an executor from command-line style options.

    ``scheduler`` -> Dask client on that address; ``dask_local=N`` -> local Dask
    cluster of N workers; ``jobs=1`` -> :class:`SequentialExecutor`; otherwise a
    process pool of ``jobs`` workers (default: one per CPU).
    """
    if scheduler is not None or dask_local is not None:
        if jobs is not None:
            raise ValueError("make_executor: jobs cannot be combined with scheduler or dask_local")
        return dask_executor(scheduler=scheduler, local_workers=dask_local)
    if jobs is not None and _check_workers(jobs, "make_executor", "jobs") == 1:
        return SequentialExecutor()
    return process_executor(jobs)
