"""helpers.trials, helpers.results and tools.sweep: keys, the cache, both ways of choosing a setting,
paired statistics, compute to reach a target, and the shipped results."""

import json
import math

import numpy as np
import pandas as pd
import pytest
import torch
from scipy import stats

from helpers import checkpoint, cost, experiment, results, train, trials
from helpers.trials import ALL, ExperimentError, Trial
from tools import sweep

# --- trials and their keys -------------------------------------------------------------


def test_a_key_changes_with_every_field_and_only_then():
    base = Trial("from scratch", 1, 0, lr=3e-3)
    assert base.key() == Trial("from scratch", 1, 0, lr=3e-3).key()
    variants = [
        Trial("fine-tune", 1, 0, lr=3e-3),
        Trial("from scratch", 2, 0, lr=3e-3),
        Trial("from scratch", 1, 1, lr=3e-3),
        Trial("from scratch", 1, 0, lr=1e-3),
        Trial("from scratch", 1, 0, lr=3e-3, steps=401),
        Trial("from scratch", 1, 0, lr=3e-3, batch_size=64),
        Trial("from scratch", 1, 0, lr=3e-3, task="fashion"),
    ]
    assert len({base.key(), *(v.key() for v in variants)}) == 1 + len(variants)


def test_only_trials_that_start_from_the_source_model_are_keyed_by_its_bytes(monkeypatch):
    """A retrained letter model invalidates the pretrained approaches' results, never from scratch's."""
    kept = [Trial("from scratch", 1, 0, lr=3e-3), Trial("logistic regression", 1, 0, C=1.0)]
    changed = [Trial(a, 1, 0, lr=3e-3) for a in ("fine-tune", "LP-FT", *trials.STRATEGIES)]
    changed.append(Trial("linear probe", 1, 0, C=1.0))
    before = {t: t.key() for t in kept + changed}
    monkeypatch.setattr(trials, "checkpoint_sha", lambda path: "another checkpoint")
    trials.dependencies.cache_clear()
    try:
        assert all(t.key() == before[t] for t in kept)
        assert all(t.key() != before[t] for t in changed)
    finally:
        trials.dependencies.cache_clear()


def test_a_key_depends_on_the_code_version(monkeypatch):
    trial = Trial("from scratch", 1, 0, lr=3e-3)
    before = trial.key()
    trials.dependencies.cache_clear()
    monkeypatch.setattr(trials, "VERSION", trials.VERSION + 1)
    try:
        assert trial.key() != before
    finally:
        trials.dependencies.cache_clear()


def test_bad_trials_say_what_to_do():
    with pytest.raises(ExperimentError, match="Unknown approach 'transfer'"):
        Trial("transfer", 1, 0, lr=1e-3)
    with pytest.raises(ExperimentError, match=r"needs lr=\.\.\."):
        Trial("fine-tune", 1, 0, C=1.0)
    with pytest.raises(ExperimentError, match="labels_per_class must be positive"):
        Trial("from scratch", -1, 0, lr=1e-3)
    with pytest.raises(ExperimentError, match="Unknown task 'mnist'"):
        Trial("from scratch", 1, 0, lr=1e-3, task="mnist")


def test_grid_is_approaches_by_labels_by_seeds_by_settings():
    grid = trials.grid(("from scratch", "linear probe"), (1, ALL), (0, 1))
    assert len(grid) == 2 * 2 * 4 + 2 * 2 * 4  # 4 learning rates, 4 values of C
    assert len({t.key() for t in grid}) == len(grid)


def test_the_digits_plan_runs_each_recipe_at_every_budget_and_seed_and_the_contrast_grid():
    recipes = {(a, n): trials.GRIDS[a][trials.knob(a)][-1] for a in trials.APPROACHES for n in trials.LABELS_PER_CLASS}
    plan = set(trials.digits_plan(recipes))
    for approach in trials.APPROACHES:
        for n in trials.LABELS_PER_CLASS:
            for seed in trials.seeds_for(n):
                assert Trial(approach, n, seed, **{trials.knob(approach): recipes[approach, n]}) in plan
    assert set(trials.grid(labels_per_class=trials.CONTRAST_LABELS, seeds=trials.CONTRAST_SEEDS)) <= plan
    assert len(trials.seeds_for(1)) == 10 and len(trials.seeds_for(ALL)) == 5
    assert all(t.task == "digits" for t in plan) and all(t.task == "fashion" for t in trials.dev_grid())


