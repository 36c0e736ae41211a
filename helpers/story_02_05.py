"""Notebooks 02 to 05's sentences: every statement of a result, computed from the results it states.

A notebook cell that states results is one call here, e.g. `story_02_05.summary_02(chosen, ledger)`; the numbers
come from helpers.results (the shipped sweep's tables, the paired comparisons) or from what the notebook ran live
(a cost.Ledger, a race of learning curves), and formatting happens only in the story modules and helpers.viz.
`python -m helpers.results report` stays plain text in helpers.results: nothing below story modules imports one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd
from IPython.display import Markdown

from helpers import cost, results, trials
from helpers.story import budget_phrase

# --- the pieces: a budget, one paired comparison, a verdict over several -----------------------------------


def difference_sentence(chosen: pd.DataFrame, approach: str, baseline: str, labels_per_class: int) -> str:
    """A sentence stating a paired comparison, computed: mean difference, its 95% interval, seeds won, verdict."""
    p = results.paired(chosen, approach, baseline, labels_per_class)
    n = len(p["seeds"])
    if math.isnan(p["low"]):
        verdict = "one seed only, so no interval"
    elif p["low"] > 0:
        verdict = "ahead: the interval lies above zero"
    elif p["high"] < 0:
        verdict = "behind: the interval lies below zero"
    else:
        verdict = "not distinguishable: the interval includes zero"
    return (
        f"{approach} minus {baseline} with {budget_phrase(labels_per_class)}: "
        f"{100 * p['mean']:+.1f} points (95% interval {100 * p['low']:+.1f} to {100 * p['high']:+.1f}), "
        f"ahead in {p['won']} of {n} seeds; {verdict}"
    )


def paired_verdict(chosen: pd.DataFrame, approaches: Sequence[str], baseline: str, labels_per_class: int) -> str:
    """One or more sentences: which approaches the seeds put ahead of `baseline`, which behind, which neither."""
    found = {approach: results.paired(chosen, approach, baseline, labels_per_class) for approach in approaches}
    if all(math.isnan(p["low"]) for p in found.values()):
        return "With one seed there is no interval, so no verdict."
    ahead = [a for a, p in found.items() if p["low"] > 0]
    behind = [a for a, p in found.items() if p["high"] < 0]
    unresolved = [a for a in approaches if a not in ahead + behind]
    counts = {len(p["seeds"]) for p in found.values()}
    seeds = f"these {counts.pop()} seeds" if len(counts) == 1 else "their seeds"
    apart_from = "training from scratch" if baseline == "from scratch" else baseline  # not "apart from from scratch"
    verdict = [
        f"Ahead of {baseline} (interval above zero): {', '.join(ahead)}."
        if ahead
        else f"No interval lies above zero: none of {', '.join(approaches)} is shown to beat {baseline} here.",
        f"Behind {baseline} (interval below zero): {', '.join(behind)}." if behind else "",
        f"Not told apart from {apart_from} by {seeds}: {', '.join(unresolved)}." if unresolved else "",
    ]
    return " ".join(filter(None, verdict))


def differences(chosen: pd.DataFrame, approach: str, baseline: str) -> Markdown:
    """A bullet per label budget: approach minus baseline, seed by seed (difference_sentence)."""
    return Markdown(
        "\n".join("- " + difference_sentence(chosen, approach, baseline, n) + "." for n in trials.LABELS_PER_CLASS)
    )


def paired_comparison(
    chosen: pd.DataFrame, approaches: Sequence[str], baseline: str, labels_per_class: int
) -> Markdown:
    """Each approach minus `baseline` at one budget, a bullet each (difference_sentence), then the verdict."""
    lines = [f"- {difference_sentence(chosen, approach, baseline, labels_per_class)}." for approach in approaches]
    return Markdown("\n".join([*lines, "", paired_verdict(chosen, approaches, baseline, labels_per_class)]))


# --- 02: a new task from scratch --------------------------------------------------------------------------


def rerun_verdict(cached: float, live: float, num_test: int, smoke: bool = False) -> Markdown:
    """Whether a live run reproduced a cached trial's test accuracy, and if not, by how many test digits."""
    if smoke:
        return Markdown("Smoke run: fewer steps than the cached trial, so the two are not compared.")
    if live == cached:
        return Markdown("**Identical**: on this machine the live run reproduces the cached trial exactly.")
    digits = round(abs(live - cached) * num_test)
    return Markdown(
        f"**They differ** by {100 * abs(live - cached):.2f} points, {digits} of the {num_test} test digits: "
        "the same trial, its sums rounded differently here than on the machine that built the cache (another "
        "processor, device or library version can do that)."
    )


