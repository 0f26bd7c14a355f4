"""Search spaces of hyperparameters and the ways to search them (grid, random, Sobol, Halton).

A search space is a dict ``name -> dimension``.  The dimensions:

* :class:`LogUniform` ``(low, high)``: positive, searched on a log scale (learning rates, weight decay);
* :class:`Uniform` ``(low, high)``: searched on a linear scale (momentum 0.5 .. 0.99);
* :class:`OneMinusLogUniform` ``(low, high)``: ``1 - d`` with ``d`` log-uniform (a decay close to 1);
* :class:`IntUniform` ``(low, high)``: an integer in ``[low, high]`` (both included);
* :class:`Choice` ``(options)``: one of a few values (strings such as a schedule, numbers, booleans).

Each dimension maps a number ``u`` in ``[0, 1)`` to a value (:meth:`from_unit`), so
every method draws points in the unit cube and maps them: ``"random"`` from a seeded
generator, ``"sobol"`` and ``"halton"`` from the scrambled quasi-random sequences of
:mod:`scipy.stats.qmc` (as AlgoPerf does), and ``"grid"`` from a fixed design (see
:func:`sample_space`).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np

__all__ = ["LogUniform", "Uniform", "OneMinusLogUniform", "IntUniform", "Choice", "METHODS", "sample_space",
           "check_space", "format_value"]

#: Search methods accepted by :func:`sample_space`.
METHODS = ("grid", "random", "sobol", "halton")


def _round(x: float) -> float:
    """4 significant digits, so hyperparameters read well in records and reports."""
    return float(f"{x:.4g}")


def _check_range(who, low, high, positive=False):
    for arg, v in (("low", low), ("high", high)):
        if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)) or not math.isfinite(v):
            raise ValueError(f"{who}: {arg} must be a finite number, got {v!r}")
    if positive and low <= 0:
        raise ValueError(f"{who}: low must be > 0 on a log scale, got {low!r}")
    if not low < high:
        raise ValueError(f"{who}: expected low < high, got low={low!r}, high={high!r}")


@dataclass(frozen=True)
class LogUniform:
    """A positive hyperparameter searched on a log scale between ``low`` and ``high``."""

    low: float
    high: float

    def __post_init__(self):
        _check_range("LogUniform", self.low, self.high, positive=True)

    def from_unit(self, u: float) -> float:
        """``exp(log low + u (log high - log low))``, 4 significant digits."""
        return _round(math.exp(math.log(self.low) + float(u) * (math.log(self.high) - math.log(self.low))))

    def grid(self, n: int) -> list[float]:
        """``n`` log-spaced values from ``low`` to ``high`` (the geometric middle when ``n == 1``)."""
        if n == 1:
            return [_round(math.sqrt(self.low * self.high))]
        return [_round(v) for v in np.geomspace(self.low, self.high, n)]

    def sample(self, rng: np.random.Generator) -> float:
        return self.from_unit(rng.uniform())

    def describe(self) -> str:
        return f"log-uniform [{self.low:g}, {self.high:g}]"


@dataclass(frozen=True)
class Uniform:
    """A real hyperparameter searched on a linear scale between ``low`` and ``high``."""

    low: float
    high: float

    def __post_init__(self):
        _check_range("Uniform", self.low, self.high)

    def from_unit(self, u: float) -> float:
        return _round(self.low + float(u) * (self.high - self.low))

    def grid(self, n: int) -> list[float]:
        if n == 1:
            return [_round((self.low + self.high) / 2)]
        return [_round(v) for v in np.linspace(self.low, self.high, n)]

    def sample(self, rng: np.random.Generator) -> float:
        return self.from_unit(rng.uniform())

    def describe(self) -> str:
        return f"uniform [{self.low:g}, {self.high:g}]"


@dataclass(frozen=True)
class OneMinusLogUniform:
    """A decay rate ``1 - d`` with ``d`` log-uniform in ``[low, high]`` (e.g. momentum 0.8 .. 0.99)."""

    low: float
    high: float

    def __post_init__(self):
        _check_range("OneMinusLogUniform", self.low, self.high, positive=True)

    def from_unit(self, u: float) -> float:
        return _round(1.0 - math.exp(math.log(self.low) + float(u) * (math.log(self.high) - math.log(self.low))))

    def grid(self, n: int) -> list[float]:
        return [_round(1.0 - v) for v in LogUniform(self.low, self.high).grid(n)]

    def sample(self, rng: np.random.Generator) -> float:
        return self.from_unit(rng.uniform())

    def describe(self) -> str:
        return f"1 - log-uniform [{self.low:g}, {self.high:g}]"


@dataclass(frozen=True)
class IntUniform:
    """An integer hyperparameter, uniform over ``low, low + 1, ..., high``."""

    low: int
    high: int

    def __post_init__(self):
        for arg in ("low", "high"):
            v = getattr(self, arg)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
                raise TypeError(f"IntUniform: {arg} must be an int, got {v!r}")
        if not self.low <= self.high:
            raise ValueError(f"IntUniform: expected low <= high, got low={self.low}, high={self.high}")

    def from_unit(self, u: float) -> int:
        span = self.high - self.low + 1
        return int(self.low + min(int(math.floor(float(u) * span)), span - 1))

    def grid(self, n: int) -> list[int]:
        return sorted({int(round(v)) for v in np.linspace(self.low, self.high, n)})

    def sample(self, rng: np.random.Generator) -> int:
        return self.from_unit(rng.uniform())

    def describe(self) -> str:
        return f"integer [{self.low}, {self.high}]"


@dataclass(frozen=True)
class Choice:
    """One of a few values: strings (e.g. a schedule name), numbers or booleans."""

    options: tuple

    def __init__(self, options):
        opts = tuple(options) if not isinstance(options, str) else None
        if not opts:
            raise ValueError(f"Choice: options must be a non-empty sequence of values, got {options!r}")
        for v in opts:
            if v is not None and not isinstance(v, (str, bool, int, float)):
                raise TypeError(f"Choice: options must be str, int, float, bool or None, got {type(v).__name__}")
        if len(set(map(repr, opts))) != len(opts):
            raise ValueError(f"Choice: options must be distinct, got {list(opts)}")
        object.__setattr__(self, "options", opts)

    def from_unit(self, u: float):
        k = len(self.options)
        return self.options[min(int(math.floor(float(u) * k)), k - 1)]

    def grid(self, n: int | None = None) -> list:
        return list(self.options)

    def sample(self, rng: np.random.Generator):
        return self.from_unit(rng.uniform())

    def describe(self) -> str:
        return "one of [" + ", ".join(format_value(v) for v in self.options) + "]"


_DIMS = (LogUniform, Uniform, OneMinusLogUniform, IntUniform, Choice)


def check_space(space, who: str = "search space") -> dict:
    """Validate a search space: a non-empty dict of str -> dimension with an ``lr`` entry."""
    if not isinstance(space, dict) or not space:
        raise TypeError(f"{who}: expected a non-empty dict name -> LogUniform / Uniform / IntUniform / Choice, "
                        f"got {space!r}")
    for k, v in space.items():
        if not isinstance(k, str):
            raise TypeError(f"{who}: hyperparameter names must be str, got {k!r}")
        if not (isinstance(v, _DIMS) or (callable(getattr(v, "from_unit", None))
                                        and callable(getattr(v, "describe", None)))):
            raise TypeError(f"{who}: {k!r} must be LogUniform, Uniform, OneMinusLogUniform, IntUniform or Choice, "
                            f"got {type(v).__name__}")
    if "lr" not in space:
        raise ValueError(f"{who}: needs an 'lr' entry (the learning rate), got keys {sorted(space)}")
    return dict(space)


def format_value(v) -> str:
    """A hyperparameter value for reports: numbers in ``%g``, anything else as written."""
    if isinstance(v, bool) or v is None:
        return str(v)
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        return f"{float(v):g}"
    return str(v)


def _grid(space: dict, budget: int, who: str) -> list[dict]:
    choices = {k: v for k, v in space.items() if isinstance(v, Choice)}
    n_comb = math.prod(len(v.options) for v in choices.values()) if choices else 1
    if budget % n_comb:
        raise ValueError(f"{who}: grid search enumerates the {n_comb} combinations of "
                         f"{', '.join(choices)}, so the budget must be a multiple of {n_comb}, got {budget}; "
                         "use random, sobol or halton search for other budgets")
    lrs = space["lr"].grid(budget // n_comb)
    combos = [{}]
    for k, dim in choices.items():
        combos = [{**c, k: v} for c in combos for v in dim.options]
    return [{"lr": lr, **c} for c in combos for lr in lrs]


def sample_space(space: dict, budget: int, method: str = "grid", seed=0, who: str = "sample_space") -> list[dict]:
    """The ``budget`` hyperparameter settings tried from ``space``.

    Parameters
    ----------
    space : dict name -> dimension
        Must contain ``"lr"``.
    budget : int, >= 1
    method : {"grid", "random", "sobol", "halton"}
        ``"grid"``: ``lr`` on its grid of ``budget / C`` values for each of the ``C`` combinations of the
        :class:`Choice` dimensions (``budget`` must be a multiple of ``C``); the other numeric hyperparameters
        keep the optimizer's defaults.  ``"random"``: every dimension drawn independently from a generator.
        ``"sobol"`` / ``"halton"``: the first ``budget`` points of a scrambled quasi-random sequence in
        ``[0, 1)^D`` (``D`` = number of dimensions, in the order of the dict), mapped per dimension.
    seed : int or sequence of int
        Seeds the generator / the scrambling (unused by the grid).

    Returns
    -------
    list of dict
        One dict of constructor arguments per trial, in trial order.
    """
    space = check_space(space, who)
    if isinstance(budget, bool) or not isinstance(budget, (int, np.integer)) or budget < 1:
        raise ValueError(f"{who}: budget must be an int >= 1, got {budget!r}")
    if method not in METHODS:
        raise ValueError(f"{who}: method must be one of {METHODS}, got {method!r}")
    budget = int(budget)
    if method == "grid":
        return _grid(space, budget, who)
    keys = list(space)
    if method == "random":
        rng = np.random.default_rng(seed)
        return [{k: space[k].from_unit(rng.uniform()) for k in keys} for _ in range(budget)]
    from scipy.stats import qmc

    rng = np.random.default_rng(seed)
    engine = (qmc.Sobol if method == "sobol" else qmc.Halton)(d=len(keys), scramble=True, rng=rng) \
        if _qmc_takes_rng() else (qmc.Sobol if method == "sobol" else qmc.Halton)(d=len(keys), scramble=True,
                                                                                    seed=rng)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # Sobol prefers powers of two; the budget decides here
        points = engine.random(budget)
    return [{k: space[k].from_unit(points[i, j]) for j, k in enumerate(keys)} for i in range(budget)]


def _qmc_takes_rng() -> bool:
    import inspect

    from scipy.stats import qmc

    return "rng" in inspect.signature(qmc.Sobol.__init__).parameters
