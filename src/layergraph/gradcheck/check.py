"""``gradcheck``: compare a layer's analytic gradients with self-calibrated finite differences.

The check runs on a deep copy (in float64 by default), so the caller's layer, input and targets are left exactly
as they were. See ``docs/gradcheck.md`` for the tolerance model, the modes, kinks and randomness.
"""

import contextlib
import copy
import numbers

import numpy as np

from .hygiene import run_hygiene
from .inputs import Inputs, as_outputs, frozen_targets
from .objective import Objective
from .report import GradCheckError, GradCheckReport, GradCheckReports, HygieneResult
from .state import fingerprint, same_fingerprint
from .tensor import TensorChecker
from .tolerances import resolve

MODES = ("auto", "full", "sampled", "directional")
PRECISIONS = ("float64", "native")


def gradcheck(layer, x, t=None, *, mode="auto", eps=None, rtol=None, atol=None, seed=0, raise_on_fail=False,
              train=True, samples=32, precision="float64", hygiene=True, strict=True, workers=None):
    """Compare a layer's analytic gradients (input and every parameter) with numerical ones.

    Works on any object following the layer protocol (``forward(x, train)``, ``backward(dout)``, ``params``,
    ``grads``), on loss layers (``forward(x, t)``), on containers with a loss layer or several losses, on layers
    with several inputs or outputs, and on layers carrying state across calls (``get_state``/``set_state``,
    restored before every evaluation).

    For a plain layer the checked scalar is ``sum(forward(x) * R)`` for a fixed standard-normal ``R`` (never
    all-ones), so backward receives ``dout = R``; for a loss layer, or a container with a loss and ``t`` given, it
    is the loss. Numeric derivatives are central differences at ``h`` and ``h/2`` combined by Richardson
    extrapolation; an element passes when
    ``|a - n| <= atol + rtol * max(|a|, |n|) + c * (truncation + roundoff estimate)``.

    Parameters
    ----------
    layer : Layer
        The layer, loss layer or container to check. Never modified.
    x : array_like (N, ...), list/tuple of arrays, or dict str -> array
        Input batch; a list for merge layers (inputs named ``"x[0]"``, ``"x[1]"``, ...), a dict for containers
        with named inputs (named by key). Every floating input is checked.
    t : array_like or dict, optional
        Targets, for loss layers and containers with a loss; a dict by output name for a container with several
        losses (``losses`` dict and optional ``loss_weights``).
    mode : {"auto", "full", "sampled", "directional"}
        ``full``: every element of every tensor. ``sampled``: *samples* elements per tensor, always including the
        largest-magnitude, largest and smallest analytic gradients. ``directional``: one derivative along a random
        direction per tensor (a separate direction each, so a failure names its tensor); a direction that fails is
        bisected to the element responsible. ``auto`` (default): directional for every tensor, plus every element
        of tensors with at most 256 elements and a sample of larger ones.
    eps : float, optional
        Relative step; element ``v`` moves by ``h = eps * max(1, |v|)``. Default per numeric dtype
        (1e-4 for float64, 1e-2 for float32).
    rtol, atol : float, optional
        Default per numeric dtype (1e-7 / 1e-10 for float64, 2e-3 / 1e-5 for float32).
    seed : int
        Seeds ``R``, the directions and the sampled elements; the same seed gives the same report.
    raise_on_fail : bool
        Raise :class:`GradCheckError` (an ``AssertionError``) instead of returning a failing report.
    train : bool or "both"
        The ``train`` flag passed to forward; ``"both"`` checks training and inference separately (inference
        only when its output differs) and returns :class:`GradCheckReports`.
    samples : int
        Elements per tensor in ``sampled`` mode (and for large tensors in ``auto``); at least 4.
    precision : {"float64", "native"}
        ``float64`` (default) runs the numeric pass on a float64 copy; ``native`` keeps the layer's own dtype
        (float32 or float64) with that dtype's default tolerances.
    hygiene : bool
        Also run the protocol checks: backward deterministic, repeatable, independent of earlier calls (history)
        and linear in ``dout``; ``grads`` keys match ``params``; no unregistered array attribute the output
        depends on; no identically zero gradient of a parameter the output depends on.
    strict : bool
        An unregistered parameter (a floating array attribute in neither ``params`` nor ``buffers`` that changes
        the output) fails the check (default); with False it is only reported.
    workers : int, optional
        Worker processes for the element-wise evaluations of large tensors (forked; the report does not depend
        on the number).

    Returns
    -------
    GradCheckReport
        ``ok``, per tensor max abs/rel error, worst index with analytic and numeric values, error estimate, kinks
        checked/skipped/failed, evaluations, the code paths run (``paths``); ``str(report)`` is a table.
        :class:`GradCheckReports` for ``train="both"``.

    Raises
    ------
    ValueError, TypeError
        For invalid arguments of ``gradcheck`` itself (never for a failure of the checked layer).
    GradCheckError
        With ``raise_on_fail=True``, when the check fails.

    Examples
    --------
    >>> report = gradcheck(Affine(5, 3, rng=0), np.ones((4, 5)))
    >>> report.ok
    True
    """
    _check_args(mode, seed, samples, precision, train)
    opts = dict(mode=mode, eps=eps, rtol=rtol, atol=atol, seed=seed, samples=samples, precision=precision,
                hygiene=hygiene, strict=strict, workers=_check_workers(workers))
    with single_blas_thread():
        if train == "both":
            reports = GradCheckReports()
            first = _one_with_paths(layer, x, t, True, opts)
            reports.append(first)
            if _modes_differ(layer, x, t, precision):
                reports.append(_one_with_paths(layer, x, t, False, opts))
            result = reports
        else:
            result = _one_with_paths(layer, x, t, bool(train), opts)
    result.case = (layer, x, t, {k: v for k, v in opts.items() if k != "workers"} | {"train": train},
                   getattr(result if train != "both" else result[0], "dout", None))
    if raise_on_fail and not result.ok:
        raise GradCheckError(result)
    return result


