"""helpers.story_02_05: each sentence of notebooks 02-05, on small made-up results, states the numbers and the
verdicts those results hold. The made-up seeds are chosen so that every difference and interval is known by hand:
differences of 10, 11 and 12 points have a mean of +11.0 and a 95% t-interval of +8.5 to +13.5."""

import math

import pandas as pd
import pytest

from helpers import cost, results, story, story_02_05, trials, viz
from helpers.trials import ALL

SCRATCH = [0.50, 0.60, 0.70]  # from scratch's test accuracy on seeds 0, 1 and 2, at every budget
AHEAD = [0.10, 0.11, 0.12]  # +11.0 points [+8.5, +13.5]: ahead in 3 of 3 seeds
MIXED = [0.05, -0.05, 0.01]  # +0.3 points, the interval across zero: won 2 of 3


def made_up(gaps: dict[str, dict[int, list[float]]]) -> pd.DataFrame:
    """A chosen table: from scratch at SCRATCH on every budget, each other approach at SCRATCH plus its gaps."""
    rows = [
        {"approach": "from scratch", "labels_per_class": n, "seed": seed, "test_acc": acc, "train_images": images(n)}
        for n in trials.LABELS_PER_CLASS
        for seed, acc in enumerate(SCRATCH)
    ]
    for approach, by_budget in gaps.items():
        for n, gap in by_budget.items():
            rows += [
                {"approach": approach, "labels_per_class": n, "seed": seed, "test_acc": acc + g}
                for seed, (acc, g) in enumerate(zip(SCRATCH, gap))
            ]
    return pd.DataFrame(rows)


def images(labels_per_class: int) -> int:
    return 698 if labels_per_class == ALL else 10 * labels_per_class  # the digits pool holds 698


def everywhere(gap: list[float], **at: list[float]) -> dict[int, list[float]]:
    """`gap` at every budget, except those named (b1=..., b3=..., ball=...)."""
    named = {int(k[1:]) if k != "ball" else ALL: v for k, v in at.items()}
    return {n: named.get(n, gap) for n in trials.LABELS_PER_CLASS}


@pytest.fixture
def chosen():
    return made_up(
        {
            "fine-tune": everywhere(MIXED, b1=AHEAD, b2=AHEAD),  # ahead at 1 and 2, then caught up
            "logistic regression": everywhere([-g for g in AHEAD]),  # behind at every budget
            "linear probe": everywhere(MIXED, b1=AHEAD),
        }
    )


# --- the pieces ---------------------------------------------------------------------------------------------


def test_a_budget_in_words():
    assert story.budget_phrase(1) == "1 label per class"
    assert story.budget_phrase(5) == "5 labels per class"
    assert story.budget_phrase(ALL) == "the whole pool"


def test_a_difference_that_rounds_to_zero_has_no_minus_sign():
    assert story.signed(-0.04) == "+0.0"
    assert story.signed(-0.06) == "-0.1"
    assert story.interval(-0.04, -0.3, -0.02, " points") == "+0.0 points [-0.3, +0.0]"


def test_a_legend_counts_one_seed_in_the_singular():
    assert viz.seeds_text(1) == "1 seed"
    assert viz.seeds_text(10) == "10 seeds"
    assert viz.seeds_text("5-10") == "5-10 seeds"  # plot_data_efficiency's range where budgets differ


def test_a_difference_sentence_states_mean_interval_seeds_won_and_verdict(chosen):
    ahead = story_02_05.difference_sentence(chosen, "fine-tune", "from scratch", 2)
    assert ahead == (
        "fine-tune minus from scratch with 2 labels per class: +11.0 points (95% interval +8.5 to +13.5), "
        "ahead in 3 of 3 seeds; ahead: the interval lies above zero"
    )
    behind = story_02_05.difference_sentence(chosen, "logistic regression", "from scratch", ALL)
    assert "with the whole pool: -11.0 points (95% interval -13.5 to -8.5), ahead in 0 of 3 seeds; behind" in behind
    mixed = story_02_05.difference_sentence(chosen, "fine-tune", "from scratch", 5)
    assert "+0.3 points" in mixed and "ahead in 2 of 3 seeds; not distinguishable" in mixed
    one = story_02_05.difference_sentence(chosen[chosen.seed == 0], "fine-tune", "from scratch", 1)
    assert "+10.0 points" in one and one.endswith("ahead in 1 of 1 seeds; one seed only, so no interval")


