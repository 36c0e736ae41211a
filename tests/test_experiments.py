"""helpers.experiments: keys, the on-disk cache, validation-based choice, summaries, and the shipped results."""

import json

import pandas as pd
import pytest
import torch

from helpers import checkpoint, cost, data, experiments
from helpers.experiments import ALL, ExperimentError, Trial

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
    ]
    assert len({base.key(), *(v.key() for v in variants)}) == 1 + len(variants)


def test_a_key_depends_on_the_code_version(monkeypatch):
    trial = Trial("from scratch", 1, 0, lr=3e-3)
    before = trial.key()
    experiments.dependencies.cache_clear()
    monkeypatch.setattr(experiments, "VERSION", experiments.VERSION + 1)
    try:
        assert trial.key() != before
    finally:
        experiments.dependencies.cache_clear()


def test_bad_trials_say_what_to_do():
    with pytest.raises(ExperimentError, match="Unknown approach 'transfer'"):
        Trial("transfer", 1, 0, lr=1e-3)
    with pytest.raises(ExperimentError, match=r"needs lr=\.\.\."):
        Trial("fine-tune", 1, 0, C=1.0)
    with pytest.raises(ExperimentError, match="labels_per_class must be positive"):
        Trial("from scratch", -1, 0, lr=1e-3)


def test_grid_is_approaches_by_labels_by_seeds_by_settings():
    trials = experiments.grid(("from scratch", "linear probe"), (1, ALL), (0, 1))
    assert len(trials) == 2 * 2 * 3 + 2 * 2 * 4  # 3 learning rates, 4 values of C
    assert len({t.key() for t in trials}) == len(trials)


# --- the cache ----------------------------------------------------------------------------


def test_sweep_caches_on_disk_and_reruns_only_what_changed(tmp_path, monkeypatch):
    path = tmp_path / "results.json"
    trials = [Trial("logistic regression", 1, seed, C=1.0) for seed in (0, 1)]
    first = experiments.sweep(trials, path, progress=False)
    assert len(first) == 2 and path.exists()
    assert set(json.loads(path.read_text())["rows"]) == {t.key() for t in trials}

    computed = []
    real_run = experiments.run_trial
    monkeypatch.setattr(experiments, "run_trial", lambda trial: computed.append(trial) or real_run(trial))
    again = experiments.sweep([*trials, Trial("logistic regression", 2, 0, C=1.0)], path, progress=False)
    assert computed == [Trial("logistic regression", 2, 0, C=1.0)]  # only the new trial ran
    pd.testing.assert_frame_equal(again.iloc[:2], first)


def test_sweep_without_compute_returns_only_cached_rows(tmp_path):
    assert experiments.sweep([Trial("logistic regression", 1, 0, C=1.0)], tmp_path / "r.json", compute=False).empty


def test_a_corrupt_cache_is_named_with_the_fix(tmp_path):
    path = tmp_path / "results.json"
    path.write_text('{"rows": [1, 2')  # half a file
    with pytest.raises(ExperimentError, match="make rebuild-caches"):
        experiments.load_cache(path)


def test_saving_replaces_atomically(tmp_path):
    path = tmp_path / "results.json"
    experiments.save_cache({"a": {"x": 1}}, path)
    experiments.save_cache({"b": {"x": 2}}, path)
    assert experiments.load_cache(path) == {"b": {"x": 2}}
    assert not list(tmp_path.glob("*.part"))


# --- what a trial measures ---------------------------------------------------------------------


def test_cnn_trial_flops_are_steps_times_a_counted_step():
    trial = Trial("from scratch", 1, 0, lr=3e-3, steps=3)
    row = experiments.run_trial(trial)
    model = experiments.make_cnn("from scratch", experiments.training_subset(1, 0), 0)[0]
    assert row["train_images"] == 10
    assert row["train_flops"] == 3 * cost.flops_per_step(model, 10)["total"]  # batch = the 10 images
    assert row["trainable_params"] == cost.count_parameters(model)["trainable"] == 94_186


def test_linear_probe_pays_one_forward_pass_and_trains_only_a_head():
    row = experiments.run_trial(Trial("linear probe", 2, 0, C=1.0))
    source, _ = checkpoint.load_checkpoint()
    one_pass = 20 * cost.flops_per_prediction(source.backbone)
    assert row["trainable_params"] == 128 * 10 + 10
    assert one_pass < row["train_flops"] < one_pass * 1.2  # the logistic regression adds a few percent


# --- choosing and summarising -----------------------------------------------------------------