_CONTROLLER = []


def single_blas_thread():
    """Limit BLAS to one thread while checking, when ``threadpoolctl`` is installed (else change nothing).

    A check runs thousands of forward passes on small batches, where a second BLAS thread costs more in
    hand-offs than it gains: the full check of a 784-100-100-10 net runs about 3x faster on one thread. The
    thread-pool controller is built once (finding the BLAS libraries costs milliseconds).
    """
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:
        return contextlib.nullcontext()
    if not _CONTROLLER:
        _CONTROLLER.append(ThreadpoolController())
    return _CONTROLLER[0].limit(limits=1, user_api="blas")


def _check_args(mode, seed, samples, precision, train):
    if not isinstance(mode, str):
        raise TypeError(f"gradcheck: 'mode' must be a str, got {type(mode).__name__}")
    if mode not in MODES:
        raise ValueError(f"gradcheck: 'mode' must be one of {MODES}, got {mode!r}")
    if not isinstance(seed, numbers.Integral) or isinstance(seed, bool):
        raise TypeError(f"gradcheck: 'seed' must be an int, got {type(seed).__name__}")
    if not isinstance(samples, numbers.Integral) or isinstance(samples, bool):
        raise TypeError(f"gradcheck: 'samples' must be an int, got {type(samples).__name__}")
    if samples < 4:
        raise ValueError(f"gradcheck: 'samples' must be at least 4, got {samples}")
    if precision not in PRECISIONS:
        raise ValueError(f"gradcheck: 'precision' must be one of {PRECISIONS}, got {precision!r}")
    if train not in (True, False, "both"):
        raise ValueError(f"gradcheck: 'train' must be True, False or 'both', got {train!r}")


def _numeric_dtype(layer, x, precision):
    if precision == "float64":
        return np.dtype(np.float64)
    dtypes = [np.asarray(v).dtype for v in getattr(layer, "params", {}).values()]
    dtype = dtypes[0] if dtypes else _first_array(x).dtype
    if dtype.kind != "f":
        dtype = np.dtype(np.float64)
    if dtype not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise ValueError(f"gradcheck: precision='native' supports float32 and float64 layers, got {dtype}")
    return dtype


def _first_array(x):
    if isinstance(x, dict):
        x = next(iter(x.values()), 0.0)
    elif isinstance(x, (list, tuple)):
        x = x[0] if x else 0.0
    return np.asarray(x)


def working_copy(layer, dtype):
    """A deep copy of *layer* with floating params, grads and buffers cast to *dtype*."""
    work = copy.deepcopy(layer)
    if callable(getattr(work, "astype", None)):
        work.astype(dtype)
    else:
        for store in (getattr(work, "params", {}), getattr(work, "grads", {})):
            for key, value in store.items():
                store[key] = np.asarray(value, dtype=dtype)
    return work


