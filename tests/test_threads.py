"""layergraph.threads: thread counts, the parallel loop, chunk bounds, and pooling results for every thread count."""

import threading

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import layergraph as lg
from layergraph import threads
from layergraph.layers import AvgPool2D, MaxPool2D
from layergraph.layers import pooling

from test_layers_pooling_fast import loop_pool


@pytest.fixture(autouse=True)
def _restore_threads():
    before = threads.get_num_threads()
    yield
    threads.set_num_threads(before, blas=False)


@pytest.mark.parametrize("n_threads", [1, 2, 3])
@pytest.mark.parametrize("limit_blas", [True, False])
def test_parallel_for_runs_every_unit_once(n_threads, limit_blas):
    seen, lock = [], threading.Lock()

    def fn(worker, unit):
        with lock:
            seen.append((worker, unit, threading.get_ident()))

    threads.parallel_for(17, fn, threads=n_threads, limit_blas=limit_blas)
    assert sorted(u for _, u, _ in seen) == list(range(17))
    assert all(0 <= w < n_threads for w, _, _ in seen)
    # one worker index per thread: scratch buffers keyed by worker are never shared
    ident_of = {}
    for w, _, ident in seen:
        assert ident_of.setdefault(w, ident) == ident


def test_parallel_for_uses_several_threads():
    barrier = threading.Barrier(2, timeout=10)
    idents = set()

    def fn(worker, unit):
        idents.add(threading.get_ident())
        barrier.wait()            # both units must be running at the same time, or this times out

    threads.parallel_for(2, fn, threads=2, limit_blas=False)
    assert len(idents) == 2


def test_parallel_for_workers_handle_floating_point_errors_as_the_caller():
    barrier = threading.Barrier(2, timeout=10)
    seen = {}

    def fn(worker, unit):
        seen[worker] = np.geterr()["invalid"]
        barrier.wait()            # both threads take part

    with np.errstate(invalid="raise"):
        threads.parallel_for(2, fn, threads=2, limit_blas=False)
    assert seen == {0: "raise", 1: "raise"}

    def invalid_on_the_worker(worker, unit):
        barrier.wait()            # both threads take part; only the worker's unit makes an invalid value
        if worker != 0:
            np.multiply(np.inf, np.zeros(3))

    with pytest.raises(FloatingPointError):
        with np.errstate(invalid="raise"):
            threads.parallel_for(2, invalid_on_the_worker, threads=2, limit_blas=False)
    calls = []
    with np.errstate(invalid="call", call=lambda kind, flag: calls.append(kind)):
        threads.parallel_for(2, invalid_on_the_worker, threads=2, limit_blas=False)
    assert calls == ["invalid value"]


def test_parallel_for_raises_what_a_unit_raised():
    def fn(worker, unit):
        if unit == 5:
            raise ValueError("unit 5 failed")

    with pytest.raises(ValueError, match="unit 5 failed"):
        threads.parallel_for(9, fn, threads=2, limit_blas=False)


def test_nested_parallel_for_runs_inner_loop_in_its_thread():
    inner = []

    def outer(worker, unit):
        me = threading.get_ident()
        threads.parallel_for(4, lambda w, u: inner.append((w, threading.get_ident() == me)), threads=2,
                             limit_blas=False)

    threads.parallel_for(2, outer, threads=2, limit_blas=False)
    assert len(inner) == 8 and all(w == 0 and same for w, same in inner)


def test_thread_count_validation_and_context():
    with pytest.raises(ValueError, match="set_num_threads: n must be >= 1, got 0"):
        lg.set_num_threads(0)
    with pytest.raises(TypeError, match="set_num_threads: n must be an int, got float"):
        lg.set_num_threads(2.0)
    lg.set_num_threads(3, blas=False)
    with threads.num_threads(1, blas=False):
        assert lg.get_num_threads() == 1
    assert lg.get_num_threads() == 3


def test_environment_variable(monkeypatch):
    monkeypatch.setitem(threads._state, "threads", None)
    monkeypatch.setenv(threads.ENV_VAR, "5")
    assert threads.get_num_threads() == 5
    monkeypatch.setitem(threads._state, "threads", None)
    monkeypatch.setenv(threads.ENV_VAR, "two")
    with pytest.raises(ValueError, match="LAYERGRAPH_NUM_THREADS must be a positive integer, got 'two'"):
        threads.get_num_threads()
    monkeypatch.setitem(threads._state, "threads", None)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 500), st.integers(1, 600))
