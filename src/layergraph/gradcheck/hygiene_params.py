"""Parameter hygiene: ``grads`` mirrors ``params``, no parameter hides in a plain attribute, and no parameter the
output depends on gets an identically zero gradient.

* ``grads`` must have exactly the keys of ``params``, with the same shapes and dtypes;
* a floating array attribute (size > 1) of the layer or of any layer inside it that is in neither ``params`` nor
  ``buffers`` (nor shares memory with them) and that changes the output when perturbed is an *unregistered
  parameter*: optimizers never see it and the checker cannot check its gradient (a failure in strict mode);
  caches are overwritten by forward and carried state is restored, so perturbing them changes nothing;
* a parameter whose analytic gradient is identically zero although perturbing it changes the checked scalar.
"""

import numpy as np

from .report import HygieneResult
from .state import walk_named_layers


def grads_match_params(obj, grads):
    """``grads`` has exactly the keys of ``params`` (shape and dtype are judged per tensor)."""
    params = obj.params
    extra = [k for k in grads if k not in params]
    missing = [k for k in params if k not in grads]
    ok = not extra and not missing
    detail = "" if ok else "; ".join(
        ([f"grads has keys not in params {extra}"] if extra else [])
        + ([f"params {missing} have no entry in grads"] if missing else []))
    return HygieneResult("grads match params", ok, detail)


def _registered(work):
    arrays = []
    for _, layer in walk_named_layers(work):
        for store in ("params", "buffers", "grads"):
            d = vars(layer).get(store)
            if isinstance(d, dict):
                arrays += [v for v in d.values() if isinstance(v, np.ndarray)]
    return arrays


def _candidates(work):
    registered = _registered(work)
    seen = set()
    for path, layer in walk_named_layers(work):
        for attr, value in list(vars(layer).items()):
            if attr in ("params", "buffers", "grads") or not isinstance(value, np.ndarray):
                continue
            if value.dtype.kind != "f" or value.size <= 1 or id(value) in seen:
                continue
            seen.add(id(value))
            if any(value is r or np.shares_memory(value, r) for r in registered):
                continue
            yield (f"{path}.{attr}" if path else attr), layer, attr, value


def _changed(a, b):
    if isinstance(a, dict):
        return any(_changed(a[k], b[k]) for k in a)
    a, b = np.asarray(a), np.asarray(b)
    return a.shape != b.shape or not np.array_equal(a, b)


def unregistered_parameters(obj, rng, strict=True):
    """Perturb every candidate attribute (rebinding it to a perturbed copy) and report those the output reads."""
    found = []
    for label, layer, attr, value in _candidates(obj.work):
        noise = rng.standard_normal(value.shape) * 0.1 * (1.0 + np.abs(value))
        setattr(layer, attr, (value + noise).astype(value.dtype))
        try:
            y = obj._run_all()
        except Exception:
            y = None
        finally:
            setattr(layer, attr, value)
        if y is not None and _changed(y, obj.y0):
            found.append(label)
    if not found:
        return HygieneResult("no unregistered parameters", True)
    detail = (f"array attribute(s) {found} change the output but are in neither params nor buffers "
              f"(an unregistered parameter: its gradient is never checked nor trained)")
    return HygieneResult("no unregistered parameters", not strict, detail)


def zero_gradients(obj, grads, rng):
    """Parameters with an identically zero gradient although perturbing them changes the checked scalar."""
    bad = []
    for name, value in obj.params.items():
        g = grads.get(name)
        if g is None or np.shape(g) != value.shape or np.any(g != 0) or value.size == 0:
            continue
        original = value.copy()
        try:
            np.add(original, rng.standard_normal(value.shape) * obj_step(obj, value), out=value, casting="unsafe")
            phi, scale, _ = obj.phi()
        except Exception:  # the perturbed parameter is outside what the layer accepts: nothing to conclude
            continue
        finally:
            np.copyto(value, original)
        if abs(phi) > 1e3 * np.finfo(obj.dtype).eps * max(scale, 1e-300):
            bad.append(name)
    ok = not bad
    return HygieneResult("no zero gradient", ok, "" if ok else
                         f"parameter(s) {bad} have an identically zero gradient, yet perturbing them changes the "
                         f"checked output (a gradient that is never computed)")


def obj_step(obj, value):
    """A perturbation large enough to show through roundoff: 1e-3 of the tensor's scale."""
    return 1e-3 * max(1.0, float(np.max(np.abs(value), initial=0.0)))