def test_a_paired_verdict_names_who_is_ahead_behind_and_unresolved(chosen):
    approaches = ["fine-tune", "logistic regression", "linear probe"]
    assert story_02_05.paired_verdict(chosen, approaches, "from scratch", 1) == (
        "Ahead of from scratch (interval above zero): fine-tune, linear probe. "
        "Behind from scratch (interval below zero): logistic regression."
    )
    assert story_02_05.paired_verdict(chosen, approaches, "from scratch", 3) == (
        "No interval lies above zero: none of fine-tune, logistic regression, linear probe is shown to beat "
        "from scratch here. Behind from scratch (interval below zero): logistic regression. "
        "Not told apart from training from scratch by these 3 seeds: fine-tune, linear probe."
    )
    one_seed = story_02_05.paired_verdict(chosen[chosen.seed == 0], approaches, "from scratch", 1)
    assert one_seed == "With one seed there is no interval, so no verdict."


def test_differences_give_a_bullet_per_budget(chosen):
    lines = story_02_05.differences(chosen, "linear probe", "from scratch").data.splitlines()
    assert len(lines) == len(trials.LABELS_PER_CLASS)
    assert lines[0].startswith("- linear probe minus from scratch with 1 label per class: +11.0 points")
    assert lines[-1].startswith("- linear probe minus from scratch with the whole pool: +0.3 points")
    assert all(line.endswith(".") for line in lines)


def test_a_paired_comparison_gives_each_sentence_then_the_verdict(chosen):
    text = story_02_05.paired_comparison(chosen, ["fine-tune", "logistic regression"], "from scratch", 2).data
    lines = text.splitlines()
    assert lines[0] == "- " + story_02_05.difference_sentence(chosen, "fine-tune", "from scratch", 2) + "."
    assert lines[1].startswith("- logistic regression minus from scratch") and lines[2] == ""
    assert lines[3] == story_02_05.paired_verdict(chosen, ["fine-tune", "logistic regression"], "from scratch", 2)


# --- 02 ------------------------------------------------------------------------------------------------------


def test_a_rerun_verdict_says_identical_only_when_it_is_and_counts_the_digits_otherwise():
    assert "Identical" in story_02_05.rerun_verdict(0.5539, 0.5539, 899).data
    differs = story_02_05.rerun_verdict(0.5539, 0.5517, 899).data  # 02's live run on another machine
    assert "differ" in differs and "0.22 points, 2 of the 899 test digits" in differs and "Identical" not in differs
    assert "not compared" in story_02_05.rerun_verdict(0.5539, 0.30, 899, smoke=True).data


def test_02s_summary_states_the_paired_gaps_and_the_live_flops_ratio(chosen):
    ledger = cost.Ledger()
    ledger.add(cost.Run("CNN", 0.1, 10, 10, steps=400, flops_per_step=5e7, seconds=1.0, images_seen=4000))
    ledger.add(cost.Run("logistic", 0.6, 10, 10, steps=20, flops_per_step=5e5, seconds=0.1, images_seen=200))
    text = story_02_05.summary_02(chosen, ledger).data
    assert "minus logistic regression on pixels is +11.0 points (95% interval +8.5 to +13.5)" in text
    assert "with the whole pool, +11.0 points (+8.5 to +13.5)" in text  # logistic regression is behind everywhere
    assert "the CNN used 2,000 times the FLOPs of logistic regression" in text


def test_the_climb_is_read_off_the_from_scratch_means_per_added_label():
    scratch = pd.DataFrame(
        {"approach": "from scratch", "labels_per_class": n, "seed": 0, "test_acc": acc, "train_images": images(n)}
        for n, acc in ((1, 0.60), (5, 0.92), (ALL, 0.99))
    )
    assert story_02_05.climb_sentence(scratch) == (
        "- The CNN trained from scratch averages 60.0% at 1 label per class, 92.0% at 5 and 99.0% with the whole "
        "pool (about 70 per class): 8.0 points per added label per class from 1 to 5, 0.11 after that; the first "
        "labels buy the most."
    )
    flat_start = scratch.assign(test_acc=[0.60, 0.61, 0.99])  # 0.25 points a label, then 0.59
    assert story_02_05.climb_sentence(flat_start).endswith("later labels buy as much as the first.")


# --- 03 ------------------------------------------------------------------------------------------------------

SCORES = {  # name: (silhouette, one-shot nearest-neighbour accuracy)
    "pretrained letter backbone": (0.21, 0.552),
    "untrained backbone": (0.05, 0.301),
    "raw pixels": (0.03, 0.433),  # by silhouette it would come last
}


def test_the_feature_ranking_puts_the_best_one_shot_accuracy_first():
    lines = story_02_05.feature_ranking(SCORES).data.splitlines()
    assert lines == [
        "1. **pretrained letter backbone**: one-shot nearest neighbour 55.2%, silhouette 0.21",
        "2. **raw pixels**: one-shot nearest neighbour 43.3%, silhouette 0.03",
        "3. **untrained backbone**: one-shot nearest neighbour 30.1%, silhouette 0.05",
    ]


