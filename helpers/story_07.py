"""Notebook 07's sentences and tables: every statement of a result, computed from the results it states.

A notebook cell that states results is one call here, e.g. `story_07.summary(found, ...)`; the numbers
come from helpers.language_study (the shipped sweep, its `LanguageResults`) and from the notebook's live
runs, passed in as they were measured. Formatting happens only in the story modules and helpers.viz.
07's set-against-MiniLM paragraph is 08's result and is stated by story_08.miniature_against_released.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
from IPython.display import Markdown

from helpers import gpt, language, results, text
from helpers import language_study as ls
from helpers.core import REPO_DIR

BUDGET_NAMES = {"generative": "characters", "classification": "labels per class"}
DIFFERENCE_UNITS = {"generative": ("nats", 1, 3), "classification": ("points", 100, 1)}  # unit, scale, decimals


# --- the texts, the model, its pretraining -------------------------------------------------------------------


def text_roles() -> dict[str, str]:
    """{work: its role in this notebook}, read off the study's plan: pretraining, the two targets, development."""
    roles = dict.fromkeys(text.PRETRAINING_WORKS, "pretraining")
    roles.setdefault(ls.GENERATIVE_WORKS["target"], "new style (section 4)")
    roles.setdefault(ls.GENERATIVE_WORKS["dev"], "development: choosing recipes")
    for work in language.AUTHOR_WORKS["target"].values():
        roles.setdefault(work, "authorship (section 5)")
    for work in language.AUTHOR_WORKS["dev"].values():
        roles.setdefault(work, "development: choosing recipes")
    return roles


def texts_and_roles() -> str:
    """The printed list of the shipped texts: name, length in characters (counted now) and role."""
    return "\n".join(
        f"{name:32s} {len(text.read_text(name)):>8,} characters   {role}" for name, role in text_roles().items()
    )


def flop_counts(parameters: int, by_hand: dict, counted: dict, per_token: float, weights_share: float) -> str:
    """The printed counts: parameters, forward FLOPs per character by hand and by PyTorch, backward / forward,
    and the share of the forward pass spent in the blocks' weight matrices."""
    return "\n".join(
        [
            f"{parameters:,} parameters",
            f"forward FLOPs per character: {by_hand['forward']:,} by hand, {per_token:,.0f} counted by PyTorch",
            f"one training step counted: backward / forward = {counted['backward'] / counted['forward']:.2f}",
            f"share of the forward pass in the blocks' weight matrices: {weights_share:.0%}",
        ]
    )


def where_measured(record: dict, path: Path = language.LM_CHECKPOINT) -> str:
    """Where and when the pretraining record was measured, as a phrase: not here, unless you ran make pretrain-lm."""
    machine, shown = record["machine"], path.with_suffix(".json").resolve()
    shown = shown.relative_to(REPO_DIR) if shown.is_relative_to(REPO_DIR) else shown
    return (
        f"on {machine['cpu_count']} cores ({machine['processor']} {machine['system'].split()[0]}, torch "
        f"{machine['torch']}) on {record['date']}, when make pretrain-lm built the shipped checkpoint (its record: "
        f"{shown.as_posix()})"
    )


def pretraining_record(record: dict) -> str:
    """The printed record of the pretraining: steps, characters seen, seconds (where measured), speed, and the
    held-out loss (with its perplexity) at each step it was measured."""
    recipe = record["recipe"]
    lines = [
        f"{recipe['steps']} steps of {recipe['batch_size']} windows: {record['characters_seen']:,} characters seen",
        f"training took {record['train_seconds']:.0f} s {where_measured(record)}",
        f"{record['achieved_gflops']:.0f} GFLOP/s achieved, {record['fraction_of_matmul']:.0%} of the "
        f"{record['matmul_gflops']:.0f} GFLOP/s that machine's float32 matmul reached in the same run",
    ]
    lines += [
        f"  after {int(step):>4} steps: held-out loss {loss:.3f} (perplexity {gpt.perplexity(loss):.2f})"
        for step, loss in record["held_out_loss_by_step"].items()
    ]
    return "\n".join(lines)


