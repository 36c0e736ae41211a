"""Notebook 06's sentences (helpers.story_06), each read on small made-up results of the study's own shapes.

Every made-up accuracy is an offset in points from a baseline, seed by seed (three seeds), so each expected
interval can be worked out by hand: offsets [a, a + s, a + 2s] have mean a + s and a 95% half-width of
t(2) * s / sqrt(3) = 2.484 s; equal offsets give an interval of no width.
"""

import matplotlib.pyplot as plt
import pandas as pd

from helpers import story_06
from helpers import what_transfers as wt
from helpers.trials import ALL

SEEDS = (0, 1, 2)


def as_accuracy(base: float, offsets: list[float]) -> list[float]:
    return [base + offset / 100 for offset in offsets]


# --- made-up results --------------------------------------------------------------------------------------


def layer_results(curves: dict[tuple[str, int], list[float]]) -> pd.DataFrame:
    """A layers table (wt.load().layers): base A at 85%, base B at 80%, each curve as offsets from base B."""
    rows = [
        {"seed": s, "copied_from": "", "blocks": 0, "fine_tune": False, "task": t, "name": f"base{t}", "test_acc": a}
        for s in SEEDS
        for t, a in (("A", 0.85), ("B", 0.80))
    ]
    for (name, n), offsets in curves.items():
        for seed, accuracy in zip(SEEDS, as_accuracy(0.80, offsets)):
            rows.append(
                {
                    "seed": seed,
                    "copied_from": name[0],
                    "blocks": n,
                    "fine_tune": name.endswith("+"),
                    "task": "B",
                    "name": name,
                    "test_acc": accuracy,
                }
            )
    return pd.DataFrame(rows)


ZERO = [0, 0, 0]

# Like the paper: block 1 general, A's blocks specific from n = 2, a dip in BnB, and A adding to fine-tuning.
PAPER_LIKE = {
    ("AnB", 1): [0, 1, 2],  # AnB - BnB: +1.0 [-1.5, +3.5]
    ("AnB", 2): [-4, -3, -2],  # AnB - BnB: -1.5 [-2.7, -0.3]
    ("AnB", 3): [-9, -8, -7],  # against base B: -8.0 [-10.5, -5.5]
    ("AnB+", 1): [1, 2, 3],
    ("AnB+", 2): [2, 3, 4],  # the best AnB+: +3.0 [+0.5, +5.5]
    ("AnB+", 3): [0, 1, 2],
    ("BnB", 1): ZERO,
    ("BnB", 2): [-2, -1.5, -1],  # a dip: -1.5 [-2.7, -0.3]
    ("BnB", 3): [0, 1, 2],
    ("BnB+", 1): ZERO,
    ("BnB+", 2): [0, 0.5, 1],  # AnB+ - BnB+ at 2: +2.5 [+1.3, +3.7]
    ("BnB+", 3): ZERO,
}

# Nothing specific, no dip but a rise, the AnB+ gain as large without A, and AnB+ below base B at n = 2.
FLAT = {
    ("AnB", 1): [0, 1, 2],  # AnB - BnB: -0.5 [-1.7, +0.7]
    ("AnB", 2): [0, 1, 2],  # AnB - BnB: +0.5 [-0.7, +1.7]
    ("AnB", 3): [-3, -1, 1],  # against base B and against BnB: -1.0 [-6.0, +4.0]
    ("AnB+", 1): [3, 4, 5],  # the best AnB+: +4.0 [+1.5, +6.5]
    ("AnB+", 2): [-2.5, -2, -1.5],  # -2.0 [-3.2, -0.8]
    ("AnB+", 3): [0, 0.5, 1],
    ("BnB", 1): [1, 1.5, 2],  # a rise: +1.5 [+0.3, +2.7]
    ("BnB", 2): [0, 0.5, 1],
    ("BnB", 3): ZERO,
    ("BnB+", 1): [2, 3.5, 5],  # AnB+ - BnB+ at 1: +0.5 [-0.7, +1.7]
    ("BnB+", 2): ZERO,
    ("BnB+", 3): ZERO,
}


