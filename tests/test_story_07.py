"""Notebook 07's sentences and tables state the numbers and verdicts of the results they are given.

Each story function is called on small made-up results, built as helpers.language_study builds its own
(`LanguageResults`, its comparisons, the pretraining record, the live table), and the text is checked for
the figures, with the rounding it promises, and for the verdicts the seeds resolve.
"""

import math

import pandas as pd
import pytest

from helpers import language, story_07, text
from helpers import language_study as ls

SEEDS = (0, 1, 2, 3)
GENERATIVE = {  # approach -> characters -> held-out loss per seed
    "from scratch": {1000: [3.0, 3.1, 3.2, 3.0], 4000: [2.6, 2.7, 2.65, 2.6]},
    "full fine-tuning": {1000: [2.5, 2.6, 2.7, 2.55], 4000: [2.4, 2.5, 2.45, 2.41]},
    "last block": {1000: [2.3, 2.42, 2.5, 2.35], 4000: [2.3, 2.6, 2.35, 2.6]},
}
CLASSIFICATION = {  # approach -> labels per class -> test accuracy per seed
    "n-grams": {1: [0.5, 0.6, 0.4, 0.55], 5: [0.8, 0.82, 0.81, 0.8]},
    "from scratch": {1: [0.5, 0.5, 0.5, 0.5], 5: [0.55, 0.56, 0.54, 0.55]},
    "frozen features": {1: [0.5, 0.6, 0.45, 0.5], 5: [0.6, 0.61, 0.6, 0.62]},
    "LoRA": {1: [0.4, 0.41, 0.42, 0.4], 5: [0.72, 0.7, 0.69, 0.73]},
    "full fine-tuning": {1: [0.52, 0.49, 0.55, 0.5], 5: [0.7, 0.72, 0.69, 0.71]},
}
FLOPS = {"from scratch": 9e12, "full fine-tuning": 1e12, "LoRA": 2e12}  # per run, at every budget
RECORD = {
    "config": {"layers": 4},
    "recipe": {"steps": 1000, "batch_size": 16},
    "characters_seen": 1_024_000,
    "train_seconds": 61.4,
    "train_flops": 4e12,
    "achieved_gflops": 49.1,
    "matmul_gflops": 85.4,
    "fraction_of_matmul": 0.576,
    "first_train_loss": 3.9464,
    "held_out_loss": 1.6408,
    "held_out_perplexity": 5.159,
    "held_out_loss_by_step": {"100": 2.5307, "1000": 1.6408},
    "machine": {"cpu_count": 8, "processor": "arm64", "system": "Darwin 23.1.0", "torch": "2.9.0"},
    "date": "2030-01-02",
}
WHERE = (
    "on 8 cores (arm64 Darwin, torch 2.9.0) on 2030-01-02, when make pretrain-lm built the shipped checkpoint "
    "(its record: checkpoints/tiny_gpt_austen.json)"
)


@pytest.fixture
def found() -> ls.LanguageResults:
    """Made-up results of both tasks, four seeds each, as language_study.load returns them."""
    rows = []
    for task, scores in (("generative", GENERATIVE), ("classification", CLASSIFICATION)):
        for approach, by_budget in scores.items():
            for budget, values in by_budget.items():
                rows += [
                    {
                        "task": task,
                        "approach": approach,
                        "budget": budget,
                        "seed": seed,
                        "score": value,
                        "seconds": 1.0,
                        "train_flops": FLOPS.get(approach, 0.0),
                        "trainable_params": 10,
                    }
                    for seed, value in zip(SEEDS, values)
                ]
    recipes = {("generative", a, b): (1e-3, 50 if b == 1000 else 200) for a in GENERATIVE for b in (1000, 4000)}
    return ls.LanguageResults(dev=pd.DataFrame(), target=pd.DataFrame(rows), recipes=recipes)


@pytest.fixture
def live_table() -> pd.DataFrame:
    """The live runs' table of section 6, as the notebook builds it."""
    return pd.DataFrame(
        [
            {
                "approach": "full fine-tuning",
                "trainable parameters": 800_000,
                "FLOPs per step": 1e9,
                "steps": 50,
                "seconds (live)": 5.0,
                "seconds per step": 0.1,
                "test accuracy (live, seed 0)": 0.575,
                "the sweep's seed 0": 0.5754,
            },
            {
                "approach": "LoRA",
                "trainable parameters": 12_000,
                "FLOPs per step": 7e8,
                "steps": 200,
                "seconds (live)": 16.0,
                "seconds per step": 0.08,
                "test accuracy (live, seed 0)": 0.56,
                "the sweep's seed 0": 0.5666,
            },
        ]
    ).set_index("approach")