# --- the cache ----------------------------------------------------------------------------


def test_compute_caches_on_disk_and_reruns_only_what_changed(tmp_path, monkeypatch):
    path = tmp_path / "results.json"
    planned = [Trial("logistic regression", 1, seed, C=1.0) for seed in (0, 1)]
    first = sweep.compute(planned, path, progress=False)
    assert len(first) == 2 and set(json.loads(path.read_text())["rows"]) == {t.key() for t in planned}

    computed = []
    real_run = trials.run_trial
    monkeypatch.setattr(trials, "run_trial", lambda trial: computed.append(trial) or real_run(trial))
    again = sweep.compute([*planned, Trial("logistic regression", 2, 0, C=1.0)], path, progress=False)
    assert computed == [Trial("logistic regression", 2, 0, C=1.0)]  # only the new trial ran
    pd.testing.assert_frame_equal(again.iloc[:2], first)


def test_a_missing_trial_names_the_fix(tmp_path):
    with pytest.raises(ExperimentError, match="make rebuild-caches"):
        results.collect([Trial("logistic regression", 1, 0, C=1.0)], {}, tmp_path / "r.json")


def test_a_corrupt_cache_is_named_with_the_fix(tmp_path):
    path = tmp_path / "results.json"
    path.write_text('{"rows": [1, 2')  # half a file
    with pytest.raises(ExperimentError, match="make rebuild-caches"):
        results.load_cache(path)
    path.write_text('{"rows": [1, 2]}')  # valid JSON, wrong shape
    with pytest.raises(ExperimentError, match="not a cache this version wrote"):
        results.load_cache(path)


def test_saving_replaces_atomically(tmp_path):
    path = tmp_path / "results.json"
    sweep.save_cache({"a": {"x": 1}}, path)
    sweep.save_cache({"b": {"x": 2}}, path)
    assert results.load_cache(path) == {"b": {"x": 2}}
    assert not list(tmp_path.glob("*.part"))


# --- what a trial measures ---------------------------------------------------------------------


def test_cnn_trial_flops_are_preparation_plus_steps_times_a_counted_step():
    row = trials.run_trial(Trial("LP-FT", 1, 0, lr=1e-3, steps=3))
    model = trials.make_cnn("from scratch", trials.training_subset(1, 0), 0)[0]
    per_step = cost.flops_per_step(model, 10)["total"]  # batch = the 10 images
    one_pass = 10 * cost.flops_per_prediction(model.backbone)  # LP-FT's probe reads each image once
    assert row["train_images"] == 10 and row["prep_flops"] == one_pass
    assert row["flops_per_step"] == per_step and row["train_flops"] == one_pass + 3 * per_step
    assert row["trainable_params"] == cost.count_parameters(model)["trainable"] == 94_186


def test_recording_the_curve_changes_nothing_in_the_training():
    trial = Trial("fine-tune", 1, 0, lr=3e-3, steps=30)
    row = trials.run_trial(trial)
    assert [point[0] for point in row["curve"]] == [10, 20, 30]
    assert row["curve"][-1][1] == row["val_acc"]
    # The same run without a validation set, by hand: identical test accuracy to the last digit.
    torch.set_num_threads(1)
    train.seed_everything(0)
    model = trials.make_cnn("fine-tune", trials.training_subset(1, 0), 0)[0]
    config = train.TrainConfig(steps=30, batch_size=32, lr=3e-3, seed=0)
    train.fit(model, trials.training_subset(1, 0), config, progress=False, device=torch.device("cpu"))
    assert train.evaluate(model, trials.task_splits("digits")[2]) == row["test_acc"]


def test_linear_probe_pays_one_forward_pass_and_trains_only_a_head():
    row = trials.run_trial(Trial("linear probe", 2, 0, C=1.0))
    source, _ = checkpoint.load_checkpoint()
    one_pass = 20 * cost.flops_per_prediction(source.backbone)
    assert row["trainable_params"] == 128 * 10 + 10
    assert one_pass < row["train_flops"] < one_pass * 1.2  # the logistic regression adds a few percent


def test_the_development_task_uses_no_digit():
    row = trials.run_trial(Trial("logistic regression", 2, 0, C=1.0, task="fashion"))
    pool, val, test = trials.task_splits("fashion")
    assert row["val_acc"] is None and val is None
    assert len(test) == 1000 and pool.classes == test.classes and pool.classes[0] == "T-shirt/top"


