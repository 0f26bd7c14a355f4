"""Custom metrics in benchmark runs (finite values, test-set intervals only for means over examples), the report's
reading of diverged runs and early targets, and the --baseline name."""

import math

import numpy as np
import pytest

import layergraph as lg
from layergraph.bench import Metric, ProblemData, markdown_report, register_problem, summarize, train_run, unregister
from layergraph.bench.report import profile_costs


def _load(data_dir=None):
    gen = np.random.default_rng(5)
    x = gen.standard_normal((300, 2)).astype(np.float32)
    t = (x[:, 0] + 0.3 * x[:, 1] > 0.2).astype(np.int64)
    return ProblemData(x[:200], t[:200], x[200:250], t[200:250], x[250:], t[250:])


def _build(seed):
    return lg.Sequential(lg.Affine(2, 2, rng=seed), loss=lg.SoftmaxWithLoss())


def f1(y, t):
    """F1 of class 1: not a mean over examples."""
    pred = np.argmax(y, axis=1)
    tp = np.sum((pred == 1) & (t == 1))
    return float(2 * tp / max(np.sum(pred == 1) + np.sum(t == 1), 1))


def nan_metric(y, t):
    return float("nan")


@pytest.fixture
def problem(request):
    names = []

    def make(metric):
        name = f"rules-{metric.name}-{len(names)}"
        register_problem(name, load=_load, build=_build, batch_size=50, epochs=2, metric=metric)
        names.append(name)
        return name
    yield make
    for name in names:
        unregister("problem", name)


def test_a_metric_that_returns_nan_on_finite_outputs_stops_the_run_naming_it(problem):
    name = problem(Metric("weird", nan_metric, higher_is_better=True, target=None))
    with pytest.raises(ValueError, match=r"metric 'weird' returned nan on the validation set at step 0 while the "
                                         r"loss is finite"):
        train_run(seed=0, problem=name, optimizer="SGD", hyperparameters={"lr": 0.1})


def test_a_metric_that_is_not_a_mean_over_examples_gets_no_test_set_interval(problem):
    name = problem(Metric("f1", f1, higher_is_better=True, target=0.5))
    record = train_run(seed=0, problem=name, optimizer="SGD", hyperparameters={"lr": 0.5})
    assert record["test_per_example"] is None
    assert "metric 'f1' is not a mean over examples" in record["test_per_example_note"]
    text = markdown_report([dict(record, seed=0)])   # the sweep adds the seed to the record
    assert "Test-set intervals: metric 'f1' is not a mean over examples" in text


def test_accuracy_keeps_its_per_example_values_and_they_average_to_the_test_accuracy(problem):
    name = problem(Metric("accuracy", higher_is_better=True, target=0.8))
    record = train_run(seed=0, problem=name, optimizer="SGD", hyperparameters={"lr": 0.5})
    rows = np.asarray(record["test_per_example"])
    assert set(np.unique(rows)) <= {0.0, 1.0} and len(rows) == 50
    assert rows.mean() == pytest.approx(record["final"]["test_accuracy"], abs=1e-12)
    assert record["test_per_example_note"] is None


def _final(opt, seed, steps, diverged=False, value=0.9):
    return {"problem": {"name": "p", "description": "p"}, "optimizer": opt, "phase": "final", "seed": seed,
            "trial": None, "hyperparameters": {"lr": 0.1}, "epochs": 1, "diverged": diverged,
            "metric": {"name": "accuracy", "higher_is_better": True, "target": 0.8},
            "final": {"test_accuracy": value, "test_loss": 0.3, "val_accuracy": value},
            "steps_to_target": steps, "steps_to_target_interp": None if steps is None else float(steps),
            "seconds_to_target": None if steps is None else 0.01 * steps, "target": 0.8,
            "test_per_example": None, "versions": {"numpy": "x"}, "machine": {"cpu": "y"}}


def test_a_run_that_diverged_after_meeting_the_target_counts_as_a_miss():
    records = [_final("A", 1, 20, diverged=True), _final("A", 2, 30), _final("B", 1, 40), _final("B", 2, 50)]
    s = summarize(records)["p"]
    assert s["A"]["reached"] == 1 and s["B"]["reached"] == 2
    costs = profile_costs(records)
    assert costs["A"] == [math.inf, 30.0] and costs["B"] == [40.0, 50.0]


