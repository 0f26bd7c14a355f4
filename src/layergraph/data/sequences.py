"""Classic sequence tasks: the adding problem and the shipped digits read row by row."""

from __future__ import annotations

import numpy as np

from ._common import as_generator, check_flags, check_positive_int
from .digits import load_digits

__all__ = ["adding_problem", "sequential_digits", "ADDING_BASELINE_MSE"]

#: Test MSE of the best constant prediction (1.0) on the adding problem: the variance of a sum of two U(0, 1).
ADDING_BASELINE_MSE = 1.0 / 6.0


def adding_problem(n, length, seed=0):
    """The adding problem (Hochreiter & Schmidhuber 1997): add the two marked numbers of a long sequence.

    Each sequence has *length* steps of two features: a number drawn uniform on ``[0, 1)`` and a marker that is 1.0
    at exactly two steps (one in the first half, one in the second half) and 0.0 elsewhere. The target is the sum
    of the two marked numbers. Predicting the constant 1.0 gives a mean squared error of ``1/6`` (about 0.167,
    :data:`ADDING_BASELINE_MSE`); beating it needs memory across about ``length / 2`` steps.

    Parameters
    ----------
    n : int
        Number of sequences (>= 1).
    length : int
        Steps per sequence (>= 2).
    seed : int or numpy.random.Generator, default 0

    Returns
    -------
    x : numpy.ndarray, float32, shape (n, length, 2)
        ``x[..., 0]`` the numbers, ``x[..., 1]`` the markers.
    t : numpy.ndarray, float32, shape (n, 1)
        The sums, in ``[0, 2)``.
    """
    owner = "adding_problem"
    n = check_positive_int(n, name="n", owner=owner)
    length = check_positive_int(length, name="length", owner=owner, minimum=2)
    rng = as_generator(seed, owner=owner)
    x = np.zeros((n, length, 2), dtype=np.float32)
    x[:, :, 0] = rng.random((n, length), dtype=np.float32)
    half = length // 2
    first = rng.integers(0, half, n)
    second = rng.integers(half, length, n)
    rows = np.arange(n)
    x[rows, first, 1] = 1.0
    x[rows, second, 1] = 1.0
    t = (x[rows, first, 0] + x[rows, second, 0]).reshape(n, 1)
    return x, t


def sequential_digits(*, normalize=True, one_hot=False):
    """The shipped 8x8 digits read row by row: sequences of 8 steps of 8 pixels, with the fixed train/test split.

    Parameters
    ----------
    normalize : bool, default True
        float32 pixels in [0, 1]; else uint8 0..16.
    one_hot : bool, default False
        Labels as float32 rows (N, 10); else int64 (N,).

    Returns
    -------
    (x_train, t_train), (x_test, t_test) : tuple of tuples of numpy.ndarray
        ``x_train`` (1437, 8, 8) and ``x_test`` (360, 8, 8): step ``t`` is image row ``t``.
    """
    check_flags("sequential_digits", normalize=normalize, one_hot=one_hot)
    (x_tr, t_tr), (x_te, t_te) = load_digits(normalize=normalize, flatten=True, one_hot=one_hot)
    return (x_tr.reshape(-1, 8, 8), t_tr), (x_te.reshape(-1, 8, 8), t_te)