# --- choosing and comparing, on a small made-up table -----------------------------------------------


def _row(approach, n, seed, setting, test_acc, val_acc=0.5, task="digits", curve=None, **extra):
    row = {"approach": approach, "labels_per_class": n, "seed": seed, "lr": None, "C": None, "task": task}
    row[trials.knob(approach)] = setting
    row.update(test_acc=test_acc, val_acc=val_acc, train_images=10 * n, trainable_params=1, train_flops=100.0)
    row.update(seconds=1.0, prep_flops=0, flops_per_step=1.0, curve=curve or [], **extra)
    return row


def test_dev_recipes_take_the_best_mean_and_the_first_of_equals():
    dev = pd.DataFrame(
        [
            _row("from scratch", 1, 0, 1e-3, 0.5, task="fashion"),
            _row("from scratch", 1, 1, 1e-3, 0.7, task="fashion"),  # mean 0.6
            _row("from scratch", 1, 0, 3e-3, 0.9, task="fashion"),
            _row("from scratch", 1, 1, 3e-3, 0.2, task="fashion"),  # mean 0.55: the best single run loses
            _row("fine-tune", 1, 0, 1e-3, 0.6, task="fashion"),
            _row("fine-tune", 1, 0, 1e-2, 0.6, task="fashion"),  # a tie: the first in the grid wins
        ]
    )
    assert results.dev_recipes(dev) == {("from scratch", 1): 1e-3, ("fine-tune", 1): 1e-3}


def _made_up_results():
    dev = pd.DataFrame(
        [_row("from scratch", 1, s, lr, 0.5 + (lr == 3e-3) / 10, task="fashion") for s in (0, 1) for lr in (1e-3, 3e-3)]
        + [_row("fine-tune", 1, s, lr, 0.5 + (lr == 1e-2) / 10, task="fashion") for s in (0, 1) for lr in (1e-3, 1e-2)]
    )
    digits = pd.DataFrame(
        [
            _row("from scratch", 1, s, lr, 0.6 + s / 100, val_acc=0.9 if lr == 1e-3 else 0.1)
            for s in range(3)
            for lr in (1e-3, 3e-3)
        ]  # noqa: E501
        + [_row("fine-tune", 1, s, lr, 0.7 + 0.02 * s, val_acc=0.5) for s in range(3) for lr in (1e-3, 1e-2)]
    )
    return {"dev": dev, "digits": digits}


def test_budget_true_choice_ignores_the_validation_digits():
    made_up = _made_up_results()
    chosen = results.budget_true(made_up)
    assert set(zip(chosen.approach, chosen.lr)) == {("from scratch", 3e-3), ("fine-tune", 1e-2)}
    assert len(chosen) == 6  # one row per (approach, seed)
    made_up["digits"]["val_acc"] = np.random.default_rng(0).random(len(made_up["digits"]))
    pd.testing.assert_frame_equal(results.budget_true(made_up).drop(columns="val_acc"), chosen.drop(columns="val_acc"))


def test_validation_tuning_takes_the_best_validation_accuracy_and_the_first_of_equals():
    chosen = results.validation_tuned(_made_up_results())
    assert set(zip(chosen.approach, chosen.lr)) == {("from scratch", 1e-3), ("fine-tune", 1e-3)}


def test_paired_differences_match_a_hand_computed_t_interval():
    chosen = results.budget_true(_made_up_results())
    p = results.paired(chosen, "fine-tune", "from scratch", 1)
    diffs = np.array([0.70 - 0.60, 0.72 - 0.61, 0.74 - 0.62])
    np.testing.assert_allclose(p["differences"], diffs)
    half = stats.t.ppf(0.975, 2) * diffs.std(ddof=1) / math.sqrt(3)
    assert p["mean"] == pytest.approx(diffs.mean()) and p["won"] == 3 and p["lost"] == 0
    assert (p["low"], p["high"]) == pytest.approx((diffs.mean() - half, diffs.mean() + half))
    reference = stats.ttest_rel([0.70, 0.72, 0.74], [0.60, 0.61, 0.62]).confidence_interval()
    assert (p["low"], p["high"]) == pytest.approx((reference.low, reference.high))


