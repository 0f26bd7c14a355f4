"""Problems for recurrent networks: the adding problem and the 8x8 digits read row by row.

* ``adding-problem`` (Hochreiter & Schmidhuber, 1997): a sequence of 20 steps with two features, a value
  uniform in [0, 1] and a marker that is 1 at exactly two steps (one in each half); the target is the sum
  of the two marked values.  Predicting the mean (1.0) gives an MSE of about 0.167, so a network must carry
  what it saw across the sequence to do better (target: 0.1).  LSTM with 32 units, then an affine read-out;
  MSE loss; 5 epochs.
* ``sequential-digits``: the shipped 8x8 digits as sequences of 8 rows of 8 pixels, classified by an LSTM
  with 32 units from its last hidden state; 10 epochs, target accuracy 0.9.

They need the recurrent layers (:class:`layergraph.layers.LSTM`); :func:`sequence_problems` returns an empty
tuple when those are not available.
"""

from __future__ import annotations

import functools

import numpy as np

from .. import layers as L
from ..network import Sequential
from .metrics import Metric

__all__ = ["sequence_problems", "adding_data", "digits_rows"]

ADDING_STEPS = 20


@functools.lru_cache(maxsize=1)
def adding_data(data_dir=None):
    """2,000 train / 500 val / 1,000 test sequences ``(N, 20, 2)`` float32, targets ``(N, 1)``; fixed by seed 11."""
    from .problems import ProblemData

    rng = np.random.default_rng(11)
    n, t = 3500, ADDING_STEPS
    values = rng.uniform(0.0, 1.0, (n, t))
    marks = np.zeros((n, t))
    first = rng.integers(0, t // 2, n)
    second = rng.integers(t // 2, t, n)
    marks[np.arange(n), first] = 1.0
    marks[np.arange(n), second] = 1.0
    x = np.stack([values, marks], axis=-1).astype(np.float32)
    y = (values * marks).sum(axis=1, keepdims=True).astype(np.float32)
    return ProblemData(x[:2000], y[:2000], x[2000:2500], y[2000:2500], x[2500:], y[2500:])


def digits_rows(data_dir=None):
    """The digits problem's arrays with each image as 8 time steps of 8 pixels: ``(N, 8, 8)``."""
    from .problems import ProblemData, _digits

    d = _digits(data_dir)
    r = (lambda a: a.reshape(len(a), 8, 8))
    return ProblemData(r(d.x_train), d.t_train, r(d.x_val), d.t_val, r(d.x_test), d.t_test)


def _lstm_net(n_in, hidden, n_out, loss, seed):
    from .problems import _rngs

    rngs = _rngs(seed, 2)
    return Sequential([("lstm", L.LSTM(n_in, hidden, return_sequences=False, rng=rngs[0])),
                       ("fc", L.Affine(hidden, n_out, rng=rngs[1]))], loss=loss)


def adding_network(seed: int) -> Sequential:
    """``LSTM(2 -> 32)`` (last hidden state) and ``Affine(32 -> 1)`` with a mean-squared-error loss."""
    return _lstm_net(2, 32, 1, L.MeanSquaredError(), seed)


def digits_rows_network(seed: int) -> Sequential:
    """``LSTM(8 -> 32)`` (last hidden state) and ``Affine(64 -> 10)`` with softmax cross-entropy."""
    return _lstm_net(8, 32, 10, L.SoftmaxWithLoss(), seed)


def sequence_problems() -> tuple:
    """The recurrent problems, or ``()`` without the recurrent layers."""
    if not hasattr(L, "LSTM"):
        return ()
    from .problems import Problem

    return (
        Problem("adding-problem", f"adding problem ({ADDING_STEPS} steps; 2,000 / 500 / 1,000 sequences), LSTM 32 "
                "- affine 1, MSE loss, batch 50, 5 epochs", adding_data, adding_network, 50, 5,
                Metric("mse", higher_is_better=False, target=0.1)),
        Problem("sequential-digits", "shipped 8x8 digits read row by row (8 steps of 8 pixels; 1,150 / 287 / "
                "360), LSTM 32 - affine 10, batch 32, 10 epochs", digits_rows, digits_rows_network, 32, 10,
                Metric("accuracy", higher_is_better=True, target=0.9)),
    )
