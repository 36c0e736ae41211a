"""Notebook 06's sentences and tables: every statement of a result, computed from the results it states.

A notebook cell that states results is one call here, e.g. `story_06.layer_lesson(studies.layers)`; the
numbers come from helpers.what_transfers (its Studies and the paired tables it builds), and formatting happens
only in the story modules and helpers.viz. Each lesson reads its verdicts off a 95% interval: above zero,
below zero, or not resolved.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import Markdown

from helpers import results, trials, viz
from helpers import what_transfers as wt
from helpers.story import budget_phrase, interval, signed

# --- pieces ---------------------------------------------------------------------------------------------


def points(difference: dict | pd.Series) -> str:
    """'+3.1 points [+1.2, +5.0]': a difference (fractions, with mean, low and high) in points, with its interval."""
    return interval(100 * difference["mean"], 100 * difference["low"], 100 * difference["high"], " points")


def resolved_either_way(difference: dict | pd.Series) -> bool:
    """Whether a difference's interval excludes zero (above or below)."""
    return difference["low"] > 0 or difference["high"] < 0


def budget_text(labels_per_class: int, task: str = "digits") -> str:
    """How a budget reads: "all" on the digits (their whole pool), "70" on Fashion-MNIST's tasks."""
    if labels_per_class == trials.ALL and task != "digits":
        return str(trials.DEV_ALL)
    return trials.label_text(labels_per_class)


def _bracket(low: float, high: float) -> str:
    """'[+1.2, +5.0]': a 95% interval (fractions) in points, as the paired tables show it."""
    return f"[{100 * low:+.1f}, {100 * high:+.1f}]"


def _budgets(table: pd.DataFrame) -> list[str]:
    """Each row's budget as it reads on the row's task (a paired table of wt.paired_against)."""
    return [budget_text(n, task) for n, task in zip(table.labels_per_class, table.task)]


def paired_text(table: pd.DataFrame) -> pd.DataFrame:
    """A paired table (wt.paired_against) as notebook 06 shows it: labels per class, approach, difference
    (points), 95% interval and seeds won."""
    return pd.DataFrame(
        {
            "labels per class": _budgets(table),
            "approach": list(table.approach),
            "difference (points)": [round(100 * m, 1) for m in table["mean"]],
            "95% interval": [_bracket(lo, hi) for lo, hi in zip(table.low, table.high)],
            "seeds won": [f"{w}/{n}" for w, n in zip(table.won, table.seeds)],
        }
    )


def forgetting_text(table: pd.DataFrame) -> pd.DataFrame:
    """wt.forgetting_table as notebook 06 shows it: digits and letters accuracy (%), and the letters lost (points,
    the loss: positive when letters were lost) with its 95% interval."""
    return pd.DataFrame(
        {
            "labels per class": [trials.label_text(n) for n in table.labels_per_class],
            "strategy": list(table.strategy),
            "digits accuracy (%)": [round(100 * a, 1) for a in table.digits_acc],
            "letters accuracy (%)": [round(100 * a, 1) for a in table.letters_acc],
            "letters lost (points)": [round(-100 * m, 1) for m in table["mean"]],
            "95% interval": [f"[{-100 * hi:.1f}, {-100 * lo:.1f}]" for lo, hi in zip(table.low, table.high)],
        }
    )


def rows_text(table: pd.DataFrame) -> str:
    """A paired table (wt.paired_against), row by row: 'approach at n per class, +d points [low, high]; ...'."""
    return "; ".join(
        f"{r.approach} at {budget_text(r.labels_per_class, r.task)} per class, "
        f"{100 * r.mean:+.1f} points {_bracket(r.low, r.high)}"
        for r in table.itertuples()
    )


def by_approach(table: pd.DataFrame) -> str:
    """A paired table grouped by approach: 'approach at 1, 5 labels per class (-3.0 to -1.2 points); ...'."""
    parts = []
    for approach, rows in table.groupby("approach", sort=False):
        budgets = ", ".join(_budgets(rows))
        shown = [round(100 * m, 1) for m in rows["mean"]]  # one decimal, as the table shows them
        low, high = min(shown), max(shown)
        spread = f"{low:+.1f} points" if low == high else f"{low:+.1f} to {high:+.1f} points"
        parts.append(f"{approach} at {budgets} labels per class ({spread})")
    return "; ".join(parts)


