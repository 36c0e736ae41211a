"""Notebook 08's study and the shared layer under it: statistics against hand-worked references, the cache,
budget-true recipes that never see a target score, and the shipped results read back consistently."""

import json
import math

import numpy as np
import pandas as pd
import pytest
import torch

from helpers import checks_08, experiment, language_study, results, stats, story, story_08, viz
from helpers import pretrained_results as pr
from helpers import pretrained_study as ps

# --- stats ------------------------------------------------------------------------------------------------


def test_mean_interval_is_the_t_interval_worked_by_hand():
    mean, low, high = stats.mean_interval([1.0, 2.0, 3.0])
    half = 4.302652729911275 * 1.0 / math.sqrt(3)  # t(0.975, 2 df) x sd / sqrt(n)
    assert (mean, low, high) == pytest.approx((2.0, 2.0 - half, 2.0 + half))
    assert math.isnan(stats.mean_interval([0.5])[1])


def test_paired_aligns_by_seed_and_states_a_verdict_only_when_the_interval_excludes_zero():
    a = pd.Series({0: 0.9, 1: 0.8, 2: 0.85, 3: 0.95})
    b = pd.Series({3: 0.90, 2: 0.80, 1: 0.75, 0: 0.85, 9: 0.1})  # seed 9 has no partner: left out
    p = stats.paired(a, b)
    assert p.seeds == (0, 1, 2, 3) and p.differences == pytest.approx((0.05, 0.05, 0.05, 0.05))
    assert (p.won, p.verdict) == (4, "better")
    mixed = stats.paired(pd.Series({0: 0.9, 1: 0.7, 2: 0.8}), pd.Series({0: 0.8, 1: 0.8, 2: 0.8}))
    assert mixed.verdict == "unresolved" and mixed.won == 1
    loss = stats.paired(pd.Series({0: 1.0, 1: 1.1, 2: 1.05}), pd.Series({0: 1.5, 1: 1.6, 2: 1.5}), lower_is_better=True)
    assert loss.verdict == "better" and loss.won == 3
    with pytest.raises(ValueError, match="share no seed"):
        stats.paired(pd.Series({0: 1.0}), pd.Series({1: 1.0}))


def test_effective_labels_read_the_curve_in_log_labels_on_its_running_maximum():
    curve = pd.Series({1: 0.5, 10: 0.7, 100: 0.9})
    assert stats.effective_labels(curve, 0.6) == stats.Effective(pytest.approx(math.sqrt(10)), "=")
    assert stats.effective_labels(curve, 0.9) == stats.Effective(pytest.approx(100.0), "=")
    assert stats.effective_labels(curve, 0.45) == stats.Effective(1.0, "<=")
    assert stats.effective_labels(curve, 0.95) == stats.Effective(100.0, ">")
    dip = pd.Series({4: 0.6, 1: 0.5, 2: 0.45})  # unsorted, and a dip at 2 that the running maximum ignores
    assert stats.effective_labels(dip, 0.55).labels == pytest.approx(2**1.5)
    assert stats.effective_labels(curve, 0.6).transferred(2) == stats.Effective(pytest.approx(math.sqrt(10) - 2), "=")


def test_the_digits_effective_data_agrees_with_its_definition():
    summary = results.summarise(results.budget_true(results.load_results()))
    table = results.effective_data(summary)
    scratch = summary[summary.approach == "from scratch"].set_index("labels_per_class").accuracy
    for row in table.itertuples():
        assert row.transferred == pytest.approx(row.scratch_needs - row.labels_per_class)
        if row.bound == "=":  # from scratch's curve, read at D_E, gives the approach's accuracy back
            below = max(n for n in scratch.index if 0 < n <= row.scratch_needs) if row.scratch_needs >= 1 else 1
            assert scratch[below] <= row.accuracy + 1e-12
    assert set(table.approach) == {"linear probe", "fine-tune", "LP-FT"}


# --- the shared experiment layer ----------------------------------------------------------------------------


def test_a_trial_key_hashes_every_field_and_the_context():
    trial = ps.RealTrial("digits", "MobileNetV2 features", 5, 1.0, 0, 0)
    assert experiment.trial_key(trial, version=1) == experiment.trial_key(trial, version=1)
    assert experiment.trial_key(trial, version=1) != experiment.trial_key(trial, version=2)
    other = ps.RealTrial("digits", "MobileNetV2 features", 5, 1.0, 0, 1)
    assert experiment.trial_key(trial, version=1) != experiment.trial_key(other, version=1)
    assert len(trial.key()) == 20


