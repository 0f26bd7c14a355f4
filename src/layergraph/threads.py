"""Threads for layergraph's own kernels: how many, and a parallel loop over independent work units.

NumPy runs each call on one thread, except matrix products, which its BLAS may spread over several. The large
kernels of the convolution, pooling and ReLU layers therefore cut their work into independent *units* (cache-sized
chunks of the batch, or of the values) and hand the units to a small pool of threads: NumPy releases the
interpreter lock inside its copies, element-wise loops and products, so the threads run in parallel. While they do,
BLAS is held to one thread each, so the machine is not oversubscribed.

A unit's result never depends on which thread computed it, and reductions over units (such as a weight gradient
summed over chunks of the batch) add the per-unit results in unit order. So **results are the same bit for bit for
every thread count**.

Holding BLAS to one thread needs ``threadpoolctl`` (the ``[threads]`` extra). Without it the units run one after
the other in the calling thread.

Examples
--------
>>> import layergraph as lg
>>> lg.set_num_threads(2)          # layergraph's kernels and (with threadpoolctl) BLAS: 2 threads
>>> with lg.threads.num_threads(1):
...     n = lg.get_num_threads()
>>> n
1
"""

import contextlib
import itertools
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from . import _blas_threads
from ._blas_threads import blas_info, blas_summary

__all__ = ["set_num_threads", "get_num_threads", "num_threads", "parallel_for", "even_chunks", "batch_chunks",
           "sum_in_order", "blas_info", "blas_summary"]

#: Environment variable read at import for the initial thread count (default: the CPUs this process may use).
ENV_VAR = "LAYERGRAPH_NUM_THREADS"

#: Work units of :func:`batch_chunks` hold about this many array elements.
UNIT_ELEMENTS = 1 << 16

_lock = threading.Lock()
_local = threading.local()
_state = {"threads": None, "pool": None, "pool_size": 0}


def _check_count(n, where):
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"{where}: n must be an int, got {type(n).__name__}")
    if n < 1:
        raise ValueError(f"{where}: n must be >= 1, got {n}")
    return n


def _default_threads():
    value = os.environ.get(ENV_VAR, "").strip()
    if value:
        try:
            return _check_count(int(value), ENV_VAR)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{ENV_VAR} must be a positive integer, got {value!r}") from exc
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:  # not on Linux
        return max(os.cpu_count() or 1, 1)


def get_num_threads():
    """Threads layergraph's kernels may use (the caller's thread included).

    Returns
    -------
    int
        The value of the last :func:`set_num_threads`, else ``LAYERGRAPH_NUM_THREADS``, else the number of CPUs
        this process may run on.
    """
    if _state["threads"] is None:
        _state["threads"] = _default_threads()
    return _state["threads"]


def set_num_threads(n, *, blas=True):
    """Use ``n`` threads in layergraph's kernels and, when *blas* is true, in NumPy's BLAS.

    Parameters
    ----------
    n : int
        Positive thread count, the calling thread included.
    blas : bool, default True
        Also limit NumPy's BLAS to ``n`` threads (through ``threadpoolctl``, when it is installed), as
        ``torch.set_num_threads`` does for PyTorch's pools.
    """
    n = _check_count(n, "set_num_threads")
    _state["threads"] = n
    if blas:
        _blas_threads.set_blas_threads(n)


@contextlib.contextmanager
def num_threads(n, *, blas=True):
    """Context manager: :func:`set_num_threads` ``(n)`` inside, the previous counts restored on exit."""
    previous, previous_blas = get_num_threads(), _blas_threads.get_blas_threads() if blas else None
    set_num_threads(n, blas=blas)
    try:
        yield n
    finally:
        _state["threads"] = previous
        if previous_blas is not None:
            _blas_threads.set_blas_threads(previous_blas)


def _pool(workers):
    with _lock:
        if _state["pool_size"] < workers:
            if _state["pool"] is not None:
                _state["pool"].shutdown(wait=False)
            _state["pool"] = ThreadPoolExecutor(workers, thread_name_prefix="layergraph")
            _state["pool_size"] = workers
        return _state["pool"]


def _forget_pool():
    """After a fork the child has none of the parent's threads: start a new pool when one is needed."""
    _state["pool"], _state["pool_size"] = None, 0


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)


