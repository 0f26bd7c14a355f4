"""Your own schedules: ``attach`` takes a plain function ``t -> lr`` (with its values checked), and a
:class:`Schedule` subclass implements the public ``value(t)`` hook."""

import math

import numpy as np
import pytest

from layergraph.optim import SGD, Momentum
from layergraph.optim.schedules import LRDriver, Schedule, StepLR, attach


def warmup(t):
    return 0.1 * min(1.0, (t + 1) / 4)


class PlainOptimizer:  # no validation of its own: only the driver can catch a bad value
    def __init__(self):
        self.lr = 1.0

    def update(self, params, grads):
        for k, p in params.items():
            p -= self.lr * grads[k]


def test_attach_accepts_a_function_of_the_step():
    opt = SGD(lr=5.0)
    drv = attach(opt, warmup)
    params = {"w": np.zeros(2)}
    seen = []
    for _ in range(6):
        seen.append(opt.lr)
        opt.update(params, {"w": np.ones(2)})
        drv.step()
    expected = [0.1 * min(1.0, (t + 1) / 4) for t in range(6)]
    assert seen == expected and drv.t == 6
    np.testing.assert_allclose(params["w"], -sum(expected), rtol=1e-12)
    other = attach(PlainOptimizer(), warmup, start=2)
    assert other.optimizer.lr == 0.1 * 3 / 4
    other.load_state_dict(drv.state_dict())
    assert other.t == 6 and other.optimizer.lr == 0.1


def test_callable_objects_and_lambdas_work_too():
    class Halve:
        def __call__(self, t):
            return 0.5 ** t

    opt = Momentum(lr=9.0)
    drv = attach(opt, Halve())
    assert [opt.lr, drv.step(), drv.step()] == [1.0, 0.5, 0.25]
    drv = LRDriver(opt, lambda t: 0.01 * (t + 1))
    assert opt.lr == 0.01 and drv.step() == 0.02


@pytest.mark.parametrize("bad,error,message", [
    (None, TypeError, "must return a learning rate (a real number), got NoneType"),
    ("0.1", TypeError, "must return a learning rate (a real number), got str"),
    (True, TypeError, "must return a learning rate (a real number), got bool"),
    (float("nan"), ValueError, "must return a finite learning rate >= 0, got nan"),
    (math.inf, ValueError, "must return a finite learning rate >= 0, got inf"),
    (-0.1, ValueError, "must return a finite learning rate >= 0, got -0.1"),
])
def test_a_bad_value_is_a_one_line_error_naming_the_function_and_step(bad, error, message):
    def broken_after_two(t):
        return 0.1 if t < 2 else bad

    opt = PlainOptimizer()
    drv = attach(opt, broken_after_two)
    drv.step()
    with pytest.raises(error) as info:
        drv.step()
    text = str(info.value)
    assert "\n" not in text and text.startswith("LRDriver: schedule ")
    assert "broken_after_two(2) " in text and text.endswith(message)
    assert drv.t == 1 and opt.lr == 0.1  # nothing changed
    with pytest.raises(error, match="broken_after_two"):
        attach(PlainOptimizer(), broken_after_two, start=3)


def test_a_non_callable_schedule_is_refused():
    with pytest.raises(TypeError, match=r"^LRDriver: argument 'schedule' must be a Schedule, a function t -> lr "
                                        r"or a ReduceLROnPlateau, got float$"):
        attach(SGD(), 0.1)


class Halving(Schedule):
    def __init__(self, lr0, every):
        self.lr0, self.every = lr0, every

    def value(self, t):
        return self.lr0 * 0.5 ** (t // self.every)


def test_schedule_subclass_implements_the_public_value_hook():
    sched = Halving(0.1, every=2)
    assert [sched(t) for t in range(5)] == [0.1 * 0.5 ** (t // 2) for t in range(5)]
    np.testing.assert_array_equal(sched.values(5), [0.1, 0.1, 0.05, 0.05, 0.025])
    assert repr(sched) == "Halving(lr0=0.1, every=2)"
    opt = SGD()
    drv = attach(opt, sched, start=3)
    assert opt.lr == 0.05 and drv.step() == 0.025
    assert StepLR(1.0, 2).value(3) == 0.1  # the built-ins implement the same hook


def test_schedule_subclass_values_are_checked_naming_the_class():
    class Broken(Schedule):
        def value(self, t):
            return float("nan") if t == 3 else 0.1

    with pytest.raises(ValueError, match=r"^Broken.value\(3\) must return a finite learning rate >= 0, got nan$"):
        Broken()(3)
    with pytest.raises(ValueError, match=r"^Broken.value\(3\)"):
        Broken().values(5)

    class Nothing(Schedule):
        pass

    with pytest.raises(NotImplementedError, match=r"^Nothing: a Schedule subclass must implement value\(t\)$"):
        Nothing()(0)


def test_subclasses_overriding_the_old_private_hook_keep_working():
    class Old(Schedule):
        def _value(self, t):
            return 1.0 / (t + 1)

    assert Old()(3) == 0.25 and Old().values(2).tolist() == [1.0, 0.5]


def test_a_subclass_of_a_builtin_overriding_either_hook_is_what_runs():
    from layergraph.optim.schedules import CosineAnnealingLR

    class FloorOld(CosineAnnealingLR):
        def _value(self, t):                                # written for the earlier private hook
            return max(super()._value(t), 0.05)

    class FloorNew(CosineAnnealingLR):
        def value(self, t):
            return max(super().value(t), 0.05)

    for cls in (FloorOld, FloorNew):
        sched = cls(0.1, total_steps=10)
        assert sched(10) == 0.05 and sched(0) == pytest.approx(0.1)
        assert sched.values(11)[-1] == 0.05
    assert CosineAnnealingLR(0.1, total_steps=10)(10) == 0.0


def test_old_and_new_hooks_mix_in_any_order():
    class Old(Schedule):
        def __init__(self, lr0):
            self.lr0 = lr0

        def _value(self, t):
            return self.lr0 * 0.5 ** t

    class New(Old):
        def value(self, t):
            return 0.5 * super().value(t)

    assert Old(1.0).value(3) == 0.125 and Old(1.0)(3) == 0.125
    assert New(1.0)(3) == 0.0625 and New(1.0).values(2).tolist() == [0.5, 0.25]
    with pytest.raises(NotImplementedError, match="must implement value"):
        Schedule()(0)