def pretraining_result(record: dict) -> Markdown:
    """What pretraining reached: the first training loss against the uniform guess, the final held-out loss
    and its perplexity, beside nanoGPT's published figure for the same shape (on another text)."""
    return Markdown(
        f"After {language.LOG_EVERY} steps the training loss was {record['first_train_loss']:.2f}, already below "
        f"the uniform "
        f"{math.log(text.VOCAB_SIZE):.2f}; after {record['recipe']['steps']} steps the held-out loss was "
        f"{record['held_out_loss']:.2f} nats per character, as unsure as choosing among "
        f"{record['held_out_perplexity']:.1f} equally likely characters. For scale, nanoGPT's README reports its "
        "small CPU configuration (the same shape) at about 1.88 on a different text, tiny Shakespeare, after about "
        "3 minutes on a laptop CPU; losses on different texts are not directly comparable."
    )


# --- section 4: a new style ------------------------------------------------------------------------------------


def reference_points(austen_loss: float, pretrained_on_macbeth: float, unigram: float) -> str:
    """The printed reference losses on Macbeth (the pretrained model on Austen and on Macbeth, a uniform guess,
    character frequencies), and which end the pretrained model is nearer on Macbeth."""
    uniform = math.log(text.VOCAB_SIZE)
    closer_to_austen = pretrained_on_macbeth - austen_loss < uniform - pretrained_on_macbeth
    nearer = "its loss on Austen" if closer_to_austen else "the uniform guess"
    return "\n".join(
        [
            f"pretrained on Austen's held-out text: {austen_loss:.3f} nats per character",
            f"pretrained on Macbeth's held-out text: {pretrained_on_macbeth:.3f}",
            f"a uniform guess:                      {uniform:.3f}",
            f"character frequencies of the first 1,000 characters only: {unigram:.3f}",
            f"on Macbeth, before any fine-tuning, the Austen model is nearer {nearer}",
        ]
    )


def live_against_sweep(sweep_row: pd.Series, steps: int, live_loss: float) -> str:
    """The printed check of the live fine-tuning against the sweep's run of the same recipe and seed; in smoke
    mode (fewer steps than the recipe) a line saying there is nothing to compare."""
    if steps != sweep_row.steps:
        return f"smoke mode: {steps} steps instead of the recipe's {sweep_row.steps}, so no comparison with the sweep"
    return (
        f"the sweep's run with this recipe and seed: held-out loss {sweep_row.score:.4f}\n"
        f"this run:                                  held-out loss {live_loss:.4f}"
    )


def score_grid(found: ls.LanguageResults, task: str) -> pd.DataFrame:
    """Budgets down, approaches across: 'mean [min, max]' (loss in nats per character, or accuracy in %)."""
    table = ls.summary(found, task)
    scale, fmt = (1, "{:.2f}") if task == "generative" else (100, "{:.1f}")
    table["cell"] = [
        f"{fmt.format(scale * r.score)} [{fmt.format(scale * r.low)}, {fmt.format(scale * r.high)}]"
        for r in table.itertuples()
    ]
    grid = table.pivot(index="budget", columns="approach", values="cell")
    order = ls.GENERATIVE_APPROACHES if task == "generative" else ls.CLASSIFICATION_APPROACHES
    grid = grid[[a for a in order if a in grid.columns]]
    grid.index.name = "characters of Macbeth" if task == "generative" else "labels per class"
    grid.columns.name = None
    return grid


