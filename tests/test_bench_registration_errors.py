"""Search-space mistakes are refused by register_optimizer, not at run time."""

import functools

import pytest

from layergraph.bench import Choice, LogUniform, Uniform, get_optimizer, register_optimizer, unregister
from layergraph.bench.registry import OPTIMIZER_FACTORIES


class NoBeta:
    def __init__(self, lr=0.1, momentum=0.9):
        self.lr, self.momentum = lr, momentum

    def update(self, params, grads):
        pass


class TakesAnything:
    def __init__(self, lr=0.1, **options):
        self.lr, self.options = lr, options

    def update(self, params, grads):
        pass


def _make(lr, *, beta=0.5):
    return NoBeta(lr)


@pytest.fixture
def cleanup():
    names = []
    yield names
    for name in names:
        if name in OPTIMIZER_FACTORIES:
            unregister("optimizer", name)


LR = LogUniform(1e-3, 1.0)


def test_unknown_keyword_is_refused_naming_optimizer_key_and_accepted(cleanup):
    with pytest.raises(ValueError) as info:
        register_optimizer("RegErrNoBeta", NoBeta, search_space={"lr": LR, "beta": Uniform(0.1, 0.9)})
    message = str(info.value)
    assert "\n" not in message
    assert "'RegErrNoBeta'" in message and "'beta'" in message and "lr, momentum" in message
    assert "RegErrNoBeta" not in OPTIMIZER_FACTORIES


def test_schedule_outside_the_supported_ones_is_refused(cleanup):
    with pytest.raises(ValueError) as info:
        register_optimizer("RegErrCosine", NoBeta, search_space={"lr": LR, "schedule": Choice(["step", "cosine"])})
    message = str(info.value)
    assert "'RegErrCosine'" in message and "'schedule'" in message and "'cosine'" in message
    assert all(s in message for s in ("constant", "step", "warmup_cosine"))
    with pytest.raises(ValueError, match="'schedule' must be a Choice"):
        register_optimizer("RegErrCosine", NoBeta, search_space={"lr": LR, "schedule": Uniform(0.0, 1.0)})
    assert "RegErrCosine" not in OPTIMIZER_FACTORIES


def test_keyword_only_and_partial_factories_are_read(cleanup):
    cleanup += ["RegErrFn", "RegErrPartial"]
    register_optimizer("RegErrFn", _make, search_space={"lr": LR, "beta": Uniform(0.1, 0.9)})
    with pytest.raises(ValueError, match="'RegErrFn2'.*'momentum'.*lr, beta"):
        register_optimizer("RegErrFn2", _make, search_space={"lr": LR, "momentum": Uniform(0.1, 0.9)})
    part = functools.partial(NoBeta, momentum=0.5)
    register_optimizer("RegErrPartial", part, search_space={"lr": LR, "momentum": Uniform(0.1, 0.9)})


def test_valid_spaces_and_uninspectable_factories_still_register(cleanup):
    cleanup += ["RegErrOk", "RegErrKwargs", "RegErrBuiltin"]
    spec = register_optimizer("RegErrOk", NoBeta, search_space={
        "lr": LR, "momentum": Uniform(0.5, 0.99), "schedule": Choice(["constant", "step", "warmup_cosine"])})
    assert set(spec.search_space) == {"lr", "momentum", "schedule"}
    register_optimizer("RegErrKwargs", TakesAnything, search_space={"lr": LR, "beta": Uniform(0.1, 0.9)})
    register_optimizer("RegErrBuiltin", dict, search_space={"lr": LR, "beta": Uniform(0.1, 0.9)})
    assert get_optimizer("regerrkwargs").name == "RegErrKwargs"


def test_a_plugin_with_a_bad_space_fails_at_import_naming_plugin_and_key(tmp_path, cleanup):
    from layergraph.bench import load_plugins

    path = tmp_path / "lg_regerr_plugin.py"
    path.write_text("from layergraph.bench import register_optimizer, LogUniform, Uniform\n"
                    f"from {__name__} import NoBeta\n"
                    "register_optimizer('RegErrPlugin', NoBeta, search_space={'lr': LogUniform(1e-3, 1.0), "
                    "'beta': Uniform(0.1, 0.9)})\n")
    with pytest.raises(ImportError, match=r"plugin .*lg_regerr_plugin.py.*ValueError: register_optimizer "
                                          r"'RegErrPlugin'.*'beta'"):
        load_plugins([str(path)])
