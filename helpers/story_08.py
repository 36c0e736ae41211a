"""Notebook 08's sentences and tables: every statement of a result, computed from the results it states.

A notebook cell that states results is one call here, e.g. `story_08.vision_lesson(found)`; the
numbers come from helpers.pretrained_results, and formatting happens only in the story modules and helpers.viz.
Notebooks 05 and 07 state 08's results through it too (effective data, the miniature against the released models).
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import pandas as pd
import torch
from IPython.display import Markdown

from helpers import pretrained, viz
from helpers import pretrained_results as pr
from helpers import pretrained_study as ps
from helpers.story import against, interval, listing, markdown_table

TASK_TEXT = {
    "digits": "the digits",
    "fashion": "Fashion-MNIST",
    "authors": "Austen or Shakespeare",
}


# --- tables -----------------------------------------------------------------------------------------------


def score_grid(found: pr.Found, task: str) -> pd.DataFrame:
    """Budgets down, approaches across: 'mean [low, high]', test accuracy in %, 95% interval over seeds."""
    table = pr.summary(found, task)
    table["cell"] = [f"{100 * r.accuracy:.1f} [{100 * r.low:.1f}, {100 * r.high:.1f}]" for r in table.itertuples()]
    grid = table.pivot(index="budget", columns="approach", values="cell")
    grid = grid[list(dict.fromkeys(table.approach))].fillna("not run")
    grid.index.name, grid.columns.name = "labels per class", None
    return grid


def paired_grid(table: pd.DataFrame) -> Markdown:
    """A comparisons table (pretrained_study.comparisons) for reading: difference [interval], seeds won, verdict."""
    grid = pd.DataFrame(
        {
            "target": [TASK_TEXT[t] for t in table.get("task", pd.Series(["authors"] * len(table)))],
            "comparison": [f"{r.approach} minus {r.baseline}" for r in table.itertuples()],
            "labels per class": table.budget.tolist(),
            "difference (points) [95% interval]": [interval(r.difference, r.low, r.high) for r in table.itertuples()],
            "seeds won": [f"{r.won}/{r.seeds}" for r in table.itertuples()],
            "verdict": table.verdict.tolist(),
        }
    )
    return markdown_table(grid.set_index("target"))


VISION_PAIRS = [
    ("MobileNetV2 features", "letter CNN features"),
    ("MobileNetV2 features", "pixels"),
    ("MobileNetV2 fine-tuned", "small CNN from scratch"),
    ("MobileNetV2 fine-tuned", "letter CNN fine-tuned"),
    ("MobileNetV2 fine-tuned", "MobileNetV2 features"),
]
TEXT_PAIRS = [
    ("MiniLM features", "n-grams"),
    ("MiniLM features", "tiny GPT features"),
    ("MiniLM fine-tuned", "tiny GPT fine-tuned"),
    ("MiniLM fine-tuned", "MiniLM features"),
    ("MiniLM LoRA", "MiniLM fine-tuned"),
]


def vision_comparisons(found: pr.Found) -> pd.DataFrame:
    """VISION_PAIRS on both targets, paired by seed."""
    tables = [pr.comparisons(found, task, VISION_PAIRS).assign(task=task) for task in ps.VISION_DEV]
    return pd.concat(tables, ignore_index=True)


# --- the lessons ------------------------------------------------------------------------------------------


def vision_lesson(found: pr.Found) -> Markdown:
    """Which source wins where, from the paired verdicts: the released model against the letter CNN and pixels."""
    table = vision_comparisons(found)
    lines = []
    for task in ps.VISION_DEV:
        at = table[table.task == task]
        lines.append(
            f"- **{TASK_TEXT[task][0].upper() + TASK_TEXT[task][1:]}.** MobileNetV2's frozen features were "
            f"{against(at, 'MobileNetV2 features', 'letter CNN features', 'the letter CNN features')}; "
            f"{against(at, 'MobileNetV2 features', 'pixels', 'plain pixels')}. Fine-tuned, MobileNetV2 was "
            f"{against(at, 'MobileNetV2 fine-tuned', 'letter CNN fine-tuned', 'the fine-tuned letter CNN')}, and "
            f"{against(at, 'MobileNetV2 fine-tuned', 'small CNN from scratch', 'the small CNN from scratch')}."
        )
    lines.append(edge_note(found, "MobileNetV2 fine-tuned", ps.FINE_TUNE_STEPS))
    return Markdown("\n".join(lines))


def edge_note(found: pr.Found, approach: str, steps_grid: tuple[int, ...]) -> str:
    """Where the development pairing chose the longest run on offer: more steps might have helped, said as such."""
    chosen = {budget: steps for (_, name, budget, _), (_, steps) in found.recipes.items() if name == approach}
    longest = sorted(budget for budget, steps in chosen.items() if steps == steps_grid[-1])
    if not longest:
        return ""
    return (
        f"- The development pairing chose the longest {approach} run on offer ({steps_grid[-1]} steps) at "
        f"{listing([str(b) for b in sorted(set(longest))])} labels per class. Longer runs were not tried, so it "
        "may do better there than shown."
    )


def text_lesson(found: pr.Found) -> Markdown:
    """What MiniLM bought over the n-grams and the tiny GPT, and what fine-tuning and LoRA added, from the verdicts."""
    table = pr.comparisons(found, "authors", TEXT_PAIRS)
    grid = pr.summary(found, "authors").set_index(["approach", "budget"]).accuracy
    best_small = max(("n-grams", "tiny GPT fine-tuned", "tiny GPT features"), key=lambda a: grid[a, 10])
    return Markdown(
        "\n".join(
            [
                f"- **Frozen MiniLM features** were {against(table, 'MiniLM features', 'n-grams', 'the n-grams')}; "
                f"{against(table, 'MiniLM features', 'tiny GPT features', 'the tiny GPT features')}.",
                f"- At 10 snippets per class MiniLM's frozen features averaged "
                f"{100 * grid['MiniLM features', 10]:.1f}%, against {100 * grid[best_small, 10]:.1f}% for the best "
                f"of the n-grams and the tiny GPT ({best_small}).",
                f"- **Fine-tuned MiniLM** was "
                f"{against(table, 'MiniLM fine-tuned', 'tiny GPT fine-tuned', 'the fine-tuned tiny GPT')}, and "
                f"{against(table, 'MiniLM fine-tuned', 'MiniLM features', 'its own frozen features')}. "
                f"**LoRA** was {against(table, 'MiniLM LoRA', 'MiniLM fine-tuned', 'full fine-tuning')}.",
            ]
        )
    )


# --- figures and small tables -----------------------------------------------------------------------------


def vision_figure(found: pr.Found) -> plt.Figure:
    """Both vision targets side by side: accuracy against labels per class, every approach."""
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.4), sharey=True, constrained_layout=True)
    for ax, task in zip(axes, ps.VISION_DEV):
        viz.plot_budget_curves(
            pr.summary(found, task), f"Target: {TASK_TEXT[task]}", "labelled images per class (log scale)", 0.1, ax=ax
        )
    return fig


def text_figure(found: pr.Found) -> plt.Figure:
    return viz.plot_budget_curves(
        pr.summary(found, "authors"),
        "Who wrote it: Austen or Shakespeare?",
        "labelled snippets per class (log scale)",
        0.5,
    )


def released_models(mobilenet: torch.nn.Module, minilm: torch.nn.Module) -> Markdown:
    """The two released models side by side: parameters (counted here), what they read, what they were trained on."""
    table = pd.DataFrame(
        {
            "MobileNetV2 (images)": {
                "parameters (counted here)": f"{sum(p.numel() for p in mobilenet.parameters()):,}",
                "reads": "colour images, any size (224 x 224 in training)",
                "pretrained on (documented)": pr.RELEASED_DATA["MobileNetV2"]["text"],
                "weight file checked": pretrained.MOBILENET_V2.sha256[:16] + "...",
                "licence": "see data/README.md (ImageNet's terms: non-commercial research and education)",
            },
            "all-MiniLM-L6-v2 (text)": {
                "parameters (counted here)": f"{sum(p.numel() for p in minilm.parameters()):,}",
                "reads": "word pieces of lower-cased text, up to 256 (128 in its last training stage)",
                "pretrained on (documented)": pr.RELEASED_DATA["MiniLM"]["text"],
                "weight file checked": pretrained.MINILM.sha256[:16] + "...",
                "licence": "Apache-2.0",
            },
        }
    )
    return markdown_table(table)


def example_snippet(index: int) -> str:
    return ps.author_task("authors").test_texts[index]


def example_snippets(per_author: int = 2) -> list[str]:
    """The first `per_author` test snippets of each author: Persuasion's, then Twelfth Night's."""
    task = ps.author_task("authors")
    chosen = []
    for label in range(len(task.classes)):
        chosen += [text for text, y in zip(task.test_texts, task.test_labels) if y == label][:per_author]
    return chosen


def similarity_table(vectors: torch.Tensor, snippets: list[str]) -> pd.DataFrame:
    """Cosine similarity of every pair of (length-1) sentence vectors, rows and columns named by their snippets."""
    names = [f"{i + 1}: {s[:40]!r}" for i, s in enumerate(snippets)]
    return pd.DataFrame(
        (vectors @ vectors.T).numpy(), index=names, columns=[str(i + 1) for i in range(len(names))]
    ).round(2)


def scale_table(points: pd.DataFrame) -> pd.DataFrame:
    """The scale axis for reading: pretraining data, probe accuracy [95% interval], D_E and D_T per source."""
    return pd.DataFrame(
        {
            "pretrained on": points.source,
            "unique examples": [_examples(x, k) for x, k in zip(points.pretraining_examples, points.kind)],
            "read on": [f"{TASK_TEXT[t]}, {b} per class" for t, b in zip(points.task, points.budget)],
            "probe accuracy (%) [95% interval]": [
                f"{100 * r.accuracy:.1f} [{100 * r.low:.1f}, {100 * r.high:.1f}]" for r in points.itertuples()
            ],
            "from scratch would need (D_E, per class)": [
                effective_text(r.effective_transferred + r.budget, r.bound)[1:] for r in points.itertuples()
            ],
            "effective labels transferred (D_T, per class)": [
                effective_text(r.effective_transferred, r.bound) for r in points.itertuples()
            ],
            "D_T against the n-grams or pixels": [
                effective_text(r.classical_transferred, r.classical_bound) for r in points.itertuples()
            ],
        }
    )


def effective_text(labels: float, bound: str) -> str:
    """'+3.2', 'at most -4.0' or 'more than +990' labels per class."""
    prefix = {"=": "", "<=": "at most ", ">": "more than "}[bound]
    return f"{prefix}{labels:+,.0f}" if abs(labels) >= 100 else f"{prefix}{labels:+,.1f}"


def effective_data_exercise(found: pr.Found) -> tuple[tuple[float, float], tuple[float, float], float, int]:
    """The two from-scratch points that bracket the probe on the fully pretrained tiny GPT, printed, and returned."""
    points = pr.scale_points(found)
    full = points[points.source == "tiny GPT, all of its text"].iloc[0]
    curve = pr.scratch_curve(found, "authors", full.reference).sort_index()
    envelope = curve.cummax()
    above = envelope[envelope >= full.accuracy]
    if above.empty or above.index[0] == envelope.index[0]:
        raise ValueError("the from-scratch curve does not bracket the probe's score: no exercise to set")
    b1 = int(above.index[0])
    b0 = int(envelope.index[envelope.index.get_loc(b1) - 1])
    low, high = (b0, float(envelope[b0])), (b1, float(envelope[b1]))
    print(f"from scratch: {low[1]:.3f} at {b0} per class, {high[1]:.3f} at {b1} per class")
    print("  (each the best so far along the curve: more labels never make from scratch worse, so a dip is noise)")
    print(f"the tiny GPT pretrained on all its text: {full.accuracy:.3f} at {int(full.budget)} per class")
    return low, high, float(full.accuracy), int(full.budget)


# --- notebook 05: what the letters are worth in digits ------------------------------------------------------


def effective_data_table(table: pd.DataFrame) -> pd.DataFrame:
    """results.effective_data for reading: labels per class down, approaches across, 'D_T (from scratch needs D_E)'."""
    cells = table.assign(
        cell=[f"{effective_text(r.transferred, r.bound)} (needs {r.scratch_needs:.1f})" for r in table.itertuples()]
    )
    grid = cells.pivot(index="labels_per_class", columns="approach", values="cell")
    grid = grid[list(dict.fromkeys(table.approach))]
    grid.index.name, grid.columns.name = "labels per class", None
    return grid


def effective_data_lesson(table: pd.DataFrame) -> Markdown:
    """05: the range of D_T per approach, and the budgets where an approach is worth less than its own labels."""
    lines = []
    for approach, rows in table.groupby("approach", sort=False):
        negative = [f"{b}" for b, t in zip(rows.labels_per_class, rows.transferred) if t < 0]
        worth = f"between {rows.transferred.min():+.1f} and {rows.transferred.max():+.1f} labelled digits per class"
        tail = (
            f"; below zero at {listing(negative)} labels per class, where from scratch matches it with fewer "
            f"labels than the {approach} had"
            if negative
            else ""
        )
        lines.append(f"- **{approach}**: pretraining on the letters was worth {worth}{tail}.")
    return Markdown("\n".join(lines))


# --- notebook 07: how far the miniature is from real pretraining ------------------------------------------------


def miniature_against_released(record: dict) -> Markdown:
    """07's section 8: the tiny GPT's pretraining (its record) against all-MiniLM-L6-v2's, documented, as ratios."""
    unique = len(ps.pretraining_text_slice(1.0))
    released = pr.RELEASED_DATA["MiniLM"]["examples"]
    params = pretrained.MINILM_PARAMETERS
    return Markdown(
        f"**How far the miniature is from real pretraining.** The tiny GPT has {record['parameters']:,} parameters "
        f"and was pretrained on {unique:,} characters of two novels ({record['characters_seen']:,} characters read "
        f"in {record['recipe']['steps']:,} steps). all-MiniLM-L6-v2, a small released language model, has "
        f"{params:,} parameters ({params / record['parameters']:.0f} times as many) and was distilled on about "
        f"{released / 1e9:,.0f} billion characters of English text (about {float(f'{released / unique:.2g}'):,.0f} "
        "times as much), then "
        "trained on over a billion sentence pairs; the large language models in the news are larger again in "
        "both. Notebook 08 loads MiniLM offline, puts it on this notebook's authorship task under the same "
        "protocol, and measures what each step along that axis buys."
    )