def paired_table(*tables: pd.DataFrame) -> pd.DataFrame:
    """Comparisons (language_study.comparisons, one task) for reading: 'a minus b', budget, mean difference
    (nats to 3 decimals, or points to 1), its 95% interval, seeds won and the verdict."""
    table = pd.concat(tables, ignore_index=True)
    task = table.task.iloc[0]
    unit, scale, decimals = DIFFERENCE_UNITS[task]
    return pd.DataFrame(
        {
            "approach": [f"{a} minus {b}" for a, b in zip(table.approach, table.baseline)],
            BUDGET_NAMES[task]: table.budget,
            f"difference ({unit})": [round(scale * d, decimals) for d in table.difference],
            "95% interval": [
                f"[{scale * low:+.{decimals}f}, {scale * high:+.{decimals}f}]"
                for low, high in zip(table.low, table.high)
            ],
            "seeds won": [f"{won}/{seeds}" for won, seeds in zip(table.won, table.seeds)],
            "verdict": table.verdict,
        }
    )


def budgets_where(table: pd.DataFrame, approach: str, verdict: str, unit: str = "") -> str:
    """The budgets at which `approach` (in a comparisons table) is resolved `verdict`: '5, 10 labels per class',
    or 'no budget'."""
    hits = [f"{budget:,}" for budget in table[(table.approach == approach) & (table.verdict == verdict)].budget]
    if not hits:
        return "no budget"
    return ", ".join(hits) + (f" {unit}" if unit else "")


def labels_where(table: pd.DataFrame, approach: str, verdict: str) -> str:
    """budgets_where in labels per class, for the authorship task: '5, 10 labels per class', '1 label per class'
    or 'no budget'."""
    budgets = budgets_where(table, approach, verdict)
    if budgets == "no budget":
        return budgets
    return budgets + (" label per class" if budgets == "1" else " labels per class")


def generative_scores(found: ls.LanguageResults) -> pd.DataFrame:
    """Mean held-out loss, characters of Macbeth down, approaches across."""
    return ls.summary(found, "generative").pivot(index="budget", columns="approach", values="score")


def generative_lesson(found: ls.LanguageResults, pretrained_on_macbeth: float, unigram: float) -> Markdown:
    """Section 4 read from the sweep: where full fine-tuning beat from scratch, by how much at each size, where
    from scratch starts against the reference points, the last block against full fine-tuning, and whether any
    fine-tuning at the smallest size ended worse than the pretrained model left alone."""
    scores = generative_scores(found)
    against_scratch = ls.comparisons(found, "generative", "from scratch", ("full fine-tuning",))
    full_vs_last = ls.comparisons(found, "generative", "full fine-tuning", ("last block",))
    differences = scores["full fine-tuning"] - scores["from scratch"]
    listed = ", ".join(f"{d:+.2f} at {size:,}" for size, d in differences.items())
    steady = "shrinks steadily" if differences.abs().is_monotonic_decreasing else "does not shrink steadily"
    smallest = int(scores.index.min())
    scratch = scores.loc[smallest, "from scratch"]
    lines = [
        f"- Full fine-tuning is better than from scratch (interval below zero) at "
        f"{budgets_where(against_scratch, 'full fine-tuning', 'better', 'characters')}, and worse at "
        f"{budgets_where(against_scratch, 'full fine-tuning', 'worse', 'characters')}.",
        f"- Full fine-tuning minus from scratch, mean loss in nats: {listed}; the advantage {steady} as the "
        "target grows.",
        f"- From scratch at {smallest:,} characters scored {scratch:.2f}: {unigram - scratch:.2f} nats better than "
        f"character frequencies alone ({unigram:.2f}), {scratch - pretrained_on_macbeth:.2f} worse than the "
        "pretrained model before any fine-tuning.",
        f"- The last block alone, against full fine-tuning: better at "
        f"{budgets_where(full_vs_last, 'last block', 'better', 'characters')}; worse at "
        f"{budgets_where(full_vs_last, 'last block', 'worse', 'characters')}; elsewhere unresolved.",
        fine_tuning_at_the_smallest_size(found, scores, pretrained_on_macbeth),
    ]
    return Markdown("\n".join(lines))


