"""Every built-in layer is gradient-checked through the registry; a layer without a case fails here."""

import inspect

import numpy as np
import pytest

import layergraph as lg
import layergraph.layers
from layergraph.gradcheck import all_cases, cases_for

CASES = all_cases()


def public_layer_classes():
    found = set()
    for module_name, obj in vars(layergraph.layers).items():
        if inspect.isclass(obj) and issubclass(obj, lg.Layer) and obj not in (lg.Layer, lg.Loss):
            if not module_name.startswith("_"):
                found.add(obj)
    return sorted(found, key=lambda c: c.__name__)


@pytest.mark.parametrize("cls", public_layer_classes(), ids=lambda c: c.__name__)
def test_every_public_layer_has_a_case(cls):
    assert cases_for(cls), f"{cls.__name__} has no gradient-check case: add one with @register_case"


@pytest.mark.parametrize("case", CASES, ids=[c.label for c in CASES])
def test_registered_case_passes_in_float64(case):
    for train in case.modes:
        layer, x, t = case.build(np.random.default_rng(0))
        report = lg.gradcheck(layer, x, t, mode="full", train=train)
        assert report.ok, str(report)
        assert max(r.max_rel_err for r in report.tensors.values()) < 1e-7
        assert set(report.tensors) == {"x", *layer.params}