def _fake_table():
    rows = []
    for seed, (val_a, test_a, val_b, test_b) in enumerate([(0.5, 0.9, 0.6, 0.1), (0.7, 0.7, 0.7, 0.2)]):
        rows.append({"approach": "x", "labels_per_class": 1, "seed": seed, "lr": 1e-3, "val_acc": val_a, "test_acc": test_a})  # fmt: skip
        rows.append({"approach": "x", "labels_per_class": 1, "seed": seed, "lr": 1e-2, "val_acc": val_b, "test_acc": test_b})  # fmt: skip
    table = pd.DataFrame(rows)
    for column in ("train_images", "trainable_params", "train_flops", "seconds"):
        table[column] = 1
    return table


def test_choice_uses_validation_never_test_and_ties_go_to_the_first_setting():
    chosen = experiments.choose_by_validation(_fake_table())
    assert list(chosen.lr) == [1e-2, 1e-3]  # seed 0: val 0.6 beats 0.5 although its test is worse; seed 1: tie
    assert list(chosen.test_acc) == [0.1, 0.7]


def test_summary_is_mean_and_sample_spread_over_seeds():
    summary = experiments.summarise(experiments.choose_by_validation(_fake_table()))
    assert summary.accuracy.item() == pytest.approx(0.4)
    assert summary.spread.item() == pytest.approx(torch.tensor([0.1, 0.7]).std().item())
    assert summary.seeds.item() == 2


# --- the shipped classroom sweep ----------------------------------------------------------------


@pytest.fixture(scope="module")
def shipped():
    return experiments.cached_results()


def test_the_shipped_cache_covers_the_classroom_sweep(shipped):
    assert len(shipped) == len(experiments.grid())
    summary = experiments.summarise(experiments.choose_by_validation(shipped))
    assert set(summary.seeds) == {len(experiments.SEEDS)}
    assert summary.accuracy.between(0.1, 1.0).all()
    text = experiments.headline(summary)
    assert "fine-tune" in text and "±" in text


# Reruns agree exactly on the machine that built the cache; on another CPU, floating-point sums
# can differ in their last bits and move a few of the 899 test digits, hence 2 points.
TOLERANCE = 0.02


@pytest.mark.parametrize("approach", ["logistic regression", "linear probe", "fine-tune"])
def test_a_fresh_rerun_matches_the_cache(shipped, approach):
    fresh, cached = experiments.rerun_cached(shipped, approach, 1, seed=0)
    assert abs(fresh["test_acc"] - cached["test_acc"]) <= TOLERANCE
    assert abs(fresh["val_acc"] - cached["val_acc"]) <= TOLERANCE
    assert fresh["train_flops"] == pytest.approx(cached["train_flops"], rel=0.05)  # L-BFGS iterations may differ


def test_cost_to_reach_picks_the_smallest_budget():
    summary = pd.DataFrame(
        {
            "approach": ["a", "a", "a"],
            "labels_per_class": [1, 5, ALL],
            "train_images": [10, 50, 698],
            "accuracy": [0.5, 0.92, 0.97],
            "spread": [0.01, 0.01, 0.01],
            "train_flops": [1.0, 2.0, 3.0],
            "seconds": [0.1, 0.2, 0.3],
        }
    )
    assert experiments.cost_to_reach(summary, 0.9).iloc[0]["labels per class"] == "5"
    assert experiments.cost_to_reach(summary, 0.99).iloc[0]["labels per class"] == "never"


def test_validation_digits_never_train():
    val = data.target_task("val").images.flatten(1)
    pool = experiments.training_subset(ALL, 0).images.flatten(1)
    assert not (val[:, None, :] == pool[None, :, :]).all(-1).any()


def test_the_console_shows_cached_rows_for_what_is_picked(shipped):
    from helpers import widgets

    console = widgets.console(shipped)
    controls, seeds = console.children[0].children
    approach, labels, button = controls.children
    approach.value, labels.value = "from scratch", 2
    assert button.description.startswith("run seed 0 fresh (~")
    rows = experiments.lookup(shipped, "from scratch", 2, seeds.value)
    assert len(rows) == 5 and set(rows.labels_per_class) == {2}
    assert rows.val_acc.tolist() == [
        shipped[
            (shipped.approach == "from scratch") & (shipped.labels_per_class == 2) & (shipped.seed == s)
        ].val_acc.max()
        for s in range(5)
    ]


def test_gap_table_takes_the_best_transfer_approach_at_each_budget():
    rows = []
    for approach, accuracies in {
        "from scratch": (0.5, 0.9),
        "linear probe": (0.7, 0.8),
        "fine-tune": (0.6, 0.92),
    }.items():
        for n, accuracy in zip((1, ALL), accuracies):
            rows.append({"approach": approach, "labels_per_class": n, "accuracy": accuracy})
    table = experiments.gap_table(pd.DataFrame(rows))
    assert list(table.index) == ["1", "all"]
    assert list(table.columns[:3]) == ["from scratch", "linear probe", "fine-tune"]
    assert table["best transfer minus from scratch (points)"].tolist() == [20.0, 2.0]