def trial_rows(base: float, offsets: dict[str, dict[int, list[float]]], budgets: tuple[int, ...], **columns) -> list:
    """Rows of trials: every approach at every budget and seed, its accuracy `base` plus the offsets (default 0)."""
    rows = []
    for approach, by_budget in offsets.items():
        for n in budgets:
            for seed, accuracy in zip(SEEDS, as_accuracy(base, by_budget.get(n, ZERO))):
                rows.append(
                    {"approach": approach, "labels_per_class": n, "seed": seed, "test_acc": accuracy, **columns}
                )
    return rows


COSTS = {"train_images": 10, "trainable_params": 100, "train_flops": 1.0, "seconds": 1.0}

# The digits (from scratch at 50%): fine-tuned from the letters ahead at 1 and 2, from fashion behind at 10,
# the shuffled control resolved nowhere; the letters' probe behind from scratch at 10.
SOURCES = {
    "fine-tune: letters": {1: [4, 5, 6], 2: [4, 5, 6]},  # +5.0 [+2.5, +7.5]
    "fine-tune: fashion": {1: [-1, 1, 3], 10: [-6, -5, -4]},  # +1.0 [-4.0, +6.0] (2/3); -5.0 [-7.5, -2.5]
    "fine-tune: shuffled letters": {1: [-2, 0, 1]},  # -0.3 [-4.1, +3.5] (1/3)
    "linear probe: letters": {10: [-2.5, -2, -1.5]},  # -2.0 [-3.2, -0.8]
    "linear probe: fashion": {1: [-6, -5, -4]},
    "linear probe: shuffled letters": {1: [-11, -10, -9]},
}

# Shoes and bags (from scratch at 60%): both probes behind at 10 and 70, the clothes probe no worse than the
# letters' probe, fine-tuning the clothes network behind at no budget.
NEGATIVE = {
    "linear probe: clothes": {1: [1, 2, 3], 10: [-4, -3, -2], ALL: [-9, -8, -7]},
    "fine-tune: clothes": {1: [0, 1, 2], 10: [0, 1, 2]},
    "linear probe: letters": {1: [1, 2, 3], 10: [-3, -2.5, -2], ALL: [-9, -8.5, -8]},
}

# Forgetting (full fine-tuning reads 40% of the letters, 80% of the digits): offsets of letters and digits.
FORGETTING = {
    "LP-FT": ([2, 3, 4], [-2, -1, 0]),  # letters +3.0 [+0.5, +5.5] more; digits -1.0 [-3.5, +1.5]
    "block1 frozen": ([0, 1, 2], [-3, -2.5, -2]),  # letters not resolved; digits -2.5 [-3.7, -1.3] less
    "lr / 10": ([5, 6, 7], [1, 1.5, 2]),  # letters +6.0 more; digits +1.5 [+0.3, +2.7] higher
}


def split(name: str) -> tuple[str, str]:
    approach, source = name.split(": ")
    return approach, source


def made_up_studies(layers=PAPER_LIKE, sources=SOURCES, negative=NEGATIVE, forgetting=FORGETTING) -> wt.Studies:
    """A Studies of the study's own shapes, every accuracy made up above."""
    digits, others = [], []
    for name, offsets in {"from scratch": {}, **sources}.items():
        approach, source = split(name) if ": " in name else (name, "letters")
        rows = trial_rows(0.50, {approach: offsets}, wt.SOURCE_LABELS, source=source, **COSTS)
        (digits if source == "letters" else others).extend(rows)
    shoes = []
    for name, offsets in {"from scratch: clothes": {}, **negative}.items():
        approach, source = split(name)
        shoes += trial_rows(0.60, {approach: offsets}, wt.NEGATIVE_LABELS, source=source, task="shoes and bags")
    kept = []
    for n in wt.FORGETTING_LABELS:
        for strategy in wt.STRATEGIES:
            letters, digit = forgetting.get(strategy, (ZERO, ZERO))
            at = n == 10  # the made-up effects are at 10 labels per class; with the whole pool, none
            for seed, a, b in zip(
                SEEDS, as_accuracy(0.40, letters if at else ZERO), as_accuracy(0.80, digit if at else ZERO)
            ):
                kept.append(
                    {"strategy": strategy, "labels_per_class": n, "seed": seed, "letters_acc": a, "digits_acc": b}
                )
    return wt.Studies(
        layers=layer_results(layers),
        sources=pd.DataFrame(others),
        negative=pd.DataFrame(shoes),
        forgetting=pd.DataFrame(kept),
        digits=pd.DataFrame(digits),
        recipes={("fine-tune", 10): 0.01, ("fine-tune", ALL): 0.003},
    )


