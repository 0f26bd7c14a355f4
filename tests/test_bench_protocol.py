"""The tuning protocol: same budget for everyone, grid and random search, selection, explicit seeds."""

import math

import pytest

from layergraph.bench import SEARCH_SPACES, Metric, SweepConfig, select_best, selection_key, tuning_trials
from layergraph.bench.protocol import TUNE_SEED, final_tasks, tuning_tasks
from layergraph.bench.runs import time_to_target, train_run

CLASSIC = ["SGD", "Momentum", "Nesterov", "AdaGrad", "RMSprop", "Adam", "AdamW"]


@pytest.mark.parametrize("name", CLASSIC)
def test_grid_is_log_spaced_over_the_range(name):
    rng = SEARCH_SPACES[name]["lr"]
    lrs = [t["lr"] for t in tuning_trials(name.lower(), 5, "grid")]
    expected = [rng.low * (rng.high / rng.low) ** (i / 4) for i in range(5)]
    assert lrs == pytest.approx(expected, rel=1e-3)
    assert all(set(t) == {"lr"} for t in tuning_trials(name, 5, "grid"))
    assert tuning_trials(name, 1, "grid")[0]["lr"] == pytest.approx(math.sqrt(rng.low * rng.high), rel=1e-3)


@pytest.mark.parametrize("name", CLASSIC)
def test_random_search_is_seeded_and_in_range(name):
    a = tuning_trials(name, 12, "random", search_seed=3)
    assert a == tuning_trials(name, 12, "random", search_seed=3)
    assert a != tuning_trials(name, 12, "random", search_seed=4)
    assert len(a) == 12
    for trial in a:
        assert set(trial) == set(SEARCH_SPACES[name])
        lr = SEARCH_SPACES[name]["lr"]
        assert lr.low * 0.999 <= trial["lr"] <= lr.high * 1.001
        for key in ("momentum", "beta1", "decay_rate"):
            if key in trial:
                assert 0.0 < trial[key] < 1.0


def test_tuning_trials_errors():
    with pytest.raises(ValueError, match="budget"):
        tuning_trials("adam", 0)
    with pytest.raises(ValueError, match="method"):
        tuning_trials("adam", 3, "bayes")
    with pytest.raises(ValueError, match="unknown optimizer"):
        tuning_trials("adamz", 3)


ACC = Metric("accuracy", higher_is_better=True, target=0.9)
MSE = Metric("mse", higher_is_better=False, target=0.1)


def rec(trial, acc, loss, diverged=False, seed=10000):
    return {"trial": trial, "diverged": diverged, "seed": seed, "final": {"val_accuracy": acc, "val_loss": loss}}


def test_selection_prefers_accuracy_then_loss_then_earlier_trial_and_ranks_diverged_last():
    runs = [rec(0, 0.90, 0.30), rec(1, 0.95, 0.40), rec(2, 0.95, 0.20), rec(3, 0.99, 0.1, diverged=True),
            rec(4, 0.95, 0.20)]
    assert select_best(runs, ACC)["trial"] == 2
    assert select_best([rec(0, None, None, True), rec(1, 0.5, 9.0)], ACC)["trial"] == 1
    assert sorted(runs, key=selection_key)[-1]["trial"] == 3
    with pytest.raises(ValueError):
        select_best([])


def test_selection_follows_the_metric_direction_and_averages_tuning_seeds():
    def r(trial, mse, seed):
        return {"trial": trial, "diverged": False, "seed": seed, "final": {"val_mse": mse, "val_loss": mse}}

    # trial 0: mean 0.25 over its two seeds; trial 1: mean 0.2 (lower is better) despite its worse first seed
    runs = [r(0, 0.1, 10000), r(0, 0.4, 10001), r(1, 0.3, 10000), r(1, 0.1, 10001)]
    best = select_best(runs, MSE)
    assert best["trial"] == 1 and best["seed"] == 10000 and best["tune_score"] == pytest.approx(0.2)


def test_same_budget_and_explicit_seeds_in_every_task():
    cfg = SweepConfig(problems=("logreg",), optimizers=("sgd", "Adam", "adamw"), budget=4, seeds=3, seed_base=7)
    assert cfg.optimizers == ("SGD", "Adam", "AdamW")
    assert cfg.n_runs == 3 * (4 + 3)
    for o in cfg.optimizers:
        tune = tuning_tasks("logreg", o, cfg.budget)
        assert len(tune) == 4 and {t.seed for t in tune} == {TUNE_SEED}
        assert [t.kwargs["trial"] for t in tune] == [0, 1, 2, 3]
        fin = final_tasks("logreg", o, {"lr": 0.01}, cfg.seed_list)
        assert [t.seed for t in fin] == [7, 8, 9]
        assert len({t.id for t in tune + fin}) == 7
    # ids are stable across invocations and change with the settings
    assert [t.id for t in tuning_tasks("logreg", "sgd", 4)] == [t.id for t in tuning_tasks("logreg", "SGD", 4)]
    assert tuning_tasks("logreg", "sgd", 4)[0].id != tuning_tasks("logreg", "sgd", 4, epochs=3)[0].id


