"""Benchmark problems on real data: a dataset split, a fixed network, a batch size and an epoch budget.

Every problem is a :class:`Problem` in :data:`PROBLEMS`.  Its data come in three
parts: ``train`` (the updates), ``val`` (hyperparameter selection and the
per-epoch curves) and ``test`` (the reported final numbers).  The splits are fixed
(they never depend on the run's seed); the seed of a run decides the initial
weights and the order of the mini-batches, and nothing else.

=============  ========================================  ====================  =====  ======  ======
name           data (train / val / test)                 network               batch  epochs  target
=============  ========================================  ====================  =====  ======  ======
digits-mlp     shipped 8x8 digits: 1,150 / 287 / 360     64-64-64-10 ReLU         32      20    0.95
logreg         shipped 8x8 digits: 1,150 / 287 / 360     64-10 softmax            32      20    0.93
spiral-mlp     3-arm spiral: 602 / 200 / 200             2-64-64-3 ReLU           32      40    0.90
mnist-mlp      MNIST t10k split: 6,400 / 1,600 / 2,000   784-100-10 ReLU          64      10    0.93
mnist-cnn      MNIST t10k split: 6,400 / 1,600 / 2,000   conv 8@5x5, pool, fc     64       5    0.95
=============  ========================================  ====================  =====  ======  ======

The target is the validation accuracy used for time-to-target.  The MNIST
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

__all__ = ["Problem", "ProblemData", "PROBLEMS", "get_problem", "problem_names", "SPLIT_SEED"]

#: Seed of the fixed train / val splits (and of the spiral points); independent of the runs' seeds.
SPLIT_SEED = 0


@dataclass(frozen=True)
class ProblemData:
    """The arrays of one problem; ``x_*`` float32 ``(N, ...)``, ``t_*`` int64 ``(N,)`` labels."""

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
    target : float
        Validation accuracy that defines "reached the target" for time-to-target.
    needs_mnist : bool
        True when the data are the MNIST files (not shipped).
    """

    name: str
    description: str
    load: Callable[[object], ProblemData]
    build: Callable[[int], Sequential]
    batch_size: int
    epochs: int
    target: float
    needs_mnist: bool = False

    def describe(self) -> dict:
        """JSON-friendly summary, stored in every record."""
        return {"name": self.name, "description": self.description, "batch_size": self.batch_size,
                "epochs": self.epochs, "target": self.target}


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


PROBLEMS: dict[str, Problem] = {
    p.name: p
    for p in (
        Problem("digits-mlp", "shipped 8x8 digits (1,150 train / 287 val / 360 test), MLP 64-64-64-10 ReLU, "
                "batch 32, 20 epochs", _digits, functools.partial(mlp, (64, 64, 64, 10)), 32, 20, 0.95),
        Problem("logreg", "shipped 8x8 digits (1,150 / 287 / 360), softmax (logistic) regression 64-10, "
                "batch 32, 20 epochs", _digits, functools.partial(mlp, (64, 10)), 32, 20, 0.93),
        Problem("spiral-mlp", "3-arm spiral (602 / 200 / 200 points), MLP 2-64-64-3 ReLU, batch 32, 40 epochs",
                _spiral, functools.partial(mlp, (2, 64, 64, 3)), 32, 40, 0.90),
        Problem("mnist-mlp", "MNIST t10k split (6,400 / 1,600 / 2,000), MLP 784-100-10 ReLU, batch 64, 10 epochs",
                _mnist, functools.partial(mlp, (784, 100, 10)), 64, 10, 0.93, needs_mnist=True),
        Problem("mnist-cnn", "MNIST t10k split (6,400 / 1,600 / 2,000), conv 8@5x5 - ReLU - maxpool 2 - fc 10, "
                "batch 64, 5 epochs", _mnist_images, small_cnn, 64, 5, 0.95, needs_mnist=True),
    )
}


def problem_names() -> list[str]:
    """Names accepted by :func:`get_problem`."""
    return list(PROBLEMS)


def get_problem(name: str) -> Problem:
    """The problem called ``name`` (see :data:`PROBLEMS`)."""
    if not isinstance(name, str):
        raise TypeError(f"get_problem: name must be a str, got {type(name).__name__}")
    if name not in PROBLEMS:
        raise ValueError(f"get_problem: unknown problem {name!r}; expected one of {problem_names()}")
    return PROBLEMS[name]