def test_even_chunks_cover_the_range(n, m):
    bounds = threads.even_chunks(n, m)
    if n == 0:
        assert bounds == []
        return
    assert [b for b in bounds if b[0] == b[1]] == []
    assert [s for s, _ in bounds] == [0] + [e for _, e in bounds[:-1]]
    assert bounds[-1][1] == n
    count = len(bounds)
    assert count <= n and (count <= 1 or count % 2 == 0 or count == n)
    lengths = [e - s for s, e in bounds]
    assert max(lengths) - min(lengths) <= 1
    assert count >= -(-n // m)


def test_sum_in_order_is_left_to_right():
    parts = np.array([[1e8], [1.0], [-1e8], [1.0]], dtype=np.float32)
    # ((1e8 + 1) - 1e8) + 1 = 1 in float32 (the first 1 is lost); any other order gives 0 or 2
    assert threads.sum_in_order(parts)[0] == np.float32(1.0)
    assert threads.sum_in_order(parts) is not parts[0]


@pytest.mark.parametrize("cls, kernel, stride, pad", [(MaxPool2D, 3, 2, 1), (MaxPool2D, 2, None, 0),
                                                      (AvgPool2D, 3, 2, 1), (AvgPool2D, (2, 3), (1, 2), (1, 0))])
def test_pooling_is_the_same_for_every_thread_count_and_matches_loops(monkeypatch, cls, kernel, stride, pad):
    monkeypatch.setattr(pooling, "POOL_UNIT", 300)          # several chunks even for this small batch
    rng = np.random.default_rng(3)
    x = rng.integers(-2, 3, (9, 2, 7, 8)).astype(np.float32)       # many tied maxima
    results = []
    for n in (1, 2, 3):
        with threads.num_threads(n):
            layer = cls(kernel, stride=stride, pad=pad)
            y = layer.forward(x)
            dout = np.random.default_rng(4).standard_normal(y.shape).astype(np.float32)
            results.append((y, layer.backward(dout)))
    for y, dx in results[1:]:
        assert np.array_equal(y, results[0][0]) and np.array_equal(dx, results[0][1])
    kind = "max" if cls is MaxPool2D else "avg"
    y_ref, dx_ref = loop_pool(x.astype(np.float64), layer.kernel_size, layer.stride, layer.pad, kind,
                              dout.astype(np.float64))
    np.testing.assert_allclose(results[0][0], y_ref, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(results[0][1], dx_ref, rtol=1e-5, atol=1e-5)


def test_one_blas_thread_limits_and_restores_every_blas_library():
    from layergraph import _blas_threads

    if not _blas_threads.can_limit():
        pytest.skip("threadpoolctl cannot set the BLAS thread count here")
    libs = _blas_threads._blas().lib_controllers
    before = [lib.num_threads for lib in libs]
    _blas_threads.set_blas_threads(2)
    try:
        with _blas_threads.one_blas_thread():
            assert [lib.num_threads for lib in libs] == [1] * len(libs)
            with _blas_threads.one_blas_thread():             # nested: still one, and the outer level is kept
                assert [lib.num_threads for lib in libs] == [1] * len(libs)
            assert [lib.num_threads for lib in libs] == [1] * len(libs)
        assert [lib.num_threads for lib in libs] == [2] * len(libs)
        with pytest.raises(RuntimeError):
            with _blas_threads.one_blas_thread():
                raise RuntimeError("restored on errors too")
        assert [lib.num_threads for lib in libs] == [2] * len(libs)
        _blas_threads.set_blas_threads(1)
        with _blas_threads.one_blas_thread():
            _blas_threads.set_blas_threads(3)                 # changed inside: the count on entry comes back
        assert [lib.num_threads for lib in libs] == [1] * len(libs)
    finally:
        for lib, n in zip(libs, before):
            lib.set_num_threads(n)


def test_blas_info_matches_threadpoolctl_and_names_the_requested_kernel(monkeypatch):
    threadpoolctl = pytest.importorskip("threadpoolctl")
    from layergraph import _blas_threads

    info = lg.threads.blas_info()
    theirs = {d["filepath"]: d for d in threadpoolctl.threadpool_info() if d["user_api"] == "blas"}
    if not _blas_threads.can_limit():
        assert info == []
        return
    assert {lib["path"] for lib in info} <= set(theirs)
    for lib in info:
        ref = theirs[lib["path"]]
        assert (lib["library"], lib["version"], lib["threads"]) == (ref["internal_api"], ref["version"],
                                                                   ref["num_threads"])
        assert lib["kernel"] == ref.get("architecture")
        assert lib["library"] in lg.threads.blas_summary()
    # what was asked for is the variable as it was at import (OpenBLAS reads it once, when it loads), not later
    monkeypatch.setenv("OPENBLAS_CORETYPE", "Bogus")
    assert "Bogus" not in lg.threads.blas_summary()
    monkeypatch.setattr(_blas_threads, "CORETYPE_AT_IMPORT", "Zen")
    for lib in lg.threads.blas_info():
        assert lib["coretype"] == ("Zen" if lib["library"] == "openblas" else None)
    if any(lib["library"] == "openblas" for lib in info):
        assert "OPENBLAS_CORETYPE=Zen" in lg.threads.blas_summary()
    monkeypatch.setattr(_blas_threads, "CORETYPE_AT_IMPORT", None)
    assert all(lib["coretype"] is None for lib in lg.threads.blas_info())
    assert "OPENBLAS_CORETYPE" not in lg.threads.blas_summary()


def test_blas_info_without_threadpoolctl_or_without_a_blas(monkeypatch):
    import builtins

    from layergraph import _blas_threads

    real_import = builtins.__import__

    def no_threadpoolctl(name, *args, **kwargs):
        if name == "threadpoolctl":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(_blas_threads, "_CONTROLLER", [])           # looked up again, without threadpoolctl
    monkeypatch.setattr(builtins, "__import__", no_threadpoolctl)
    assert lg.threads.blas_info() == [] and not _blas_threads.can_limit()
    assert lg.threads.blas_summary() == "BLAS unknown (threadpoolctl not installed)"
    monkeypatch.setattr(builtins, "__import__", real_import)
    pytest.importorskip("threadpoolctl")

    class NoBlas:
        def select(self, user_api):
            return type("Selected", (), {"lib_controllers": []})()

    import threadpoolctl
    monkeypatch.setattr(_blas_threads, "_CONTROLLER", [])
    monkeypatch.setattr(threadpoolctl, "ThreadpoolController", NoBlas)
    assert lg.threads.blas_info() == []
    assert lg.threads.blas_summary() == "BLAS unknown (threadpoolctl found no BLAS library)"