def test_one_seed_has_no_interval_rather_than_a_made_up_one():
    mean, low, high = results.mean_interval([0.8])
    assert mean == 0.8 and math.isnan(low) and math.isnan(high)


def test_cost_to_reach_stops_at_the_first_curve_point_on_target():
    curve = [[10, 0.3, 0.1], [20, 0.6, 0.2], [30, 0.5, 0.3], [40, 0.8, 0.4]]
    row = _row("LP-FT", 1, 0, 1e-3, 0.8, curve=curve) | {"prep_flops": 7, "flops_per_step": 2.0}
    assert results.cost_to_reach(row, 0.55) == {"steps": 20, "flops": 7 + 20 * 2.0, "seconds": 0.2}
    assert results.cost_to_reach(row, 0.9) is None
    probe = _row("linear probe", 1, 0, 1.0, 0.8, val_acc=0.7)
    assert results.cost_to_reach(probe, 0.6)["flops"] == 100.0 and results.cost_to_reach(probe, 0.75) is None


def test_a_median_counts_seeds_that_never_reached_the_target():
    curves = [[[10, 0.9, 1.0]], [[10, 0.9, 1.0]], [[10, 0.1, 1.0]]]  # two of three seeds reach it at step 10
    chosen = pd.DataFrame(
        [_row("from scratch", 1, s, 1e-3, 0.9, val_acc=c[-1][1], curve=c) for s, c in enumerate(curves)]
    )  # noqa: E501
    reach = results.reach_table(chosen).iloc[0]
    assert reach.reached == 2 and reach["median steps"] == 10
    chosen.at[1, "curve"] = [[10, 0.1, 1.0]]  # now only one of three: the median is "not reached"
    assert math.isinf(results.reach_table(chosen).iloc[0]["median steps"])


def test_break_even_is_the_one_off_cost_over_the_saving_per_task(monkeypatch):
    made_up = _made_up_results()
    chosen = results.budget_true(made_up)
    curve_fast, curve_slow = [[10, 0.9, 0.1]], [[10, 0.2, 0.1], [40, 0.9, 0.4]]
    chosen["curve"] = [curve_slow if a == "from scratch" else curve_fast for a in chosen.approach]
    chosen["val_acc"] = 0.9
    monkeypatch.setattr(results, "pretraining_cost", lambda: {"flops": 3000.0})
    dev = made_up["dev"]
    dev.loc[dev.approach == "fine-tune", "train_flops"] = 250.0  # its four development runs cost more
    b = results.break_even(made_up, chosen, "fine-tune", 1)
    search_fine_tune, search_scratch = 4 * 250.0, 4 * 100.0
    assert (b["transfer_flops"], b["scratch_flops"]) == (10.0, 40.0)
    assert b["one_off"] == 3000 + search_fine_tune and b["one_off_scratch"] == search_scratch
    # 3,600 extra FLOPs once, 30 saved per task: at 120 tasks both totals are 5,200, so transfer is cheaper from 121
    assert b["n"] == cost.break_even(3000 + search_fine_tune, 10, 40, search_scratch) == 121
    assert math.isinf(b["full_run_n"])  # full 400-step runs cost the same either way: no saving to amortise
    chosen.loc[chosen.approach == "from scratch", "train_flops"] = 200.0
    full = results.break_even(made_up, chosen, "fine-tune", 1)["full_run_n"]
    assert full == cost.break_even(3000 + search_fine_tune, 100, 200, search_scratch) == 37  # a tie at 36
    chosen["curve"] = [curve_fast] * len(chosen)  # scratch as fast as transfer: pretraining never pays
    assert math.isinf(results.break_even(made_up, chosen, "fine-tune", 1)["n"])


# --- the shipped results -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shipped():
    return results.load_results()


def planned_keys(rows: dict[str, dict]) -> set[str]:
    """The keys of every trial 02-05 plan, given a cache's rows (the development rows decide the recipes)."""
    recipes = results.dev_recipes(results.collect(trials.dev_grid(), rows))
    return {t.key() for t in [*trials.dev_grid(), *trials.digits_plan(recipes), *trials.strategies_plan(recipes)]}


def test_the_shipped_cache_holds_exactly_the_planned_trials_and_no_stale_row(shipped):
    rows = experiment.load_cache(results.RESULTS_PATH)
    planned = planned_keys(rows)
    assert not set(rows) - planned, f"{len(set(rows) - planned)} stale rows: rebuild with python -m tools.sweep"
    assert not planned - set(rows)
    text = results.report(shipped)
    assert "1 label per class (10 seeds)" in text and "Break-even" in text and "200 spare" in text


