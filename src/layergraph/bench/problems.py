"""Benchmark problems on real data: a dataset split, a fixed network, a batch size and an epoch budget.

Every problem is a :class:`Problem` in :data:`PROBLEMS`.  Its data come in three
parts: ``train`` (the updates), ``val`` (hyperparameter selection and the
per-epoch curves) and ``test`` (the reported final numbers).  The splits are fixed
(they never depend on the run's seed); the seed of a run decides the initial
weights and the order of the mini-batches, and nothing else.

==================  =======================================  =====================  =====  ======  ================
name                data (train / val / test)                network                batch  epochs  headline metric
==================  =======================================  =====================  =====  ======  ================
digits-mlp          shipped 8x8 digits: 1,150 / 287 / 360    64-64-64-10 ReLU          32      20  accuracy >= 0.95
logreg              shipped 8x8 digits: 1,150 / 287 / 360    64-10 softmax             32      20  accuracy >= 0.93
spiral-mlp          3-arm spiral: 602 / 200 / 200            2-64-64-3 ReLU            32      40  accuracy >= 0.90
friedman-regression Friedman #1: 800 / 200 / 1,000            10-64-64-1 ReLU, MSE      32      20  mse <= 0.12
quadratic-deep      N(0, I) samples: 1,000 / 500 / 1,000      DeepOBS noisy quadratic  128      50  loss <= 260
mnist-mlp           MNIST t10k split: 6,400 / 1,600 / 2,000  784-100-10 ReLU           64      10  accuracy >= 0.93
mnist-cnn           MNIST t10k split: 6,400 / 1,600 / 2,000  conv 8@5x5, pool, fc      64       5  accuracy >= 0.95
==================  =======================================  =====================  =====  ======  ================

The headline metric (a :class:`~layergraph.bench.metrics.Metric`) is used for
selection on validation, for time to target (its target on validation) and in the
reports; every problem also records its loss.  The MNIST
problems read the ``t10k`` files (see :func:`layergraph.data.load_mnist_test_split`);
their 8,000 training images are split 6,400 / 1,600 into train and val and the
2,000 others are the test set.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Callable

import numpy as np

from .. import layers as L
from ..network import Sequential
from .metrics import Metric

__all__ = ["Problem", "ProblemData", "PROBLEMS", "get_problem", "problem_names", "SPLIT_SEED"]

#: Seed of the fixed train / val splits (and of the spiral points); independent of the runs' seeds.
SPLIT_SEED = 0


@dataclass(frozen=True)
class ProblemData:
    """The arrays of one problem: inputs ``x_*`` ``(N, ...)`` and targets ``t_*`` ``(N, ...)`` of any shape and dtype
    (int64 labels for classification, float32 values for regression)."""

    x_train: np.ndarray
    t_train: np.ndarray
    x_val: np.ndarray
    t_val: np.ndarray
    x_test: np.ndarray
    t_test: np.ndarray

    def sizes(self) -> dict:
        """``{"train": N, "val": M, "test": K}``."""
        return {"train": len(self.x_train), "val": len(self.x_val), "test": len(self.x_test)}


@dataclass(frozen=True)
class Problem:
    """A fixed training problem.

    Attributes
    ----------
    name : str
    description : str
        Data, network and budget in one line (shown in the reports).
    load : callable ``data_dir -> ProblemData``
    build : callable ``seed -> Sequential``
        The network with its loss layer; ``seed`` (an int) fixes the initial weights.
    batch_size : int
    epochs : int
        The training budget of every run.
    metric : Metric
        The headline metric: its direction and target drive selection, time to target and the reports.
    metrics : tuple of Metric
        Further metrics recorded in every run.
    needs_mnist : bool
        True when the data are the MNIST files (not shipped).
    """

    name: str
    description: str
    load: Callable[[object], ProblemData]
    build: Callable[[int], Sequential]
    batch_size: int
    epochs: int
    metric: Metric
    metrics: tuple = ()
    needs_mnist: bool = False

    def __post_init__(self):
        who = f"problem {self.name!r}"
        if not callable(self.load) or not callable(self.build):
            raise TypeError(f"{who}: load and build must be callables load(data_dir), build(seed)")
        for arg in ("batch_size", "epochs"):
            v = getattr(self, arg)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{who}: {arg} must be an int >= 1, got {v!r}")
        if not isinstance(self.metric, Metric):
            raise TypeError(f"{who}: metric must be a Metric(name, fn=None, *, higher_is_better, target), got "
                            f"{type(self.metric).__name__}")
        extra = tuple(self.metrics)
        for m in extra:
            if not isinstance(m, Metric):
                raise TypeError(f"{who}: metrics must be Metric objects, got {type(m).__name__}")
        names = [m.name for m in (self.metric, *extra)]
        if len(set(names)) != len(names):
            raise ValueError(f"{who}: metric names must be distinct, got {names}")
        object.__setattr__(self, "metrics", extra)

    @property
    def all_metrics(self) -> tuple:
        """The headline metric first, then the others, then ``loss`` when not among them."""
        ms = (self.metric, *self.metrics)
        if all(m.name != "loss" for m in ms):
            ms += (Metric("loss", higher_is_better=False, target=None),)
        return ms

    @property
    def target(self):
        """The headline metric's target (validation value that counts as reached)."""
        return self.metric.target

    def describe(self) -> dict:
        """JSON-friendly summary, stored in every record."""
        return {"name": self.name, "description": self.description, "batch_size": self.batch_size,
                "epochs": self.epochs, "target": self.target, "metric": self.metric.describe(),
                "metrics": [m.describe() for m in self.metrics]}