def climb_sentence(chosen: pd.DataFrame) -> str:
    """A bullet: the from-scratch CNN's mean test accuracy at 1 and 5 labels per class and on the whole pool, and
    the points each added label per class bought on the way (1 to 5, then 5 to the pool's average per class)."""
    rows = chosen[chosen.approach == "from scratch"]
    mean = rows.groupby("labels_per_class").test_acc.mean()
    per_class = rows[rows.labels_per_class == trials.ALL].train_images.iloc[0] / 10  # the pool's digits per class
    early = 100 * (mean[5] - mean[1]) / 4
    late = 100 * (mean[trials.ALL] - mean[5]) / (per_class - 5)
    shape = "the first labels buy the most" if early > late else "later labels buy as much as the first"
    return (
        f"- The CNN trained from scratch averages {mean[1]:.1%} at 1 label per class, {mean[5]:.1%} at 5 and "
        f"{mean[trials.ALL]:.1%} with the whole pool (about {per_class:.0f} per class): {early:.1f} points per added "
        f"label per class from 1 to 5, {late:.2f} after that; {shape}."
    )


def summary_02(chosen: pd.DataFrame, ledger: cost.Ledger) -> Markdown:
    """02's summary: the CNN minus logistic regression at one label per class and on the whole pool (paired,
    from the sweep), and the live runs' FLOPs ratio (the ledger's first run, the CNN, over its second)."""
    one = results.paired(chosen, "from scratch", "logistic regression", 1)
    whole = results.paired(chosen, "from scratch", "logistic regression", trials.ALL)
    flops_ratio = ledger.runs[0].train_flops / ledger.runs[1].train_flops
    return Markdown(
        "\n".join(
            [
                "- The digits task has a fixed **train pool / validation / test** split. No setting is chosen on the "
                "validation digits; test accuracy is reported as a mean over seeds with a 95% interval.",
                f"- With **one label per class**, the from-scratch CNN minus logistic regression on pixels is "
                f"{100 * one['mean']:+.1f} points (95% interval {100 * one['low']:+.1f} to "
                f"{100 * one['high']:+.1f}); with the whole pool, {100 * whole['mean']:+.1f} points "
                f"({100 * whole['low']:+.1f} to {100 * whole['high']:+.1f}).",
                f"- In the live runs the CNN used {flops_ratio:,.0f} times the FLOPs of logistic regression.",
                climb_sentence(chosen),
                "- Notebook 03 asks whether the letter model's features, learned without a single digit, do better "
                "with the same ten images.",
            ]
        )
    )


# --- 03: reuse the features -------------------------------------------------------------------------------


def _ranked(scores: dict[str, tuple[float, float]]) -> list[str]:
    """Feature types by one-shot nearest-neighbour accuracy, best first (scores: name -> (silhouette, accuracy))."""
    return sorted(scores, key=lambda name: scores[name][1], reverse=True)


def feature_ranking(scores: dict[str, tuple[float, float]]) -> Markdown:
    """A numbered list of the feature types, best one-shot nearest neighbour first, with their silhouettes."""
    return Markdown(
        "\n".join(
            f"{rank}. **{name}**: one-shot nearest neighbour {scores[name][1]:.1%}, silhouette {scores[name][0]:.2f}"
            for rank, name in enumerate(_ranked(scores), 1)
        )
    )