def mean(approach: str, budget: int, scores: dict = GENERATIVE) -> float:
    return sum(scores[approach][budget]) / len(SEEDS)


# --- the texts, the model, its pretraining ---------------------------------------------------------------------


def test_the_texts_are_listed_with_their_length_and_the_role_the_plan_gives_them():
    lines = story_07.texts_and_roles().splitlines()
    planned = {*text.PRETRAINING_WORKS, *ls.GENERATIVE_WORKS.values()}
    planned |= {w for works in language.AUTHOR_WORKS.values() for w in works.values()}
    assert sorted(line.split()[0] for line in lines) == sorted(planned)  # each once
    roles = {line.split()[0]: line.split("characters")[1].strip() for line in lines}
    assert roles[ls.GENERATIVE_WORKS["target"]] == "new style (section 4)"
    assert roles[ls.GENERATIVE_WORKS["dev"]] == "development: choosing recipes"
    assert {roles[w] for w in language.AUTHOR_WORKS["target"].values()} == {"authorship (section 5)"}
    assert {roles[w] for w in language.AUTHOR_WORKS["dev"].values()} == {"development: choosing recipes"}
    assert {roles[w] for w in text.PRETRAINING_WORKS} == {"pretraining"}
    macbeth = next(line for line in lines if line.startswith(ls.GENERATIVE_WORKS["target"]))
    assert f"{len(text.read_text(ls.GENERATIVE_WORKS['target'])):,} characters" in macbeth


def test_the_flop_counts_state_each_count_with_its_rounding():
    counted = {"forward": 100.0, "backward": 204.0}
    said = story_07.flop_counts(826_112, {"forward": 1_728_512}, counted, 1_728_511.6, 0.9144)
    assert said.splitlines() == [
        "826,112 parameters",
        "forward FLOPs per character: 1,728,512 by hand, 1,728,512 counted by PyTorch",
        "one training step counted: backward / forward = 2.04",
        "share of the forward pass in the blocks' weight matrices: 91%",
    ]


def test_the_pretraining_record_is_said_to_be_measured_where_and_when_it_was():
    assert story_07.where_measured(RECORD) == WHERE
    note = story_07.pretraining_cost_note(RECORD, live_fine_tuning_flops=1e11).data
    assert note.startswith("Pretraining cost 4e+12 FLOPs, about 40 times the live full fine-tuning")
    assert f"took 61 s of training {WHERE}." in note and "here" not in note


def test_the_printed_record_gives_steps_speed_and_each_held_out_loss_with_its_perplexity():
    lines = story_07.pretraining_record(RECORD).splitlines()
    assert lines[0] == "1000 steps of 16 windows: 1,024,000 characters seen"
    assert lines[1] == f"training took 61 s {WHERE}"
    assert (
        lines[2] == "49 GFLOP/s achieved, 58% of the 85 GFLOP/s that machine's float32 matmul reached in the same run"
    )
    assert lines[3] == f"  after  100 steps: held-out loss 2.531 (perplexity {math.exp(2.5307):.2f})"
    assert lines[4] == "  after 1000 steps: held-out loss 1.641 (perplexity 5.16)"


def test_the_pretraining_result_states_the_losses_against_the_uniform_guess():
    said = story_07.pretraining_result(RECORD).data
    assert said.startswith(
        f"After 10 steps the training loss was 3.95, already below the uniform {math.log(text.VOCAB_SIZE):.2f}; "
        "after 1000 steps the held-out loss was 1.64 nats per character, as unsure as choosing among 5.2 equally "
        "likely characters."
    )


# --- section 4 -------------------------------------------------------------------------------------------------


