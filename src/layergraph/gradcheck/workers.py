"""Spreading element evaluations over worker processes (``gradcheck(..., workers=n)``, ``--jobs n``).

The elements of one tensor are split into chunks evaluated by ``n`` forked processes. Each process inherits the
working copy of the layer (copy-on-write), perturbs its own copy and returns ``phi``/``scale``/kink counts, which
are exactly what the serial loop would compute (same steps, same restored state before every evaluation), so
the report does not depend on the number of workers. Where ``fork`` is unavailable, or the tensor is small, the
work runs in the calling process.
"""

import multiprocessing

import numpy as np

MIN_ELEMENTS = 512
"""Tensors with fewer elements to evaluate are not worth a process pool."""
CHUNKS_PER_WORKER = 4

_JOB = None


def _work(rows):
    from .numeric import evaluate

    obj, name, value, flat, h, offsets, batched = _JOB
    before = obj.evaluations
    out = evaluate(obj, name, value, flat[rows], h[rows], offsets, batched)
    return rows, out, obj.evaluations - before


def can_fork():
    """True when worker processes can be forked on this platform."""
    return "fork" in multiprocessing.get_all_start_methods()


def evaluate_parallel(obj, name, value, flat, h, offsets, batched, workers):
    """Like :func:`~.numeric.evaluate`, with the elements spread over *workers* processes."""
    from .batched_params import param_phis
    from .numeric import evaluate

    if workers <= 1 or len(flat) < MIN_ELEMENTS or not can_fork():
        return evaluate(obj, name, value, flat, h, offsets, batched)
    # prepare everything cached lazily (prefix activations, stacking plans) once, before forking
    obj.owner_index(name)
    if not obj.is_input(name):
        param_phis(obj, name, value, flat[:0], h[:0], offsets)
    global _JOB
    _JOB = (obj, name, value, np.asarray(flat), np.asarray(h), offsets, batched)
    count = workers * CHUNKS_PER_WORKER     # strided chunks: each spans every sample (stacked inputs stay full)
    chunks = [c for c in (np.arange(i, len(flat), count) for i in range(count)) if len(c)]
    k, m = len(flat), len(offsets)
    results = [np.zeros((k, m)), np.zeros((k, m)), np.zeros((k, m), dtype=np.int64), np.zeros((k, m), np.int64)]
    try:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            for rows, out, evaluations in pool.imap_unordered(_work, chunks):
                for dest, part in zip(results, out):
                    dest[rows] = part
                obj.evaluations += evaluations
    finally:
        _JOB = None
    return tuple(results)