def _modes_differ(layer, x, t, precision):
    """True when forward(train=True) and forward(train=False) give different outputs (BatchNorm, Dropout)."""
    if getattr(layer, "is_loss", False):
        return False
    dtype = _numeric_dtype(layer, x, precision)
    try:
        outs = [as_outputs(working_copy(layer, dtype).forward(Inputs(x, dtype).feed(), train=flag))
                for flag in (True, False)]
    except Exception:
        return True
    return outs[0].keys() != outs[1].keys() or any(
        outs[0][k].shape != outs[1][k].shape or not np.array_equal(outs[0][k], outs[1][k]) for k in outs[0])


def _reproduce(layer, mode, eps, rtol, atol, seed, train, samples, precision, has_t):
    args = [f"mode={mode!r}", f"seed={seed}", f"train={train!r}"]
    for key, value, default in (("eps", eps, None), ("rtol", rtol, None), ("atol", atol, None),
                                ("samples", samples, 32), ("precision", precision, "float64")):
        if value != default:
            args.append(f"{key}={value!r}")
    target = ", t" if has_t else ""
    return f"layergraph.gradcheck(layer, x{target}, {', '.join(args)})  # layer: {type(layer).__name__}"


def describe_error(err, phase, layer):
    """One line saying what the layer did wrong (a write into a read-only argument is named as such)."""
    text = str(err).splitlines()[0] if str(err) else ""
    if isinstance(err, ValueError) and "read-only" in text:
        if phase == "backward":
            return (f"{layer}: backward wrote into its dout argument (arguments are read-only during the check: "
                    f"copy before modifying; {type(err).__name__}: {text})")
        return (f"{layer}: forward wrote into its input argument x (arguments are read-only during the check: "
                f"copy before modifying; {type(err).__name__}: {text})")
    return f"{type(err).__name__}: {text}"


def _check_workers(workers):
    if workers is None:
        return 1
    if not isinstance(workers, numbers.Integral) or isinstance(workers, bool) or workers < 1:
        raise ValueError(f"gradcheck: 'workers' must be a positive int or None, got {workers!r}")
    return int(workers)


def _one_with_paths(layer, x, t, train, opts):
    """The float64 check, plus the layer's own float32 path (forward and backward in float32, checked against
    finite differences of the float32 layer with float32 tolerances) when the layer is float32."""
    report = _one(layer, x, t, train, opts)
    if opts["precision"] == "float64":
        try:
            native = _numeric_dtype(layer, x, "native")
        except ValueError:
            native = None
        if native == np.dtype(np.float32):
            report.float32 = _one(layer, x, t, train, dict(opts, precision="native"))
            report.paths.append("float32")
    return report


def _one(layer, x, t, train, opts):
    mode, eps, rtol, atol, seed = opts["mode"], opts["eps"], opts["rtol"], opts["atol"], opts["seed"]
    samples, precision, hygiene, strict = opts["samples"], opts["precision"], opts["hygiene"], opts["strict"]
    dtype = _numeric_dtype(layer, x, precision)
    tol = resolve(dtype, eps, rtol, atol)
    report = GradCheckReport(getattr(layer, "name", type(layer).__name__), mode, train, str(dtype), tol, seed)
    report.reproduce = _reproduce(layer, mode, eps, rtol, atol, seed, train, samples, precision, t is not None)
    before = fingerprint(layer)
    obj = None
    try:
        work = working_copy(layer, dtype)
        inputs = Inputs(x, dtype)
        rng = np.random.default_rng(seed)
        obj = Objective(work, inputs, frozen_targets(t), train, rng)
        obj.workers = opts["workers"]
        report.dout = obj.dout
        reference = obj.analytic()
        if hygiene:
            report.hygiene.extend(run_hygiene(obj, reference, np.random.default_rng([seed, 2]), strict))
        checker = TensorChecker(obj, tol, mode, samples, rng, np.random.default_rng([seed, 1]))
        dx, grads = reference
        tensors = {name: (inputs.arrays[name], dx[name]) for name in inputs.checked}
        for name, value in obj.params.items():
            tensors[name] = (value, grads.get(name))
        for name, (value, analytic) in tensors.items():
            report.tensors[name] = checker.check(name, value, analytic)
    except Exception as err:  # a failure of the checked layer is a failed check, not an escaped error
        report.error = describe_error(err, None if obj is None else obj.phase, report.layer)
    finally:
        if obj is not None:
            report.evaluations = obj.evaluations
            obj.snapshot.restore()
    if not same_fingerprint(before, fingerprint(layer)):
        report.hygiene.append(HygieneResult("layer untouched", False,
                                            "the layer's params, buffers, carried state or generator states "
                                            "changed during the check (it shares state with its deep copy)"))
    return report
