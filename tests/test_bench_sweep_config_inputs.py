"""SweepConfig name lists given as strings, and seed-overlap errors whose suggestions are accepted."""

import re

import pytest

from layergraph.bench import SweepConfig

BASE = dict(problems=("logreg",), optimizers=("sgd",), budget=1)


def test_comma_separated_names_are_split():
    cfg = SweepConfig(problems="logreg, friedman-regression", optimizers="SGD,adam", budget=1)
    assert cfg.optimizers == ("SGD", "Adam")
    assert cfg.problems == ("logreg", "friedman-regression")
    assert SweepConfig(problems="logreg", optimizers=" momentum ", budget=1).optimizers == ("Momentum",)


def test_comma_separated_plugins_are_split(tmp_path):
    a, b = tmp_path / "lg_sci_a.py", tmp_path / "lg_sci_b.py"
    a.write_text("A = 1\n")
    b.write_text("B = 2\n")
    cfg = SweepConfig(**{**BASE, "plugins": f"{a},{b}"})
    assert cfg.plugins == (str(a.resolve()), str(b.resolve()))


def test_name_lists_of_the_wrong_type_are_refused():
    with pytest.raises(TypeError, match="SweepConfig: optimizers must be a comma-separated str or a sequence of "
                                        "str, got int"):
        SweepConfig(**{**BASE, "optimizers": 5})
    with pytest.raises(ValueError, match="optimizers is empty"):
        SweepConfig(**{**BASE, "optimizers": " , "})


def _suggestions(message, option):
    """The values an overlap message suggests for ``option``: a list of ints to try."""
    part = message.split(f"({option})", 1)[1].split(",", 1)[0]
    values = []
    for word, number in re.findall(r"(at most|at least|below|above) (-?\d+)", part):
        n = int(number)
        values.append({"at most": n, "at least": n, "below": n - 1, "above": n + 1}[word])
    assert values, message
    return values


@pytest.mark.parametrize("kwargs", [dict(seeds=3, tune_seed=1), dict(seeds=5, seed_base=9999),
                                    dict(seeds=3, seed_base=9, tune_seed=10, tune_seeds=2),
                                    dict(seeds=2, seed_base=0, tune_seed=0, tune_seeds=3)])
def test_seed_overlap_suggests_only_accepted_values(kwargs):
    with pytest.raises(ValueError, match="overlap") as info:
        SweepConfig(**BASE, **kwargs)
    message = str(info.value)
    for value in _suggestions(message, "--seed-base"):
        SweepConfig(**BASE, **{**kwargs, "seed_base": value})          # accepted: no ValueError
    for value in _suggestions(message, "--tune-seed"):
        SweepConfig(**BASE, **{**kwargs, "tune_seed": value})


def test_seed_overlap_message_for_the_reported_case():
    with pytest.raises(ValueError) as info:
        SweepConfig(**BASE, seeds=3, tune_seed=1)
    assert "-1" not in str(info.value) and "at least 2" in str(info.value)