def parallel_for(n_units, fn, *, threads=None, limit_blas=True):
    """Call ``fn(worker, unit)`` for every ``unit`` in ``range(n_units)``, spread over up to ``threads`` threads.

    Units are handed out in order, one at a time, to whichever thread is free; ``worker`` (``0 <= worker <
    threads``) names the calling thread, so that ``fn`` can keep one scratch buffer per worker. ``fn`` must write
    each unit's result to its own place (disjoint slices of an output, or one partial result per unit); the caller
    combines partial results in unit order after the loop, which keeps results independent of the thread count.
    Inside the loop BLAS runs on one thread, and every thread handles floating-point errors as the caller does
    (``np.errstate``, its error callback included). Without ``threadpoolctl``, inside another parallel loop, or with
    one thread or one unit, the units run in order in the calling thread, as ``fn(0, unit)``.

    Parameters
    ----------
    n_units : int
    fn : callable ``(worker: int, unit: int) -> None``
    threads : int, optional
        At most this many threads (default :func:`get_num_threads`).
    limit_blas : bool, default True
        Hold BLAS to one thread inside the loop. Pass False when ``fn`` makes no matrix products: the loop then
        skips changing the BLAS thread count and also runs in parallel without ``threadpoolctl``.

    Raises
    ------
    Exception
        The first exception any unit raised (the remaining units may not have run).
    """
    p = min(get_num_threads() if threads is None else _check_count(threads, "parallel_for"), n_units)
    if p <= 1 or getattr(_local, "inside", False) or (limit_blas and not _blas_threads.can_limit()):
        for unit in range(n_units):
            fn(0, unit)
        return
    counter = itertools.count()
    failed = []
    errors = dict(np.geterr(), call=np.geterrcall())   # per thread in NumPy: the workers take the caller's

    def work(worker):
        _local.inside = True
        try:
            for unit in iter(lambda: next(counter), None):
                if unit >= n_units or failed:
                    return
                fn(worker, unit)
        except BaseException as exc:  # handed to the caller below
            failed.append(exc)
        finally:
            _local.inside = False

    def work_with_errors(worker):
        with np.errstate(**errors):
            work(worker)

    with _blas_threads.one_blas_thread() if limit_blas else contextlib.nullcontext():
        futures = [_pool(p - 1).submit(work_with_errors, w) for w in range(1, p)]
        work(0)
        for f in futures:
            # a worker that has not started by now would find no unit left: do not wait for it to wake up (on the
            # measured machine waking a sleeping thread took 0.05-0.1 ms, as long as many units)
            if not f.cancel():
                f.result()
    if failed:
        raise failed[0]


def even_chunks(n, m):
    """Bounds ``[(start, stop), ...]`` of an even number of contiguous chunks of ``range(n)``, about ``m`` long.

    The count is ``ceil(n / m)``, rounded up to even when above one (so two threads get equal shares), and never
    above ``n``; chunk lengths differ by at most one. The bounds depend only on ``n`` and ``m``, never on the
    thread count, which keeps per-chunk results, and sums of them in chunk order, the same for every thread count.

    Parameters
    ----------
    n : int
        Items to cover (for example the batch size); 0 gives no chunks.
    m : int
        Positive target length of a chunk.

    Returns
    -------
    list of (int, int)
    """
    count = -(-n // max(m, 1))
    count = min(count + (count % 2 if count > 1 else 0), n)
    return [(u * n // count, (u + 1) * n // count) for u in range(count)]


def batch_chunks(n, per_sample, unit=None):
    """:func:`even_chunks` of a batch of ``n`` samples of ``per_sample`` elements, about ``unit`` elements each.

    Parameters
    ----------
    n, per_sample : int
    unit : int, optional
        Target elements per chunk (default :data:`UNIT_ELEMENTS`).
    """
    unit = UNIT_ELEMENTS if unit is None else unit
    return even_chunks(n, max(unit // max(per_sample, 1), 1))


def sum_in_order(parts):
    """``parts[0] + parts[1] + ...`` added left to right (a fixed order, whatever thread computed each part).

    Parameters
    ----------
    parts : sequence of ndarray, all of one shape; at least one.

    Returns
    -------
    ndarray
        A new array.
    """
    total = np.array(parts[0], copy=True)
    for part in parts[1:]:
        total += part
    return total