def fine_tuning_at_the_smallest_size(found: ls.LanguageResults, scores: pd.DataFrame, untouched: float) -> str:
    """A bullet: the fine-tunings that ended above the untouched pretrained model's loss at the smallest size
    (with the steps the development texts chose), or that every one ended below it."""
    smallest = int(scores.index.min())
    above = [a for a in ls.GENERATIVE_APPROACHES[1:] if scores.loc[smallest, a] > untouched]
    if not above:
        return f"- At {smallest:,} characters every fine-tuning ended below the pretrained model left alone."
    which = " and ".join(f"{a} ({scores.loc[smallest, a]:.2f})" for a in above)
    steps = found.recipes["generative", above[0], smallest][1]
    return (
        f"- **Fine-tuning can make things worse.** At {smallest:,} characters, {which} ended above the pretrained "
        f"model left alone ({untouched:.2f}), although the development texts chose "
        f"{steps} steps{', the fewest in the grid' if steps == min(ls.GENERATIVE_STEPS) else ''}."
    )


# --- section 5: who wrote this ---------------------------------------------------------------------------------


def paired_rows(table: pd.DataFrame) -> list[dict]:
    """A comparisons table as the rows viz.plot_paired_differences draws, each labelled 'a minus b, k/class'."""
    return [
        {
            "differences": r.differences,
            "mean": r.difference,
            "low": r.low,
            "high": r.high,
            "label": f"{r.approach} minus {r.baseline}, {r.budget}/class",
        }
        for r in table.itertuples()
    ]


def classification_lesson(found: ls.LanguageResults) -> Markdown:
    """Section 5 read seed by seed: the budgets where full fine-tuning is ahead of or behind from scratch, and
    where full fine-tuning and frozen features are ahead of or behind the n-grams."""
    scratch, ngrams = classification_comparisons(found)
    return Markdown(
        f"- **Against from scratch**, full fine-tuning is ahead (interval above zero) at "
        f"{labels_where(scratch, 'full fine-tuning', 'better')}; behind at "
        f"{labels_where(scratch, 'full fine-tuning', 'worse')}.\n"
        f"- **Against the n-grams**, full fine-tuning is ahead at "
        f"{labels_where(ngrams, 'full fine-tuning', 'better')}; behind at "
        f"{labels_where(ngrams, 'full fine-tuning', 'worse')}. Frozen features are ahead at "
        f"{labels_where(ngrams, 'frozen features', 'better')}; behind at "
        f"{labels_where(ngrams, 'frozen features', 'worse')}.\n"
        f"- At the budgets not named, the interval includes zero: with {len(ls.CLASSIFICATION_SEEDS)} seeds, "
        "not resolved."
    )


def classification_comparisons(found: ls.LanguageResults) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Full fine-tuning and frozen features against from scratch, and against the n-grams."""
    pretrained = ("full fine-tuning", "frozen features")
    return (
        ls.comparisons(found, "classification", "from scratch", pretrained),
        ls.comparisons(found, "classification", "n-grams", pretrained),
    )


# --- section 6: LoRA -------------------------------------------------------------------------------------------


def live_costs(live_table: pd.DataFrame) -> pd.DataFrame:
    """The live runs' table for reading: parameters with commas, FLOPs to 3 figures, seconds, accuracies in %."""
    return results.formatted(
        live_table,
        {
            "trainable parameters": "{:,}",
            "FLOPs per step": "{:.3g}",
            "seconds (live)": "{:.1f}",
            "seconds per step": "{:.3f}",
            "test accuracy (live, seed 0)": "{:.1%}",
            "the sweep's seed 0": "{:.1%}",
        },
    )