def paired_table(rows: list[tuple[str, int, float, float, float]], task: str = "digits") -> pd.DataFrame:
    """A paired table as wt.paired_against writes it, from (approach, budget, mean, low, high) in points."""
    return pd.DataFrame(
        [
            {
                "approach": approach,
                "baseline": "from scratch",
                "labels_per_class": n,
                "mean": mean / 100,
                "low": low / 100,
                "high": high / 100,
                "won": 2,
                "seeds": 3,
                "verdict": "better" if low > 0 else "worse" if high < 0 else "unresolved",
                "task": task,
            }
            for approach, n, mean, low, high in rows
        ]
    )


def text(markdown) -> str:
    return markdown.data


# --- pieces -----------------------------------------------------------------------------------------------


def test_points_states_the_difference_and_its_interval_in_points():
    assert story_06.points({"mean": 0.031, "low": 0.012, "high": 0.050}) == "+3.1 points [+1.2, +5.0]"
    assert story_06.points(pd.Series({"mean": -0.02, "low": -0.035, "high": -0.005})) == "-2.0 points [-3.5, -0.5]"


def test_an_interval_is_resolved_only_when_it_excludes_zero():
    assert story_06.resolved_either_way({"low": 0.012, "high": 0.05})
    assert story_06.resolved_either_way({"low": -0.05, "high": -0.01})
    assert not story_06.resolved_either_way({"low": -0.01, "high": 0.05})


def test_rows_text_and_by_approach_state_each_row_and_each_approachs_range():
    table = paired_table([("probe", 1, -3.0, -4.0, -2.0), ("probe", 5, -1.2, -2.0, -0.4), ("tune", 5, 2.0, 1, 3)])
    assert story_06.rows_text(table) == (
        "probe at 1 per class, -3.0 points [-4.0, -2.0]; probe at 5 per class, -1.2 points [-2.0, -0.4]; "
        "tune at 5 per class, +2.0 points [+1.0, +3.0]"
    )
    assert story_06.by_approach(table) == (
        "probe at 1, 5 labels per class (-3.0 to -1.2 points); tune at 5 labels per class (+2.0 points)"
    )


def test_lead_resolved_sources_and_budgets_ahead_read_the_right_rows():
    table = paired_table(
        [
            ("fine-tune: fashion", 1, 3.1, 1.2, 5.0),  # ahead
            ("fine-tune: letters", 1, -2.0, -3.0, -1.0),  # behind
            ("fine-tune: shuffled letters", 1, 1.0, -1.0, 3.0),  # not resolved
            ("fine-tune: fashion", 10, 0.5, -1.0, 2.0),
        ]
    )
    assert story_06.lead(table, "fine-tune: fashion", 1) == "+3.1 points [+1.2, +5.0] (2/3 seeds ahead)"
    assert story_06.lead(table, "fine-tune: fashion", 10) == "+0.5 points [-1.0, +2.0] (2/3 seeds ahead)"
    assert story_06.resolved_sources(table, 1) == ["fashion", "letters"]
    assert story_06.resolved_sources(table, 10) == []
    assert story_06.budgets_ahead(table, "fine-tune: fashion") == ["1"]
    assert story_06.budgets_ahead(table, "fine-tune: letters") == []