def lead(table: pd.DataFrame, approach: str, n: int) -> str:
    """One row of a paired table: '+3.1 points [+1.2, +5.0] (4/5 seeds ahead)'."""
    row = table[(table.approach == approach) & (table.labels_per_class == n)].iloc[0]
    seeds = f"{row['won']}/{row['seeds']} seeds ahead"
    return f"{100 * row['mean']:+.1f} points {_bracket(row['low'], row['high'])} ({seeds})"


def resolved_sources(table: pd.DataFrame, n: int) -> list[str]:
    """The sources whose interval against the baseline excludes zero at this budget ('fashion', ...)."""
    rows = table[(table.labels_per_class == n) & (table.verdict != "unresolved")]
    return [a.split(": ")[1] for a in rows.approach]


def budgets_ahead(table: pd.DataFrame, approach: str) -> list[str]:
    """The budgets (as they read) at which `approach` is ahead of the baseline, interval above zero."""
    return _budgets(table[(table.approach == approach) & (table.verdict == "better")])


def paired_figure(table: pd.DataFrame, frame: pd.DataFrame, title: str) -> plt.Figure:
    """viz.plot_paired_differences of a paired table (wt.paired_against) built from the trials in `frame`, each
    row labelled 'approach, n/class', with its seed-by-seed differences read from `frame`."""
    rows = [
        {
            **results.paired(frame, r.approach, r.baseline, r.labels_per_class),
            "label": f"{r.approach}, {budget_text(r.labels_per_class, r.task)}/class",
        }
        for r in table.itertuples()
    ]
    return viz.plot_paired_differences(rows, title=title)


# --- 2. which layers transfer -----------------------------------------------------------------------------


def layer_setup(half_a: tuple[str, ...], half_b: tuple[str, ...]) -> str:
    """Three lines to print: the letters of each half, and the recipe, seeds and test set every network shares."""
    recipe = wt.LAYER_RECIPE
    return "\n".join(
        [
            f"A ({len(half_a)} letters): {' '.join(half_a)}",
            f"B ({len(half_b)} letters): {' '.join(half_b)}",
            f"every network: the standard CNN, {recipe.steps} steps of {recipe.batch_size} letters, "
            f"lr {recipe.lr:g}; seeds {list(wt.LAYER_SEEDS)}; "
            f"scored on {wt.LAYER_TEST_PER_CLASS} test letters per class",
        ]
    )


def layer_grid(summary: pd.DataFrame) -> pd.DataFrame:
    """The Yosinski table of wt.layer_summary: a row per curve, a column per n, "mean [min, max]" in percent."""
    grid = {}
    for _, row in summary.sort_values("n").iterrows():
        text = f"{100 * row['mean']:.1f} [{100 * row['low']:.1f}, {100 * row['high']:.1f}]"
        grid.setdefault(row["curve"], {})[f"n = {row['n']}"] = text
    curves = [c for c in wt.CURVES if c in grid]
    return pd.DataFrame(grid).T.loc[curves].fillna("")


def layer_difference_table(differences: pd.DataFrame) -> pd.DataFrame:
    """wt.layer_differences in points, one decimal: mean, low and high per (curve, n)."""
    return (100 * differences.set_index(["curve", "n"])[["mean", "low", "high"]]).round(1)


def _at(differences: pd.DataFrame, curve: str, n: int) -> pd.Series:
    return differences[(differences.curve == curve) & (differences.n == n)].iloc[0]


def layer_lesson(layers: pd.DataFrame) -> Markdown:
    """Three bullets from the layers study: specificity (AnB minus BnB), co-adaptation (BnB in the middle against
    base B) and fine-tuning (AnB+ at its best, against the BnB+ control), each with its interval and verdict."""
    differences = wt.layer_differences(layers)
    return Markdown("\n".join([specificity(layers), co_adaptation(differences), fine_tuning(layers, differences)]))


def layer_reading(layers: pd.DataFrame) -> tuple[pd.DataFrame, int, dict, list[int]]:
    """What the layer bullets read: each curve minus base B, the deepest n, AnB minus BnB at every n, and the
    n whose AnB minus BnB interval lies below zero (A's blocks specific to A)."""
    differences = wt.layer_differences(layers)
    a_vs_b = wt.anb_minus_bnb(layers)
    return differences, differences.n.max(), a_vs_b, [n for n, d in a_vs_b.items() if d["high"] < 0]


