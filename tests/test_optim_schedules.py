"""Learning-rate schedules against closed forms written here, and the optimizer driver."""

from __future__ import annotations

import math

import numpy as np
import pytest

import layergraph.optim as optim
from layergraph.optim import schedules as S

N = 40


def check(sched, expected_fn, n=N):
    got = [sched(t) for t in range(n)]
    want = [expected_fn(t) for t in range(n)]
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(sched.values(n), want, rtol=1e-12, atol=1e-15)


def half_cos(a, b, frac):
    """Goes from a (frac=0) to b (frac=1) along half a cosine wave."""
    return b + (a - b) * (1 + math.cos(math.pi * frac)) / 2


def test_constant():
    check(S.ConstantLR(0.3), lambda t: 0.3)


def test_step_decay_by_repeated_multiplication():
    def expected(t):
        lr = 0.1
        for _ in range(t // 3):
            lr *= 0.5
        return lr

    check(S.StepLR(0.1, step_size=3, gamma=0.5), expected)
    assert [S.StepLR(1.0, 2)(t) for t in range(5)] == pytest.approx([1, 1, 0.1, 0.1, 0.01])


def test_multistep_hand_values():
    sched = S.MultiStepLR(0.2, milestones=[2, 5, 6], gamma=0.1)
    want = [0.2, 0.2, 0.02, 0.02, 0.02, 0.002, 0.0002, 0.0002]
    np.testing.assert_allclose([sched(t) for t in range(8)], want, rtol=1e-12)


def test_exponential():
    check(S.ExponentialLR(0.5, gamma=0.9), lambda t: 0.5 * math.exp(t * math.log(0.9)))


def test_inverse_time():
    check(S.InverseTimeLR(0.4, decay_rate=0.25), lambda t: 0.4 / (1 + 0.25 * t))
    check(S.InverseTimeLR(0.4, decay_rate=0.5, decay_steps=10), lambda t: 0.4 / (1 + 0.05 * t))


def test_polynomial():
    def expected(t):
        if t >= 10:
            return 0.01
        return 0.01 + (0.3 - 0.01) * ((10 - t) / 10) ** 2

    check(S.PolynomialLR(0.3, total_steps=10, end_lr=0.01, power=2.0), expected)
    assert S.PolynomialLR(1.0, 4)(2) == pytest.approx(0.5)


def test_cosine_annealing():
    sched = S.CosineAnnealingLR(0.2, total_steps=20, min_lr=0.02)
    check(sched, lambda t: half_cos(0.2, 0.02, t / 20) if t <= 20 else 0.02)
    assert sched(0) == pytest.approx(0.2) and sched(10) == pytest.approx(0.11) and sched(20) == pytest.approx(0.02)


def test_cosine_warm_restarts_with_growing_cycles():
    # Cycles of length 4, 8, 16 start at t = 0, 4, 12, 28.
    starts = [0, 4, 12, 28, 60]

    def expected(t):
        i = max(k for k in range(len(starts) - 1) if starts[k] <= t)
        length = starts[i + 1] - starts[i]
        return half_cos(1.0, 0.1, (t - starts[i]) / length)

    sched = S.CosineWarmRestarts(1.0, period=4, period_mult=2, min_lr=0.1)
    check(sched, expected)
    assert [sched(t) for t in (0, 4, 12, 28)] == pytest.approx([1.0] * 4)
    assert sched(8) == pytest.approx(0.55)


def test_cosine_warm_restarts_fixed_period():
    check(S.CosineWarmRestarts(0.5, period=7), lambda t: half_cos(0.5, 0.0, (t % 7) / 7))


def test_warmup_then_cosine():
    def expected(t):
        if t < 5:
            return 0.01 + (0.1 - 0.01) * t / 5
        if t <= 25:
            return half_cos(0.1, 0.001, (t - 5) / 20)
        return 0.001

    sched = S.WarmupCosineLR(0.1, warmup_steps=5, total_steps=25, min_lr=0.001, warmup_start_lr=0.01)
    check(sched, expected)
    assert sched(5) == pytest.approx(0.1) and sched(15) == pytest.approx(0.0505)


def test_one_cycle_cos_and_linear():
    max_lr, total = 1.0, 11
    lo, end = max_lr / 25, max_lr / 25 / 1e4
    peak = 0.3 * 10  # step 3

    def cos_form(t):
        if t <= peak:
            return half_cos(lo, max_lr, t / peak)
        if t <= 10:
            return half_cos(max_lr, end, (t - peak) / (10 - peak))
        return end

    def lin_form(t):
        if t <= peak:
            return lo + (max_lr - lo) * t / peak
        if t <= 10:
            return max_lr + (end - max_lr) * (t - peak) / (10 - peak)
        return end

    check(S.OneCycleLR(max_lr, total), cos_form, n=15)
    check(S.OneCycleLR(max_lr, total, anneal="linear"), lin_form, n=15)
    sched = S.OneCycleLR(max_lr, total)
    assert sched(0) == pytest.approx(0.04) and sched(3) == pytest.approx(1.0) and sched(10) == pytest.approx(4e-6)


def test_schedules_are_pure_functions_of_t():
    sched = S.CosineWarmRestarts(1.0, period=3, period_mult=3)
    a = sched(17)
    _ = [sched(t) for t in (40, 2, 100)]
    assert sched(17) == a
    assert isinstance(a, float)


@pytest.mark.parametrize("bad, exc", [(-1, ValueError), (1.5, TypeError), (True, TypeError)])
def test_bad_t(bad, exc):
    with pytest.raises(exc, match="'t'"):
        S.ExponentialLR(0.1, 0.9)(bad)


@pytest.mark.parametrize(
    "build, arg",
    [
        (lambda: S.StepLR(0.1, 0), "step_size"),
        (lambda: S.StepLR(-0.1, 2), "lr0"),
        (lambda: S.MultiStepLR(0.1, [3, 2]), "milestones"),
        (lambda: S.ExponentialLR(0.1, 0.0), "gamma"),
        (lambda: S.PolynomialLR(0.1, 10, power=0.0), "power"),
        (lambda: S.CosineAnnealingLR(0.1, 0), "total_steps"),
        (lambda: S.WarmupCosineLR(0.1, 10, 10), "total_steps"),
        (lambda: S.OneCycleLR(0.1, 10, pct_start=1.0), "pct_start"),
        (lambda: S.OneCycleLR(0.1, 10, anneal="exp"), "anneal"),
        (lambda: S.ReduceLROnPlateau(0.1, factor=1.0), "factor"),
        (lambda: S.ReduceLROnPlateau(0.1, mode="up"), "mode"),
    ],
)
def test_bad_schedule_arguments(build, arg):
    with pytest.raises(ValueError, match=f"'{arg}'"):
        build()


# ---------------------------------------------------------------- plateau
def test_plateau_reduces_after_patience_and_respects_cooldown_and_min_lr():
    sched = S.ReduceLROnPlateau(1.0, factor=0.5, patience=2, cooldown=1, min_lr=0.2, threshold=0.0)
    metrics = [5, 4, 4, 4, 4, 4, 4, 4, 3, 3, 3, 3, 3, 3, 3, 3]
    got = [sched.step(m) for m in metrics]
    # Index 0, 1 improve; 2, 3, 4 are bad and the third bad one (4) halves the lr. Index 5
    # is a cooldown epoch (not counted); 6, 7 bad; 8 improves; 9, 10, 11 bad -> halve at 11;
    # 12 cooldown; 13, 14, 15 bad -> 0.125 is clipped to min_lr = 0.2 at 15.
    want = [1, 1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.25, 0.2]
    assert got == pytest.approx(want)
    sched2 = S.ReduceLROnPlateau(1.0, factor=0.1, patience=0, min_lr=0.05)
    assert [sched2.step(1.0) for _ in range(4)] == pytest.approx([1.0, 0.1, 0.05, 0.05])


def test_plateau_threshold_modes_and_max_mode():
    rel = S.ReduceLROnPlateau(1.0, patience=0, threshold=0.1, threshold_mode="rel")
    rel.step(10.0)
    assert rel.step(9.5) == pytest.approx(0.1)  # 9.5 is not below 10 - 0.1 * 10
    ab = S.ReduceLROnPlateau(1.0, patience=0, threshold=0.1, threshold_mode="abs")
    ab.step(10.0)
    assert ab.step(9.85) == 1.0  # 9.85 < 10 - 0.1
    mx = S.ReduceLROnPlateau(1.0, patience=0, mode="max", threshold=0.0)
    mx.step(0.5)
    assert mx.step(0.6) == 1.0 and mx.step(0.6) == pytest.approx(0.1)


def test_plateau_state_dict_resumes():
    a = S.ReduceLROnPlateau(1.0, factor=0.5, patience=1, cooldown=2)
    metrics = [3, 2, 2, 2, 2, 1, 1, 1, 1, 1]
    straight = [a.step(m) for m in metrics]
    b = S.ReduceLROnPlateau(1.0, factor=0.5, patience=1, cooldown=2)
    first = [b.step(m) for m in metrics[:4]]
    c = S.ReduceLROnPlateau(1.0, factor=0.5, patience=1, cooldown=2)
    c.load_state_dict(dict(b.state_dict()))
    assert first + [c.step(m) for m in metrics[4:]] == straight
    with pytest.raises(ValueError, match="keys"):
        c.load_state_dict({"lr": 1.0})
    with pytest.raises(ValueError, match="'metric'"):
        c.step(float("nan"))


# ---------------------------------------------------------------- driver
def test_driver_sets_optimizer_lr_per_step():
    opt = optim.SGD(lr=123.0)
    sched = S.ExponentialLR(0.1, 0.5)
    drv = S.attach(opt, sched)
    params = {"w": np.zeros(1)}
    seen = []
    for _ in range(4):
        seen.append(opt.lr)
        opt.update(params, {"w": np.ones(1)})
        drv.step()
    assert seen == pytest.approx([0.1, 0.05, 0.025, 0.0125])
    np.testing.assert_allclose(params["w"], [-(0.1 + 0.05 + 0.025 + 0.0125)], rtol=1e-12)
    assert drv.t == 4


def test_driver_start_state_dict_and_plateau():
    opt = optim.Adam()
    drv = S.attach(opt, S.StepLR(1.0, 2), start=3)
    assert opt.lr == pytest.approx(0.1)
    other = S.attach(optim.Adam(), S.StepLR(1.0, 2))
    other.load_state_dict(drv.state_dict())
    assert other.optimizer.lr == pytest.approx(0.1) and other.t == 3
    with pytest.raises(TypeError, match="metric"):
        drv.step(0.5)

    opt2 = optim.Momentum(lr=9.0)
    pdrv = S.attach(opt2, S.ReduceLROnPlateau(0.5, patience=0, factor=0.5))
    assert opt2.lr == 0.5
    pdrv.step(1.0)
    pdrv.step(1.0)
    assert opt2.lr == pytest.approx(0.25)
    with pytest.raises(TypeError, match="metric"):
        pdrv.step()
    with pytest.raises(TypeError, match="schedule"):
        S.attach(opt2, "cosine")                          # neither a Schedule nor a function of the step
    with pytest.raises(ValueError, match="finite learning rate"):
        S.attach(optim.SGD(lr=0.1), lambda t: float("nan"))


def test_exports_from_optim_namespace():
    assert optim.OneCycleLR is S.OneCycleLR and optim.attach is S.attach