def test_the_cache_round_trips_prunes_and_refuses_another_format(tmp_path):
    path = tmp_path / "cache.json"
    assert experiment.load_cache(path) == {}
    experiment.save_cache({"a": {"score": 1.0}, "b": {"score": 0.5}}, path)
    assert experiment.load_cache(path) == {"a": {"score": 1.0}, "b": {"score": 0.5}}
    assert experiment.prune(path, ["a"]) == 1 and list(experiment.load_cache(path)) == ["a"]
    path.write_text(json.dumps({"rows": []}))
    with pytest.raises(experiment.ExperimentError, match="not a cache this version wrote"):
        experiment.load_cache(path)


def test_collect_names_the_command_that_fills_what_is_missing(tmp_path):
    trial = ps.RealTrial("digits", "MobileNetV2 features", 5, 1.0, 0, 0)
    with pytest.raises(experiment.ExperimentError, match="lacks 1 of the 1 trials.*tools.sweep fill --only 08"):
        experiment.collect([trial], {}, tmp_path / "x.json", ps.FILL)
    assert experiment.collect([trial], {trial.key(): {"score": 0.5}}, tmp_path, ps.FILL).score.tolist() == [0.5]


def test_choose_keeps_the_first_of_equals_and_one_thread_restores_the_count():
    assert experiment.choose([("a", 0.5), ("b", 0.7), ("c", 0.7)]) == "b"
    assert experiment.choose([("a", 0.5), ("b", 0.4)], lower_is_better=True) == "b"
    with pytest.raises(experiment.ExperimentError):
        experiment.choose([])
    before = torch.get_num_threads()
    with experiment.one_thread():
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before


# --- notebook 08's plan and shipped results ---------------------------------------------------------------


@pytest.fixture(scope="module")
def found():
    return pr.load()


@pytest.fixture(scope="module")
def shipped_rows():
    return {
        **experiment.load_cache(results.RESULTS_PATH),
        **experiment.load_cache(language_study.RESULTS_PATH),
        **experiment.load_cache(ps.RESULTS_PATH),
    }


def test_every_planned_trial_has_its_own_key():
    plan = ps.scale_sources() + ps.dev_plan()
    assert len({trial.key() for trial in plan}) == len(plan)


def test_recipes_never_read_a_target_score(shipped_rows):
    """Budget-true: scrambling every reported run's score changes no recipe; scrambling a development run's can."""
    recipes = ps.choose_recipes(shipped_rows)
    target_keys = {trial.key() for trial in ps.target_plan(recipes)}
    dev_keys = {trial.key() for trial in ps.dev_plan()}
    scrambled = {
        key: {**row, "score": -row.get("score", 0), "test_acc": -row.get("test_acc", 0)}
        if key in target_keys - dev_keys
        else row
        for key, row in shipped_rows.items()
    }
    assert ps.choose_recipes(scrambled) == recipes
    minilm_dev = [t for t in ps.minilm_dev_plan() if t.approach == "MiniLM features" and t.budget == 10]
    flipped = dict(shipped_rows)
    for trial in minilm_dev:
        row = shipped_rows[trial.key()]
        flipped[trial.key()] = {**row, "curve": {"0": 1.0 - row["curve"]["0"]}}
    assert ps.choose_recipes(flipped) != recipes


def test_every_reported_approach_has_five_seeds_at_each_budget(found):
    counts = found.runs.groupby(["task", "approach", "budget", "source"]).seed.nunique()
    assert set(counts) == {len(ps.SEEDS)}
    vision = found.runs[found.runs.task.isin(ps.VISION_DEV) & (found.runs.source == "")]
    assert set(vision.budget) == set(ps.VISION_BUDGETS)


def test_the_fully_pretrained_tiny_gpt_probe_is_07s_frozen_features_run(found):
    """Two studies, one model and one rule: the scale study's 'all of its text' point repeats 07's runs exactly."""
    runs = found.runs
    scale = runs[runs.source == "tiny GPT, all of its text"].set_index("seed").score
    seven = pr.study_runs(found, "authors")
    seven = seven[(seven.approach == "tiny GPT features") & (seven.budget == ps.SCALE_TEXT_BUDGET)]
    assert scale.sort_index().tolist() == pytest.approx(seven.set_index("seed").score.sort_index().tolist(), abs=1e-9)