def specificity(layers: pd.DataFrame) -> str:
    """A bullet: AnB minus BnB at every n, where its interval lies below zero, and which copy costs most."""
    differences, deepest, a_vs_b, specific = layer_reading(layers)
    anb = differences[differences.curve == "AnB"].set_index("n")
    costliest = int(anb["mean"].idxmin())
    return (
        "- **Specificity.** AnB minus BnB, seed by seed: "
        + "; ".join(f"n = {n}: {points(d)}" for n, d in a_vs_b.items())
        + ". "
        + specific_blocks(specific, deepest)
        + f" The {'deepest copy' if costliest == deepest else f'copy of {costliest} blocks'} costs most: AnB at "
        f"n = {costliest} against base B, {points(_at(differences, 'AnB', costliest))}"
        + ("." if costliest == deepest else f" (at n = {deepest}, {points(_at(differences, 'AnB', deepest))}).")
    )


def specific_blocks(specific: list[int], deepest: int) -> str:
    """Where AnB minus BnB lies below zero, as a sentence: 'from n = k on' only when every deeper n is too."""
    if not specific:
        return "No interval lies below zero: nothing here is measurably specific to A."
    if specific == list(range(specific[0], deepest + 1)):
        return (
            f"From n = {specific[0]} on, the interval lies below zero: block {specific[0]} of base A already "
            "holds something specific to A's letters."
        )
    where = ", ".join(str(n) for n in specific)
    return f"At n = {where} the interval lies below zero: there, A's blocks hold something specific to A's letters."


def co_adaptation(differences: pd.DataFrame) -> str:
    """A bullet: BnB against base B below the top block, a dip (interval below zero) read as co-adaptation."""
    deepest = differences.n.max()
    middle = [_at(differences, "BnB", n) for n in range(1, deepest)]
    dips = [row for row in middle if row["high"] < 0]
    rises = [row for row in middle if row["low"] > 0]
    return (
        "- **Co-adaptation** (BnB in the middle, n below the top): "
        + "; ".join(f"n = {row.n}: {points(row)}" for row in middle)
        + ". "
        + (
            "An interval below zero: frozen blocks that B trained itself hurt, so the fresh blocks above "
            "could not relearn what went with them."
            if dips
            else "No dip: this small network shows no fragile co-adaptation"
            + (
                "; BnB even ends above base B, as if frozen lower blocks from a trained network gave "
                "the fresh upper blocks a head start."
                if rises
                else "."
            )
        )
        + f" (At n = {deepest} no upper block is left to co-adapt; only the head retrains: "
        f"{points(_at(differences, 'BnB', deepest))}.)"
    )


def fine_tuning(layers: pd.DataFrame, differences: pd.DataFrame) -> str:
    """A bullet: where AnB+ is furthest above base B, and AnB+ minus BnB+ there (the longer-training control)."""
    best = differences[differences.curve == "AnB+"].sort_values("mean").iloc[-1]
    control = wt.curve_difference(layers, "AnB+", "BnB+", best.n)
    return (
        f"- **Fine-tuning.** AnB+ is furthest above base B at n = {best.n}: {points(best)}. "
        f"BnB+, which copies B's own blocks, is the control: AnB+ minus BnB+ {points(control)}"
        + (
            ". The gain is as large without A, which is consistent with the + networks simply having "
            "trained longer (this sweep has no longer-trained base B to confirm it)."
            if control["low"] <= 0 <= control["high"]
            else ", so A's blocks add something B's own do not."
        )
    )


# --- 3. which source --------------------------------------------------------------------------------------