def lora_lesson(found: ls.LanguageResults, live_table: pd.DataFrame) -> Markdown:
    """LoRA against full fine-tuning: its share of trainable parameters, FLOPs and seconds per step (live),
    steps per task, and the budgets where the sweep's seeds put it ahead or behind."""
    full, lora = live_table.loc["full fine-tuning"], live_table.loc["LoRA"]
    lora_vs_full = ls.comparisons(found, "classification", "full fine-tuning", ("LoRA",))
    return Markdown(
        f"- LoRA trains {int(lora['trainable parameters']):,} parameters, "
        f"{lora['trainable parameters'] / full['trainable parameters']:.1%} of full fine-tuning's "
        f"{int(full['trainable parameters']):,}.\n"
        f"- A step costs {1 - lora['FLOPs per step'] / full['FLOPs per step']:.0%} fewer FLOPs than full "
        f"fine-tuning's ({lora['seconds per step']:.3f} s against {full['seconds per step']:.3f} s here), far "
        "less than the share of parameters: the whole model still runs forward, and backward through every layer "
        "to reach the low-rank updates; only the gradients of the frozen weights are skipped.\n"
        f"- Per task, LoRA's recipe ran {int(lora['steps'])} steps and full fine-tuning's {int(full['steps'])}: the "
        "step counts, chosen on the development pair, move the cost as much as the method.\n"
        f"- Accuracy, LoRA minus full fine-tuning over the sweep's seeds: better at "
        f"{labels_where(lora_vs_full, 'LoRA', 'better')}; worse at "
        f"{labels_where(lora_vs_full, 'LoRA', 'worse')}; elsewhere the interval includes zero."
    )


BYTES_PER_WEIGHT = 4  # float32


def optimizer_memory(parameters: int, live_table: pd.DataFrame, state_bytes: int) -> str:
    """The printed memory of this model: its weights, and gradients + Adam state for full fine-tuning and LoRA
    (`state_bytes` per trainable parameter)."""
    full = int(live_table.loc["full fine-tuning", "trainable parameters"])
    lora = int(live_table.loc["LoRA", "trainable parameters"])
    return (
        f"this model: {parameters * BYTES_PER_WEIGHT / 1e6:.1f} MB of weights; gradients + Adam state "
        f"{full * state_bytes / 1e6:.1f} MB for full fine-tuning, {lora * state_bytes / 1e6:.2f} MB for LoRA"
    )


def optimizer_memory_at_scale(weights: float, lora_weights: int, state_bytes: int) -> str:
    """The same for a large model of `weights` parameters, with `lora_weights` LoRA parameters, in GB."""
    return (
        f"a {weights / 1e9:.0f}B model: {weights * BYTES_PER_WEIGHT / 1e9:.0f} GB of weights; gradients + Adam "
        f"state {weights * state_bytes / 1e9:.0f} GB for full fine-tuning, {lora_weights * state_bytes / 1e9:.2f} "
        f"GB for LoRA's {lora_weights:,} parameters ({lora_weights / weights:.2%} of the model)"
    )


# --- section 7: what pretraining costs -------------------------------------------------------------------------


def ledger_table(found: ls.LanguageResults, cases: list[tuple[str, int, str]], spread_over: int = 10) -> pd.DataFrame:
    """One row per (task, budget, approach): FLOPs per task against from scratch, the pretraining paid once and
    spread over `spread_over` tasks, and the break-even number of tasks ('never' if fine-tuning saves nothing)."""
    rows = []
    for task, budget, approach in cases:
        table = ls.ledger(found, task, budget, approach, amortise_over=spread_over).set_index("approach")
        tasks = ls.break_even(found, task, budget, approach)
        rows.append(
            {
                "task": f"{task}, {budget:,} {BUDGET_NAMES[task]}",
                "approach": approach,
                "FLOPs per task": table.loc[approach, "flops_per_task"],
                "from scratch FLOPs per task": table.loc["from scratch", "flops_per_task"],
                "pretraining FLOPs (once)": table.loc[approach, "pretraining_flops"],
                f"per task, pretraining spread over {spread_over} tasks": table.loc[approach, "amortised_flops"],
                "break-even tasks": "never" if tasks == float("inf") else f"{tasks:.0f}",
            }
        )
    table = pd.DataFrame(rows)
    return results.formatted(table, {c: "{:.3g}" for c in table.columns if "FLOPs" in c or "per task" in c})