def test_the_reference_points_say_which_end_the_pretrained_model_is_nearer():
    uniform = math.log(text.VOCAB_SIZE)
    near = story_07.reference_points(1.64, 2.46, 3.361).splitlines()
    assert near[:4] == [
        "pretrained on Austen's held-out text: 1.640 nats per character",
        "pretrained on Macbeth's held-out text: 2.460",
        f"a uniform guess:                      {uniform:.3f}",
        "character frequencies of the first 1,000 characters only: 3.361",
    ]
    assert near[4].endswith("the Austen model is nearer its loss on Austen")
    far = story_07.reference_points(1.64, 4.0, 3.361).splitlines()[4]
    assert far.endswith("the Austen model is nearer the uniform guess")


def test_the_live_run_is_set_beside_the_sweeps_only_when_it_ran_the_recipes_steps():
    row = pd.DataFrame([{"approach": "full fine-tuning", "steps": 50, "score": 2.30871}]).iloc[
        0
    ]  # as the notebook reads it
    assert story_07.live_against_sweep(row, 50, 2.30874).splitlines() == [
        "the sweep's run with this recipe and seed: held-out loss 2.3087",
        "this run:                                  held-out loss 2.3087",
    ]
    assert story_07.live_against_sweep(row, 10, 2.5) == (
        "smoke mode: 10 steps instead of the recipe's 50, so no comparison with the sweep"
    )


def test_the_score_grid_gives_mean_min_max_in_each_tasks_unit(found):
    loss = story_07.score_grid(found, "generative")
    assert list(loss.columns) == ["from scratch", "last block", "full fine-tuning"]
    assert loss.index.name == "characters of Macbeth"
    assert loss.loc[1000, "full fine-tuning"] == f"{mean('full fine-tuning', 1000):.2f} [2.50, 2.70]"
    accuracy = story_07.score_grid(found, "classification")
    assert list(accuracy.columns) == list(ls.CLASSIFICATION_APPROACHES) and accuracy.index.name == "labels per class"
    assert accuracy.loc[5, "full fine-tuning"] == "70.5 [69.0, 72.0]"


def test_the_paired_table_states_difference_interval_seeds_won_and_verdict(found):
    losses = ls.comparisons(found, "generative", "full fine-tuning", ("last block",))
    table = story_07.paired_table(losses)
    assert list(table.columns) == [
        "approach",
        "characters",
        "difference (nats)",
        "95% interval",
        "seeds won",
        "verdict",
    ]
    first = table.iloc[0]
    assert first["approach"] == "last block minus full fine-tuning" and first["characters"] == 1000
    assert first["difference (nats)"] == round(mean("last block", 1000) - mean("full fine-tuning", 1000), 3)
    p = ls.paired(found, "generative", "last block", "full fine-tuning", 1000)
    assert first["95% interval"] == f"[{p['low']:+.3f}, {p['high']:+.3f}]" and p["high"] < 0
    assert (first["seeds won"], first["verdict"]) == ("4/4", "better")
    assert tuple(table.iloc[1][["seeds won", "verdict"]]) == ("2/4", "unresolved")
    points = story_07.paired_table(ls.comparisons(found, "classification", "from scratch", ("full fine-tuning",)))
    assert "labels per class" in points and points.iloc[1]["difference (points)"] == 15.5
    assert points.iloc[1]["verdict"] == "better" and points.iloc[0]["verdict"] == "unresolved"


def test_budgets_where_names_only_the_budgets_with_that_verdict(found):
    table = ls.comparisons(found, "generative", "full fine-tuning", ("last block",))
    assert story_07.budgets_where(table, "last block", "better", "characters") == "1,000 characters"
    assert story_07.budgets_where(table, "last block", "unresolved") == "4,000"
    assert story_07.budgets_where(table, "last block", "worse", "characters") == "no budget"
    both = ls.comparisons(found, "generative", "from scratch", ("full fine-tuning",))
    assert story_07.budgets_where(both, "full fine-tuning", "better", "characters") == "1,000, 4,000 characters"


def test_labels_where_says_label_for_a_single_budget_of_one():
    table = pd.DataFrame({"approach": ["a"] * 3, "budget": [1, 5, 10], "verdict": ["better", "worse", "worse"]})
    assert story_07.labels_where(table, "a", "better") == "1 label per class"
    assert story_07.labels_where(table, "a", "worse") == "5, 10 labels per class"
    assert story_07.labels_where(table, "a", "unresolved") == "no budget"