def test_paired_figure_labels_each_row_by_approach_and_budget():
    studies = made_up_studies()
    table = wt.sources_against_scratch(studies, "fine-tune")
    table = table[table.approach == "fine-tune: fashion"]
    fig = story_06.paired_figure(table, wt.source_frame(studies), "a title")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == [
        f"fine-tune: fashion, {story_06.budget_text(n)}/class" for n in wt.SOURCE_LABELS
    ]
    assert ax.get_title() == "a title"
    plt.close(fig)


def test_paired_text_and_forgetting_text_render_a_made_up_row_as_the_notebook_shows_it():
    shown = story_06.paired_text(paired_table([("probe: clothes", ALL, -3.04, -4.56, -1.5)], task="shoes and bags"))
    assert shown.to_dict("records") == [
        {
            "labels per class": "70",
            "approach": "probe: clothes",
            "difference (points)": -3.0,
            "95% interval": "[-4.6, -1.5]",
            "seeds won": "2/3",
        }
    ]
    assert story_06.paired_text(paired_table([("tune", ALL, 2.0, 1.0, 3.0)]))["labels per class"].tolist() == ["all"]
    forgetting = pd.DataFrame(
        [
            {
                "strategy": "LP-FT",
                "labels_per_class": 10,
                "digits_acc": 0.8123,
                "letters_acc": 0.4567,
                "mean": -0.4961,
                "low": -0.52,
                "high": -0.47,
                "seeds": 5,
            }
        ]
    )
    assert story_06.forgetting_text(forgetting).to_dict("records") == [
        {
            "labels per class": "10",
            "strategy": "LP-FT",
            "digits accuracy (%)": 81.2,
            "letters accuracy (%)": 45.7,
            "letters lost (points)": 49.6,
            "95% interval": "[47.0, 52.0]",
        }
    ]


# --- 2. layers --------------------------------------------------------------------------------------------


def test_layer_setup_states_the_halves_and_the_recipe():
    lines = story_06.layer_setup(("a", "b"), ("c", "d", "e")).splitlines()
    assert lines[0] == "A (2 letters): a b" and lines[1] == "B (3 letters): c d e"
    recipe = wt.LAYER_RECIPE
    assert f"{recipe.steps} steps of {recipe.batch_size} letters, lr {recipe.lr:g}" in lines[2]
    assert f"seeds {list(wt.LAYER_SEEDS)}" in lines[2] and f"{wt.LAYER_TEST_PER_CLASS} test letters" in lines[2]


def test_layer_grid_is_curves_by_n_in_percent():
    grid = story_06.layer_grid(wt.layer_summary(layer_results(PAPER_LIKE)))
    assert list(grid.index) == ["baseA", "baseB", "AnB", "AnB+", "BnB", "BnB+"]
    assert grid.loc["AnB", "n = 3"] == "72.0 [71.0, 73.0]"
    assert grid.loc["baseB", "n = 0"] == "80.0 [80.0, 80.0]" and grid.loc["baseB", "n = 1"] == ""


def test_layer_difference_table_is_in_points():
    table = story_06.layer_difference_table(wt.layer_differences(layer_results(PAPER_LIKE)))
    assert table.loc[("AnB", 3)].tolist() == [-8.0, -10.5, -5.5]
    assert table.loc[("BnB+", 2), "mean"] == 0.5


def test_layer_lesson_like_the_paper():
    lesson = text(story_06.layer_lesson(layer_results(PAPER_LIKE)))
    specificity, co_adaptation, fine_tuning = lesson.splitlines()
    assert "n = 1: +1.0 points [-1.5, +3.5]; n = 2: -1.5 points [-2.7, -0.3]; n = 3: -9.0 points" in specificity
    assert "From n = 2 on, the interval lies below zero: block 2 of base A" in specificity
    assert specificity.endswith("AnB at n = 3 against base B, -8.0 points [-10.5, -5.5].")
    assert "n = 2: -1.5 points [-2.7, -0.3]. An interval below zero" in co_adaptation
    assert "only the head retrains: +1.0 points [-1.5, +3.5].)" in co_adaptation
    assert "AnB+ is furthest above base B at n = 2: +3.0 points [+0.5, +5.5]" in fine_tuning
    assert fine_tuning.endswith("AnB+ minus BnB+ +2.5 points [+1.3, +3.7], so A's blocks add something B's own do not.")


