"""History check: backward must depend on the latest forward call only.

Every other evaluation of a check runs forward on the same inputs, so a backward that reads a cache left by an
*earlier* forward (a stale cache) looks correct there. Here the layer first runs forward on different inputs
``x2``, then forward on ``x``, then backward; the result must equal backward after ``forward(x)`` alone (the
generators, buffers and carried state are restored in between, so only forgotten caches can differ).
"""

import numpy as np

from .report import HygieneResult


def other_inputs(inputs, rng):
    """A feed of inputs different from *inputs*: floating arrays scaled element-wise by ``exp(0.3 * N(0, 1))``
    (signs kept, so inputs of layers defined for positive values only stay in their domain)."""
    moved = {}
    for name, value in inputs.arrays.items():
        if name in inputs.checked:
            moved[name] = (value * np.exp(0.3 * rng.standard_normal(value.shape))).astype(value.dtype)
        else:
            moved[name] = value
    if inputs.kind == "array":
        return moved["x"]
    if inputs.kind == "list":
        return inputs.sequence(moved.values())
    return moved


def check_history(obj, reference, rng, limit, max_diff):
    """Compare ``backward`` after ``forward(x2); forward(x)`` with *reference* (after ``forward(x)`` alone).

    Parameters
    ----------
    obj : Objective
    reference : tuple
        ``(dx dict, grads)`` from :meth:`Objective.analytic`.
    rng : numpy.random.Generator
    limit : float
        Largest difference accepted (a few units of roundoff of the gradients).
    max_diff : callable
        ``max_diff(a, b) -> ((diff, where), bad_names)``.

    Returns
    -------
    HygieneResult
    """
    try:
        after = obj.analytic(before=other_inputs(obj.inputs, rng))
    except Exception as err:  # the other inputs are outside what the layer accepts: the check cannot be made
        return HygieneResult("history", True, f"not run: forward on other inputs raised {type(err).__name__}")
    (diff, where), bad = max_diff(reference, after)
    ok = not bad and diff <= limit
    return HygieneResult("history", ok, "" if ok else
                         f"backward after forward(x2); forward(x) differs from backward after forward(x) alone by "
                         f"{diff:.3g} in {where or bad} (backward reads a cache left by an earlier forward call)")