# -- data ------------------------------------------------------------------------------------------------------
def _carve(x, t, n_val, seed=SPLIT_SEED):
    """Split ``(x, t)`` into ``n_val`` validation rows (a seeded random subset) and the rest, order kept."""
    order = np.random.default_rng(seed).permutation(len(x))
    val, train = np.sort(order[:n_val]), np.sort(order[n_val:])
    return x[train], t[train], x[val], t[val]


@functools.lru_cache(maxsize=4)
def _digits(data_dir=None) -> ProblemData:
    from ..data import load_digits

    (x, t), (xt, tt) = load_digits()
    return ProblemData(*_carve(x, t, len(x) // 5), xt, tt)


@functools.lru_cache(maxsize=2)
def _spiral(data_dir=None) -> ProblemData:
    from ..data import make_spiral

    x, t = make_spiral(334, 3, seed=SPLIT_SEED)
    x_rest, t_rest, x_test, t_test = _carve(x, t, 200, seed=SPLIT_SEED + 1)
    return ProblemData(*_carve(x_rest, t_rest, 200), x_test, t_test)


@functools.lru_cache(maxsize=2)
def _friedman(data_dir=None) -> ProblemData:
    """Friedman #1: ``y = 10 sin(pi x1 x2) + 20 (x3 - 0.5)^2 + 10 x4 + 5 x5 + N(0, 1)``, 10 uniform features."""
    rng = np.random.default_rng(SPLIT_SEED + 7)
    x = rng.uniform(0.0, 1.0, (2000, 10))
    y = (10 * np.sin(np.pi * x[:, 0] * x[:, 1]) + 20 * (x[:, 2] - 0.5) ** 2 + 10 * x[:, 3] + 5 * x[:, 4]
         + rng.standard_normal(2000))
    x, y = x.astype(np.float32), ((y - 14.4) / 5.0).astype(np.float32)[:, None]  # standardised target
    return ProblemData(x[:800], y[:800], x[800:1000], y[800:1000], x[1000:], y[1000:])


def regression_mlp(widths, seed: int) -> Sequential:
    """ReLU MLP ``widths[0] -> ... -> widths[-1]`` (He initialisation) with a mean-squared-error loss."""
    rngs = _rngs(seed, len(widths) - 1)
    net = Sequential(loss=L.MeanSquaredError())
    for i, (n_in, n_out) in enumerate(zip(widths[:-1], widths[1:])):
        net.add(f"fc{i + 1}", L.Affine(n_in, n_out, init="he", rng=rngs[i]))
        if i < len(widths) - 2:
            net.add(f"act{i + 1}", L.ReLU())
    return net


@functools.lru_cache(maxsize=2)
def _mnist(data_dir=None, flatten=True) -> ProblemData:
    from ..data import load_mnist_test_split

    (x, t), (xt, tt) = load_mnist_test_split(data_dir, flatten=flatten)
    return ProblemData(*_carve(x, t, len(x) // 5), xt, tt)


def _mnist_images(data_dir=None) -> ProblemData:
    d = _mnist(data_dir, flatten=False)
    if d.x_train.ndim == 3:  # (N, 28, 28) -> (N, 1, 28, 28)
        return ProblemData(d.x_train[:, None], d.t_train, d.x_val[:, None], d.t_val, d.x_test[:, None], d.t_test)
    return d


# -- networks --------------------------------------------------------------------------------------------------
def _rngs(seed: int, n: int) -> list:
    """``n`` independent generators for the layers of a network built with ``seed``."""
    return [np.random.default_rng(s) for s in np.random.SeedSequence([int(seed), 0x6C67]).spawn(n)]


def mlp(widths, seed: int) -> Sequential:
    """ReLU MLP ``widths[0] -> ... -> widths[-1]`` with He initialisation and softmax cross-entropy.

    Parameters
    ----------
    widths : sequence of int
        Input features, hidden widths, classes; two widths give logistic (softmax) regression.
    seed : int
        Fixes the initial weights.

    Returns
    -------
    Sequential
        Layers ``fc1, act1, ..., fcK`` and a ``SoftmaxWithLoss``.
    """
    rngs = _rngs(seed, len(widths) - 1)
    net = Sequential(loss=L.SoftmaxWithLoss())
    for i, (n_in, n_out) in enumerate(zip(widths[:-1], widths[1:])):
        net.add(f"fc{i + 1}", L.Affine(n_in, n_out, init="he", rng=rngs[i]))
        if i < len(widths) - 2:
            net.add(f"act{i + 1}", L.ReLU())
    return net


def small_cnn(seed: int) -> Sequential:
    """``Conv2D(1->8, 5x5) - ReLU - MaxPool 2x2 - Flatten - Affine(1152->10)`` for ``(N, 1, 28, 28)`` images."""
    r = _rngs(seed, 2)
    return Sequential([
        ("conv1", L.Conv2D(1, 8, 5, rng=r[0])),
        ("act1", L.ReLU()),
        ("pool1", L.MaxPool2D(2)),
        ("flat", L.Flatten()),
        ("fc1", L.Affine(8 * 12 * 12, 10, rng=r[1])),
    ], loss=L.SoftmaxWithLoss())


def _acc(target):
    return Metric("accuracy", higher_is_better=True, target=target)


def _builtin_problems():
    from .quadratic import quadratic_data, quadratic_network

    return (
        Problem("digits-mlp", "shipped 8x8 digits (1,150 train / 287 val / 360 test), MLP 64-64-64-10 ReLU, "
                "batch 32, 20 epochs", _digits, functools.partial(mlp, (64, 64, 64, 10)), 32, 20, _acc(0.95)),
        Problem("logreg", "shipped 8x8 digits (1,150 / 287 / 360), softmax (logistic) regression 64-10, "
                "batch 32, 20 epochs", _digits, functools.partial(mlp, (64, 10)), 32, 20, _acc(0.93)),
        Problem("spiral-mlp", "3-arm spiral (602 / 200 / 200 points), MLP 2-64-64-3 ReLU, batch 32, 40 epochs",
                _spiral, functools.partial(mlp, (2, 64, 64, 3)), 32, 40, _acc(0.90)),
        Problem("friedman-regression", "Friedman #1 regression (800 / 200 / 1,000, standardised target), MLP "
                "10-64-64-1 ReLU, MSE loss, batch 32, 20 epochs", _friedman,
                functools.partial(regression_mlp, (10, 64, 64, 1)), 32, 20,
                Metric("mse", higher_is_better=False, target=0.12)),
        Problem("quadratic-deep", "DeepOBS noisy quadratic (100-D, N(0, I) samples 1,000 / 500 / 1,000), "
                "theta from ones, batch 128, 50 epochs", quadratic_data, quadratic_network, 128, 50,
                Metric("loss", higher_is_better=False, target=260.0)),
        Problem("mnist-mlp", "MNIST t10k split (6,400 / 1,600 / 2,000), MLP 784-100-10 ReLU, batch 64, 10 epochs",
                _mnist, functools.partial(mlp, (784, 100, 10)), 64, 10, _acc(0.93), needs_mnist=True),
        Problem("mnist-cnn", "MNIST t10k split (6,400 / 1,600 / 2,000), conv 8@5x5 - ReLU - maxpool 2 - fc 10, "
                "batch 64, 5 epochs", _mnist_images, small_cnn, 64, 5, _acc(0.95), needs_mnist=True),
    )


def _all_builtin():
    from .sequence_problems import sequence_problems

    return (*_builtin_problems(), *sequence_problems())


#: Every registered problem by name (built-ins first); add with :func:`layergraph.bench.register_problem`.
PROBLEMS: dict[str, Problem] = {p.name: p for p in _all_builtin()}


def problem_names() -> list[str]:
    """Names accepted by :func:`get_problem`."""
    return list(PROBLEMS)


def get_problem(name: str) -> Problem:
    """The problem called ``name`` (see :data:`PROBLEMS`)."""
    if not isinstance(name, str):
        raise TypeError(f"get_problem: name must be a str, got {type(name).__name__}")
    if name not in PROBLEMS:
        raise ValueError(f"unknown problem {name!r}; registered: {', '.join(problem_names())} (add yours with "
                         "register_problem in a module given to --plugin)")
    return PROBLEMS[name]