def test_a_stale_row_in_a_copy_of_the_cache_is_told_apart_from_the_plan():
    rows = dict(experiment.load_cache(results.RESULTS_PATH))
    key, row = next(iter(rows.items()))
    rows["0" * len(key)] = {**row, "seed": 99}  # a trial no plan asks for, as an old sweep would have left it
    assert set(rows) - planned_keys(rows) == {"0" * len(key)}


def test_each_chosen_digits_run_used_the_setting_the_development_pairing_ranked_best(shipped):
    dev, chosen = shipped["dev"], results.budget_true(shipped)
    assert set(dev.task) == {"fashion"} and set(chosen.task) == {"digits"}  # chosen on other images than used
    for (approach, n), runs in chosen.groupby(["approach", "labels_per_class"]):
        knob = trials.knob(approach)
        tried = dev[(dev.approach == approach) & (dev.labels_per_class == n)].groupby(knob).test_acc.mean()
        assert len(tried) == len(trials.GRIDS[approach][knob])  # every setting was tried on the development pairing
        assert set(runs[knob]) == {tried.idxmax()}, (approach, n)  # a tie: the smallest, first in the grid
        assert sorted(runs.seed) == sorted(trials.seeds_for(n)), (approach, n)


def test_the_paired_and_contrast_tables_hold_numbers_not_text(shipped):
    chosen = results.budget_true(shipped)
    table = results.paired_table(chosen)
    assert list(table.columns) == results.PAIRED_COLUMNS
    text = {c for c in table.columns if not pd.api.types.is_numeric_dtype(table[c])}
    assert text == {"approach", "baseline", "verdict"}  # names only: no interval or budget written as text
    assert pd.api.types.is_integer_dtype(table.labels_per_class) and set(table.labels_per_class) == set(
        trials.LABELS_PER_CLASS
    )
    row = table[(table.approach == "fine-tune") & (table.labels_per_class == 2)].iloc[0]
    p = results.paired(chosen, "fine-tune", "from scratch", 2)
    assert (row["mean"], row["low"], row["high"]) == (p["mean"], p["low"], p["high"])
    assert (row["won"], row["seeds"]) == (p["won"], len(p["seeds"]))
    assert row["verdict"] == ("better" if p["low"] > 0 else "worse" if p["high"] < 0 else "unresolved")
    contrast = results.contrast_table(shipped)
    text = {c for c in contrast.columns if not pd.api.types.is_numeric_dtype(contrast[c])}
    assert text == {"approach", "baseline", "verdict"}
    assert len(contrast) == len(trials.CONTRAST_LABELS) * len(trials.APPROACHES)
    assert contrast.seeds.eq(len(trials.CONTRAST_SEEDS)).all() and contrast.budget_true.between(0, 1).all()


@pytest.mark.slow
@pytest.mark.parametrize(
    "trial",
    [Trial("logistic regression", 1, 3, C=1.0), Trial("linear probe", 2, 0, C=1.0), Trial("fine-tune", 1, 0, lr=1e-2)],
    ids=["logistic", "probe", "fine-tune"],
)
def test_a_fresh_run_reproduces_the_shipped_result(shipped, trial):
    cached = results.load_cache()[trial.key()]
    fresh = trials.run_trial(trial)
    # Bit-identical on the machine that built the cache; another CPU may round differently (a few test digits).
    assert fresh["test_acc"] == pytest.approx(cached["test_acc"], abs=0.02)
    assert fresh["train_flops"] == pytest.approx(cached["train_flops"], rel=0.05)


def test_formatted_tables_read_as_text_and_keep_their_other_columns():
    table = pd.DataFrame({"approach": ["a", "b"], "accuracy": [0.5, float("nan")], "train_flops": [1.5e12, 2e9]})
    shown = results.formatted(table, {"accuracy": "{:.1%}", "train_flops": "{:.2e}", "absent": "{}"})
    assert list(shown.accuracy) == ["50.0%", ""] and list(shown.train_flops) == ["1.50e+12", "2.00e+09"]
    assert list(shown.approach) == ["a", "b"] and "Styler" not in repr(shown)
    assert table.accuracy.iloc[0] == 0.5  # the original is untouched