# --- notebook 08: the scale axis, compute, summary ---------------------------------------------------------------


def _point(points: pd.DataFrame, source: str) -> pd.Series:
    return points[points.source == source].iloc[0]


UNITS = {"tiny GPT": "characters", "MiniLM": "characters", "letter CNN": "letters", "MobileNetV2": "images"}


def scale_lesson(found: pr.Found, points: pd.DataFrame) -> Markdown:
    """What growing the pretraining data bought each miniature, and where the released model lands."""
    lines = []
    for kind, released, task in (("tiny GPT", "MiniLM", "authors"), ("letter CNN", "MobileNetV2", "digits")):
        mine = points[points.kind == kind].sort_values("pretraining_examples")
        last, far = mine.iloc[-1], _point(points, released)
        unit = "snippets" if task == "authors" else "digits"
        steps = listing(
            [f"{effective_text(r.effective_transferred, r.bound)} ({100 * r.accuracy:.1f}%)" for r in mine.itertuples()]
        )
        lines.append(
            f"- **The {kind}, read on {TASK_TEXT[task]}** with {int(last.budget)} {unit} per class. From untrained "
            f"to pretrained on all its {last.pretraining_examples:,.0f} {UNITS[kind]}, the {unit} it was worth per "
            f"class (its probe's accuracy) went: {steps}."
        )
        gap = 100 * (far.accuracy - last.accuracy)
        ends = (
            f"{effective_text(far.effective_low, far.effective_low_bound)} to "
            f"{effective_text(far.effective_high, far.effective_high_bound)}"
        )
        lines.append(
            f"- **{released}**, {_examples(far.pretraining_examples, released)}: {100 * far.accuracy:.1f}%, "
            f"{abs(gap):.1f} points {'above' if gap > 0 else 'below'} the fully pretrained {kind}; worth "
            f"{effective_text(far.effective_transferred, far.bound)} {unit} per class ({ends} across the 95% "
            "interval of its accuracy; the from-scratch curve has its own noise on top)."
        )
    for kind, rows in pr.scale_steps(found).groupby("kind", sort=False):
        said = [
            f"{r.approach.split(', ')[1]}: {r.verdict} ({interval(r.difference, r.low, r.high)})"
            for r in rows.itertuples()
        ]
        lines.append(
            f"- **Seed by seed, each slice of the {kind}'s data against the one before** (probe accuracy, points): "
            + "; ".join(said)
            + "."
        )
    return Markdown("\n".join(lines))


