"""pytest plugin: gradient-check every registered layer case, or every layer a module defines.

Registered through the ``pytest11`` entry point, so installing layergraph enables it. It adds:

* ``--gradcheck-mode {auto,full,sampled,directional}`` (default ``auto``) and ``--gradcheck-seed N``;
* ``--save-failures DIR``: every failing check of ``assert_gradcheck`` is written to ``DIR/<test id>.npz``, to be
  rerun with ``layergraph.gradcheck.replay``;
* the marker ``@pytest.mark.gradcheck_layers("pkg.module", ...)``: the test's ``gradcheck_case`` parameter runs
  over every registered case of the layer classes those modules (and subpackages) define, plus one failing
  parameter per class that has no case;
* the fixture ``gradcheck_case`` (a :class:`~layergraph.gradcheck.GradCase`; without the marker: every
  registered case) and the fixture ``assert_gradcheck``, a function checking a case or ``(layer, x, t)`` in the
  configured mode and raising :class:`~layergraph.GradCheckError` on failure.

Example::

    import pytest

    @pytest.mark.gradcheck_layers("mypkg.layers")
    def test_gradients(gradcheck_case, assert_gradcheck):
        assert_gradcheck(gradcheck_case)
"""

import pytest

from ..gradcheck.check import MODES
from ..gradcheck.registry import GradCase, all_cases, cases_for
from ..gradcheck.report import GradCheckError
from .asserts import assert_gradients, check_case
from .discovery import layer_classes


def pytest_addoption(parser):
    group = parser.getgroup("layergraph", "layergraph gradient checks")
    group.addoption("--gradcheck-mode", choices=MODES, default="auto",
                    help="mode of gradient checks run through the layergraph fixtures (default: auto)")
    group.addoption("--gradcheck-seed", type=int, default=0,
                    help="seed of the cases and of the checks (default: 0)")
    group.addoption("--save-failures", metavar="DIR", default=None,
                    help="write every failing gradient check of the layergraph fixtures to DIR/<test>.npz "
                         "(rerun with layergraph.gradcheck.replay)")


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "gradcheck_layers(*modules): parametrize 'gradcheck_case' over the registered gradient-check "
                   "cases of every Layer subclass defined in these modules")


class _MissingCase:
    """Stands in for a case of a layer class that has none; checking it fails with a clear message."""

    def __init__(self, cls):
        self.layer_type = cls
        self.label = f"{cls.__name__}/NO-CASE"


def _cases_for_modules(modules):
    """The registered cases of the layer classes *modules* define, and a :class:`_MissingCase` per class without
    one; every module is imported (registering its cases) before the registry is read."""
    classes = [cls for module in modules for cls in layer_classes(module)]
    params = []
    for cls in classes:
        params += cases_for(cls) or [_MissingCase(cls)]
    return params


def save_failure(err, directory, nodeid):
    """Save a :class:`GradCheckError`'s case to ``directory/<test id>.npz``; return the path (None if not saved)."""
    import os
    import re

    os.makedirs(directory, exist_ok=True)
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid).strip("_")
    try:
        return err.save(os.path.join(directory, stem + ".npz"))
    except ValueError:
        return None


def pytest_generate_tests(metafunc):
    if "gradcheck_case" not in metafunc.fixturenames:
        return
    marker = metafunc.definition.get_closest_marker("gradcheck_layers")
    cases = _cases_for_modules(marker.args) if marker is not None else all_cases()
    metafunc.parametrize("gradcheck_case", cases, ids=[case.label for case in cases])


@pytest.fixture
def assert_gradcheck(request):
    """``check(case_or_layer, x=None, t=None, **options)``: gradient-check in the ``--gradcheck-mode``."""
    mode = request.config.getoption("--gradcheck-mode")
    seed = request.config.getoption("--gradcheck-seed")
    directory = request.config.getoption("--save-failures")

    def check(subject, x=None, t=None, **options):
        try:
            return _check(subject, x, t, **options)
        except GradCheckError as err:
            if directory:
                path = save_failure(err, directory, request.node.nodeid)
                if path:
                    err.args = (f"{err.args[0]}\nsaved to {path}",)
            raise

    def _check(subject, x=None, t=None, **options):
        options.setdefault("mode", mode)
        if isinstance(subject, _MissingCase):
            pytest.fail(f"layer class {subject.layer_type.__module__}.{subject.layer_type.__qualname__} has no "
                        f"gradient-check case; register one with @layergraph.gradcheck.register_case", False)
        if isinstance(subject, GradCase):
            return check_case(subject, seed=options.pop("seed", seed), **options)
        options.setdefault("seed", seed)
        return assert_gradients(subject, x, t, **options)

    return check
