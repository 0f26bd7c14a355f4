"""Mini-batches by per-epoch permutation: every sample exactly once per epoch, never sampled with replacement.

Inputs and targets are arrays ``(N, ...)`` or, for networks with several inputs or outputs, dicts name -> array
whose arrays all have the same first dimension; one permutation orders every array.
"""

import numpy as np

from ..errors import ShapeError
from ..layers.init import check_positive_int


def as_rows(a, arg, where):
    """*a* as an array with a first axis, or a dict name -> such arrays of one common length."""
    if isinstance(a, dict):
        if not a:
            raise ValueError(f"{where}: {arg!r} is an empty dict")
        out = {k: np.asarray(v) for k, v in a.items()}
        lengths = {k: (len(v) if v.ndim else None) for k, v in out.items()}
        if None in lengths.values() or len(set(lengths.values())) != 1:
            raise ShapeError(f"{where}: the arrays of {arg!r} must all have the same first dimension, got "
                             + ", ".join(f"{k!r} {np.shape(v)}" for k, v in out.items()))
        return out
    a = np.asarray(a)
    if a.ndim < 1:
        raise ShapeError(f"{where}: {arg!r} must be an array with a sample axis, got a scalar")
    return a


def n_rows(a):
    """Number of samples of an array or of a dict of arrays (the common first dimension)."""
    return len(next(iter(a.values()))) if isinstance(a, dict) else len(a)


def take_rows(a, idx):
    """``a[idx]`` for an array, or the same for every array of a dict."""
    return {k: v[idx] for k, v in a.items()} if isinstance(a, dict) else a[idx]


def check_pair(x, t, where, what=("x", "t")):
    """``(x, t)`` via :func:`as_rows`, checking they hold the same number of samples."""
    x, t = as_rows(x, what[0], where), as_rows(t, what[1], where)
    if n_rows(x) != n_rows(t):
        raise ShapeError(f"{where}: {what[0]!r} and {what[1]!r} must have the same number of samples, got "
                         f"{n_rows(x)} and {n_rows(t)}")
    return x, t


def network_pair(net, x, t, where, what=("x", "t")):
    """:func:`check_pair` of ``(x, t)`` in the forms *net* accepts, turned into arrays or dicts of arrays.

    For a graph (a network with ``inputs`` names), inputs given as a list or tuple in ``net.inputs`` order become
    a dict (as ``Graph.forward`` reads them), and targets given as a dict by output name are checked against the
    outputs that have a loss; a graph with one loss gets that output's array.
    """
    return check_pair(_graph_inputs(net, x, what[0], where), _graph_targets(net, t, what[1], where), where, what)


def _graph_inputs(net, x, arg, where):
    names = getattr(net, "inputs", None)
    if not (isinstance(names, tuple) and names and all(isinstance(n, str) for n in names)):
        return x
    if not isinstance(x, (list, tuple)):
        return x
    holds_arrays = len(x) > 0 and all(isinstance(v, np.ndarray) for v in x)
    if len(names) == 1 and not holds_arrays:
        return x  # nested lists of numbers: one array
    if len(x) != len(names):
        raise ValueError(f"{where}: argument {arg!r} must hold {len(names)} array(s) for inputs {list(names)}, "
                         f"got {len(x)}")
    return dict(zip(names, x))


def _graph_targets(net, t, arg, where):
    losses = getattr(net, "losses", None)
    outputs = getattr(net, "outputs", None)
    if not isinstance(losses, dict) or not losses or outputs is None:
        return t
    names = list(losses)
    if not isinstance(t, dict):
        # one array for the one output that has a loss, among several outputs: the same targets as {name: t}
        single = getattr(net, "loss_layer", None) is None and len(names) == 1
        return {names[0]: t} if single else t
    missing = [k for k in names if k not in t]
    unexpected = [k for k in t if k not in outputs]
    if missing or unexpected:
        raise ValueError(f"{where}: the keys of argument {arg!r} must be the outputs with a loss {names}, got "
                         f"{list(t)} (" + ", ".join(([f"missing {missing}"] if missing else [])
                                                    + ([f"not outputs {unexpected}"] if unexpected else [])) + ")")
    if getattr(net, "loss_layer", None) is not None and len(names) == 1:
        return t[names[0]]
    return t


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
    x : ndarray, shape (N, ...), or dict name -> such arrays
    t : ndarray, shape (N, ...), or dict name -> such arrays
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
        x, t = check_pair(x, t, "Batcher")
        self.batch_size = check_positive_int(batch_size, "batch_size", "Batcher")
        self.n_samples = n_rows(x)
        if self.n_samples == 0:
            raise ValueError("Batcher: 'x' holds no samples")
        self.x, self.t, self.drop_last = x, t, bool(drop_last)
        size = min(self.batch_size, self.n_samples)
        self._xb = _buffers(x, size)
        self._tb = _buffers(t, size)

    def __len__(self):
        return num_batches(self.n_samples, self.batch_size, self.drop_last)

    def batches(self, order):
        """Yield ``(xb, tb)`` for the batches of *order* (an index permutation of ``0..N-1``)."""
        bs = self.batch_size
        for b in range(len(self)):
            idx = order[b * bs:(b + 1) * bs]
            yield _gather(self.x, self._xb, idx), _gather(self.t, self._tb, idx)


def _buffers(a, size):
    if isinstance(a, dict):
        return {k: np.empty((size, *v.shape[1:]), dtype=v.dtype) for k, v in a.items()}
    return np.empty((size, *a.shape[1:]), dtype=a.dtype)


def _gather(a, buf, idx):
    m = len(idx)
    if isinstance(a, dict):
        return {k: _gather(v, buf[k], idx) for k, v in a.items()}
    out = buf[:m]
    np.take(a, idx, axis=0, out=out, mode="clip")
    return out