def summary_03(
    scores: dict[str, tuple[float, float]],
    frozen_trainable: int,
    summary: pd.DataFrame,
    chosen: pd.DataFrame,
    labels_per_class: int,
) -> Markdown:
    """03's summary: the one-shot scores of the three feature types, the frozen model's trainable parameters,
    the probe's FLOPs and accuracy against from scratch at one budget, and the budgets where the probe leads."""
    at_budget = summary[summary.labels_per_class == labels_per_class].set_index("approach")
    probe, scratch = at_budget.loc["linear probe"], at_budget.loc["from scratch"]
    lead = [n for n in trials.LABELS_PER_CLASS if results.paired(chosen, "linear probe", "from scratch", n)["low"] > 0]
    return Markdown(
        "\n".join(
            [
                f"- A backbone pretrained on **letters** never saw a digit; by one-shot nearest neighbour its features "
                f"score {scores['pretrained letter backbone'][1]:.1%}, against {scores['raw pixels'][1]:.1%} for raw "
                f"pixels and {scores['untrained backbone'][1]:.1%} for an untrained backbone. Best of the three "
                f"here: the {_ranked(scores)[0]}.",
                f"- **Freezing** leaves {frozen_trainable:,} trainable parameters; the backward pass shrinks to the "
                "head's weight gradient, and a linear probe needs a single forward pass over the training images.",
                f"- At {budget_phrase(labels_per_class)} the probe used "
                f"{probe.train_flops / scratch.train_flops:.2%} of the from-scratch CNN's training FLOPs, for "
                f"{100 * (probe.accuracy - scratch.accuracy):+.1f} points of mean test accuracy.",
                "- The probe is ahead of from scratch (paired interval above zero) with "
                + (", ".join(budget_phrase(n) for n in lead) or "no budget")
                + ". Notebook 04 unfreezes the backbone: fine-tuning.",
            ]
        )
    )


# --- 04: fine-tuning --------------------------------------------------------------------------------------


def race_sentence(race: pd.DataFrame, curve_labels: int, target: float) -> Markdown:
    """The cached race to `target` validation accuracy (race: steps, seeds down, approaches across, NaN for never):
    median steps with a never-reached seed as the slowest, seeds that got there, and who got there first."""
    both = race.dropna()
    never_is_slowest = race.fillna(float("inf"))
    faster = int((both["fine-tune"] < both["from scratch"]).sum())
    return Markdown(
        f"Over {len(race)} cached seeds at {curve_labels} labels per class, fine-tuning reached {target:.0%} "
        f"validation accuracy in a median of {never_is_slowest['fine-tune'].median():.0f} steps, from scratch in "
        f"{never_is_slowest['from scratch'].median():.0f} (reached in {race['fine-tune'].notna().sum()} and "
        f"{race['from scratch'].notna().sum()} of {len(race)} seeds); fine-tuning got there first in {faster} of "
        f"the {len(both)} seeds where both did. Notebook 05 turns this into FLOPs at every budget, with the "
        "pretraining in the bill. (The cache records the curve at steps 10, 20, 30, 50, 75, 100, 150, 200, 300 and "
        "400, coarser than the live run above, so a step count is rounded up to the next of those; a run that "
        "touches the target and dips again still counts as having reached it.)"
    )


def strategy_flops_note(runs: pd.DataFrame, labels_per_class: int) -> Markdown:
    """Why 04's strategy table shows FLOPs and not seconds, with gradual unfreezing's share of fine-tuning's FLOPs."""
    at = runs[runs.labels_per_class == labels_per_class]
    flops = at.groupby("approach").train_flops.mean()
    share = flops["gradual unfreezing"] / flops["fine-tune"]
    return Markdown(
        f"The FLOPs column is counted, not timed. Gradual unfreezing spends {share:.0%} of fine-tuning's: in its "
        "first stages the backward pass stops at the lowest block that trains. Seconds are left out: the sweep ran "
        "two runs at a time on a machine other work was sharing, so a run's seconds depend on what ran beside it "
        "as much as on the method. Timed back to back on one thread "
        "(`benchmarks/bench_strategies.py`), from scratch, fine-tuning and discriminative rates take the same time "
        "per step, and gradual unfreezing less, in step with its FLOPs."
    )


