"""The registry of gradient-check cases: each layer declares the cases it is checked on.

A case is a function ``build(rng) -> (layer, x, t)`` (``t`` is None except for loss layers) registered for a
layer class with :func:`register_case`. The test suite walks :func:`all_cases` and fails when a public layer class
has no case, so no layer ships unchecked.
"""

from dataclasses import dataclass
from typing import Callable

_CASES = []


@dataclass(frozen=True)
class GradCase:
    """One gradient-check case.

    Attributes
    ----------
    layer_type : type
        The class the case checks.
    label : str
        A short unique description, e.g. ``"Affine/4d-input"``.
    build : callable
        ``build(rng) -> (layer, x, t)`` with ``rng`` a ``np.random.Generator``; builds in float64.
    modes : tuple of bool
        The ``train`` flags to check; ``(True, False)`` for layers whose inference differs.
    """

    layer_type: type
    label: str
    build: Callable
    modes: tuple = (True,)


def register_case(layer_type, label=None, *, modes=(True,)):
    """Decorator registering ``build(rng) -> (layer, x, t)`` as a gradient-check case of *layer_type*.

    Examples
    --------
    >>> @register_case(MyLayer, modes=(True, False))
    ... def _case(rng):
    ...     return MyLayer(rng=rng, dtype=np.float64), rng.standard_normal((4, 3)), None
    """

    def decorate(build):
        name = f"{layer_type.__name__}/{label or build.__name__.strip('_')}"
        if any(case.label == name and case.layer_type is layer_type for case in _CASES):
            raise ValueError(f"register_case: a case labelled {name!r} is already registered for "
                             f"{layer_type.__module__}.{layer_type.__qualname__}")
        _CASES.append(GradCase(layer_type, name, build, tuple(modes)))
        return build

    return decorate


def all_cases():
    """Return every registered :class:`GradCase`, in registration order."""
    return list(_CASES)


def cases_for(layer_type):
    """Return the cases registered for exactly *layer_type*."""
    return [case for case in _CASES if case.layer_type is layer_type]