def test_the_generative_lesson_states_the_verdicts_the_differences_and_the_reference_points(found):
    said = story_07.generative_lesson(found, pretrained_on_macbeth=2.5, unigram=3.4).data.splitlines()
    assert said[0] == (
        "- Full fine-tuning is better than from scratch (interval below zero) at 1,000, 4,000 characters, and "
        "worse at no budget."
    )
    gaps = [mean("full fine-tuning", b) - mean("from scratch", b) for b in (1000, 4000)]  # -0.49, -0.20
    assert said[1] == (
        f"- Full fine-tuning minus from scratch, mean loss in nats: {gaps[0]:+.2f} at 1,000, {gaps[1]:+.2f} at "
        "4,000; the advantage shrinks steadily as the target grows."
    )
    scratch = mean("from scratch", 1000)  # 3.075
    assert said[2] == (
        f"- From scratch at 1,000 characters scored {scratch:.2f}: {3.4 - scratch:.2f} nats better than character "
        f"frequencies alone (3.40), {scratch - 2.5:.2f} worse than the pretrained model before any fine-tuning."
    )
    assert said[3] == (
        "- The last block alone, against full fine-tuning: better at 1,000 characters; worse at no budget; "
        "elsewhere unresolved."
    )
    assert said[4] == (
        f"- **Fine-tuning can make things worse.** At 1,000 characters, full fine-tuning "
        f"({mean('full fine-tuning', 1000):.2f}) ended above the pretrained model left alone (2.50), although the "
        "development texts chose 50 steps, the fewest in the grid."
    )
    untouched_worse = story_07.generative_lesson(found, pretrained_on_macbeth=2.7, unigram=3.4).data
    assert untouched_worse.endswith(
        "- At 1,000 characters every fine-tuning ended below the pretrained model left alone."
    )


def test_the_fewest_steps_is_said_only_when_the_chosen_steps_are_the_grids_fewest(found):
    found.recipes.update({("generative", a, 1000): (1e-3, 200) for a in ls.GENERATIVE_APPROACHES})
    said = story_07.generative_lesson(found, pretrained_on_macbeth=2.5, unigram=3.4).data.splitlines()
    assert said[4].endswith("although the development texts chose 200 steps.")


def test_a_growing_advantage_is_not_said_to_shrink(found):
    rows = found.target
    rows.loc[(rows.approach == "full fine-tuning") & (rows.budget == 4000), "score"] -= 0.5
    said = story_07.generative_lesson(found, pretrained_on_macbeth=2.5, unigram=3.4).data
    assert "the advantage does not shrink steadily" in said


# --- section 5 -------------------------------------------------------------------------------------------------


def test_the_paired_rows_carry_each_seeds_difference_and_a_label(found):
    table = ls.comparisons(found, "classification", "n-grams", ("full fine-tuning",))
    rows = story_07.paired_rows(table)
    assert [row["label"] for row in rows] == [
        "full fine-tuning minus n-grams, 1/class",
        "full fine-tuning minus n-grams, 5/class",
    ]
    p = ls.paired(found, "classification", "full fine-tuning", "n-grams", 5)
    assert list(rows[1]["differences"]) == pytest.approx(list(p["differences"]))
    assert (rows[1]["mean"], rows[1]["low"], rows[1]["high"]) == pytest.approx((p["mean"], p["low"], p["high"]))


def test_the_classification_lesson_names_where_transfer_is_ahead_and_where_behind(found):
    said = story_07.classification_lesson(found).data.splitlines()
    assert said[0] == (
        "- **Against from scratch**, full fine-tuning is ahead (interval above zero) at 5 labels per class; "
        "behind at no budget."
    )
    assert said[1] == (
        "- **Against the n-grams**, full fine-tuning is ahead at no budget; behind at 5 labels per class. Frozen "
        "features are ahead at no budget; behind at 5 labels per class."
    )


# --- section 6 -------------------------------------------------------------------------------------------------


def test_the_live_costs_read_with_commas_three_figures_and_percentages(live_table):
    shown = story_07.live_costs(live_table)
    assert shown.loc["full fine-tuning", "trainable parameters"] == "800,000"
    assert shown.loc["LoRA", "FLOPs per step"] == "7e+08"
    assert shown.loc["LoRA", "seconds per step"] == "0.080"
    assert shown.loc["full fine-tuning", "test accuracy (live, seed 0)"] == "57.5%"
    assert shown.loc["LoRA", "the sweep's seed 0"] == "56.7%"