def _flops(x: float) -> str:
    return "unknown" if math.isnan(x) else f"{x:.2g}"


def cost_table(costs: pd.DataFrame) -> Markdown:
    """pretrained_study.compute_costs for reading, one column per model."""
    table = pd.DataFrame(
        {
            "parameters": [f"{p:,}" for p in costs.parameters],
            "forward FLOPs per example": [f"{x:.3g}" for x in costs["forward FLOPs per example"]],
            "forward ms per example (here)": [f"{1000 * x:.2f}" for x in costs["forward seconds per example"]],
            "pretraining FLOPs": [
                f"{_flops(x)}: {how}" for x, how in zip(costs["pretraining FLOPs"], costs["pretraining FLOPs, how"])
            ],
            f"fine-tuning FLOPs per task ({pr.COMPUTE_BUDGET} labels per class)": [
                f"{x:.2g}" for x in costs["fine-tuning FLOPs per task"]
            ],
            "from scratch FLOPs per task": [
                f"{x:.2g} ({name})" for x, name in zip(costs["from scratch FLOPs per task"], costs["from scratch"])
            ],
            "accuracy fine-tuned / from scratch (%)": [
                f"{100 * a:.1f} / {100 * b:.1f}"
                for a, b in zip(costs["fine-tuned accuracy"], costs["from scratch accuracy"])
            ],
            "break-even tasks, paying for the pretraining": [_tasks(x) for x in costs["break-even tasks"]],
        },
        index=costs.model,
    )
    return markdown_table(table.T.rename_axis("per model"))