def summary_04(
    race_rows: list[dict],
    race: pd.DataFrame,
    strategy_runs: pd.DataFrame,
    approaches: Sequence[str],
    tricks: Sequence[str],
    labels_per_class: int,
    curve_labels: int,
    target: float,
) -> Markdown:
    """04's summary: the live race's steps to `target` (race_rows), the cached race's medians, and the paired
    verdicts of `approaches` against from scratch and of `tricks` against fine-tuning at `labels_per_class`."""
    live = {row["approach"]: row[f"steps to {target:.0%}"] for row in race_rows}
    never_is_slowest = race.fillna(float("inf"))
    return Markdown(
        "\n".join(
            [
                f"- **Fine-tuning** starts from pretrained weights and trains everything. In the live race at "
                f"{curve_labels} labels per class it reached {target:.0%} validation accuracy at step "
                f"{live['fine-tune']} against {live['from scratch']} for from scratch; over {len(race)} cached "
                f"seeds, in a median of {never_is_slowest['fine-tune'].median():.0f} steps against "
                f"{never_is_slowest['from scratch'].median():.0f}.",
                "- **Discriminative learning rates**, **gradual unfreezing** and **LP-FT** are meant to protect the "
                "pretrained features from a random new head; the first two reuse fine-tuning's recipe rate rather "
                f"than one tuned for them. Each is compared seed by seed at {labels_per_class} labels per class. "
                + paired_verdict(strategy_runs, approaches, "from scratch", labels_per_class)
                + " "
                + paired_verdict(strategy_runs, tricks, "fine-tune", labels_per_class),
                "- A frozen layer is only frozen if its **BatchNorm statistics** are frozen too: keep frozen "
                "BatchNorm layers in eval mode.",
                "- Notebook 05 puts all approaches side by side across label budgets, seeds and compute.",
            ]
        )
    )


# --- 05: side by side -------------------------------------------------------------------------------------


def headline_differences(shipped: dict[str, pd.DataFrame], chosen: pd.DataFrame) -> Markdown:
    """At each headline budget, the transfer approach chosen on the development pairing minus from scratch, and
    (nested) minus logistic regression."""
    lines = []
    for n in trials.HEADLINE_LABELS:
        best = results.dev_best_transfer(shipped, n)
        lines.append("- " + difference_sentence(chosen, best, "from scratch", n) + ".")
        lines.append("  - " + difference_sentence(chosen, best, "logistic regression", n) + ".")
    return Markdown("\n".join(lines))


def catch_up(chosen: pd.DataFrame) -> Markdown:
    """The first budget at which fine-tuning's lead over from scratch is no longer told apart from zero."""
    n, p = results.first_tie(chosen, "fine-tune")
    if n is None:
        return Markdown("Fine-tuning stays ahead of from scratch at every budget here.")
    return Markdown(
        f"From **{budget_phrase(n)}** on, fine-tuning's lead over from scratch is no longer "
        f"distinguishable from zero ({100 * p['mean']:+.1f} points, 95% interval {100 * p['low']:+.1f} to "
        f"{100 * p['high']:+.1f}): the digits themselves now hold enough to learn good features for this small "
        "network."
    )


def _bracket(low: float, high: float) -> str:
    """'[+1.2, +3.4]': a 95% interval (fractions) in points, as the paired tables show it."""
    return f"[{100 * low:+.1f}, {100 * high:+.1f}]"


def paired_table_text(table: pd.DataFrame) -> pd.DataFrame:
    """results.paired_table as the notebooks show it: labels per class, approach, difference (points),
    95% interval and seeds won, one row per comparison."""
    return pd.DataFrame(
        {
            "labels per class": [trials.label_text(n) for n in table.labels_per_class],
            "approach": list(table.approach),
            "difference (points)": [round(100 * m, 1) for m in table["mean"]],
            "95% interval": [_bracket(lo, hi) for lo, hi in zip(table.low, table.high)],
            "seeds won": [f"{w}/{n}" for w, n in zip(table.won, table.seeds)],
        }
    )


