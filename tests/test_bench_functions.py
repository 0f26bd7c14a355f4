"""Test functions (gradients vs finite differences, minima) and trajectories (determinism, closed forms)."""

import functools

import numpy as np
import pytest

from layergraph.bench import (FUNCTIONS, Bowl, IllConditionedQuadratic, Noisy, Trajectory, get_function,
                              run_trajectory, trajectory_table)
from layergraph.optim import SGD, Adam, Momentum

NAMES = sorted(FUNCTIONS)


def central_difference(f, p, h=1e-6):
    g = np.zeros(2)
    for i in range(2):
        e = np.zeros(2)
        e[i] = h
        g[i] = (f(p + e) - f(p - e)) / (2 * h)
    return g


@pytest.mark.parametrize("name", NAMES)
def test_gradient_matches_finite_differences(name):
    fn = get_function(name)
    rng = np.random.default_rng(1)
    x0, x1, y0, y1 = fn.box
    for _ in range(20):
        p = np.array([rng.uniform(x0, x1), rng.uniform(y0, y1)]) * 0.9
        num = central_difference(lambda q: float(fn.value(q)), p)
        ana = fn.grad(p)
        scale = max(1.0, np.abs(num).max())
        assert np.allclose(ana, num, rtol=1e-5, atol=1e-5 * scale), (name, p, ana, num)


@pytest.mark.parametrize("name", NAMES)
def test_minima_have_min_value_and_zero_gradient(name):
    fn = get_function(name)
    assert np.allclose(fn.value(fn.minima), fn.min_value, atol=1e-9)
    assert np.allclose(fn.grad(fn.minima), 0.0, atol=1e-6)
    assert np.allclose(fn.distance_to_minimum(fn.minima), 0.0)


@pytest.mark.parametrize("name", NAMES)
def test_grid_evaluation_matches_pointwise(name):
    fn = get_function(name)
    grid = np.random.default_rng(0).normal(size=(3, 4, 2))
    vals, grads = fn.value(grid), fn.grad(grid)
    assert vals.shape == (3, 4) and grads.shape == (3, 4, 2)
    for i in range(3):
        for j in range(4):
            assert vals[i, j] == pytest.approx(float(fn.value(grid[i, j])))
            assert np.allclose(grads[i, j], fn.grad(grid[i, j]))


def test_quadratic_hessian_has_requested_condition_number():
    q = IllConditionedQuadratic(condition=250.0, angle=0.3)
    eig = np.linalg.eigvalsh(q.hessian)
    assert eig.max() / eig.min() == pytest.approx(250.0)
    p = np.array([0.7, -1.3])
    assert float(q.value(p)) == pytest.approx(0.5 * p @ q.hessian @ p)


def test_noisy_gradient_is_seeded_and_unbiased():
    base = get_function("rosenbrock")
    p = np.array([0.5, 0.5])
    a = [Noisy(base, 0.3, seed=7).grad(p) for _ in range(2)]
    assert np.array_equal(a[0], a[1])
    assert not np.array_equal(a[0], Noisy(base, 0.3, seed=8).grad(p))
    n = Noisy(base, 0.3, seed=0)
    draws = np.array([n.grad(p) for _ in range(4000)])
    assert np.allclose(draws.mean(axis=0), base.grad(p), atol=4 * 0.3 / np.sqrt(4000))
    assert np.allclose(draws.std(axis=0), 0.3, rtol=0.1)
    assert float(n.value(p)) == float(base.value(p))


def test_bad_inputs_raise():
    with pytest.raises(ValueError, match="shape"):
        Bowl().value(np.zeros(3))
    with pytest.raises(TypeError):
        Bowl().grad("xy")
    with pytest.raises(ValueError, match="unknown function"):
        get_function("sphere")
    with pytest.raises(ValueError, match="seed"):
        get_function("bowl", noise=0.1)
    with pytest.raises(ValueError, match="condition"):
        IllConditionedQuadratic(condition=0.5)


