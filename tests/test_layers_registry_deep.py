"""Every layer of the deeper-network modules has registered gradient-check cases, and they all pass."""

import numpy as np
import pytest

import layergraph as lg
from layergraph import layers
from layergraph.gradcheck import all_cases, cases_for

DEEP = [layers.Dropout, layers.BatchNorm, layers.LayerNorm, layers.Conv2D, layers.MaxPool2D, layers.AvgPool2D,
        layers.GlobalAvgPool, layers.Flatten, layers.Residual, layers.ELU, layers.GELU, layers.SiLU,
        layers.Softplus]


@pytest.mark.parametrize("cls", DEEP, ids=lambda c: c.__name__)
def test_layer_has_cases(cls):
    assert cases_for(cls)
    assert cls.__name__ in layers.__all__


def test_mode_dependent_layers_checked_in_both_modes():
    for cls in (layers.Dropout, layers.BatchNorm):
        assert all(case.modes == (True, False) for case in cases_for(cls))


@pytest.mark.parametrize("case", [c for c in all_cases() if c.layer_type in DEEP], ids=lambda c: c.label)
def test_registered_case_passes(case):
    layer, x, t = case.build(np.random.default_rng(0))
    for train in case.modes:
        report = lg.gradcheck(layer, x, t, train=train)
        assert report.ok, str(report)