def _tasks(x: float) -> str:
    if math.isnan(x):
        return "unknown (pretraining cost not published)"
    return "never (no saving per task)" if math.isinf(x) else f"{x:,.0f}"


def compute_lesson(costs: pd.DataFrame) -> Markdown:
    """Running costs as ratios measured together, then what reuse saves and what paying for pretraining would take."""
    by = costs.set_index("model")
    lines = []
    for small, big, unit in (("letter CNN", "MobileNetV2", "image"), ("tiny GPT", "MiniLM", "snippet")):
        flops = by.loc[big, "forward FLOPs per example"] / by.loc[small, "forward FLOPs per example"]
        seconds = by.loc[big, "forward seconds per example"] / by.loc[small, "forward seconds per example"]
        lines.append(
            f"- **Running {big}** costs {flops:,.0f} times the {small}'s FLOPs per {unit} and took {seconds:,.0f} "
            "times its seconds here, on every prediction, for as long as it is used."
        )
    for name in ("MobileNetV2", "MiniLM"):
        row = by.loc[name]
        ratio = row["fine-tuning FLOPs per task"] / row["from scratch FLOPs per task"]
        gain = 100 * (row["fine-tuned accuracy"] - row["from scratch accuracy"])
        lines.append(
            f"- **Reusing {name}** without paying for its pretraining: fine-tuning at {pr.COMPUTE_BUDGET} labels per "
            f"class cost {ratio:.2g} times the FLOPs of the {row['from scratch']} per task, for "
            f"{gain:+.1f} points of accuracy{_against_classical(row, name)}."
        )
    paid = [f"{name}: {_tasks(by.loc[name, 'break-even tasks'])}" for name in by.index]
    lines.append("- **Paying for the pretraining yourself**, break-even after: " + "; ".join(paid) + ".")
    if all(math.isinf(x) or math.isnan(x) for x in by["break-even tasks"]):
        lines.append(
            "  At these recipes no fine-tuning costs fewer FLOPs per task than training from scratch, so no "
            "pretraining pays for itself in compute: what it buys is accuracy per label, and a released model "
            "gives that to users who never pay for its pretraining."
        )
    return Markdown("\n".join(lines))


