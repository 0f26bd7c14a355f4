"""Writing your own optimizer: the ``elementwise`` flag of :class:`layergraph.optim.Optimizer` (per-tensor rules on
packed parameters), inherited state and checkpoints, ``Hyper`` and the error messages of the subclass hooks."""

import numpy as np
import pytest

import layergraph as lg
from layergraph.optim import OPTIMIZERS, Adam, Hyper, Optimizer
from layergraph.train import Trainer


class NormSGD(Optimizer):
    """Per-tensor normalised SGD: ``p -= lr * g / ||g||`` (declares nothing: per-tensor by default)."""

    def _init_state(self, param):
        return {"step": 0}

    def _apply(self, param, grad, state, work, lr, weight_decay, hp):
        state["step"] += 1
        param -= lr * grad / np.linalg.norm(grad)


def _check_fraction(owner, name, value):
    value = float(value)
    if not 0.0 <= value < 1.0:
        raise ValueError(f"{owner}: argument '{name}' must be in [0, 1), got {value!r}")
    return value


class Signum(Optimizer):
    """Element-wise sign momentum: ``m = beta*m + (1-beta)*g; p -= lr*sign(m)``."""

    momentum = Hyper(_check_fraction)
    elementwise = True

    def __init__(self, lr=0.01, momentum=0.9, **options):
        super().__init__(lr, **options)
        self.momentum = momentum

    def _init_state(self, param):
        return {"m": np.zeros_like(param), "step": 0}

    def _apply(self, param, grad, state, work, lr, weight_decay, hp):
        state["step"] += 1
        m = state["m"]
        m *= hp["momentum"]
        m += (1.0 - hp["momentum"]) * grad
        param -= lr * np.sign(m)


def make_net(flat, seed=0):
    net = lg.Sequential(lg.Affine(6, 8, rng=seed, dtype=np.float64), lg.Tanh(),
                        lg.Affine(8, 3, rng=seed + 1, dtype=np.float64), loss=lg.SoftmaxWithLoss())
    return net.flatten_parameters() if flat else net


def data(n=10, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, 6)), rng.integers(0, 3, n)


def test_per_tensor_rule_sees_each_parameter_when_packed():
    x, t = data()
    net = make_net(flat=True)
    p0 = {k: v.copy() for k, v in net.params.items()}
    _, grads = net.loss_and_gradient(x, t)
    g0 = {k: v.copy() for k, v in grads.items()}
    opt = NormSGD(0.1)
    opt.update(net.params, grads)
    for key, p in net.params.items():  # the formula, tensor by tensor
        np.testing.assert_allclose(p, p0[key] - 0.1 * g0[key] / np.linalg.norm(g0[key]), rtol=0, atol=1e-15,
                                   err_msg=key)
        assert np.linalg.norm(p - p0[key]) == pytest.approx(0.1, rel=1e-12)
    assert opt._plan is None and all(opt.state[k]["step"] == 1 for k in net.params)


def test_per_tensor_rule_in_the_trainer_which_flattens_by_default():
    x, t = data(12)
    ref = make_net(flat=False)
    expected = {k: v.copy() for k, v in ref.params.items()}
    for _ in range(3):  # full-batch steps of the rule, written out
        _, grads = ref.loss_and_gradient(x, t)
        for k in expected:
            expected[k] -= 0.05 * grads[k] / np.linalg.norm(grads[k])
            ref.params[k][...] = expected[k]
    trainer = Trainer(make_net(flat=False), NormSGD(0.05), batch_size=12, shuffle=False, seed=0, verbose=0)
    trainer.fit(x, t, epochs=3)
    assert len({id(p.base) for p in trainer.net.params.values()}) == 1  # really packed
    for k, p in trainer.net.params.items():
        np.testing.assert_allclose(p, expected[k], rtol=0, atol=1e-13, err_msg=k)


def test_the_flag_defaults_to_per_tensor_and_built_ins_declare_elementwise():
    assert Optimizer.elementwise is False and NormSGD.elementwise is False and Signum.elementwise is True
    assert all(cls.elementwise is True for cls in OPTIMIZERS.values())

    class TweakedAdam(Adam):  # same rule: keeps the fast path
        def __init__(self):
            super().__init__(lr=0.01)

    class NewRuleOnAdam(Adam):  # a new rule does not inherit the flag
        def _apply(self, param, grad, state, work, lr, weight_decay, hp):
            param -= lr * grad / np.linalg.norm(grad)

    assert TweakedAdam.elementwise is True and NewRuleOnAdam.elementwise is False
    x, t = data()
    net = make_net(flat=True)
    tweaked = TweakedAdam()
    tweaked.update(net.params, net.gradient(x, t))
    assert tweaked._plan is not None


