"""Notebook 05's exercise checks: the worst seed's gain, amortised FLOPs, a paired interval.

On the skeleton of helpers.checks: each prints "Correct: ..." or "Not yet: ... Hint: ..." and returns
True or False.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from helpers.checks import A_NUMBER, TOLERANCE, function_exercise, numeric_check, report, run_learner
from helpers.data import label_text


def check_worst_seed_gain(
    answer: object, chosen: pd.DataFrame, labels_per_class: int, better: str = "LP-FT", worse: str = "linear probe"
) -> bool:
    """The smallest per-seed gain of `better` over `worse` at one label budget, in points: a paired question."""
    at = chosen[chosen["labels_per_class"] == labels_per_class].pivot(
        index="seed", columns="approach", values="test_acc"
    )
    gains = 100 * (at[better] - at[worse]).dropna()  # one per seed: both trained on that seed's digits
    expected, seed = gains.min(), gains.idxmin()
    unpaired = 100 * (at[better].min() - at[worse].min())
    budget = f"{label_text(labels_per_class)} label(s) per class"
    return numeric_check(
        answer,
        expected,
        what=f"the smallest per-seed gain at {budget}",
        right=f"seed {seed} gains least: {better} {at.loc[seed, better]:.1%} - {worse} {at.loc[seed, worse]:.1%} = "
        f"{expected:+.1f} points. Over the {len(gains)} seeds the gain runs from {expected:+.1f} to "
        f"{gains.max():+.1f} (mean {gains.mean():+.1f}); {better} was ahead in {int((gains > 0).sum())} of them.",
        mistakes=[
            (
                unpaired,
                f"that is {better}'s worst accuracy minus {worse}'s worst, and those come from different seeds "
                "(unpaired). Subtract seed by seed first, then take the smallest difference.",
            ),
            (
                gains.mean(),
                "that is the mean gain, which the table's two means already give; the question asks for "
                "the smallest of the per-seed differences.",
            ),
            (gains.max(), "that is the largest per-seed gain; the question asks for the smallest."),
            (expected / 100, "give the gain in percentage points (e.g. 7.5), not as a fraction."),
            (-expected, f"the sign: subtract {worse} from {better}, seed by seed."),
            (-gains.max(), f"the sign: subtract {worse} from {better}, seed by seed, then take the smallest."),
        ],
        otherwise=f"at {budget}, subtract {worse} from {better} seed by seed (the rows of one seed trained on "
        "the same digits), then take the smallest of the differences.",
        tolerance=TOLERANCE,
        expects=A_NUMBER,
    )


def check_amortised_flops(answer: object, pretraining_flops: float, task_flops: float, tasks: int) -> bool:
    """FLOPs charged to one task when pretraining is shared by `tasks` tasks: task + pretraining / tasks."""
    expected = task_flops + pretraining_flops / tasks
    return numeric_check(
        answer,
        expected,
        what="the cost per task in FLOPs",
        right=f"{task_flops:.3g} + {pretraining_flops:.3g} / {tasks} = {expected:.3g} FLOPs per task.",
        mistakes=[
            (
                task_flops + pretraining_flops,
                f"that charges the whole pretraining to one task; it is shared by {tasks}.",
            ),
            (
                (task_flops + pretraining_flops) / tasks,
                "each task still pays its own training in full; only the pretraining is shared.",
            ),
        ],
        otherwise="add the task's own training FLOPs to its share of the pretraining.",
        tolerance=TOLERANCE,
        expects=A_NUMBER,
    )


@function_exercise("paired_interval(a, b)")
def check_paired_interval(function: object) -> bool:
    """The learner's paired_interval(a, b): mean of a - b with a 95% t-interval, over paired seeds."""
    from scipy import stats  # what the exercise asks the learner to use; a half-second import, so only here

    generator = np.random.default_rng(0)
    a = 0.7 + 0.1 * generator.standard_normal(8)
    b = a - 0.03 + 0.01 * generator.standard_normal(8)  # b tracks a seed by seed: pairing matters
    d = a - b
    half = stats.t.ppf(0.975, len(d) - 1) * d.std(ddof=1) / np.sqrt(len(d))
    expected = (d.mean(), d.mean() - half, d.mean() + half)
    result, problem = run_learner(function, a.copy(), b.copy())
    if problem:
        return report(False, f"paired_interval(a, b): {problem}", _PAIRED_HINT)
    try:
        mean, low, high = (float(x) for x in result)
    except (TypeError, ValueError):
        return report(False, f"paired_interval(a, b) returned {result!r}.", "return three numbers: (mean, low, high).")
    if np.allclose((mean, low, high), expected, rtol=1e-6, atol=1e-9):
        return report(True, f"mean {mean:+.4f}, 95% interval [{low:+.4f}, {high:+.4f}] on the check's 8 seeds.")
    if not np.isclose(mean, expected[0]):
        return report(False, f"{mean:.4g} is not the mean difference.", "subtract b from a seed by seed: a - b.")
    width, right_width = high - low, expected[2] - expected[1]
    unpaired = 2 * stats.t.ppf(0.975, 2 * len(a) - 2) * np.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))
    if np.isclose(width, unpaired, rtol=0.05):
        return report(False, "that interval treats a and b as unpaired.", "work on the differences a - b alone.")
    if np.isclose(width, right_width * 1.96 / stats.t.ppf(0.975, len(d) - 1), rtol=1e-3):
        return report(False, "1.96 is for many seeds.", f"with {len(d)} seeds use the t-distribution: stats.t.ppf.")
    if np.isclose(width, right_width * np.sqrt((len(d) - 1) / len(d)), rtol=1e-3):
        return report(False, "the spread is a little too small.", "the sample standard deviation divides by n - 1.")
    return report(False, f"[{low:.4g}, {high:.4g}] is not the 95% interval.", _PAIRED_HINT)


_PAIRED_HINT = (
    "work on the differences a - b: their mean, and on each side of it the t-quantile (0.975, n - 1 degrees of "
    "freedom) times their standard deviation (ddof=1) over the square root of n."
)
