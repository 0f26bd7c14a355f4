"""The registry of gradient-check cases: each layer declares the cases it is checked on.

A case is a function ``build(rng) -> (layer, x, t)`` (``t`` is None except for loss layers) registered for a
layer class with :func:`register_case`. The test suite walks :func:`all_cases` and fails when a public layer class
has no case, so no layer ships unchecked.

:func:`register_case` checks at registration what it can (a class, a function taking one argument ``rng``);
calling a case's ``build`` checks what it returns, and a malformed case (wrong arity, a result that is not
``(layer, x, t)``, or a build that raises) raises :class:`GradCaseError`, one line naming the case and its class,
so a runner can fail that case alone and go on with the others.
"""

import functools
import inspect
from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..errors import one_line

_CASES = []

_EXPECTED = "expected build(rng) -> (layer, x, t), t None except for loss layers"


class GradCaseError(ValueError):
    """A gradient-check case is malformed: its build function cannot be called as ``build(rng)``, raised, or did
    not return ``(layer, x, t)``.

    The message is one line naming the case, its layer class and what is expected; an exception raised by the
    build function is chained as ``__cause__``.

    Attributes
    ----------
    label : str
        The case's label, e.g. ``"Affine/4d-input"``.
    layer_type : type
        The class the case checks.
    """

    def __init__(self, message, label=None, layer_type=None):
        super().__init__(message)
        self.label = label
        self.layer_type = layer_type


def _qualname(cls):
    return f"{getattr(cls, '__module__', '?')}.{getattr(cls, '__qualname__', repr(cls))}"


def _describe(value):
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of {len(value)} item{'' if len(value) == 1 else 's'}"
    return f"a {type(value).__name__}"


class _CheckedBuild:
    """``build(rng)`` of a case, checked: raises :class:`GradCaseError` (naming the case) on a malformed case.

    Compares, hashes and pickles as the function it wraps together with the case's label and class.
    """

    def __init__(self, build, label, layer_type):
        functools.update_wrapper(self, build)
        self.__wrapped__, self.label, self.layer_type = build, label, layer_type

    def __call__(self, rng):
        who = f"gradient-check case {self.label!r} of layer class {_qualname(self.layer_type)}"
        try:
            result = self.__wrapped__(rng)
        except Exception as exc:
            raise GradCaseError(f"{who}: build(rng) raised {one_line(exc)}; {_EXPECTED}", self.label,
                                self.layer_type) from exc
        problem = None
        if not isinstance(result, (tuple, list)) or len(result) != 3:
            problem = f"returned {_describe(result)}"
        elif not (callable(getattr(result[0], "forward", None)) and callable(getattr(result[0], "backward", None))):
            problem = f"returned {_describe(result[0])} as the layer, which has no forward and backward methods"
        elif result[1] is None:
            problem = "returned None as the input x"
        if problem is not None:
            raise GradCaseError(f"{who}: build(rng) {problem}; {_EXPECTED}", self.label, self.layer_type)
        return tuple(result)

    def _key(self):
        return self.__wrapped__, self.label, self.layer_type

    def __eq__(self, other):
        return isinstance(other, _CheckedBuild) and self._key() == other._key()

    def __hash__(self):
        return hash(self._key())

    def __reduce__(self):
        return _CheckedBuild, self._key()

    def __repr__(self):
        return f"<checked build of case {self.label!r}: {self.__wrapped__!r}>"


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
        ``build(rng) -> (layer, x, t)`` with ``rng`` a ``np.random.Generator``; builds in float64. Stored wrapped:
        calling it returns ``(layer, x, t)`` or raises :class:`GradCaseError` naming this case when the function
        raises or returns something else (the function itself is ``build.__wrapped__``).
    modes : tuple of bool
        The ``train`` flags to check; ``(True, False)`` for layers whose inference differs.
    """

    layer_type: type
    label: str
    build: Callable
    modes: tuple = (True,)

    def __post_init__(self):
        build = self.build
        if isinstance(build, _CheckedBuild):
            build = build.__wrapped__          # a copy (dataclasses.replace) names its own label and class
        object.__setattr__(self, "build", _CheckedBuild(build, self.label, self.layer_type))


def _check_build_signature(build, who):
    if not callable(build):
        raise TypeError(f"{who}: expected a function build(rng) -> (layer, x, t), got {_describe(build)}")
    try:
        signature = inspect.signature(build)
    except (TypeError, ValueError):             # no signature to inspect (some builtins): checked when called
        return
    try:
        signature.bind(None)
    except TypeError:
        name = getattr(build, "__qualname__", repr(build))
        raise TypeError(f"{who}: the case function {name}{signature} must take one argument rng; expected "
                        f"build(rng) -> (layer, x, t)") from None


def register_case(layer_type, label=None, *, modes=(True,)):
    """Decorator registering ``build(rng) -> (layer, x, t)`` as a gradient-check case of *layer_type*.

    Parameters
    ----------
    layer_type : type
        The layer class the case checks.
    label : str, optional
        The part of the case's label after ``"ClassName/"``; default: the function's name without underscores
        at either end.
    modes : sequence of bool, default (True,)
        The ``train`` flags to check; ``(True, False)`` for layers whose inference differs.

    Returns
    -------
    callable
        The decorator; it registers the function and returns it unchanged.

    Raises
    ------
    TypeError
        *layer_type* is not a class (e.g. ``@register_case`` used without arguments), *modes* is not a non-empty
        sequence of bools, *label* is not a str, or the decorated object is not a function callable as
        ``build(rng)`` with one argument.
    ValueError
        A case with the same label is already registered for *layer_type*.

    Notes
    -----
    What the function returns is checked each time the case is built: a result other than ``(layer, x, t)``, or
    an exception raised by the function, raises :class:`GradCaseError` naming the case and its class.

    Examples
    --------
    >>> @register_case(MyLayer, modes=(True, False))
    ... def _case(rng):
    ...     return MyLayer(rng=rng, dtype=np.float64), rng.standard_normal((4, 3)), None
    """
    if not isinstance(layer_type, type):
        got = getattr(layer_type, "__qualname__", None) or _describe(layer_type)
        raise TypeError(f"register_case: expected a layer class as the first argument, got {got}; write "
                        "@register_case(MyLayer) above a function build(rng) -> (layer, x, t)")
    who = f"register_case({_qualname(layer_type)})"
    if label is not None and not isinstance(label, str):
        raise TypeError(f"{who}: label must be a str or None, got {_describe(label)}")
    if isinstance(modes, (str, bytes)) or not hasattr(modes, "__iter__"):
        raise TypeError(f"{who}: modes must be a non-empty sequence of bools (train flags), got {modes!r}")
    modes = tuple(modes)
    if not modes or not all(isinstance(m, (bool, np.bool_)) for m in modes):
        raise TypeError(f"{who}: modes must be a non-empty sequence of bools (train flags), got {modes!r}")
    modes = tuple(bool(m) for m in modes)

    def decorate(build):
        _check_build_signature(build, who)
        name = f"{layer_type.__name__}/{label or getattr(build, '__name__', 'case').strip('_')}"
        if any(case.label == name and case.layer_type is layer_type for case in _CASES):
            raise ValueError(f"register_case: a case labelled {name!r} is already registered for "
                             f"{_qualname(layer_type)}")
        _CASES.append(GradCase(layer_type, name, build, modes))
        return build

    return decorate


def all_cases():
    """Return every registered :class:`GradCase`, in registration order."""
    return list(_CASES)


def cases_for(layer_type):
    """Return the cases registered for exactly *layer_type*."""
    return [case for case in _CASES if case.layer_type is layer_type]
