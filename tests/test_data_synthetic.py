"""Toy 2-D generators: formulas checked with the noise off, seeding, argument checks."""

import numpy as np
import pytest

from layergraph.data import make_circles, make_spiral, make_xor, one_hot

GENERATORS = [make_spiral, make_xor, make_circles]


@pytest.mark.parametrize("make", GENERATORS)
def test_types_and_determinism(make):
    x, t = make(seed=7)
    assert x.dtype == np.float32 and x.ndim == 2 and x.shape[1] == 2
    assert t.dtype == np.int64 and t.shape == (x.shape[0],)
    x2, t2 = make(seed=7)
    assert x.tobytes() == x2.tobytes() and t.tobytes() == t2.tobytes()
    x3, _ = make(seed=8)
    assert not np.array_equal(x, x3)
    # a Generator is used as given: two draws from one Generator differ
    rng = np.random.default_rng(7)
    xa, _ = make(seed=rng)
    xb, _ = make(seed=rng)
    assert not np.array_equal(xa, xb)
    np.testing.assert_array_equal(make(seed=np.random.default_rng(3))[0],
                                  make(seed=np.random.default_rng(3))[0])


@pytest.mark.parametrize("make", GENERATORS)
def test_shuffle_is_a_permutation_of_the_ordered_set(make):
    x_s, t_s = make(seed=1, noise=0.0)
    x_o, t_o = make(seed=1, noise=0.0, shuffle=False)
    assert np.all(np.diff(t_o) >= 0)  # ordered: class by class
    assert not np.all(np.diff(t_s) >= 0)
    key = lambda x, t: sorted(zip(t.tolist(), np.round(x, 5).tolist()))  # noqa: E731
    assert key(x_s, t_s) == key(x_o, t_o)
    np.testing.assert_array_equal(np.bincount(t_s), np.bincount(t_o))


def test_spiral_without_noise_follows_the_formula():
    n, k, turns = 50, 4, 1.5
    x, t = make_spiral(n, k, noise=0.0, turns=turns, shuffle=False)
    assert x.shape == (n * k, 2)
    np.testing.assert_array_equal(np.bincount(t), [n] * k)
    for cls in range(k):
        for i in (0, 17, n - 1):
            r = i / (n - 1)
            theta = 2 * np.pi * cls / k + 2 * np.pi * turns * r
            np.testing.assert_allclose(x[cls * n + i], [r * np.cos(theta), r * np.sin(theta)],
                                       atol=1e-6)


def test_spiral_noise_moves_points_along_the_arc_only():
    x, t = make_spiral(40, 3, noise=0.3, shuffle=False, seed=2)
    radius = np.hypot(x[:, 0], x[:, 1])
    np.testing.assert_allclose(radius, np.tile(np.linspace(0, 1, 40), 3), atol=1e-6)


def test_xor_labels_without_noise():
    x, t = make_xor(500, noise=0.0, seed=3)
    assert np.all(np.abs(x) <= 1.0)
    np.testing.assert_array_equal(t, (x[:, 0] * x[:, 1] < 0).astype(np.int64))
    assert 150 < t.sum() < 350


def test_xor_noise_scale():
    x0, _ = make_xor(4000, noise=0.0, seed=5)
    x1, _ = make_xor(4000, noise=0.25, seed=5)
    # same uniform draws, then jitter of standard deviation 0.25 per coordinate
    assert abs(float(np.std(x1 - x0)) - 0.25) < 0.02


def test_circles_without_noise():
    x, t = make_circles(101, factor=0.3, noise=0.0, seed=4)
    radius = np.hypot(x[:, 0], x[:, 1])
    np.testing.assert_allclose(radius[t == 0], 1.0, rtol=1e-6)
    np.testing.assert_allclose(radius[t == 1], 0.3, rtol=1e-6)
    assert (t == 0).sum() == 51 and (t == 1).sum() == 50


@pytest.mark.parametrize(
    "call, exc, pattern",
    [
        (lambda: make_spiral(n_classes=1), ValueError, "n_classes"),
        (lambda: make_spiral(n_per_class=2.5), TypeError, "n_per_class"),
        (lambda: make_spiral(noise=-0.1), ValueError, "noise"),
        (lambda: make_spiral(seed="0"), TypeError, "seed"),
        (lambda: make_spiral(seed=-1), ValueError, "seed"),
        (lambda: make_xor(0), ValueError, "n_samples"),
        (lambda: make_xor(True), TypeError, "n_samples"),
        (lambda: make_xor(noise=float("nan")), ValueError, "noise"),
        (lambda: make_circles(factor=1.0), ValueError, "factor"),
        (lambda: make_circles(shuffle=None), TypeError, "shuffle"),
    ],
)
def test_bad_arguments(call, exc, pattern):
    with pytest.raises(exc, match=pattern):
        call()


def test_one_hot():
    t = np.array([2, 0, 1, 2])
    np.testing.assert_array_equal(one_hot(t), np.eye(3)[t])
    out = one_hot(t, 5, dtype=np.float64)
    assert out.shape == (4, 5) and out.dtype == np.float64
    np.testing.assert_array_equal(out, np.eye(5)[t])
    with pytest.raises(ValueError, match=r"\[0, 2\)"):
        one_hot(t, 2)
    with pytest.raises(TypeError, match="integers"):
        one_hot(np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="1-D"):
        one_hot(np.zeros((2, 2), dtype=int))