def test_layer_lesson_when_nothing_is_specific_and_bnb_rises():
    specificity, co_adaptation, fine_tuning = text(story_06.layer_lesson(layer_results(FLAT))).splitlines()
    assert "n = 1: -0.5 points [-1.7, +0.7]" in specificity
    assert "No interval lies below zero: nothing here is measurably specific to A." in specificity
    assert "AnB at n = 3 against base B, -1.0 points [-6.0, +4.0]" in specificity
    assert "n = 1: +1.5 points [+0.3, +2.7]" in co_adaptation
    assert "No dip: this small network shows no fragile co-adaptation; BnB even ends above base B" in co_adaptation
    assert "at n = 1: +4.0 points [+1.5, +6.5]" in fine_tuning
    assert "AnB+ minus BnB+ +0.5 points [-0.7, +1.7]. The gain is as large without A" in fine_tuning


# --- 3. sources -------------------------------------------------------------------------------------------


def test_source_lesson_states_the_order_the_resolved_sources_and_each_lead():
    order, at_ten, fashion, shuffled, probes = text(story_06.source_lesson(made_up_studies())).splitlines()
    assert "best first by mean at 1 label per class: letters > fashion > none > shuffled letters" in order
    assert "an interval that excludes zero: letters; fashion minus shuffled letters: +1.3 points [-0.1, +2.8]" in order
    assert "(3/3 seeds ahead)" in order
    assert at_ten.endswith("an interval that excludes zero: fashion.")
    assert "+1.0 points [-4.0, +6.0] (2/3 seeds ahead) at 1 label per class" in fashion
    assert "-5.0 points [-7.5, -2.5] (0/3 seeds ahead) at 10" in fashion
    assert "-0.3 points [-4.1, +3.5] (1/3 seeds ahead) at 1 label per class" in shuffled
    assert "fashion minus letters: -5.0 points [-7.5, -2.5] (0/3 seeds ahead)" in probes
    assert "shuffled letters minus letters: -10.0 points [-12.5, -7.5] (0/3 seeds ahead)" in probes


def test_control_lesson_credits_the_labels_only_when_the_control_helps_nowhere():
    lesson = text(story_06.control_lesson(made_up_studies()))
    assert "ahead of from scratch (interval above zero) at: 1, 2 labels per class" in lesson
    assert "from the shuffled letters at: no budget.\n" in lesson
    assert "the benefit comes from the labels" in lesson
    helped = {**SOURCES, "fine-tune: shuffled letters": {2: [2, 2.5, 3]}}  # +2.5 [+1.3, +3.7]
    lesson = text(story_06.control_lesson(made_up_studies(sources=helped)))
    assert "from the shuffled letters at: 2.\n" in lesson
    assert "The pictures alone carry part of the benefit" in lesson


# --- 4. negative transfer -----------------------------------------------------------------------------------


def test_negative_lesson_when_freezing_is_what_costs():
    found, control, tuned, digits = text(story_06.negative_lesson(made_up_studies())).splitlines()
    assert found == (
        "- Below from scratch on shoes and bags, the whole interval below zero: linear probe: clothes at 10, 70 "
        "labels per class (-8.0 to -3.0 points); linear probe: letters at 10, 70 labels per class "
        "(-8.5 to -2.5 points)."
    )
    assert "at 10 per class, -0.5 points [-1.7, +0.7]; linear probe: clothes at 70 per class, +0.5 points" in control
    assert "No interval lies below zero: the clothes features are not measurably worse" in control
    assert tuned.startswith("- Fine-tuning the clothes network instead, against from scratch: fine-tune: clothes at 1")
    assert "+1.0 points [-1.5, +3.5]" in tuned
    for below in ("fine-tune: fashion at 10 labels per class (-5.0 points)", "linear probe: letters at 10 labels"):
        assert below in digits