def summary(found: pr.Found, points: pd.DataFrame, costs: pd.DataFrame) -> Markdown:
    """08's summary: the one result of each section, then every comparison the seeds resolved against transfer."""
    vision, text = vision_comparisons(found), pr.comparisons(found, "authors", TEXT_PAIRS)
    grid = pr.summary(found, "authors").set_index(["approach", "budget"]).accuracy
    tiny, minilm = _point(points, "tiny GPT, all of its text"), _point(points, "MiniLM")
    first = points[points.kind == "tiny GPT"].sort_values("pretraining_examples").iloc[1]
    by = costs.set_index("model")
    lines = [
        f"- **Which source.** On the digits, MobileNetV2's features were {_source_verdict(vision, 'digits')}; on "
        f"Fashion-MNIST they were {_source_verdict(vision, 'fashion')}. {_closeness(vision, points, by)}",
        f"- **What scale buys, for text.** At 10 snippets per class MiniLM's frozen features reached "
        f"{100 * grid['MiniLM features', 10]:.1f}%, the n-grams {100 * grid['n-grams', 10]:.1f}% and the tiny GPT's "
        f"{100 * grid['tiny GPT features', 10]:.1f}%. In labels: the fully pretrained tiny GPT was worth "
        f"{effective_text(tiny.effective_transferred, tiny.bound)} snippets per class ("
        f"{effective_text(first.effective_transferred, first.bound)} already from {first.source.split(', ')[1]}), "
        f"MiniLM {effective_text(minilm.effective_transferred, minilm.bound)}: a tiny GPT from scratch would need "
        f"{(minilm.effective_transferred + minilm.budget) / minilm.budget:,.0f} times the labels it had. Against the "
        f"n-grams, a far stronger learner from scratch, the tiny GPT was worth "
        f"{effective_text(tiny.classical_transferred, tiny.classical_bound)} and MiniLM "
        f"{effective_text(minilm.classical_transferred, minilm.classical_bound)} snippets per class.",
        f"- **Data against everything else.** At a fixed size, the tiny GPT's probe went from "
        f"{100 * first.accuracy:.1f}% with {first.source.split(', ')[1]} to {100 * tiny.accuracy:.1f}% with all of it, "
        f"{tiny.pretraining_examples / first.pretraining_examples:.0f} times the text; the far point changes size, "
        "architecture, tokenizer, objective and data together, so it measures the whole package.",
        f"- **Compute.** Running MobileNetV2 or MiniLM costs {_forward_ratio(by, 'MobileNetV2', 'letter CNN'):,.0f} "
        f"and {_forward_ratio(by, 'MiniLM', 'tiny GPT'):,.0f} times the FLOPs per example of the miniature it "
        "replaces; what a user saves is the pretraining, never the prediction.",
    ]
    losses = [
        f"{approach} behind {baseline}{' on ' + TASK_TEXT[task] if task != 'authors' else ''} at "
        f"{listing([f'{b:,}' for b in rows.budget])} labels per class"
        for (task, approach, baseline), rows in pd.concat([vision, text.assign(task="authors")])
        .query("verdict == 'worse'")
        .groupby(["task", "approach", "baseline"], sort=False)
    ]
    lines.append("- **Where transfer did not pay**, resolved seed by seed: " + listing(losses, "nowhere") + ".")
    return Markdown("\n".join(lines))