def test_the_lora_lesson_states_its_share_its_saving_and_the_seeds_verdicts(found, live_table):
    said = story_07.lora_lesson(found, live_table).data.splitlines()
    assert said[0] == "- LoRA trains 12,000 parameters, 1.5% of full fine-tuning's 800,000."
    assert said[1].startswith("- A step costs 30% fewer FLOPs than full fine-tuning's (0.080 s against 0.100 s here)")
    assert said[2].startswith("- Per task, LoRA's recipe ran 200 steps and full fine-tuning's 50:")
    assert said[3] == (
        "- Accuracy, LoRA minus full fine-tuning over the sweep's seeds: better at no budget; worse at 1 label "
        "per class; elsewhere the interval includes zero."
    )


def test_the_optimizer_memory_is_counted_in_bytes_per_parameter(live_table):
    said = story_07.optimizer_memory(1_000_000, live_table, state_bytes=12)
    assert said == (
        "this model: 4.0 MB of weights; gradients + Adam state 9.6 MB for full fine-tuning, 0.14 MB for LoRA"
    )
    big = story_07.optimizer_memory_at_scale(7e9, 8_388_608, state_bytes=12)
    assert big == (
        "a 7B model: 28 GB of weights; gradients + Adam state 84 GB for full fine-tuning, 0.10 GB for LoRA's "
        "8,388,608 parameters (0.12% of the model)"
    )


# --- section 7 and the summary --------------------------------------------------------------------------------


def test_the_ledger_spreads_the_pretraining_and_says_never_when_fine_tuning_saves_nothing(found, monkeypatch):
    monkeypatch.setattr(ls, "pretraining_record", lambda: {"train_flops": 16e12})
    found.target.loc[found.target.approach == "LoRA", "train_flops"] = 9e12  # no cheaper than from scratch
    table = story_07.ledger_table(found, [("generative", 1000, "full fine-tuning"), ("classification", 5, "LoRA")])
    first, second = table.iloc[0], table.iloc[1]
    assert (first["task"], first["approach"]) == ("generative, 1,000 characters", "full fine-tuning")
    assert (first["FLOPs per task"], first["from scratch FLOPs per task"]) == ("1e+12", "9e+12")
    assert first["pretraining FLOPs (once)"] == "1.6e+13"
    assert first["per task, pretraining spread over 10 tasks"] == "2.6e+12"  # 1e12 + 16e12 / 10
    assert first["break-even tasks"] == "3"  # 16e12 + N 1e12 < N 9e12 first at N = 3
    assert second["task"] == "classification, 5 labels per class" and second["break-even tasks"] == "never"


def test_the_summary_states_each_sections_result_from_its_numbers_and_verdicts(found, live_table):
    said = story_07.summary(found, RECORD, 826_112, 2.46, live_table).data.splitlines()
    assert said[0] == (
        f"- **Pretraining** (4 blocks, 826,112 parameters) took 61 s {WHERE} and brought the held-out loss on "
        f"Austen to 1.64 nats per character (uniform guess: {math.log(text.VOCAB_SIZE):.2f})."
    )
    gaps = sorted(mean("from scratch", b) - mean("full fine-tuning", b) for b in (1000, 4000))
    assert said[1] == (
        "- **A new style.** Before fine-tuning, the Austen model scored 2.46 on Macbeth. Full fine-tuning beat "
        f"from scratch (interval below zero) at 1,000, 4,000 characters, by {gaps[0]:.2f} to {gaps[1]:.2f} nats in "
        "the mean."
    )
    assert said[2] == (
        "- **Classification.** Full fine-tuning was ahead of from scratch at 5 labels per class. Against the "
        "n-grams it was ahead at no budget and behind at 5 labels per class. Frozen features (03's linear probe) "
        "were behind the n-grams at 5 labels per class."
    )
    assert said[3] == (
        "- **LoRA** trained 1.5% of the parameters for 30% fewer FLOPs per step; against full fine-tuning it was "
        "worse at 1 label per class and better at no budget."
    )
    assert said[5].startswith("- **Scale.** This GPT read 1,024,000 characters of two novels;")