def source_lesson(studies: wt.Studies) -> Markdown:
    """Five bullets on the digits: the order of the sources at 1 label per class and which of them the intervals
    resolve (at 1 and 10), fashion and the shuffled letters against from scratch, and the probes against the
    letters' probe."""
    against_scratch = wt.sources_against_scratch(studies, "fine-tune")
    against_letters = wt.probes_against_letters(studies)
    order, _ = wt.ranking(studies, 1)
    fashion_vs_shuffled = wt.paired_against(
        wt.source_frame(studies), "fine-tune: shuffled letters", (1,), approaches=["fine-tune: fashion"]
    )
    return Markdown(
        "\n".join(
            [
                f"- Fine-tuned, best first by mean at 1 label per class: {' > '.join(order)}. Against from "
                "scratch, an interval that excludes zero: "
                + (", ".join(resolved_sources(against_scratch, 1)) or "none")
                + f"; fashion minus shuffled letters: {lead(fashion_vs_shuffled, 'fine-tune: fashion', 1)}. "
                "An order of means is only as real as the intervals under it.",
                "- At 10 labels per class, against from scratch, an interval that excludes zero: "
                + (", ".join(resolved_sources(against_scratch, 10)) or "none")
                + ".",
                "- Fine-tuning from **fashion** against from scratch: "
                f"{lead(against_scratch, 'fine-tune: fashion', 1)} at 1 label per class, "
                f"{lead(against_scratch, 'fine-tune: fashion', 10)} at 10.",
                "- Fine-tuning from the **shuffled letters** against from scratch: "
                f"{lead(against_scratch, 'fine-tune: shuffled letters', 1)} at 1 label per class, "
                f"{lead(against_scratch, 'fine-tune: shuffled letters', 10)} at 10.",
                "- Frozen features (probes), fashion minus letters: "
                f"{lead(against_letters, 'linear probe: fashion', 1)} at 1 label per class; "
                "shuffled letters minus letters: "
                f"{lead(against_letters, 'linear probe: shuffled letters', 1)}.",
            ]
        )
    )


def control_lesson(studies: wt.Studies) -> Markdown:
    """Two bullets: the budgets where the letters and the shuffled-label control, fine-tuned, are ahead of from
    scratch, and what that says about where the benefit comes from."""
    against_scratch = wt.sources_against_scratch(studies, "fine-tune")
    letters_help = budgets_ahead(against_scratch, "fine-tune: letters")
    control_helps = budgets_ahead(against_scratch, "fine-tune: shuffled letters")
    return Markdown(
        f"- Fine-tuned from the letters, ahead of from scratch (interval above zero) at: "
        f"{', '.join(letters_help) or 'no budget'} labels per class; from the shuffled letters at: "
        f"{', '.join(control_helps) or 'no budget'}.\n"
        + (
            "- So here the benefit comes from the labels: from having learned to tell letters apart, "
            "not from having seen letter-like pictures."
            if letters_help and not control_helps
            else "- The pictures alone carry part of the benefit: compare the two lists."
        )
    )


# --- 4. negative transfer -----------------------------------------------------------------------------------


def clothes_probe_against_letters_probe(studies: wt.Studies) -> pd.DataFrame:
    """Shoes and bags: the clothes probe minus the letters' probe at every budget (wt.paired_against)."""
    return wt.paired_against(
        wt.negative_frame(studies),
        "linear probe: letters",
        wt.NEGATIVE_LABELS,
        task="shoes and bags",
        approaches=["linear probe: clothes"],
    )


def negative_lesson(studies: wt.Studies) -> Markdown:
    """Four bullets: what falls below from scratch on shoes and bags (interval below zero), the control (clothes
    probe minus letters probe), the clothes network fine-tuned, and what falls below from scratch on the digits."""
    negative = wt.negative_against_scratch(studies)
    control = clothes_probe_against_letters_probe(studies)
    clothes_worse = wt.below_zero(control)
    tuned = negative[negative.approach == "fine-tune: clothes"]
    on_digits = pd.concat(
        [wt.sources_against_scratch(studies, "fine-tune"), wt.sources_against_scratch(studies, "linear probe")]
    )
    found, also = wt.below_zero(negative), wt.below_zero(on_digits)
    return Markdown(
        "\n".join(
            [
                "- Below from scratch on shoes and bags, the whole interval below zero: "
                + (by_approach(found) if len(found) else "nothing")
                + ".",
                "- The control, clothes probe minus letters probe: "
                + rows_text(control)
                + ". "
                + (
                    f"The clothes features are measurably worse than the letters' at {by_approach(clothes_worse)}."
                    if len(clothes_worse)
                    else "No interval lies below zero: the clothes features are not measurably worse than "
                    "features learned on letters. What costs accuracy here is freezing a backbone trained "
                    "for another task, more than the choice of that task."
                ),
                "- Fine-tuning the clothes network instead, against from scratch: " + rows_text(tuned) + ".",
                "- On the digits (section 3), below from scratch with the whole interval below zero: "
                + (by_approach(also) if len(also) else "nothing")
                + ".",
            ]
        )
    )