def test_negative_lesson_when_the_clothes_features_are_worse():
    worse = {
        **NEGATIVE,
        "linear probe: clothes": {10: [-6, -5, -4]},  # minus the letters' probe: -2.5 [-3.7, -1.3]
        "fine-tune: clothes": {ALL: [-4, -3, -2]},  # -3.0 [-5.5, -0.5]
    }
    found, control, tuned, _ = text(story_06.negative_lesson(made_up_studies(negative=worse))).splitlines()
    assert "worse than the letters' at linear probe: clothes at 10 labels per class (-2.5 points)." in control
    assert "fine-tune: clothes at 70 labels per class" in found


# --- 5. forgetting ------------------------------------------------------------------------------------------


def test_live_forgetting_reads_the_statistics_and_the_probe():
    restored, probe = text(story_06.live_forgetting(0.30, 0.50, 0.90, 0.60)).splitlines()
    assert "from 30.0% to 50.0%: the drifted statistics account for part of the loss" in restored
    assert "old head reads 30.0% of the letters, a fresh probe on the same fine-tuned features 60.0%" in probe
    assert "original features 90.0%: much of what told letters apart is still in the features" in probe
    restored, probe = text(story_06.live_forgetting(0.30, 0.20, 0.90, 0.35)).splitlines()
    assert "to 20.0%: worse, not better" in restored
    assert probe.endswith("the features themselves have lost most of what told letters apart.")
    restored, _ = text(story_06.live_forgetting(0.30, 0.32, 0.90, 0.35)).splitlines()
    assert restored.endswith("little change: the statistics are not where most of the loss is in this run.")


def test_measure_verdict_says_more_higher_less_or_not_resolved():
    def row(measure, mean, low, high):
        verdict = "better" if low > 0 else "worse" if high < 0 else "unresolved"
        return pd.Series({"measure": measure, "mean": mean, "low": low, "high": high, "verdict": verdict})

    assert story_06.measure_verdict(row("letters", 0.031, 0.012, 0.050)) == "letters +3.1 points [+1.2, +5.0] (more)"
    assert story_06.measure_verdict(row("digits", -0.02, -0.035, -0.005)) == "digits -2.0 points [-3.5, -0.5] (less)"
    assert story_06.measure_verdict(row("letters", 0.031, -0.012, 0.074)) == (
        "letters +3.1 points [-1.2, +7.4] (not resolved)"
    )
    assert story_06.measure_verdict(row("digits", 0.02, 0.005, 0.035)) == "digits +2.0 points [+0.5, +3.5] (higher)"


def test_forgetting_lesson_states_each_strategy_against_full_fine_tuning():
    lines = text(story_06.forgetting_lesson(made_up_studies(), 0.953)).splitlines()
    assert lines[0] == "- The letter model reads 95.3% of these test letters before any fine-tuning."
    assert lines[1] == (
        "- LP-FT minus full fine-tuning at 10 labels per class, seed by seed: letters +3.0 points [+0.5, +5.5] "
        "(more); digits -1.0 points [-3.5, +1.5] (not resolved)."
    )
    assert (
        "block1 frozen minus full fine-tuning at 10" in lines[2]
        and "digits -2.5 points [-3.7, -1.3] (less)" in lines[2]
    )
    assert "lr / 10 minus" in lines[3] and "digits +1.5 points [+0.3, +2.7] (higher)" in lines[3]
    assert "LP-FT minus full fine-tuning at all labels per class" in lines[4]
    assert (
        lines[-1].startswith("- A caution")
        and "(10 labels per class: lr 0.01, all labels per class: lr 0.003)" in lines[-1]
    )