def _source_verdict(vision: pd.DataFrame, task: str) -> str:
    at = vision[vision.task == task]
    return against(at, "MobileNetV2 features", "letter CNN features", "the letter CNN's")


def _closeness(vision: pd.DataFrame, points: pd.DataFrame, by: pd.DataFrame) -> str:
    """The lesson of section 3, said only where the verdicts bear it out: closeness beat size, and where it did not."""
    features = vision[(vision.approach == "MobileNetV2 features") & (vision.baseline == "letter CNN features")]
    digits, fashion = features[features.task == "digits"].verdict, features[features.task == "fashion"].verdict
    if not ((digits == "worse").any() and (fashion == "better").any()):
        return "The seeds do not show one source winning on one target and losing on the other."
    size = by.loc["MobileNetV2", "parameters"] / by.loc["letter CNN", "parameters"]
    letters = _point(points, "letter CNN, 800 letters per class").pretraining_examples
    images = _point(points, "MobileNetV2").pretraining_examples / letters
    tuned = vision[(vision.task == "fashion") & (vision.approach == "MobileNetV2 fine-tuned")]
    return (
        f"On the digits, the source close to the target beat one with {size:.0f} times the parameters and "
        f"{images:.0f} times the pretraining images. On Fashion-MNIST, photographs like ImageNet's, the large source "
        f"won where it had enough labels: fine-tuned, it was "
        f"{against(tuned, 'MobileNetV2 fine-tuned', 'small CNN from scratch', 'the small CNN from scratch')}."
    )