def test_sgd_on_bowl_follows_closed_form():
    # f = x^2/20 + y^2: SGD gives x_k = x0 (1 - lr/10)^k and y_k = y0 (1 - 2 lr)^k.
    lr, steps = 0.3, 25
    t = run_trajectory(Bowl(), functools.partial(SGD, lr=lr), steps)
    k = np.arange(steps + 1)
    x0, y0 = Bowl().start
    assert np.allclose(t.path[:, 0], x0 * (1 - lr / 10) ** k)
    assert np.allclose(t.path[:, 1], y0 * (1 - 2 * lr) ** k)
    assert t.final_distance == pytest.approx(np.hypot(*t.path[-1]))


def test_trajectories_are_deterministic_and_start_is_not_modified():
    start = np.array([-1.0, 1.5])
    keep = start.copy()
    runs = [run_trajectory(get_function("rosenbrock", noise=0.5, seed=3), functools.partial(Adam, lr=0.05), 50,
                           start=start) for _ in range(2)]
    assert np.array_equal(runs[0].path, runs[1].path)
    assert np.array_equal(start, keep)
    other = run_trajectory(get_function("rosenbrock", noise=0.5, seed=4), functools.partial(Adam, lr=0.05), 50,
                           start=start)
    assert not np.array_equal(runs[0].path, other.path)


def test_divergence_is_detected_and_cut():
    t = run_trajectory(Bowl(), functools.partial(SGD, lr=5.0), 200)  # |1 - 2 lr| = 9 on y
    assert t.diverged and t.steps_taken < 200
    assert t.final_distance == float("inf")
    assert np.all(np.abs(t.path) <= 1e8)


def test_steps_to_tolerance_on_hand_made_trajectory():
    path = np.array([[3.0, 0.0], [1.0, 0.0], [0.5, 0.0], [0.05, 0.0]])
    t = Trajectory("bowl", "x", path, Bowl().value(path), np.abs(path[:, 0]), 0.0, 3)
    assert t.steps_to_tolerance(0.6) == 2
    assert t.steps_to_tolerance(0.01) is None
    assert t.steps_to_tolerance(0.5 ** 2 / 20 + 1e-12, kind="value") == 2
    with pytest.raises(ValueError):
        t.steps_to_tolerance(0.0)
    bounce = np.array([[3.0, 0.0], [0.01, 0.0], [2.0, 0.0], [0.02, 0.0], [0.01, 0.0]])
    b = Trajectory("bowl", "x", bounce, Bowl().value(bounce), np.abs(bounce[:, 0]), 0.0, 4)
    assert b.steps_to_tolerance(0.05) == 3  # passing near the minimum at step 1 does not count
    assert b.steps_to_tolerance(0.015) == 4
    assert b.steps_to_tolerance(0.005) is None  # the last iterate is outside
    assert Trajectory.from_dict(t.to_dict()).to_dict() == t.to_dict()
    table = trajectory_table([t], tol=0.6, fmt="markdown")
    assert table.count("\n") == 2 and "| 2" in table.replace(" 2 |", "| 2")


def test_momentum_on_bowl_follows_linear_recurrence():
    # Heavy ball on f = x^2/20 + y^2 is linear: [p, v] -> A [p, v] with the curvature h per axis.
    lr, mom, steps = 0.1, 0.8, 40
    t = run_trajectory(Bowl(), functools.partial(Momentum, lr=lr, momentum=mom), steps)
    for axis, h in ((0, 0.1), (1, 2.0)):
        a = np.array([[1 - lr * h, mom], [-lr * h, mom]])  # p' = p + v', v' = mom v - lr h p
        state = np.array([Bowl().start[axis], 0.0])
        expected = [state[0]]
        for _ in range(steps):
            state = a @ state
            expected.append(state[0])
        assert np.allclose(t.path[:, axis], expected, rtol=1e-9, atol=1e-12)