def test_the_report_notes_targets_met_by_the_initial_network():
    records = [_final("A", 1, 0), _final("A", 2, 30), _final("B", 1, 0), _final("B", 2, 50)]
    text = markdown_report(records)
    assert "The initial network already meets the target on seed(s) 1:" in text
    assert "initial network" not in markdown_report([_final("A", 1, 10), _final("B", 1, 20)])


def test_the_baseline_is_matched_in_any_case_and_an_unknown_one_is_refused():
    records = [_final("Adam", 1, 10, value=0.9), _final("SGD", 1, 20, value=0.95),
               _final("Adam", 2, 10, value=0.91), _final("SGD", 2, 20, value=0.96)]
    assert "reference for the paired comparison: **Adam** (given with --baseline)" in markdown_report(
        records, baseline="adam")
    with pytest.raises(ValueError, match="baseline 'Nope' is not an optimizer of these runs; they ran Adam, SGD"):
        markdown_report(records, baseline="Nope")


def test_the_command_refuses_an_unknown_baseline_before_running(tmp_path, capsys):
    from layergraph.cli import main

    code = main(["bench", "run", "--problem", "logreg", "--optimizers", "sgd,adam", "--baseline", "nope",
                 "--budget", "1", "--seeds", "2", "--out", str(tmp_path / "res")])
    assert code == 1
    assert "--baseline 'nope' is not one of the optimizers to run: sgd, adam" in capsys.readouterr().err
    assert not (tmp_path / "res").exists()


def test_the_report_says_when_the_seeds_cannot_separate_the_optimizers():
    from layergraph.bench.report_notes import seeds_needed, wilcoxon_floor

    assert [seeds_needed(m) for m in (1, 2, 3, 4, 6, 7)] == [6, 7, 7, 8, 8, 9]
    for m in range(1, 10):                                       # the smallest n with m * 2 / 2**n below 0.05
        n = seeds_needed(m)
        assert wilcoxon_floor(n, m) < 0.05 <= wilcoxon_floor(n - 1, m)
    records = [_final(opt, seed, 10, value=v + 0.01 * seed) for seed in range(1, 6)
               for opt, v in (("A", 0.9), ("B", 0.8), ("C", 0.7))]
    text = markdown_report(records)
    assert "With at most 5 non-zero paired differences and 2 comparison(s) the smallest Holm-adjusted Wilcoxon "\
           "p-value is 0.125" in text
    assert "7 seeds or more" in text
    records = [_final(opt, seed, 10, value=v + 0.01 * seed) for seed in range(1, 8) for opt, v in (("A", .9), ("B", .8))]
    assert "smallest Holm-adjusted" not in markdown_report(records)


def test_edge_means_the_edge_of_the_search_range_for_random_searches():
    from layergraph.bench.report_notes import at_edge
    from layergraph.bench.space import LogUniform

    protocol = {"method": "sobol", "search_spaces": {"SGD": {"lr": LogUniform(0.003, 3.0).describe()}}}
    tried = [{"hyperparameters": {"lr": v}} for v in (0.01, 0.05, 0.8822, 0.2)]
    assert not at_edge({"lr": 0.8822}, tried, protocol, "SGD")      # the largest tried, but mid-range
    assert at_edge({"lr": 2.5}, tried, protocol, "SGD") and at_edge({"lr": 0.0035}, tried, protocol, "SGD")
    grid = dict(protocol, method="grid")
    assert at_edge({"lr": 0.8822}, tried, grid, "SGD")               # a grid spans its range: the largest tried
    assert not at_edge({"lr": 0.2}, tried, grid, "SGD")


def test_the_seed_note_counts_non_zero_differences_of_the_best_placed_comparison():
    # E lost 3 of its 10 seeds (diverged); the others have 10 non-zero differences each: no floor problem
    records = [_final(opt, seed, 10, value=v + 0.001 * seed) for seed in range(1, 11)
               for opt, v in (("A", 0.9), ("B", 0.8), ("C", 0.7), ("D", 0.6))]
    records += [_final("E", seed, 10, value=0.5 + 0.001 * seed) for seed in range(1, 8)]
    assert "smallest Holm-adjusted" not in markdown_report(records)
    # 6 seeds, one of them a zero difference: 5 count, and 2/2**5 = 0.0625
    records = [_final("A", s, 10, value=0.9 + 0.01 * s) for s in range(1, 7)]
    records += [_final("B", s, 10, value=(0.9 + 0.01 * s) if s == 1 else 0.5 + 0.01 * s) for s in range(1, 7)]
    assert "With at most 5 non-zero paired differences and 1 comparison(s)" in markdown_report(records)