def _forward_ratio(by: pd.DataFrame, big: str, small: str) -> float:
    return by.loc[big, "forward FLOPs per example"] / by.loc[small, "forward FLOPs per example"]


def _examples(count: float, kind: str) -> str:
    """'22,020 characters', or 'about 1.6e+11 characters (documented)' for a released model's data."""
    if kind in ("MiniLM", "MobileNetV2"):
        shown = f"{count:.2g}" if count >= 1e9 else f"{count:,.0f}"
        return f"about {shown} {UNITS[kind]} (documented)"
    return f"{count:,.0f} {UNITS[kind]}"


def similarity_note(vectors: torch.Tensor, authors: list[int]) -> Markdown:
    """What the similarity table says about style: same-author pairs against cross-author pairs, on average."""
    same, other = [], []
    for i in range(len(authors)):
        for j in range(i + 1, len(authors)):
            (same if authors[i] == authors[j] else other).append(float(vectors[i] @ vectors[j]))
    same_mean, other_mean = sum(same) / len(same), sum(other) / len(other)
    verdict = "the same author is closer here" if same_mean > other_mean else "the same author is not closer"
    return Markdown(
        f"Same-author pairs average a similarity of {same_mean:.2f}, cross-author pairs {other_mean:.2f}: {verdict}"
        ". MiniLM was trained to place sentences of *similar meaning* together, and these snippets are about "
        "different things whoever wrote them, so style is at best a faint direction in its space. That is why "
        "a probe needs labelled snippets: it finds the direction that separates the authors."
    )


def _against_classical(row: pd.Series, name: str) -> str:
    """MiniLM's gain measured against the n-grams too: a network from scratch is not the strongest baseline."""
    if name != "MiniLM":
        return ""
    gain = 100 * (row["fine-tuned accuracy"] - row["n-grams accuracy"])
    return f" (against the n-grams, which need no network, {gain:+.1f})"