def test_elementwise_subclass_takes_the_packed_path_with_the_same_result():
    x, t = data()
    packed, plain = make_net(flat=True), make_net(flat=False)
    opt_packed, opt_plain = Signum(0.01, 0.8), Signum(0.01, 0.8)
    expected = {k: v.copy() for k, v in plain.params.items()}
    m = {k: np.zeros_like(v) for k, v in expected.items()}
    for _ in range(4):
        grads = plain.gradient(x, t)
        for k in expected:  # the rule, written out
            m[k] = 0.8 * m[k] + 0.2 * grads[k]
            expected[k] = expected[k] - 0.01 * np.sign(m[k])
        opt_plain.update(plain.params, grads)
        opt_packed.update(packed.params, packed.gradient(x, t))
    assert opt_packed._plan is not None and opt_plain._plan is None
    for k in expected:
        np.testing.assert_array_equal(packed.params[k], plain.params[k], err_msg=k)
        np.testing.assert_allclose(plain.params[k], expected[k], rtol=0, atol=1e-15, err_msg=k)
        assert opt_packed.state[k]["step"] == 4


def test_non_boolean_flag_is_a_one_line_type_error():
    with pytest.raises(TypeError, match=r"^Bad: class attribute 'elementwise' must be True or False, got str$"):
        class Bad(Optimizer):
            elementwise = "yes"


def test_subclass_state_dict_resumes_bit_for_bit_with_its_hyperparameters():
    x, t = data()
    straight, first = make_net(flat=True), make_net(flat=True)
    opt_s, opt_f = Signum(0.01, 0.7), Signum(0.01, 0.7)
    for _ in range(6):
        opt_s.update(straight.params, straight.gradient(x, t))
    for _ in range(3):
        opt_f.update(first.params, first.gradient(x, t))
    saved = opt_f.state_dict()
    assert saved["optimizer"] == "Signum" and saved["hyperparameters"]["momentum"] == 0.7
    resumed = Signum(0.5, 0.1)
    resumed.load_state_dict(saved)
    assert resumed.momentum == 0.7 and resumed.lr == 0.01
    for _ in range(3):
        resumed.update(first.params, first.gradient(x, t))
    for k in straight.params:
        np.testing.assert_array_equal(first.params[k], straight.params[k], err_msg=k)
    with pytest.raises(ValueError, match="state is for optimizer 'Signum', not 'NormSGD'"):
        NormSGD(0.1).load_state_dict(saved)


def test_hyper_checks_on_assignment_and_has_a_default_check():
    class Scaled(Optimizer):
        scale = Hyper()

        def __init__(self, lr=0.1, scale=1.0):
            super().__init__(lr)
            self.scale = scale

    assert Scaled(scale=2).scale == 2.0 and Scaled().hyperparameters() == {"lr": 0.1, "weight_decay": 0.0,
                                                                             "scale": 1.0}
    with pytest.raises(TypeError, match=r"^Scaled: argument 'scale' must be a real number, got str"):
        Scaled(scale="big")
    with pytest.raises(ValueError, match=r"^Scaled: argument 'scale' must be finite, got nan$"):
        Scaled(scale=float("nan"))
    with pytest.raises(ValueError, match=r"^Signum: argument 'momentum' must be in \[0, 1\), got 1.5$"):
        Signum(momentum=1.5)


def test_missing_hooks_name_the_class_and_the_method():
    class NoRule(Optimizer):
        pass

    params, grads = {"w": np.zeros(3)}, {"w": np.ones(3)}
    with pytest.raises(NotImplementedError, match=r"^NoRule: an Optimizer subclass must implement _init_state"):
        NoRule(0.1).update(params, grads)

    class NoApply(Optimizer):
        def _init_state(self, param):
            return {}

    with pytest.raises(NotImplementedError, match=r"^NoApply: an Optimizer subclass must implement _apply\("):
        NoApply(0.1).update(params, grads)


def test_a_rule_mixed_in_ahead_of_an_elementwise_optimizer_is_per_tensor():
    import numpy as np
    from layergraph import optim

    class NormalizedRule:
        def _apply(self, p, g, state, work, hp):
            p -= hp["lr"] * g / max(float(np.linalg.norm(g)), 1e-12)

    class NormalizedSGD(NormalizedRule, optim.SGD):
        pass

    class Declared(NormalizedRule, optim.SGD):
        elementwise = np.True_                               # a NumPy bool is a bool here

    assert NormalizedSGD.elementwise is False and optim.SGD.elementwise is True and Declared.elementwise is True