def test_sweep_config_rejects_bad_values():
    with pytest.raises(ValueError, match="unknown problem"):
        SweepConfig(problems=("imagenet",), optimizers=("sgd",), budget=1)
    with pytest.raises(ValueError, match="budget"):
        SweepConfig(problems=("logreg",), optimizers=("sgd",), budget=0)
    with pytest.raises(ValueError, match="optimizers is empty"):
        SweepConfig(problems=("logreg",), optimizers=(), budget=1)


def test_time_to_target_takes_first_evaluation_reaching_it():
    steps, interp_steps = time_to_target([0.5, 0.91, 0.89, 0.95], [10, 20, 30, 40], [0.1, 0.2, 0.3, 0.4], ACC)[::2]
    assert steps == 20 and interp_steps == pytest.approx(10 + 10 * (0.9 - 0.5) / (0.91 - 0.5))
    assert time_to_target([0.5, 0.91], [10, 20], [0.1, 0.2], ACC)[1] == 0.2
    assert time_to_target([0.5, 0.6], [10, 20], [0.1, 0.2], ACC) == (None, None, None)
    # lower is better: the first value <= 0.1
    assert time_to_target([0.5, 0.2, 0.05], [5, 10, 15], [1.0, 2.0, 3.0], MSE)[:2] == (15, 3.0)
    assert time_to_target([0.05], [5], [1.0], MSE) == (5, 1.0, 5.0)


def test_train_run_record_is_consistent_and_seeded():
    a = train_run(seed=1, problem="logreg", optimizer="sgd", hyperparameters={"lr": 0.1}, epochs=3)
    b = train_run(seed=1, problem="logreg", optimizer="SGD", hyperparameters={"lr": 0.1}, epochs=3)
    c = train_run(seed=2, problem="logreg", optimizer="SGD", hyperparameters={"lr": 0.1}, epochs=3)
    h, cv = a["history"], a["curve"]
    assert h["epoch"] == [1, 2, 3] and h["step"] == [36, 72, 108] and a["steps"] == 108  # ceil(1150 / 32) = 36
    assert a["eval_every"] == 5 and cv["step"] == [0] + list(range(5, 108, 5)) + [108]  # about 20 evaluations
    assert cv["epoch"][-1] == 3.0 and cv["epoch"][1] == pytest.approx(5 / 36)
    assert a["data_sizes"] == {"train": 1150, "val": 287, "test": 360}
    assert cv["val_accuracy"] == b["curve"]["val_accuracy"] and h["train_loss"] == b["history"]["train_loss"]
    assert h["train_loss"] != c["history"]["train_loss"]
    assert a["final"]["val_accuracy"] == cv["val_accuracy"][-1]
    assert len(a["test_per_example"]) == 360 and set(a["test_per_example"]) <= {0.0, 1.0}
    assert sum(a["test_per_example"]) / 360 == pytest.approx(a["final"]["test_accuracy"])
    assert len(h["seconds"]) == 3 and h["seconds"] == sorted(h["seconds"])
    assert set(a["versions"]) >= {"numpy", "scipy", "python", "layergraph"}


def test_train_run_records_divergence():
    r = train_run(seed=0, problem="digits-mlp", optimizer="sgd", hyperparameters={"lr": 1e3}, epochs=2)
    assert r["diverged"] and r["diverged_at_step"] >= 1
    assert r["final"]["test_accuracy"] is None
    assert r["history"]["epoch"] == [] and r["steps"] == 0 and r["steps_to_target"] is None


def test_tune_seeds_run_every_trial_on_each_tuning_seed():
    tasks = tuning_tasks("logreg", "sgd", 2, tune_seeds=3)
    assert [(t.kwargs["trial"], t.seed) for t in tasks] == [(0, 10000), (0, 10001), (0, 10002), (1, 10000),
                                                             (1, 10001), (1, 10002)]
    assert len({t.id for t in tasks}) == 6
    cfg = SweepConfig(problems=("logreg",), optimizers=("sgd",), budget=2, seeds=3, tune_seeds=3)
    assert cfg.n_runs == 2 * 3 + 3 and cfg.tune_seed_list == [10000, 10001, 10002]
