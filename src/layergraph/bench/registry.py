"""The registries of benchmark optimizers and problems, and the public ways to add to them.

:func:`register_optimizer` and :func:`register_problem` are how a researcher brings
their own optimizer or problem (see ``docs/benchmarking.md``).  The registries start
with the built-in optimizers of :mod:`layergraph.optim` and the problems of
:mod:`layergraph.bench.problems`; registering in a module listed with
``layergraph bench run --plugin MODULE`` (or in the entry-point group
``layergraph.bench``) makes the names known to the command and to every worker.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from .space import check_space

__all__ = ["OptimizerSpec", "register_optimizer", "register_problem", "optimizer_names", "get_optimizer",
           "resolve_optimizer", "OPTIMIZER_FACTORIES", "SEARCH_SPACES", "unregister", "check_space_fits"]

#: Optimizer name -> factory ``factory(**hyperparameters)`` (the built-ins are the optimizer classes).
OPTIMIZER_FACTORIES: dict[str, Callable] = {}
#: Optimizer name -> search space (see :mod:`layergraph.bench.space`).
SEARCH_SPACES: dict[str, dict] = {}


@dataclass(frozen=True)
class OptimizerSpec:
    """A registered optimizer: its name, factory and search space."""

    name: str
    factory: Callable
    search_space: dict


def _same_callable(a, b) -> bool:
    return a is b or (getattr(a, "__module__", None) == getattr(b, "__module__", None)
                      and getattr(a, "__qualname__", None) == getattr(b, "__qualname__", None))


def register_optimizer(name: str, factory: Callable, *, search_space: dict, replace: bool = False) -> OptimizerSpec:
    """Make optimizer ``name`` known to the benchmarks.

    Parameters
    ----------
    name : str
        Case-insensitive in look-ups; letters, digits, ``_`` and ``-``.
    factory : callable
        ``factory(**hyperparameters)`` returns an object with ``update(params, grads)`` (updating the
        arrays in place) and an ``lr`` attribute; a class works.  It must be importable by its module and
        name (defined at module level) for the process-pool and Dask workers.
    search_space : dict name -> LogUniform / Uniform / OneMinusLogUniform / IntUniform / Choice
        Must contain ``"lr"``; every other key must be a keyword argument of ``factory`` (checked when its
        signature can be read and it takes no ``**kwargs``).  A ``"schedule"``
        :class:`~layergraph.bench.space.Choice` among ``"constant"``, ``"step"``, ``"warmup_cosine"`` tunes the
        learning-rate schedule (it is not passed to ``factory``).
    replace : bool, default False
        Allow replacing an optimizer of the same name registered with another factory.

    Returns
    -------
    OptimizerSpec

    Raises
    ------
    ValueError
        A bad name, a search-space key ``factory`` does not accept, a ``"schedule"`` outside the supported
        schedules, or a name already registered with another factory.
    """
    if not isinstance(name, str) or not name.strip() or not all(c.isalnum() or c in "_-" for c in name):
        raise ValueError(f"register_optimizer: name must be letters, digits, '_' or '-', got {name!r}")
    if not callable(factory):
        raise TypeError(f"register_optimizer {name!r}: factory must be callable, got {type(factory).__name__}")
    space = check_space(search_space, f"register_optimizer {name!r}: search_space")
    check_space_fits(name, factory, space)
    _builtins()  # a built-in name is taken whether or not anything has looked the built-ins up yet
    existing = {k.lower(): k for k in OPTIMIZER_FACTORIES}.get(name.lower())
    if existing is not None and not replace and not _same_callable(OPTIMIZER_FACTORIES[existing], factory):
        raise ValueError(f"register_optimizer: {existing!r} is already registered with another factory; pass "
                         "replace=True or choose another name")
    if existing is not None and existing != name:
        OPTIMIZER_FACTORIES.pop(existing)
        SEARCH_SPACES.pop(existing, None)
    OPTIMIZER_FACTORIES[name] = factory
    SEARCH_SPACES[name] = space
    return OptimizerSpec(name, factory, space)


def check_space_fits(name: str, factory: Callable, space: dict) -> None:
    """Refuse search-space keys that ``factory`` does not accept and schedules that do not exist.

    Parameters
    ----------
    name : str
        The optimizer's name, for the messages.
    factory : callable
    space : dict name -> dimension

    Raises
    ------
    ValueError
        ``"schedule"`` is not a :class:`~layergraph.bench.space.Choice` among
        :data:`~layergraph.bench.schedules.SCHEDULES`, or a key other than ``"schedule"`` is not a keyword
        argument of ``factory`` (not checked when ``factory`` takes ``**kwargs`` or has no readable signature).
    """
    import inspect

    from .schedules import SCHEDULES
    from .space import Choice

    who = f"register_optimizer {name!r}: search_space"
    if "schedule" in space:
        dim = space["schedule"]
        if not isinstance(dim, Choice):
            raise ValueError(f"{who} 'schedule' must be a Choice among {list(SCHEDULES)}, got "
                             f"{type(dim).__name__}")
        bad = [v for v in dim.options if v not in SCHEDULES]
        if bad:
            raise ValueError(f"{who} 'schedule' has {bad} outside the supported schedules; expected values among "
                             f"{list(SCHEDULES)}")
    try:
        params = inspect.signature(factory).parameters.values()
    except (TypeError, ValueError):
        return
    if any(p.kind is p.VAR_KEYWORD for p in params):
        return
    accepted = [p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    for key in space:
        if key != "schedule" and key not in accepted:
            what = getattr(factory, "__qualname__", None) or type(factory).__name__
            raise ValueError(f"{who} key {key!r} is not an argument of {what}; it accepts "
                             f"{', '.join(accepted) or 'no keyword arguments'} (and 'schedule')")


def unregister(kind: str, name: str) -> None:
    """Remove an optimizer (``kind="optimizer"``) or a problem (``kind="problem"``) from the registry."""
    if kind == "optimizer":
        key, _ = resolve_optimizer(name)
        OPTIMIZER_FACTORIES.pop(key)
        SEARCH_SPACES.pop(key, None)
    elif kind == "problem":
        from .problems import PROBLEMS, get_problem

        PROBLEMS.pop(get_problem(name).name)
    else:
        raise ValueError(f"unregister: kind must be 'optimizer' or 'problem', got {kind!r}")


def optimizer_names() -> list[str]:
    """Registered optimizer names, built-ins first."""
    _builtins()
    return list(OPTIMIZER_FACTORIES)


def resolve_optimizer(name: str):
    """``(canonical name, factory)`` of a registered optimizer, any case."""
    _builtins()
    if not isinstance(name, str):
        raise TypeError(f"optimizer name must be a str, got {type(name).__name__}")
    key = {k.lower(): k for k in OPTIMIZER_FACTORIES}.get(name.strip().lower())
    if key is None:
        raise ValueError(f"unknown optimizer {name!r}; registered: {', '.join(OPTIMIZER_FACTORIES)} (any case; "
                         "add yours with register_optimizer in a module given to --plugin)")
    return key, OPTIMIZER_FACTORIES[key]


def get_optimizer(name: str) -> OptimizerSpec:
    """The :class:`OptimizerSpec` of ``name`` (any case)."""
    key, factory = resolve_optimizer(name)
    if key not in SEARCH_SPACES:
        raise ValueError(f"optimizer {key!r} has no search space; register it with register_optimizer(..., "
                         "search_space={'lr': LogUniform(low, high), ...})")
    return OptimizerSpec(key, factory, SEARCH_SPACES[key])


def register_problem(name: str, *, load: Callable, build: Callable, batch_size: int, epochs: int, metric,
                     metrics=(), description: str | None = None, needs_mnist: bool = False,
                     replace: bool = False):
    """Make problem ``name`` known to the benchmarks.

    Parameters
    ----------
    name : str
    load : callable ``load(data_dir) -> ProblemData``
        Fixed train / val / test splits (targets of any shape and dtype); cache it if loading is slow.
    build : callable ``build(seed) -> Sequential``
        The network with its loss layer, initial weights fixed by ``seed`` (an int).
    batch_size, epochs : int
        The training budget of every run.
    metric : Metric
        The headline metric: selection on validation, time to target, reports and profiles.
    metrics : sequence of Metric, optional
        Further metrics, recorded and reported.
    description : str, optional
        One line for the reports (default: the name, batch size and epochs).
    needs_mnist : bool
    replace : bool, default False

    Returns
    -------
    Problem
    """
    from .problems import PROBLEMS, Problem

    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"register_problem: name must be a non-empty str, got {name!r}")
    prob = Problem(name, description or f"{name}, batch {batch_size}, {epochs} epochs", load, build, batch_size,
                   epochs, metric=metric, metrics=tuple(metrics), needs_mnist=needs_mnist)
    old = PROBLEMS.get(name)
    if old is not None and not replace and not (_same_callable(old.load, load) and _same_callable(old.build, build)):
        raise ValueError(f"register_problem: {name!r} is already registered with other functions; pass "
                         "replace=True or choose another name")
    PROBLEMS[name] = prob
    return prob


_BUILTINS_DONE = []


def _builtins() -> None:
    """Fill the registries with the built-in optimizers (once, lazily: no import cycle with layergraph.optim)."""
    if _BUILTINS_DONE:
        return
    _BUILTINS_DONE.append(True)
    from ..optim import OPTIMIZERS
    from .protocol import BUILTIN_SPACES

    for name, cls in OPTIMIZERS.items():
        OPTIMIZER_FACTORIES.setdefault(name, cls)
        if name in BUILTIN_SPACES:
            SEARCH_SPACES.setdefault(name, dict(BUILTIN_SPACES[name]))


class OptimizerFactory:
    """A picklable ``factory()`` of a registered optimizer with fixed arguments.

    Calling it imports ``plugins`` (on a worker) and builds ``name`` with ``kwargs``; it pickles by name, so it
    works for optimizers defined in plugin files that a worker can only import by path.
    """

    def __init__(self, name: str, kwargs: dict | None = None, plugins=()):
        self.name, self.kwargs, self.plugins = name, dict(kwargs or {}), tuple(plugins)

    def __call__(self):
        from .plugins import load_plugins

        load_plugins(self.plugins)
        return resolve_optimizer(self.name)[1](**self.kwargs)

    @property
    def keywords(self) -> dict:
        """The fixed arguments (as ``functools.partial.keywords``)."""
        return self.kwargs

    def describe(self) -> dict:
        return {"optimizer": self.name, "kwargs": self.kwargs}

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.kwargs.items())
        return f"OptimizerFactory({self.name}: {args})"


def nonzero_default(factory, arg: str) -> bool:
    """True when ``factory`` takes keyword ``arg`` with a non-zero default (e.g. AdamW's ``weight_decay``)."""
    import inspect

    try:
        param = inspect.signature(factory).parameters.get(arg)
    except (TypeError, ValueError):
        return False
    return param is not None and param.default not in (inspect.Parameter.empty, None, 0, 0.0)