def pretraining_cost_note(record: dict, live_fine_tuning_flops: float) -> Markdown:
    """Pretraining's FLOPs and recorded seconds against one live fine-tuning, and how to read the ledger."""
    return Markdown(
        f"Pretraining cost {record['train_flops']:.3g} FLOPs, about "
        f"{record['train_flops'] / live_fine_tuning_flops:.0f} times the live full fine-tuning of section 6; it "
        f"took {record['train_seconds']:.0f} s of training {where_measured(record)}. The break-even column says "
        "after how many tasks pretraining once plus fine-tuning each costs fewer FLOPs than training each from "
        "scratch; 'never' means fine-tuning a task costs no less than training it from scratch at the chosen "
        "recipes, so pretraining buys quality, not compute. In practice nobody pays for the pretraining of a large "
        "model per task: it is done once, by someone else, and shared, which is the amortisation of 05 taken to "
        "its limit."
    )


# --- section 9: the summary ------------------------------------------------------------------------------------


def summary(
    found: ls.LanguageResults, record: dict, parameters: int, pretrained_on_macbeth: float, live_table: pd.DataFrame
) -> Markdown:
    """07's summary: the pretraining, then the one result of each section, each from its verdicts or numbers."""
    scores = generative_scores(found)
    gaps = scores["from scratch"] - scores["full fine-tuning"]
    against_scratch = ls.comparisons(found, "generative", "from scratch", ("full fine-tuning",))
    scratch, ngrams = classification_comparisons(found)
    lora_vs_full = ls.comparisons(found, "classification", "full fine-tuning", ("LoRA",))
    full, lora = live_table.loc["full fine-tuning"], live_table.loc["LoRA"]
    lines = [
        f"- **Pretraining** ({record['config']['layers']} blocks, {parameters:,} parameters) took "
        f"{record['train_seconds']:.0f} s {where_measured(record)} and brought the held-out loss on Austen to "
        f"{record['held_out_loss']:.2f} nats per character (uniform guess: {math.log(text.VOCAB_SIZE):.2f}).",
        f"- **A new style.** Before fine-tuning, the Austen model scored {pretrained_on_macbeth:.2f} on Macbeth. "
        f"Full fine-tuning beat from scratch (interval below zero) at "
        f"{budgets_where(against_scratch, 'full fine-tuning', 'better', 'characters')}, by "
        f"{gaps.min():.2f} to {gaps.max():.2f} nats in the mean.",
        f"- **Classification.** Full fine-tuning was ahead of from scratch at "
        f"{labels_where(scratch, 'full fine-tuning', 'better')}. Against the n-grams it was ahead at "
        f"{labels_where(ngrams, 'full fine-tuning', 'better')} and behind at "
        f"{labels_where(ngrams, 'full fine-tuning', 'worse')}. Frozen features (03's linear probe) were behind the "
        f"n-grams at {labels_where(ngrams, 'frozen features', 'worse')}.",
        f"- **LoRA** trained {lora['trainable parameters'] / full['trainable parameters']:.1%} of the parameters for "
        f"{1 - lora['FLOPs per step'] / full['FLOPs per step']:.0%} fewer FLOPs per step; against full fine-tuning "
        f"it was worse at {labels_where(lora_vs_full, 'LoRA', 'worse')} and better at "
        f"{labels_where(lora_vs_full, 'LoRA', 'better')}.",
        "- The same lessons as the image notebooks: reuse what a big source taught (03, 04), choose without peeking "
        "at the test set (02, 05), compare with a simple baseline that had a fair chance, and read each difference "
        "seed by seed with its interval (05, 06). A language model is not the best tool for every text task: where "
        "the n-grams win above, use them.",
        f"- **Scale.** This GPT read {record['characters_seen']:,} characters of two novels; section 8 set that "
        "against a small released model's pretraining. Notebook 08 puts that model on this authorship task under "
        "the same protocol and measures what the difference in scale buys.",
    ]
    return Markdown("\n".join(lines))
