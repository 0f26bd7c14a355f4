"""NumPy's BLAS thread count: read, set and limited for a while (through ``threadpoolctl``, when it is installed).

The recurrent layers' time loop multiplies one small ``(N, H) x (H, G)`` product per step. Below
:data:`SMALL_STEP` multiply-adds a second BLAS thread costs more than it saves, so such loops run BLAS
single-threaded. Thread counts are read and limited with ``threadpoolctl`` when it is installed; without it nothing
is limited.
"""

import contextlib
import os

#: Per-step products with at most this many multiply-adds run the time loop on one BLAS thread: handing such small
#: products to a second thread costs more than it saves.
SMALL_STEP = 1 << 20
_CONTROLLER = []   # [controller or None, why it is None]


def _blas():
    """The threadpoolctl controller of NumPy's BLAS, or None (threadpoolctl missing, or no BLAS found)."""
    if not _CONTROLLER:
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:
            _CONTROLLER[:] = [None, "threadpoolctl not installed"]
            return None
        try:
            ctl = ThreadpoolController().select(user_api="blas")
            _CONTROLLER[:] = [ctl, None] if ctl.lib_controllers else [None, "threadpoolctl found no BLAS library"]
        except Exception:  # the BLAS could not be inspected: leave threads alone
            _CONTROLLER[:] = [None, "threadpoolctl could not inspect the BLAS"]
    return _CONTROLLER[0]


#: ``OPENBLAS_CORETYPE`` as it was when layergraph was imported (NumPy, and with it OpenBLAS, is loaded first;
#: OpenBLAS reads the variable once, when it loads), or None when it was unset or empty.
CORETYPE_AT_IMPORT = os.environ.get("OPENBLAS_CORETYPE") or None


def blas_info():
    """The BLAS libraries NumPy's matrix products run on: name, version, kernel and thread count.

    OpenBLAS picks its kernels for the processor when it loads, unless ``OPENBLAS_CORETYPE`` names others (it reads
    the variable once, then; a name it does not know is ignored, and some names stand for the kernels of another:
    ``"Zen"`` runs the ``"Haswell"`` ones). ``"Haswell"`` gives 256-bit AVX2 kernels even on a processor with
    AVX-512: on a 2-core AMD EPYC with AVX-512, a float32 product of 1024 x 1024 matrices ran at 68 GMAC/s on one
    thread with them and at 125 GMAC/s with the SkylakeX kernels OpenBLAS picks there by itself, so benchmark
    tables should say which kernels ran.

    Returns
    -------
    list of dict
        One dict per loaded BLAS library with keys ``"library"`` (``"openblas"``, ``"mkl"``, ...),
        ``"version"`` (None when unknown), ``"kernel"`` (the architecture the library reports, None when it reports
        none), ``"threads"``, ``"coretype"`` (for OpenBLAS, the value of ``OPENBLAS_CORETYPE`` when layergraph was
        imported, else None: what was asked for; ``"kernel"`` is what runs) and ``"path"`` (the shared library's
        file: NumPy and SciPy may each load their own OpenBLAS). Empty when ``threadpoolctl`` is not installed or
        found no BLAS library.
    """
    ctl = _blas()
    if ctl is None:
        return []
    return [{"library": lib.internal_api, "version": lib.version, "kernel": getattr(lib, "architecture", None),
             "threads": lib.num_threads, "coretype": CORETYPE_AT_IMPORT if lib.internal_api == "openblas" else None,
             "path": lib.filepath}
            for lib in ctl.lib_controllers]


def blas_summary():
    """:func:`blas_info` as one line for the header of a benchmark table, e.g. ``"openblas 0.3.31 in numpy.libs
    (SkylakeX kernels)"`` or ``"openblas 0.3.31 in numpy.libs (Haswell kernels; OPENBLAS_CORETYPE=Haswell)"``, or
    ``"BLAS unknown (...)"`` saying why."""
    info = blas_info()
    if not info:
        return f"BLAS unknown ({_CONTROLLER[1]})"
    parts = []
    for lib in info:
        kernel = f"{lib['kernel']} kernels" if lib["kernel"] else "kernel not reported"
        asked = f"; OPENBLAS_CORETYPE={lib['coretype']}" if lib["coretype"] else ""
        where = os.path.basename(os.path.dirname(lib["path"] or ""))
        parts.append(f"{lib['library']} {lib['version'] or '(version unknown)'}{' in ' + where if where else ''} "
                     f"({kernel}{asked})")
    return "; ".join(parts)


def can_limit():
    """True when the BLAS thread count can be read and set."""
    return _blas() is not None


def get_blas_threads():
    """BLAS threads now (the largest count of the loaded BLAS libraries), or None when it cannot be read."""
    ctl = _blas()
    return None if ctl is None else max(lib.num_threads for lib in ctl.lib_controllers)


def set_blas_threads(n):
    """Set the BLAS libraries to ``n`` threads (nothing happens when the count cannot be set)."""
    ctl = _blas()
    if ctl is not None:
        for lib in ctl.lib_controllers:
            lib.set_num_threads(n)


def one_blas_thread():
    """Context limiting BLAS to one thread (a no-op when the thread count cannot be set)."""
    ctl = _blas()
    return contextlib.nullcontext() if ctl is None else _limited_to_one(ctl.lib_controllers)


@contextlib.contextmanager
def _limited_to_one(libs):
    """Set each BLAS library in *libs* (threadpoolctl library controllers) to one thread, and back to its count
    on entry on exit (whatever code inside set it to).

    Direct calls to the libraries' own setters: about 5 us per use, against about 20 us for
    ``ThreadpoolController.limit``, which the parallel loops of the layers would pay on every call.
    """
    before = [lib.num_threads for lib in libs]
    for lib, n in zip(libs, before):
        if n != 1:
            lib.set_num_threads(1)
    try:
        yield
    finally:
        for lib, n in zip(libs, before):
            if lib.num_threads != n:
                lib.set_num_threads(n)


def step_threads(n, h, blocks):
    """Context limiting BLAS to one thread around a time loop whose per-step product ``(N, H) x (H, blocks*H)`` is
    at most :data:`SMALL_STEP` multiply-adds."""
    return one_blas_thread() if n * h * h * blocks <= SMALL_STEP else contextlib.nullcontext()
