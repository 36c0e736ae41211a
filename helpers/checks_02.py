"""Notebook 02's exercise checks: epochs, labels to reach a target, choosing a setting.

On the skeleton of helpers.checks: each prints "Correct: ..." or "Not yet: ... Hint: ..." and returns
True or False.
"""

from __future__ import annotations

import pandas as pd

from helpers.checks import (
    A_NUMBER,
    TOLERANCE,
    as_number,
    function_exercise,
    no_answer,
    numeric_check,
    report,
    run_learner,
)
from helpers.data import ALL, label_text
from helpers.trials import GRIDS, knob


def check_epochs(answer: object, steps: int, batch_size: int, num_images: int) -> bool:
    """How many passes over the training images do `steps` steps make? steps x min(batch, N) / N."""
    per_step = min(batch_size, num_images)
    expected = steps * per_step / num_images
    too_big = f"a batch cannot hold more images than there are: with {num_images} images each step uses {per_step}."
    per_epoch = "that is the number of steps one epoch takes. Divide the images seen (steps x batch) by the images."
    return numeric_check(
        answer,
        expected,
        what="the number of passes",
        right=f"{steps} steps x {per_step} images / {num_images} images = {expected:g} passes (epochs): "
        f"each training image is seen {expected:g} times.",
        mistakes=[
            (steps * batch_size / num_images, too_big),
            (steps, "that is the number of steps. An epoch is one pass over all the training images."),
            (num_images / per_step, per_epoch),
        ],
        otherwise="images seen = steps x images per step; divide by the number of training images.",
        tolerance=TOLERANCE,
        expects=A_NUMBER,
    )


def labels_to_reach(summary: pd.DataFrame, approach: str, target: float) -> int | None:
    """The smallest label budget at which `approach`'s mean test accuracy reaches `target`, or None."""
    rows = summary[summary["approach"] == approach].sort_values("train_images")
    reached = rows[rows["accuracy"] >= target]
    return None if reached.empty else int(reached.iloc[0]["labels_per_class"])


def check_labels_to_reach(answer: object, summary: pd.DataFrame, approach: str, target: float) -> bool:
    """The fewest labels per class with which `approach` reaches `target` mean test accuracy (ALL, 0, for all)."""
    expected = labels_to_reach(summary, approach, target)
    if answer is ...:
        return no_answer()
    if expected is None:  # no budget gets there: None is the answer
        return report(
            answer is None,
            f"{approach} never reaches {target:.0%} in this sweep.",
            "answer None when no budget in the table gets there.",
        )
    if answer is None:
        return report(False, f"{approach} does reach {target:.0%} in this sweep.", "find the first row that does.")
    accuracy = summary[summary["approach"] == approach].set_index("labels_per_class")["accuracy"]

    def hint(value: float) -> str:
        if value in accuracy.index and accuracy[value] >= target:
            return "that budget gets there, but a smaller one does too: look for the first row that does."
        if value in accuracy.index:
            mean = accuracy[value]
            return f"at {label_text(int(value))} labels per class the mean is {mean:.1%}, still under {target:.0%}."
        budgets = [label_text(n) for n in accuracy.index]
        return f"read the '{approach}' rows of the summary table; the sweep has budgets {budgets}."

    return numeric_check(
        answer,
        expected,
        what=f"the smallest budget that reaches {target:.0%}",
        right=f"{approach} first reaches {target:.0%} (mean over seeds) with {label_text(expected)} labels per class.",
        otherwise=hint,
        expects=f"a whole number of labels per class ({ALL} for all of them), or None if no budget gets there",
    )


@function_exercise("choose_setting(rows, knob)")
def check_choose_setting(function: object, dev: pd.DataFrame) -> bool:
    """The learner's choose_setting(rows, knob): the setting with the best mean accuracy over the development
    seeds, the first in the grid on a tie; tried on every approach and budget of the development sweep."""
    for (approach, n), rows in dev.groupby(["approach", "labels_per_class"], sort=False):
        name = knob(approach)
        means = rows.groupby(name, sort=False)["test_acc"].mean()
        order = [v for v in GRIDS[approach][name] if v in means.index]
        expected = max(order, key=lambda v: means[v])
        result, problem = run_learner(function, rows.copy(), name)
        if problem:
            return report(False, f"choose_setting(rows, {name!r}): {problem}", _CHOOSE_HINT)
        if result is None:
            return report(False, "choose_setting returned None.", "return the chosen setting: `return ...`.")
        if result != expected:
            best_single = rows.loc[rows["test_acc"].idxmax(), name]
            hint = (
                "that is the best single run; average over the seeds first."
                if result == best_single and best_single != expected
                else _CHOOSE_HINT
            )
            label, shown = label_text(int(n)), f"{result:g}" if as_number(result) is not None else repr(result)
            return report(False, f"{approach} at {label} label(s) per class: {shown}, not {expected:g}.", hint)
    return report(True, "the best mean over the development seeds, for every approach and budget.")


_CHOOSE_HINT = "group the rows by the setting, take the mean test_acc of each, and return the setting with the largest."


@function_exercise("labels_to_reach(summary, approach, target)")
def check_labels_to_reach_function(function: object, summary: pd.DataFrame) -> bool:
    """The learner's labels_to_reach(summary, approach, target): the first budget whose mean reaches the target
    (ALL, 0, for the whole pool; None if none does), tried on every approach at several targets."""
    for approach in dict.fromkeys(summary["approach"]):
        for target in (0.5, 0.7, 0.8, 0.9, 0.95, 0.999):
            expected = labels_to_reach(summary, approach, target)
            result, problem = run_learner(function, summary.copy(), approach, target)
            if problem:
                return report(False, f"labels_to_reach(summary, {approach!r}, {target}): {problem}", _REACH_HINT)
            if result != expected or (result is None) != (expected is None):
                shown = "None" if expected is None else label_text(expected)
                hint = (
                    "no budget gets there: return None."
                    if expected is None
                    else "the budgets are not in order in the table: sort by train_images (ALL, 0, is the largest)."
                    if result == 0 or result == summary["labels_per_class"].min()
                    else _REACH_HINT
                )
                return report(False, f"{approach} at {target:.1%}: {result!r}, not {shown}.", hint)
    return report(True, "the first budget that reaches each target, for every approach, and None where none does.")


_REACH_HINT = (
    "keep the approach's rows, sort them by train_images, and return labels_per_class of the first row whose "
    "accuracy is at least the target; None if there is none."
)