# --- summary ------------------------------------------------------------------------------------------------


def test_summary_like_the_paper():
    layers, sources, negative, forgetting, moral = text(story_06.summary(made_up_studies())).splitlines()
    assert (
        "Block 1 copied from A serves B as well as B's own (AnB minus BnB at n = 1: +1.0 points [-1.5, +3.5])" in layers
    )
    assert "specific to A from n = 2; copying all 3 frozen costs -8.0 points [-10.5, -5.5] against base B." in layers
    assert layers.endswith("Fine-tuned copies (AnB+) are at or above base B at every n.")
    assert sources.endswith(
        "above zero: letters; the shuffled-label control is not: what transfers comes from what the source's labels "
        "taught, not from its images alone."
    )
    assert "(interval below zero): linear probe: clothes at 10, 70 labels per class (-8.0 to -3.0 points)" in negative
    assert "fine-tuned: below from scratch at no budget. Freezing, not the choice of source" in negative
    assert forgetting == (
        "- **Forgetting.** Strategies that keep measurably more letters than full fine-tuning: LP-FT at 10 labels "
        "per class (+3.0 points of letters, -1.0 of digits); lr / 10 at 10 labels per class (+6.0 points of letters, "
        "+1.5 of digits)."
    )
    assert "a control (shuffled labels)" in moral


def test_summary_the_other_way():
    sources = {**SOURCES, "fine-tune: shuffled letters": {1: [2, 2.5, 3]}}  # the control ahead at 1
    worse = {**NEGATIVE, "linear probe: clothes": {}, "fine-tune: clothes": {ALL: [-4, -3, -2]}}
    none_kept = {"LP-FT": ([0, 1, 2], ZERO)}
    studies = made_up_studies(layers=FLAT, sources=sources, negative=worse, forgetting=none_kept)
    layers, sources, negative, forgetting, _ = text(story_06.summary(studies)).splitlines()
    assert "Block 1 copied from A serves B as well as B's own (AnB minus BnB at n = 1: -0.5 points" in layers
    assert "measurably specific" not in layers
    assert layers.endswith("Fine-tuning the copies does not recover it everywhere.")
    assert "above zero: letters, shuffled letters; the shuffled-label control is among them: part of" in sources
    assert "what the source's labels taught" not in sources  # the control helps, so the labels are not the cause
    assert negative == (
        "- **Negative transfer** on shoes and bags (interval below zero): not found; the same source fine-tuned: "
        "fine-tune: clothes at 70 labels per class (-3.0 points)."
    )
    assert forgetting.endswith("than full fine-tuning: none.")
    even = {("BnB", 1): [-2, -1, 0], **{k: v for k, v in PAPER_LIKE.items() if k != ("BnB", 1)}}
    assert "Even block 1 differs between A and B" in story_06.layers_in_brief(layer_results(even))


def test_sources_in_brief_says_none_transfers_when_no_source_is_ahead():
    behind = {name: {1: [-1, 0, 1]} for name in SOURCES}
    sources = story_06.sources_in_brief(made_up_studies(sources=behind))
    assert sources.endswith("above zero: none: at this budget no source measurably transfers.")


def test_specificity_names_the_costliest_copy_and_where_a_is_specific():
    paper = story_06.specificity(layer_results(PAPER_LIKE))
    assert "From n = 2 on, the interval lies below zero" in paper
    assert "The deepest copy costs most: AnB at n = 3 against base B, -8.0 points [-10.5, -5.5]." in paper
    middle = {**PAPER_LIKE, ("AnB", 3): [-2, -1.5, -1], ("BnB", 3): [-2, -1.5, -1]}  # n = 2 costs most, 3 less
    reading = story_06.specificity(layer_results(middle))
    assert "At n = 2 the interval lies below zero" in reading  # n = 3 is not: no "from n = 2 on"
    assert "The copy of 2 blocks costs most: AnB at n = 2 against base B, -3.0 points [-5.5, -0.5] (at n = 3, " in (
        reading
    )