# --- 5. forgetting ------------------------------------------------------------------------------------------


def live_forgetting(letters_after: float, letters_restored: float, probe_before: float, probe_after: float) -> Markdown:
    """Two bullets on the live run: what putting the letters' BatchNorm statistics back changed (more than five
    points either way, or little), and whether a fresh probe reads far more letters than the old head."""
    return Markdown(
        f"- Putting the letters' BatchNorm statistics back moves the old head's reading from {letters_after:.1%} "
        f"to {letters_restored:.1%}: "
        + (
            "the drifted statistics account for part of the loss in this run."
            if letters_restored - letters_after > 0.05
            else "worse, not better: the fine-tuned weights now expect the digits' statistics, so the "
            "statistics alone are not where the loss is."
            if letters_after - letters_restored > 0.05
            else "little change: the statistics are not where most of the loss is in this run."
        )
        + f"\n- The old head reads {letters_after:.1%} of the letters, a fresh probe on the same fine-tuned "
        f"features {probe_after:.1%}, and the same probe on the original features {probe_before:.1%}: "
        + (
            "much of what told letters apart is still in the features, so forgetting measured with the old "
            "head overstates what the backbone lost; the fresh probe's own drop is the part that is gone."
            if probe_after > letters_after + 0.1
            else "the features themselves have lost most of what told letters apart."
        )
    )


def measure_verdict(row: pd.Series) -> str:
    """'letters +3.1 points [+1.2, +5.0] (more)': a row of wt.forgetting_paired (one measure), with its verdict
    (letters: more or less kept; digits: higher or less; 'not resolved' when the interval holds zero)."""
    measure = row["measure"]
    text = f"{measure} {interval(100 * row['mean'], 100 * row['low'], 100 * row['high'], ' points')}"
    if row["verdict"] == "better":
        return f"{text} ({'more' if measure == 'letters' else 'higher'})"
    if row["verdict"] == "worse":
        return f"{text} (less)"
    return f"{text} (not resolved)"


def _by_strategy(paired: pd.DataFrame) -> list[tuple[str, int, pd.Series, pd.Series]]:
    """wt.forgetting_paired a (strategy, labels per class) at a time: (strategy, n, letters row, digits row)."""
    found = []
    for (n, strategy), rows in paired.groupby(["labels_per_class", "approach"], sort=False):
        by = rows.set_index("measure", drop=False)
        found.append((strategy, n, by.loc["letters"], by.loc["digits"]))
    return found


def forgetting_lesson(studies: wt.Studies, letters_shipped: float) -> Markdown:
    """Bullets: the letter model's own reading, each strategy minus full fine-tuning on letters and digits with
    its verdict, and fine-tuning's recipe rate at each budget (a caution)."""
    paired = wt.forgetting_paired(studies)
    rates = {n: studies.recipes["fine-tune", n] for n in wt.FORGETTING_LABELS}
    return Markdown(
        "\n".join(
            [
                f"- The letter model reads {letters_shipped:.1%} of these test letters before any fine-tuning.",
                *[
                    f"- {strategy} minus full fine-tuning at {trials.label_text(n)} labels per class, "
                    f"seed by seed: {measure_verdict(letters)}; {measure_verdict(digits)}."
                    for strategy, n, letters, digits in _by_strategy(paired)
                ],
                "- A caution when comparing the two budgets: fine-tuning's recipe rate differs between them ("
                + ", ".join(f"{budget_text(n)} labels per class: lr {rate:g}" for n, rate in rates.items())
                + "), and a larger rate moves the backbone further.",
            ]
        )
    )


# --- summary ------------------------------------------------------------------------------------------------


def summary(studies: wt.Studies) -> Markdown:
    """The notebook's summary, one bullet per study (layers, sources, negative transfer, forgetting) and the
    moral, every verdict read off a paired interval."""
    return Markdown(
        "\n".join(
            [
                layers_in_brief(studies.layers),
                sources_in_brief(studies),
                negative_in_brief(studies),
                forgetting_in_brief(studies),
                "- What transfers is what the source had to learn that the target also needs: read it off "
                "a control (shuffled labels) and a paired interval, not off a single run.",
            ]
        )
    )


