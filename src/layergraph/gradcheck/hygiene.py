"""Protocol checks beyond gradient values: backward is repeatable, deterministic and linear in ``dout``.

Reading ``x`` and ``dout`` read-only is enforced by the evaluation itself (:mod:`.objective` passes read-only
views), so a layer that writes into them raises, and the check reports the exception as a failure.
"""

import numpy as np

from .history import check_history
from .hygiene_params import grads_match_params, unregistered_parameters, zero_gradients
from .report import HygieneResult


def _arrays(result):
    dx, grads = result
    out = {k: v for k, v in dx.items() if v is not None}
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


def run_hygiene(obj, reference, rng, strict=True):
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

    second = obj.backward_layers(_upstream(obj))
    (diff, where), bad = _max_diff(_as64(again), second)
    results.append(HygieneResult("repeatable", not bad and diff <= limit,
                                 f"calling backward twice after one forward differs by {diff:.3g} in {where or bad}"
                                 if bad or diff > limit else ""))

    results.append(check_history(obj, reference, rng, limit, _max_diff))
    results.append(_linearity(obj, rng, u))
    results.append(grads_match_params(obj, reference[1]))
    results.append(zero_gradients(obj, reference[1], rng))
    results.append(unregistered_parameters(obj, rng, strict))
    return results


def _as64(result):
    dx, grads = result
    return ({k: None if v is None else v.astype(np.float64) for k, v in dx.items()},
            {k: v.astype(np.float64) for k, v in grads.items()})


def _upstream(obj):
    """The upstream gradient the objective's own backward used, for the layers alone."""
    if obj.kind == "layer":
        return obj.dout
    if obj.kind == "loss":
        return 1.0
    if obj.kind == "net-loss":
        return obj.loss_layer.backward(1.0)
    return obj.loss_douts(obj.last_output)


def _random_like(out, rng, dtype):
    if isinstance(out, dict):
        return {k: rng.standard_normal(np.shape(v)).astype(dtype) for k, v in out.items()}
    return rng.standard_normal(np.shape(out)).astype(dtype)


def _combine(a, d1, b, d2):
    if isinstance(d1, dict):
        return {k: a * d1[k] + b * d2[k] for k in d1}
    return a * d1 + b * d2


def _linearity(obj, rng, u):
    """backward(a*D1 + b*D2) == a*backward(D1) + b*backward(D2), with a + b != 1 so an ignored dout shows."""
    a, b = 0.7, -1.3
    if obj.kind == "loss":
        obj._run_all()
        d1, d2 = 1.0, 2.5
    else:
        out = obj.layers_output()
        d1, d2 = _random_like(out, rng, obj.dtype), _random_like(out, rng, obj.dtype)
    g1, g2, g3 = (obj.backward_layers(d) for d in (d1, d2, _combine(a, d1, b, d2)))
    combo = ({k: None if g1[0][k] is None or g2[0][k] is None else a * g1[0][k] + b * g2[0][k] for k in g1[0]},
             {k: a * g1[1][k] + b * g2[1][k] for k in g1[1].keys() & g2[1].keys()})
    (diff, where), bad = _max_diff(g3, combo)
    # relative to the gradients, which cancellation can make far smaller than the terms whose rounding the
    # difference carries (a Softmax of two inputs: 1.6e-16 on gradients of 4e-4); a dout that is ignored or
    # mis-scaled changes them by far more than 1e-9 of their size
    limit = max(1e3 * u, 1e-9) * (abs(a) + abs(b)) * max(_scale(g1, g2), 1e-300)
    ok = not bad and diff <= limit
    return HygieneResult("linear in dout", ok, "" if ok else
                         f"backward(a*D1 + b*D2) differs from a*backward(D1) + b*backward(D2) by {diff:.3g} "
                         f"in {where or bad} (a backward that ignores or mis-scales dout)")