def test_the_scale_axis_has_its_points_in_order(found):
    points = pr.scale_points(found)
    text = points[points.kind == "tiny GPT"].sort_values("pretraining_examples")
    assert text.pretraining_examples.tolist()[0] == 0 and len(text) == len(ps.TEXT_FRACTIONS)
    assert set(points.kind) == {"tiny GPT", "letter CNN", "MiniLM", "MobileNetV2"}
    released = points.set_index("kind").loc[["MiniLM", "MobileNetV2"]]
    assert (released.pretraining_examples > points[points.kind != "MiniLM"].pretraining_examples.max() / 100).all()
    for row in points.itertuples():
        d_e = stats.effective_labels(pr.scratch_curve(found, row.task, row.reference), row.accuracy)
        assert row.effective_transferred == pytest.approx(d_e.labels - row.budget)


@pytest.mark.slow
def test_a_cached_run_is_what_running_it_again_gives():
    """Cheap trials rerun and match their cached rows (within 0.5 points: another CPU rounds differently)."""
    rows = experiment.load_cache(ps.RESULTS_PATH)
    for trial in (
        ps.RealTrial("authors (dev)", "MiniLM features", 2, 1.0, 0, 0),
        ps.RealTrial("fashion", "letter CNN features", 5, 1.0, 0, 1, "letter CNN, 800 letters per class"),
    ):
        assert ps.run(trial)["score"] == pytest.approx(rows[trial.key()]["score"], abs=0.005)


# --- the checks and the plots -------------------------------------------------------------------------------


def test_check_mean_pooling_names_the_padding_slips(capsys):
    def right(tokens, mask):
        mask = mask.unsqueeze(-1).float()
        return (tokens * mask).sum(1) / mask.sum(1)

    assert checks_08.check_mean_pooling(right) is True
    assert checks_08.check_mean_pooling(lambda t, m: t.mean(1)) is False
    assert "averages the padding" in capsys.readouterr().out
    assert checks_08.check_mean_pooling(lambda t, m: (t * m.unsqueeze(-1)).sum(1) / t.shape[1]) is False
    assert "padded length" in capsys.readouterr().out
    assert checks_08.check_mean_pooling(lambda t, m: t[:, 0]) is False
    assert checks_08.check_mean_pooling("mean") is False and checks_08.check_mean_pooling(...) is False


def test_check_effective_transferred_wants_d_t_in_log_labels(capsys):
    low, high, score, budget = (20, 0.585), (50, 0.664), 0.619, 10
    d_e = checks_08.effective_labels(low, high, score)
    assert d_e == pytest.approx(math.exp(math.log(20) + (0.034 / 0.079) * math.log(2.5)))
    assert checks_08.check_effective_transferred(d_e - budget, low, high, score, budget) is True
    assert checks_08.check_effective_transferred(d_e, low, high, score, budget) is False
    assert "that is D_E" in capsys.readouterr().out
    linear = 20 + 0.034 / 0.079 * 30
    assert checks_08.check_effective_transferred(linear - budget, low, high, score, budget) is False
    assert "straight labels" in capsys.readouterr().out
    assert checks_08.check_effective_transferred(..., low, high, score, budget) is False


def test_the_scale_plot_and_the_budget_curves_draw_what_they_are_given(found):
    points = pr.scale_points(found)
    fig = viz.plot_scale_axis(points)
    assert len(fig.axes) == 4 and all(ax.get_xscale() == "log" for ax in fig.axes)
    assert "pretraining data" in fig.axes[2].get_xlabel()
    summary = pr.summary(found, "authors")
    fig = viz.plot_budget_curves(summary, "t", "x", 0.5)
    assert len(fig.axes[0].get_lines()) == summary.approach.nunique() + 1  # each approach, and chance


def test_story_states_only_verdicts_the_comparisons_hold(found):
    table = story_08.vision_comparisons(found)
    said = story_08.vision_lesson(found).data
    for task in ps.VISION_DEV:
        at = table[table.task == task]
        assert story.against(at, "MobileNetV2 features", "letter CNN features", "the letter CNN features") in said
    grid = story_08.score_grid(found, "digits")
    assert list(grid.index) == list(ps.VISION_BUDGETS) and "MobileNetV2 features" in grid.columns
    assert np.all(grid.loc[5].str.match(r"^(\d+\.\d \[\d+\.\d, \d+\.\d\]|not run)$"))
    assert grid.loc[5, "MobileNetV2 fine-tuned"] == "not run" and grid.loc[10, "MobileNetV2 fine-tuned"] != "not run"
