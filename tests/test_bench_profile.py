"""Step-resolved time to target and profile ties; `bench functions` edge flags and weight decay."""

import math


from layergraph.bench import SequentialExecutor
from layergraph.bench.function_sweep import function_tasks, run_function_sweep
from layergraph.bench.report import markdown_report, profile_costs, profile_ties


def rec(opt, seed, steps, interp, problem="p"):
    return {"id": f"{problem}-{opt}-{seed}", "phase": "final", "optimizer": opt, "seed": seed,
            "problem": {"name": problem}, "steps_to_target": steps, "steps_to_target_interp": interp}


def test_ties_at_one_evaluation_are_broken_by_the_interpolated_step_not_by_order():
    # both reach the target at the evaluation of step 40; B crossed it earlier between steps 20 and 40
    recs = [rec("A", 0, 40, 37.5), rec("B", 0, 40, 25.0), rec("A", 1, 20, 20.0), rec("B", 1, 20, 20.0),
            rec("A", 2, None, None), rec("B", 2, 60, 55.0)]
    costs = profile_costs(recs)
    assert costs == {"A": [37.5, 20.0, math.inf], "B": [25.0, 20.0, 55.0]}
    assert profile_ties(costs) == 1  # only seed 1, where both crossed at the same step
    swapped = profile_costs(list(reversed(recs)))
    assert swapped["A"] == costs["A"] and swapped["B"] == costs["B"]
    assert profile_ties({"A": [1.0, math.inf], "B": [2.0, math.inf]}) == 0  # nobody reached: not a tie


def test_bench_functions_flags_edge_selections_and_runs_adamw_without_decay(tmp_path):
    pairs = function_tasks(["bowl"], ["adamw", "sgd"], (1e-3, 1e-2, 1e-1), steps=5)
    kw = {g: t.kwargs["optimizer"].keywords for g, t in pairs}
    assert kw[("bowl", "AdamW")] == {"lr": 0.1, "weight_decay": 0.0}  # the default 0.01 would bias the minimum
    assert kw[("bowl", "SGD")] == {"lr": 0.1}
    assert function_tasks(["bowl"], ["adamw"], (0.1,), weight_decay=0.01)[0][1].kwargs["optimizer"].keywords == {
        "lr": 0.1, "weight_decay": 0.01}
    with SequentialExecutor() as ex:
        res = run_function_sweep(["bowl"], ["sgd"], ex, tmp_path, lrs=(1e-4, 1e-3, 1e-2), steps=50, plots=False)
    label = res["trajectories"][0].optimizer
    assert label == "SGD(lr=0.01, edge)"  # the largest rate of the grid won: flagged
    assert "(1 of 1 pairs)" in (tmp_path / "functions.md").read_text()


def test_adamw_reaches_the_beale_minimum_when_decay_is_off(tmp_path):
    with SequentialExecutor() as ex:
        res = run_function_sweep(["beale", "himmelblau"], ["adamw"], ex, tmp_path, steps=300, plots=False)
    for t in res["trajectories"]:
        assert t.final_distance < 1e-2, t.optimizer


def test_report_counts_profile_ties():
    recs = [rec("A", 0, 40, 37.5), rec("B", 0, 40, 37.5)]
    for r in recs:
        r.update(final={"test_accuracy": 0.9, "test_loss": 0.3, "val_accuracy": 0.9, "val_loss": 0.3},
                 diverged=False, target=0.9, epochs=1, hyperparameters={"lr": 0.1}, seconds_to_target=1.0,
                 versions={"numpy": "x"}, machine={"cpu_count": 2}, problem={"name": "p", "description": "d"})
    text = markdown_report(recs)
    assert "Tied instances (several optimizers equally fastest): 1 of 1 (100.0%)" in text
