"""The pieces every notebook's sentences and tables are built from: budgets, lists, intervals, Markdown tables.

Each notebook that states results has a story module (story_06 for 06, story_08 for 08, ...): a cell that states
a result is one call there, and the numbers come from the notebook's study. Formatting happens only in the
story modules and helpers.viz; the studies return numbers.
"""

from __future__ import annotations

import math

import pandas as pd
from IPython.display import Markdown

from helpers.data import ALL


def labels(n: float) -> str:
    """'1 label' or '5 labels' (per class)."""
    return f"{n:,g} label" + ("" if n == 1 else "s")


def budget_phrase(labels_per_class: int) -> str:
    """A label budget in words: '1 label per class', '5 labels per class', 'the whole pool'."""
    if labels_per_class == ALL:
        return "the whole pool"
    return f"{labels(labels_per_class)} per class"


def listing(items: list[str], empty: str = "no budget") -> str:
    """'a', 'a and b', 'a, b and c'; `empty` for none."""
    if not items:
        return empty
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def budgets_where(table: pd.DataFrame, approach: str, baseline: str, verdict: str) -> str:
    """The budgets at which approach minus baseline is resolved `verdict`, e.g. '2 and 10 labels per class'."""
    rows = table[(table.approach == approach) & (table.baseline == baseline) & (table.verdict == verdict)]
    if rows.empty:
        return "no budget"
    return listing([f"{b:,}" for b in rows.budget]) + " labels per class"


def interval(mean: float, low: float, high: float, unit: str = "") -> str:
    """'+3.1 [+1.2, +5.0]' (a difference) in the unit given; a single seed has no interval."""
    if math.isnan(low):
        return f"{signed(mean)}{unit} (one seed)"
    return f"{signed(mean)}{unit} [{signed(low)}, {signed(high)}]"


def signed(x: float) -> str:
    """'+3.1', '-0.6', and '+0.0' for anything that rounds to zero: '-0.0' shows a sign that says nothing."""
    return f"{0.0 if round(x, 1) == 0 else x:+.1f}"


def against(table: pd.DataFrame, approach: str, baseline: str, name: str) -> str:
    """'ahead of <name> at 5 and 10, behind at 1 and not told apart at 2 labels per class', from the verdicts."""
    rows = table[(table.approach == approach) & (table.baseline == baseline)]
    first = {"better": f"ahead of {name}", "worse": f"behind {name}", "unresolved": f"not told apart from {name}"}
    later = {"better": "ahead", "worse": "behind", "unresolved": "not told apart"}
    parts = []
    for verdict in ("better", "worse", "unresolved"):
        budgets = [f"{b:,}" for b in rows[rows.verdict == verdict].budget]
        if budgets:
            parts.append(f"{(later if parts else first)[verdict]} at {listing(budgets)}")
    if not parts:
        return f"not compared with {name}"
    return listing(parts) + " labels per class"


def markdown_table(table: pd.DataFrame) -> Markdown:
    """A table of text as Markdown, so that long cells wrap instead of being cut at 50 characters."""
    header = [table.index.name or ""] + [str(c) for c in table.columns]
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join([str(i)] + [str(v) for v in row]) + " |" for i, row in zip(table.index, table.values)]
    return Markdown("\n".join(lines))
