"""Mini-batches by per-epoch permutation: every sample exactly once per epoch, never sampled with replacement."""

import numpy as np

from ..errors import ShapeError
from ..layers.init import check_positive_int


def epoch_order(n, rng, shuffle=True):
    """Indices ``0..n-1`` in this epoch's order: ``rng.permutation(n)``, or ``arange(n)`` without shuffling.

    Parameters
    ----------
    n : int
    rng : numpy.random.Generator
        Advanced by exactly one ``permutation(n)`` call when *shuffle*.

    Returns
    -------
    ndarray of int64, shape (n,)
    """
    return rng.permutation(n) if shuffle else np.arange(n)


def num_batches(n, batch_size, drop_last=False):
    """Number of mini-batches in one epoch of *n* samples."""
    return n // batch_size if drop_last else -(-n // batch_size)


class Batcher:
    """Gathers the mini-batches of an epoch into reused buffers (no allocation per step).

    Parameters
    ----------
    x : ndarray, shape (N, ...)
    t : ndarray, shape (N, ...)
        Targets with the same first dimension.
    batch_size : int
    drop_last : bool, default False
        Drop the last, smaller batch (then each epoch sees ``batch_size * (N // batch_size)`` samples).

    Notes
    -----
    The arrays yielded by :meth:`batches` are views of two buffers that the next batch overwrites: use them
    within the step (forward, backward, update) and copy anything kept longer.
    """

    def __init__(self, x, t, batch_size, drop_last=False):
        x, t = np.asarray(x), np.asarray(t)
        if x.ndim < 1 or t.ndim < 1 or len(x) != len(t):
            raise ShapeError(f"Batcher: 'x' and 't' must have the same number of samples, got "
                             f"{len(x) if x.ndim else 'a scalar'} and {len(t) if t.ndim else 'a scalar'}")
        self.batch_size = check_positive_int(batch_size, "batch_size", "Batcher")
        if len(x) == 0:
            raise ValueError("Batcher: 'x' holds no samples")
        self.x, self.t, self.drop_last = x, t, bool(drop_last)
        size = min(self.batch_size, len(x))
        self._xb = np.empty((size, *x.shape[1:]), dtype=x.dtype)
        self._tb = np.empty((size, *t.shape[1:]), dtype=t.dtype)

    def __len__(self):
        return num_batches(len(self.x), self.batch_size, self.drop_last)

    def batches(self, order):
        """Yield ``(xb, tb)`` for the batches of *order* (an index permutation of ``0..N-1``)."""
        bs = self.batch_size
        for b in range(len(self)):
            idx = order[b * bs:(b + 1) * bs]
            m = len(idx)
            xb, tb = self._xb[:m], self._tb[:m]
            np.take(self.x, idx, axis=0, out=xb, mode="clip")
            np.take(self.t, idx, axis=0, out=tb, mode="clip")
            yield xb, tb
