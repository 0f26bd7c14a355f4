"""Seeded 2-D toy datasets for quick experiments: spirals, XOR, concentric circles.

Every generator returns ``x`` float32 (N, 2) and ``t`` int64 (N,), takes ``seed``
(an int or a ``numpy.random.Generator``) and gives bit-identical arrays for the
same int seed. Samples are shuffled unless ``shuffle=False``, in which case they
come class by class.
"""

from __future__ import annotations

import numpy as np

from ._common import as_generator, check_flags, check_nonnegative_float, check_positive_int

__all__ = ["make_spiral", "make_xor", "make_circles"]


def _finish(x: np.ndarray, t: np.ndarray, rng: np.random.Generator, shuffle: bool):
    if shuffle:
        order = rng.permutation(t.shape[0])
        x, t = x[order], t[order]
    return x.astype(np.float32), t.astype(np.int64)


def make_spiral(n_per_class=100, n_classes=3, *, noise=0.2, turns=1.0, seed=0, shuffle=True):
    """Interleaved spiral arms, one per class.

    Sample ``i`` of class ``k`` sits at radius ``r = i / (n_per_class - 1)`` and
    angle ``2*pi*(k / n_classes + turns * r) + noise * e`` with ``e ~ N(0, 1)``,
    i.e. at ``(r cos angle, r sin angle)``.

    Parameters
    ----------
    n_per_class : int, default 100
        Samples per arm (>= 2).
    n_classes : int, default 3
        Number of arms / classes (>= 2).
    noise : float, default 0.2
        Standard deviation of the angular noise, in radians.
    turns : float, default 1.0
        How many full turns each arm makes from the centre to radius 1.
    seed : int or numpy.random.Generator, default 0
        Source of randomness.
    shuffle : bool, default True
        Shuffle the samples; else they come class by class.

    Returns
    -------
    x : numpy.ndarray, float32, shape (n_per_class * n_classes, 2)
    t : numpy.ndarray, int64, shape (n_per_class * n_classes,)
        Class labels ``0 .. n_classes - 1``.
    """
    owner = "make_spiral"
    n = check_positive_int(n_per_class, name="n_per_class", owner=owner, minimum=2)
    k = check_positive_int(n_classes, name="n_classes", owner=owner, minimum=2)
    noise = check_nonnegative_float(noise, name="noise", owner=owner)
    turns = check_nonnegative_float(turns, name="turns", owner=owner)
    check_flags(owner, shuffle=shuffle)
    rng = as_generator(seed, owner=owner)
    r = np.tile(np.linspace(0.0, 1.0, n), k)
    t = np.repeat(np.arange(k), n)
    angle = 2.0 * np.pi * (t / k + turns * r) + noise * rng.standard_normal(n * k)
    x = np.stack([r * np.cos(angle), r * np.sin(angle)], axis=1)
    return _finish(x, t, rng, shuffle)


def make_xor(n_samples=200, *, noise=0.1, seed=0, shuffle=True):
    """The XOR problem: the label is 1 where the two coordinates differ in sign.

    Points are drawn uniformly from the square ``[-1, 1]^2``, labelled
    ``t = (x0 > 0) != (x1 > 0)``, and then moved by Gaussian noise of standard
    deviation ``noise`` (so labels near the axes may look wrong, as in real data).

    Parameters
    ----------
    n_samples : int, default 200
        Number of points (>= 1).
    noise : float, default 0.1
        Standard deviation of the Gaussian jitter added after labelling.
    seed : int or numpy.random.Generator, default 0
        Source of randomness.
    shuffle : bool, default True
        Shuffle the samples; else class 0 comes first.

    Returns
    -------
    x : numpy.ndarray, float32, shape (n_samples, 2)
    t : numpy.ndarray, int64, shape (n_samples,)
        Labels 0 or 1.
    """
    owner = "make_xor"
    n = check_positive_int(n_samples, name="n_samples", owner=owner)
    noise = check_nonnegative_float(noise, name="noise", owner=owner)
    check_flags(owner, shuffle=shuffle)
    rng = as_generator(seed, owner=owner)
    x = rng.uniform(-1.0, 1.0, size=(n, 2))
    t = ((x[:, 0] > 0) != (x[:, 1] > 0)).astype(np.int64)
    x += noise * rng.standard_normal((n, 2))
    if not shuffle:
        order = np.argsort(t, kind="stable")
        x, t = x[order], t[order]
    return _finish(x, t, rng, shuffle)


def make_circles(n_samples=200, *, factor=0.5, noise=0.05, seed=0, shuffle=True):
    """Two concentric circles: class 0 on radius 1, class 1 on radius ``factor``.

    Angles are uniform on ``[0, 2*pi)``; each point is then moved by Gaussian noise
    of standard deviation ``noise`` per coordinate. The outer circle gets
    ``n_samples - n_samples // 2`` points, the inner one ``n_samples // 2``.

    Parameters
    ----------
    n_samples : int, default 200
        Number of points (>= 2).
    factor : float, default 0.5
        Radius of the inner circle, ``0 <= factor < 1``.
    noise : float, default 0.05
        Standard deviation of the Gaussian jitter.
    seed : int or numpy.random.Generator, default 0
        Source of randomness.
    shuffle : bool, default True
        Shuffle the samples; else the outer circle comes first.

    Returns
    -------
    x : numpy.ndarray, float32, shape (n_samples, 2)
    t : numpy.ndarray, int64, shape (n_samples,)
        0 for the outer circle, 1 for the inner one.
    """
    owner = "make_circles"
    n = check_positive_int(n_samples, name="n_samples", owner=owner, minimum=2)
    factor = check_nonnegative_float(factor, name="factor", owner=owner)
    if factor >= 1.0:
        raise ValueError(f"{owner}: factor must be < 1 (inner radius below the outer), got {factor}")
    noise = check_nonnegative_float(noise, name="noise", owner=owner)
    check_flags(owner, shuffle=shuffle)
    rng = as_generator(seed, owner=owner)
    n_inner = n // 2
    t = np.repeat(np.array([0, 1]), [n - n_inner, n_inner])
    radius = np.where(t == 0, 1.0, factor)
    angle = rng.uniform(0.0, 2.0 * np.pi, size=n)
    x = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)
    x += noise * rng.standard_normal((n, 2))
    return _finish(x, t, rng, shuffle)