def contrast_table_text(table: pd.DataFrame) -> pd.DataFrame:
    """results.contrast_table as notebook 05 shows it: test accuracy (%) with the budget-true recipe and with the
    setting chosen on 200 validation digits, the difference (points) and its 95% interval."""
    return pd.DataFrame(
        {
            "labels per class": list(table.labels_per_class),
            "approach": list(table.approach),
            "budget-true (%)": [round(100 * a, 1) for a in table.budget_true],
            "200 validation digits (%)": [round(100 * a, 1) for a in table.validation_tuned],
            "difference (points)": [round(100 * m, 1) for m in table["mean"]],
            "95% interval": [_bracket(lo, hi) for lo, hi in zip(table.low, table.high)],
        }
    )


def _contrast_spread(contrast: pd.DataFrame) -> tuple[pd.Series, int]:
    """results.contrast_table's differences (points, one decimal as shown), and how many of its intervals exclude
    zero (a verdict other than 'unresolved')."""
    gains = pd.Series([round(100 * m, 1) for m in contrast["mean"]], index=contrast.index, dtype=float)
    return gains, int((contrast.verdict != "unresolved").sum())


def contrast_verdict(contrast: pd.DataFrame) -> Markdown:
    """What tuning on 200 spare digits changed (results.contrast_table): the range and median of the differences,
    and how many intervals exclude zero."""
    gains, clear = _contrast_spread(contrast)
    return Markdown(
        f"Over these {len(trials.CONTRAST_SEEDS)} seeds, tuning on 200 spare digits changes the mean test accuracy by "
        f"{gains.min():+.1f} to {gains.max():+.1f} points across approaches and budgets (median "
        f"{gains.median():+.1f}); {clear} of the {len(contrast)} intervals exclude zero. "
        + (
            "Here, then, the spare labels buy nothing measurable: the development pairing chose settings as well as "
            "200 labelled digits would have. "
            if clear == 0
            else "Where an interval excludes zero, the spare labels changed the result measurably. "
        )
        + "Those 200 digits are 20 per class: more labels than a learner at 1 to 5 labels per class has."
    )


def break_even_verdicts(break_even: pd.DataFrame, chosen: pd.DataFrame) -> Markdown:
    """results.break_even_table read out, a bullet per budget: stopping at the target, and with full runs."""
    verdicts = [
        f"- {budget_phrase(n)} ({row['transfer approach (chosen on dev)']}): stopping at the target, "
        f"{row['break-even, stopping at the target']}; with full runs, {row['break-even, full runs']}"
        for n, (_, row) in zip(results.budgets(chosen), break_even.iterrows())
    ]
    return Markdown("Computed from the table above:\n\n" + "\n".join(verdicts))


def summary_05(shipped: dict[str, pd.DataFrame], chosen: pd.DataFrame, contrast: pd.DataFrame) -> Markdown:
    """05's summary: the chosen transfer approach against from scratch at 1 and 2 labels per class, where from
    scratch catches up, and what tuning on 200 spare digits changed."""
    best1, best2 = results.dev_best_transfer(shipped, 1), results.dev_best_transfer(shipped, 2)
    tie, _ = results.first_tie(chosen, "fine-tune")
    gains, clear = _contrast_spread(contrast)
    bullets = [
        "- Settings are **budget-true**: tuned on Fashion-MNIST, frozen, then used on the digits.",
        "- The transfer approach chosen on the development pairing, against from scratch: "
        + difference_sentence(chosen, best1, "from scratch", 1)
        + "; "
        + difference_sentence(chosen, best2, "from scratch", 2)
        + ".",
        "- From scratch catches up: fine-tuning's lead is indistinguishable from zero "
        + (f"from {budget_phrase(tie)} on." if tie is not None else "at no budget here."),
        f"- Tuning on 200 spare digits moves mean accuracy by {gains.min():+.1f} to {gains.max():+.1f} points, "
        f"with {clear} of {len(contrast)} intervals excluding zero: labels a few-shot learner does not have.",
        "- **Compute** is compared at equal outcome, with the pretraining and the setting search in the bill; "
        "the break-even table says where pretraining pays for itself in FLOPs, and where it buys accuracy instead.",
    ]
    return Markdown("\n".join(bullets))