def test_03s_summary_states_the_scores_the_probes_cost_and_where_it_leads(chosen):
    summary = pd.DataFrame(
        {
            "approach": ["from scratch", "linear probe", "from scratch"],
            "labels_per_class": [1, 1, 2],
            "accuracy": [0.40, 0.55, 0.9],
            "train_flops": [1e12, 2.5e9, 1.0],
        }
    )
    text = story_02_05.summary_03({**SCORES, "raw pixels": (0.08, 0.6)}, 1290, summary, chosen, 1).data
    assert "its features score 55.2%, against 60.0% for raw pixels and 30.1% for an untrained backbone" in text
    assert "Best of the three here: the raw pixels." in text
    assert "**Freezing** leaves 1,290 trainable parameters" in text
    assert (
        "At 1 label per class the probe used 0.25% of the from-scratch CNN's training FLOPs, for +15.0 points" in text
    )
    assert "ahead of from scratch (paired interval above zero) with 1 label per class. Notebook 04" in text
    nowhere = story_02_05.summary_03(SCORES, 1290, summary, made_up({"linear probe": everywhere(MIXED)}), 1).data
    assert "(paired interval above zero) with no budget." in nowhere


# --- 04 ------------------------------------------------------------------------------------------------------

RACE = pd.DataFrame(  # steps to the target per cached seed; NaN: never reached
    {"fine-tune": [30, 50, 75, 100, 20], "from scratch": [100, math.nan, 150, 75, math.nan]},
    index=pd.Index(range(5), name="seed"),
)


def test_the_race_sentence_counts_a_seed_that_never_got_there_as_the_slowest():
    text = story_02_05.race_sentence(RACE, 10, 0.9).data
    assert text.startswith("Over 5 cached seeds at 10 labels per class, fine-tuning reached 90% validation accuracy")
    assert "in a median of 50 steps, from scratch in 150 (reached in 5 and 3 of 5 seeds)" in text
    assert "fine-tuning got there first in 2 of the 3 seeds where both did" in text


def test_the_strategy_flops_note_gives_gradual_unfreezings_share_of_fine_tunings_flops():
    runs = pd.DataFrame(
        {
            "approach": ["fine-tune", "fine-tune", "gradual unfreezing", "gradual unfreezing", "fine-tune"],
            "labels_per_class": [2, 2, 2, 2, 5],
            "train_flops": [3e11, 3e11, 2e11, 2e11, 9e11],  # the run at 5 labels per class is not counted
        }
    )
    note = story_02_05.strategy_flops_note(runs, 2).data
    assert "Gradual unfreezing spends 67% of fine-tuning's" in note
    assert "Seconds are left out" in note and "benchmarks/bench_strategies.py" in note


def test_04s_summary_states_both_races_and_both_verdicts(chosen):
    race_rows = [{"approach": "from scratch", "steps to 90%": "never"}, {"approach": "fine-tune", "steps to 90%": 30}]
    runs = made_up({"fine-tune": {2: AHEAD}, "LP-FT": {2: [0.21, 0.22, 0.23]}, "linear probe": {2: MIXED}})
    text = story_02_05.summary_04(race_rows, RACE, runs, ["linear probe", "fine-tune"], ["LP-FT"], 2, 10, 0.9).data
    assert "In the live race at 10 labels per class it reached 90% validation accuracy at step 30 against never" in text
    assert "over 5 cached seeds, in a median of 50 steps against 150." in text
    assert "compared seed by seed at 2 labels per class. Ahead of from scratch (interval above zero): fine-tune" in text
    assert "Not told apart from training from scratch by these 3 seeds: linear probe. Ahead of fine-tune" in text


# --- 05 ------------------------------------------------------------------------------------------------------


@pytest.fixture
def best_transfer(monkeypatch):
    """The development pairing's choice, made up: LP-FT at 1 label per class, fine-tuning elsewhere."""
    monkeypatch.setattr(results, "dev_best_transfer", lambda shipped, n: "LP-FT" if n == 1 else "fine-tune")


def test_the_headline_differences_compare_the_dev_choice_with_both_baselines(best_transfer):
    chosen = made_up({"LP-FT": {1: AHEAD}, "fine-tune": everywhere(MIXED), "logistic regression": everywhere(MIXED)})
    lines = story_02_05.headline_differences({}, chosen).data.splitlines()
    assert len(lines) == 2 * len(trials.HEADLINE_LABELS)
    assert lines[0].startswith("- LP-FT minus from scratch with 1 label per class: +11.0 points")
    assert lines[1].startswith("  - LP-FT minus logistic regression with 1 label per class: +10.7 points")
    assert lines[2].startswith("- fine-tune minus from scratch with 2 labels per class: +0.3 points")