def layers_in_brief(layers: pd.DataFrame) -> str:
    """A bullet: block 1 from A against B's own, where A's blocks turn specific, the deepest frozen copy's cost,
    and whether fine-tuned copies stay at or above base B."""
    differences, deepest, a_vs_b, specific_from = layer_reading(layers)
    return (
        "- **Layers.** "
        + (
            f"Block 1 copied from A serves B as well as B's own (AnB minus BnB at n = 1: {points(a_vs_b[1])}). "
            if a_vs_b[1]["low"] <= 0 <= a_vs_b[1]["high"]
            else f"Even block 1 differs between A and B (AnB minus BnB at n = 1: {points(a_vs_b[1])}). "
        )
        + (f"A's blocks are measurably specific to A from n = {specific_from[0]}; " if specific_from else "")
        + f"copying all {deepest} frozen costs {points(_at(differences, 'AnB', deepest))} against base B. "
        + (
            "Fine-tuned copies (AnB+) are at or above base B at every n."
            if all(_at(differences, "AnB+", n)["high"] >= 0 for n in range(1, deepest + 1))
            else "Fine-tuning the copies does not recover it everywhere."
        )
    )


def sources_in_brief(studies: wt.Studies) -> str:
    """A bullet: the sources that, fine-tuned at 1 label per class, are ahead of from scratch, and what the
    shuffled-label control among them, or not, says about where the transfer comes from."""
    against_scratch = wt.sources_against_scratch(studies, "fine-tune")
    at_one = against_scratch[(against_scratch.labels_per_class == 1) & (against_scratch.verdict == "better")]
    clear = [a.split(": ")[1] for a in at_one.approach]
    real = [source for source in clear if source != "shuffled letters"]
    if not clear:
        reading = "none: at this budget no source measurably transfers."
    elif "shuffled letters" in clear:
        reading = (
            ", ".join(clear) + "; the shuffled-label control is among them: part of what transfers needs no "
            "labels (the images' statistics, or weights at a useful scale)."
        )
    else:
        reading = (
            ", ".join(real) + "; the shuffled-label control is not: what transfers comes from what the source's "
            "labels taught, not from its images alone."
        )
    return (
        "- **Sources.** At 1 label per class, fine-tuned, ahead of from scratch with the whole interval above zero: "
        + reading
    )


def negative_in_brief(studies: wt.Studies) -> str:
    """A bullet: where the frozen clothes features fall below from scratch on shoes and bags, where the clothes
    network fine-tuned does, and, when only freezing costs, that freezing is the cause."""
    negative = wt.negative_against_scratch(studies)
    found = wt.below_zero(negative)
    frozen = found[found.approach == "linear probe: clothes"]
    tuned_below = wt.below_zero(negative[negative.approach == "fine-tune: clothes"])
    clothes_worse = wt.below_zero(clothes_probe_against_letters_probe(studies))
    return (
        "- **Negative transfer** on shoes and bags (interval below zero): "
        + (by_approach(frozen) if len(frozen) else "not found")
        + "; the same source fine-tuned: "
        + (by_approach(tuned_below) if len(tuned_below) else "below from scratch at no budget")
        + (
            ". Freezing, not the choice of source, is what cost accuracy here."
            if not len(clothes_worse) and not len(tuned_below)
            else "."
        )
    )


def forgetting_in_brief(studies: wt.Studies) -> str:
    """A bullet: the strategies that keep measurably more letters than full fine-tuning, with what they cost on
    the digits."""
    paired = wt.forgetting_paired(studies)
    return (
        "- **Forgetting.** Strategies that keep measurably more letters than full fine-tuning: "
        + (
            "; ".join(
                f"{strategy} {'with' if n == trials.ALL else 'at'} {budget_phrase(n)} ("
                f"{signed(100 * letters['mean'])} points of letters, {signed(100 * digits['mean'])} of digits)"
                for strategy, n, letters, digits in _by_strategy(paired)
                if letters["verdict"] == "better"
            )
            or "none"
        )
        + "."
    )
