"""Protocol checks beyond gradient values: backward is repeatable, deterministic and linear in ``dout``.

Reading ``x`` and ``dout`` read-only is enforced by the evaluation itself (:mod:`.objective` passes read-only
views), so a layer that writes into them raises, and the check reports the exception as a failure.
"""

import numpy as np

from .objective import read_only
from .report import HygieneResult


def _backward(obj, dout):
    work = obj.work
    if obj.kind == "layer" or obj.kind == "net-loss-layers":
        dx = work.backward(read_only(np.asarray(dout)))
    elif obj.kind == "loss":
        dx = work.backward(dout)
    else:
        dx = work.backward(obj.loss_layer.backward(dout))
    grads = {k: np.array(v, dtype=np.float64, copy=True) for k, v in work.grads.items()}
    return (None if dx is None else np.array(dx, dtype=np.float64, copy=True)), grads


def _arrays(result):
    dx, grads = result
    out = {} if dx is None else {"x": dx}
    out.update(grads)
    return out


def _max_diff(a, b):
    """Largest absolute difference over matching arrays, and the names that do not match in key or shape."""
    a, b = _arrays(a), _arrays(b)
    bad = sorted(set(a) ^ set(b)) + [k for k in a.keys() & b.keys() if a[k].shape != b[k].shape]
    diffs = [(float(np.max(np.abs(a[k] - b[k]), initial=0.0)), k) for k in a.keys() & b.keys()
             if a[k].shape == b[k].shape]
    return max(diffs, default=(0.0, "")), bad


def _scale(*results):
    return max((float(np.max(np.abs(v), initial=0.0)) for r in results for v in _arrays(r).values()), default=0.0)


def run_hygiene(obj, reference, rng):
    """Run the hygiene checks on *obj* (an :class:`~.objective.Objective`); *reference* is its analytic result.

    Returns
    -------
    list of HygieneResult
    """
    u = float(np.finfo(obj.dtype).eps)
    results = []

    again = obj.analytic()
    (diff, where), bad = _max_diff(reference, again)
    limit = 16 * u * _scale(reference)
    results.append(HygieneResult("deterministic", not bad and diff <= limit,
                                 f"a second forward+backward from the same state differs by {diff:.3g} in "
                                 f"{where or bad}" if bad or diff > limit else ""))

    second = _backward(obj, 1.0 if obj.kind != "layer" else obj.R)
    (diff, where), bad = _max_diff(again, second)
    results.append(HygieneResult("repeatable", not bad and diff <= limit,
                                 f"calling backward twice after one forward differs by {diff:.3g} in {where or bad}"
                                 if bad or diff > limit else ""))

    results.append(_linearity(obj, rng, u))
    return results


def _linearity(obj, rng, u):
    """backward(a*D1 + b*D2) == a*backward(D1) + b*backward(D2), with a + b != 1 so an ignored dout shows."""
    a, b = 0.7, -1.3
    if obj.kind == "loss":
        obj._run_all()
        d1, d2 = 1.0, 2.5
        kind = "loss"
    else:
        out = obj.layers_output(obj.x) if obj.kind == "net-loss" else obj._run_all()
        d1 = rng.standard_normal(np.shape(out)).astype(obj.dtype)
        d2 = rng.standard_normal(np.shape(out)).astype(obj.dtype)
        kind = "layer" if obj.kind == "layer" else "net-loss-layers"
    saved, obj.kind = obj.kind, kind
    try:
        g1, g2, g3 = (_backward(obj, d) for d in (d1, d2, a * d1 + b * d2))
    finally:
        obj.kind = saved
    combo = (None if g1[0] is None or g2[0] is None else a * g1[0] + b * g2[0],
             {k: a * g1[1][k] + b * g2[1][k] for k in g1[1].keys() & g2[1].keys()})
    (diff, where), bad = _max_diff(g3, combo)
    limit = 1e3 * u * (abs(a) + abs(b)) * max(_scale(g1, g2), 1e-300)
    ok = not bad and diff <= limit
    return HygieneResult("linear in dout", ok, "" if ok else
                         f"backward(a*D1 + b*D2) differs from a*backward(D1) + b*backward(D2) by {diff:.3g} "
                         f"in {where or bad} (a backward that ignores or mis-scales dout)")