def test_catching_up_names_the_first_budget_where_the_lead_is_not_told_apart(chosen):
    assert results.first_tie(chosen, "fine-tune")[0] == 3
    text = story_02_05.catch_up(chosen).data
    assert text.startswith("From **3 labels per class** on, fine-tuning's lead over from scratch is no longer")
    assert "(+0.3 points, 95% interval" in text
    always = made_up({"fine-tune": everywhere(AHEAD)})
    assert results.first_tie(always, "fine-tune") == (None, None)
    assert story_02_05.catch_up(always).data == "Fine-tuning stays ahead of from scratch at every budget here."


def contrast(intervals: list[str], gains: list[float]) -> pd.DataFrame:
    """A contrast table (results.contrast_table) from intervals "[low, high]" and mean differences, in points."""
    bounds = [[float(x) / 100 for x in i.strip("[]").split(", ")] for i in intervals]
    verdicts = ["better" if low > 0 else "worse" if high < 0 else "unresolved" for low, high in bounds]
    return pd.DataFrame(
        {
            "mean": [g / 100 for g in gains],
            "low": [b[0] for b in bounds],
            "high": [b[1] for b in bounds],
            "verdict": verdicts,
        }
    )


def test_the_paired_and_contrast_tables_render_a_made_up_row_as_notebook_05_shows_it():
    row = {"approach": "fine-tune", "baseline": "from scratch", "labels_per_class": trials.ALL}
    row |= {"mean": 0.0312, "low": 0.0049, "high": 0.0575, "won": 4, "seeds": 5, "verdict": "better"}
    assert story_02_05.paired_table_text(pd.DataFrame([row])).to_dict("records") == [
        {
            "labels per class": "all",
            "approach": "fine-tune",
            "difference (points)": 3.1,
            "95% interval": "[+0.5, +5.8]",
            "seeds won": "4/5",
        }
    ]
    contrast_row = {**row, "labels_per_class": 2, "budget_true": 0.6543, "validation_tuned": 0.6855}
    assert story_02_05.contrast_table_text(pd.DataFrame([contrast_row])).to_dict("records") == [
        {
            "labels per class": 2,
            "approach": "fine-tune",
            "budget-true (%)": 65.4,
            "200 validation digits (%)": 68.5,
            "difference (points)": 3.1,
            "95% interval": "[+0.5, +5.8]",
        }
    ]


def test_the_contrast_verdict_states_the_range_median_and_intervals_that_exclude_zero():
    none = story_02_05.contrast_verdict(contrast(["[-1.0, +2.0]", "[-3.0, +0.5]", "[-0.2, +0.4]"], [0.5, -1.2, 0.1]))
    assert "changes the mean test accuracy by -1.2 to +0.5 points across approaches and budgets (median +0.1)" in (
        none.data
    )
    assert "0 of the 3 intervals exclude zero. Here, then, the spare labels buy nothing measurable" in none.data
    some = story_02_05.contrast_verdict(contrast(["[+0.5, +2.0]", "[-3.0, -0.5]", "[-0.2, +0.4]"], [1.2, -1.7, 0.1]))
    assert "2 of the 3 intervals exclude zero. Where an interval excludes zero, the spare labels changed" in some.data


def test_the_break_even_verdicts_read_each_budgets_row(chosen):
    table = pd.DataFrame(
        {
            "transfer approach (chosen on dev)": ["LP-FT"] + ["fine-tune"] * 5,
            "break-even, stopping at the target": ["3 tasks", "7 tasks", "x", "x", "x", "never"],
            "break-even, full runs": ["never", "12 tasks", "x", "x", "x", "never"],
        }
    )
    lines = story_02_05.break_even_verdicts(table, chosen).data.splitlines()
    assert lines[0] == "Computed from the table above:" and lines[1] == ""
    assert lines[2] == "- 1 label per class (LP-FT): stopping at the target, 3 tasks; with full runs, never"
    assert lines[3] == "- 2 labels per class (fine-tune): stopping at the target, 7 tasks; with full runs, 12 tasks"
    assert lines[-1].startswith("- the whole pool (fine-tune)")


def test_05s_summary_states_the_headline_the_catch_up_and_the_contrast(best_transfer):
    chosen = made_up({"LP-FT": {1: AHEAD}, "fine-tune": everywhere(MIXED, b1=AHEAD, b2=AHEAD)})
    spare = contrast(["[+0.5, +2.0]", "[-0.2, +0.4]"], [1.2, -0.4])
    text = story_02_05.summary_05({}, chosen, spare).data
    assert "LP-FT minus from scratch with 1 label per class: +11.0 points" in text
    assert "; fine-tune minus from scratch with 2 labels per class: +11.0 points" in text
    assert "indistinguishable from zero from 3 labels per class on." in text
    assert "moves mean accuracy by -0.4 to +1.2 points, with 1 of 2 intervals excluding zero" in text
    never = story_02_05.summary_05({}, made_up({"LP-FT": {1: AHEAD}, "fine-tune": everywhere(AHEAD)}), spare)
    assert "indistinguishable from zero at no budget here." in never.data
