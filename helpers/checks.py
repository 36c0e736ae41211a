"""Exercise checks: each says whether an answer is right and, when it is not, what is likely wrong.

A check never raises. It prints "Correct: ..." or "Not yet: ... Hint: ..." and returns
True or False, so a notebook cell can call it and the test run can assert on it.

Every numeric check follows one skeleton (`_check`): it states the expected value, the
likely mistakes with a hint for each, and a hint for anything else. One tolerance rule
(`_close`): counts (parameters, FLOPs, sides, label budgets) must be exact; computed
quantities (epochs, learning rates, gaps, amortised FLOPs) may be off by TOLERANCE, 1% of
the expected value, so three significant figures are enough. An answer within 10% of a
computed quantity, but not within 1%, is told that it is close and was rounded too early.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import pandas as pd
from torch import nn

from helpers.data import ALL, label_text
from helpers.models import CNN, STANDARD
from helpers.transfer import frozen_blocks

EXACT = 0.0  # counts have one right answer
TOLERANCE = 0.01  # computed quantities: within 1% of the expected value
CLOSE = 0.1  # within 10%: right idea, rounded too early

A_WHOLE_NUMBER = "a whole number, e.g. `answer = 123`"
A_NUMBER = "a number, e.g. `answer = 1.5` or `answer = 3e-4`"


# --- the skeleton every check uses ------------------------------------------------------------


def _report(correct: bool, message: str, hint: str = "") -> bool:
    print(f"Correct: {message}" if correct else f"Not yet: {message} Hint: {hint}")
    return correct


def _no_answer() -> bool:
    return _report(False, "there is no answer yet.", "replace the `...` with your answer.")


def _wrong_type(answer: object, expects: str) -> bool:
    return _report(False, f"{answer!r} is a {type(answer).__name__}.", f"the answer is {expects}.")


def _as_number(answer: object) -> float | None:
    """The answer as a float: ints, floats, NumPy and 0-d torch numbers; None for anything else (str, bool, list)."""
    if isinstance(answer, bool) or not hasattr(type(answer), "__float__"):
        return None
    try:
        return float(answer)
    except (TypeError, ValueError):  # e.g. a tensor with more than one element
        return None


def _close(value: float, expected: float, tolerance: float) -> bool:
    """The one rule: right when within `tolerance` x |expected| (EXACT: equal)."""
    return abs(value - expected) <= tolerance * abs(expected) + 1e-12 * abs(expected)  # + float rounding


def _show(value: float) -> str:
    return f"{int(value):,}" if value.is_integer() and abs(value) < 1e15 else f"{value:.4g}"


def _check(
    answer: object,
    expected: float,
    what: str,
    right: str,
    mistakes: Iterable[tuple[float, str]] = (),
    otherwise: str | Callable[[float], str] = "",
    tolerance: float = EXACT,
    expects: str = A_WHOLE_NUMBER,
) -> bool:
    """Read the answer, compare it with `expected`, print `right` or the hint of the likeliest mistake.

    what: what the answer should be ("the number of parameters in block1"), for "X is not <what>".
    mistakes: (the value a likely mistake gives, its hint), tried in order with the same tolerance.
    otherwise: the hint for any other wrong answer, or a function of the answer that returns it.
    """
    if answer is ...:
        return _no_answer()
    value = _as_number(answer)
    if value is None:
        return _wrong_type(answer, expects)
    if _close(value, expected, tolerance):
        return _report(True, right)
    wrong = f"{_show(value)} is not {what}."
    for mistake, hint in mistakes:
        if _close(value, mistake, tolerance):
            return _report(False, wrong, hint)
    if tolerance > EXACT and _close(value, expected, CLOSE):
        return _report(
            False, wrong, f"close, but not within {tolerance:.0%}: round less, or let Python do the arithmetic."
        )
    return _report(False, wrong, otherwise(value) if callable(otherwise) else otherwise)


# --- notebook 01 --------------------------------------------------------------------------------


def check_parameter_count(answer: object, model: CNN | None = None) -> bool:
    """How many parameters does block1 hold? (Standard CNN: 1*32*3*3 conv weights + 32 + 32 BatchNorm = 352.)"""
    block = (model or CNN(STANDARD)).backbone.block1
    conv, bn = block.conv, block.bn
    conv_weights = conv.weight.numel()  # C_out * C_in * 3 * 3; bias=False
    expected = sum(p.numel() for p in block.parameters())
    conv_only = "you counted the convolution's weights. BatchNorm also learns a scale and a shift per channel."
    no_bias = "this convolution has no bias (bias=False): BatchNorm's shift right after it does that job."
    buffers = "BatchNorm's running mean and variance are buffers, updated by averaging, not parameters."
    return _check(
        answer,
        expected,
        what="the number of parameters in block1",
        right=f"block1 holds {expected:,} parameters: {conv_weights} conv weights "
        f"+ {bn.num_features} BatchNorm scales + {bn.num_features} BatchNorm shifts.",
        mistakes=[
            (conv_weights, conv_only),
            (conv_weights + conv.out_channels, no_bias),
            (expected + conv.out_channels, no_bias),
            (expected + 2 * bn.num_features, buffers),
        ],
        otherwise=f"a 3x3 conv from {conv.in_channels} channel(s) to {conv.out_channels} has "
        f"in x out x 3 x 3 weights; then add BatchNorm's two learned values per channel.",
    )


def check_output_side(answer: object, depth: int = STANDARD.depth, side: int = 28) -> bool:
    """The image side after `depth` blocks: each 2x2 max-pool halves it, rounding down (28 -> 14 -> 7 -> 3)."""
    sides = [side]
    for _ in range(depth):
        sides.append(sides[-1] // 2)
    return _check(
        answer,
        sides[-1],
        what=f"the side after {depth} blocks",
        right=f"{' -> '.join(map(str, sides))}. The 3x3 convolutions keep the side (padding=1); each pool halves it.",
        mistakes=[
            (side / 2**depth, "max-pooling cannot return half a pixel: 7 // 2 drops the odd last row and column."),
            (side, "the convolutions keep the side (padding=1), but every block ends with a 2x2 max-pool."),
            (sides[-1] + 1, "PyTorch's MaxPool2d rounds down, not up, when the side is odd."),
        ],
        otherwise=f"halve {side} once per block, {depth} times, rounding down each time.",
    )


def check_flops_block1(answer: object, model: CNN | None = None, side: int = 28) -> bool:
    """Forward FLOPs of block1's convolution on one image: 2 x side^2 x C_out x C_in x 3 x 3 (451,584)."""
    conv: nn.Conv2d = (model or CNN(STANDARD)).backbone.block1.conv
    per_output = conv.in_channels * conv.kernel_size[0] * conv.kernel_size[1]  # multiply-adds per output value
    macs = side * side * conv.out_channels * per_output
    expected = 2 * macs
    return _check(
        answer,
        expected,
        what="the forward FLOPs of block1's convolution",
        right=f"{side}x{side} positions x {conv.out_channels} filters x {per_output} multiply-adds x 2 "
        f"= {expected:,} FLOPs.",
        mistakes=[
            (macs, "that counts multiply-adds. A multiply-add is two floating-point operations."),
            (expected // 4, f"the convolution runs before the pool, on the full {side}x{side} image."),
            (macs // 4, f"the convolution runs before the pool, on the full {side}x{side} image."),
            (2 * conv.out_channels * per_output, f"the filters slide over every one of the {side}x{side} positions."),
        ],
        otherwise="count multiply-adds per output value (C_in x 3 x 3), times output values (side x side x C_out), "
        "times 2.",
    )


# --- notebook 02 --------------------------------------------------------------------------------


def check_epochs(answer: object, steps: int, batch_size: int, num_images: int) -> bool:
    """How many passes over the training images do `steps` steps make? steps x min(batch, N) / N."""
    per_step = min(batch_size, num_images)
    expected = steps * per_step / num_images
    too_big = f"a batch cannot hold more images than there are: with {num_images} images each step uses {per_step}."
    per_epoch = "that is the number of steps one epoch takes. Divide the images seen (steps x batch) by the images."
    return _check(
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
        return _no_answer()
    if expected is None:  # no budget gets there: None is the answer
        return _report(
            answer is None,
            f"{approach} never reaches {target:.0%} in this sweep.",
            "answer None when no budget in the table gets there.",
        )
    if answer is None:
        return _report(False, f"{approach} does reach {target:.0%} in this sweep.", "find the first row that does.")
    accuracy = summary[summary["approach"] == approach].set_index("labels_per_class")["accuracy"]

    def hint(value: float) -> str:
        if value in accuracy.index and accuracy[value] >= target:
            return "that budget gets there, but a smaller one does too: look for the first row that does."
        if value in accuracy.index:
            mean = accuracy[value]
            return f"at {label_text(int(value))} labels per class the mean is {mean:.1%}, still under {target:.0%}."
        budgets = [label_text(n) for n in accuracy.index]
        return f"read the '{approach}' rows of the summary table; the sweep has budgets {budgets}."

    return _check(
        answer,
        expected,
        what=f"the smallest budget that reaches {target:.0%}",
        right=f"{approach} first reaches {target:.0%} (mean over seeds) with {label_text(expected)} labels per class.",
        otherwise=hint,
        expects=f"a whole number of labels per class ({ALL} for all of them), or None if no budget gets there",
    )


# --- notebook 03 --------------------------------------------------------------------------------


def check_head_parameters(answer: object, feature_dim: int = STANDARD.feature_dim, num_classes: int = 10) -> bool:
    """Trainable parameters of a linear head on frozen features: feature_dim x classes + classes."""
    expected = feature_dim * num_classes + num_classes

    def hint(value: float) -> str:
        if value > 10 * expected:
            return "the frozen backbone's parameters do not train; count only the head's."
        return (
            f"the head maps {feature_dim} features to {num_classes} scores: a weight per pair, plus a bias per class."
        )

    return _check(
        answer,
        expected,
        what="the number of trainable parameters",
        right=f"{feature_dim} x {num_classes} weights + {num_classes} biases = {expected:,}: "
        f"all that trains when the backbone is frozen.",
        mistakes=[(feature_dim * num_classes, "nn.Linear also learns one bias per output class.")],
        otherwise=hint,
    )


def check_frozen_backward_flops(
    answer: object, batch_size: int, feature_dim: int = STANDARD.feature_dim, num_classes: int = 10
) -> bool:
    """Backward FLOPs of one step with a frozen backbone: only the head's weight gradient, 2 x B x D x K."""
    expected = 2 * batch_size * feature_dim * num_classes
    return _check(
        answer,
        expected,
        what="the backward FLOPs with a frozen backbone",
        right=f"2 x {batch_size} images x {feature_dim} features x {num_classes} classes = {expected:,}. "
        f"Nothing flows back into the frozen backbone.",
        mistakes=[
            (expected // 2, "a multiply-add counts as 2 FLOPs."),
            (2 * expected, "the gradient for the head's *input* is not needed: nothing below the head trains."),
            (0, "the head itself trains, so its weight gradient must be computed."),
        ],
        otherwise="the head's weight gradient is features^T (D x B) times the logits' gradient (B x K): "
        "a matrix product.",
    )


# --- notebook 04 --------------------------------------------------------------------------------


def check_discriminative_lr(
    answer: object, head_lr: float, decay: float, block: str, block_names: list[str] | None = None
) -> bool:
    """The learning rate of `block` when each block below the head gets `decay` times the one above."""
    names = list(block_names or [f"block{i + 1}" for i in range(STANDARD.depth)])
    if block not in names:
        raise ValueError(f"block must be one of {names}, not {block!r}.")
    steps_down = len(names) - names.index(block)
    expected = head_lr * decay**steps_down
    count_again = f"count the steps down from the head: {' <- '.join(['head', *reversed(names)])}."
    return _check(
        answer,
        expected,
        what=f"{block}'s learning rate",
        right=f"{head_lr:g} x {decay:g}^{steps_down} = {expected:.3g}: the lower the block, the gentler its updates.",
        mistakes=[
            (head_lr * decay ** (steps_down - 1), count_again),
            (head_lr * decay ** (steps_down + 1), count_again),
            (head_lr * decay * steps_down, "the decay multiplies once per block: use a power, not a product."),
        ],
        otherwise="start at the head's rate and multiply by the decay once for each block you go down.",
        tolerance=TOLERANCE,
        expects=A_NUMBER,
    )


def check_frozen_blocks(answer: object, model: CNN) -> bool:
    """Which backbone blocks are frozen right now? Compared as a set of names with the model itself."""
    expected = frozen_blocks(model)
    if answer is ...:
        return _no_answer()
    if not isinstance(answer, (list, tuple, set)):
        return _wrong_type(answer, "a list of block names, e.g. ['block1', 'block2']")
    given = sorted(set(map(str, answer)))
    if given == sorted(expected):
        return _report(True, f"frozen now: {expected or 'nothing'}; training: the rest and the head.")
    missing, extra = sorted(set(expected) - set(given)), sorted(set(given) - set(expected))
    hint = f"still frozen but missing from your answer: {missing}. " if missing else ""
    hint += f"already unfrozen: {extra}. " if extra else ""
    return _report(
        False,
        f"{given} is not the set of frozen blocks.",
        hint + "Gradual unfreezing opens from the top (block3) down.",
    )


# --- notebook 05 --------------------------------------------------------------------------------


def check_gap(
    answer: object, summary: pd.DataFrame, labels_per_class: int, better: str = "fine-tune", worse: str = "from scratch"
) -> bool:
    """Accuracy points `better` gains over `worse` at one label budget (mean over seeds)."""
    accuracy = summary[summary["labels_per_class"] == labels_per_class].set_index("approach")["accuracy"]
    expected = 100 * (accuracy[better] - accuracy[worse])
    return _check(
        answer,
        expected,
        what=f"the gap at {label_text(labels_per_class)} label(s) per class",
        right=f"{better} {accuracy[better]:.1%} - {worse} {accuracy[worse]:.1%} = {expected:+.1f} points.",
        mistakes=[
            (expected / 100, "give the gap in percentage points (e.g. 8.2), not as a fraction."),
            (-expected, f"the sign: subtract {worse} from {better}."),
        ],
        otherwise=f"read both means at {label_text(labels_per_class)} label(s) per class and subtract.",
        tolerance=TOLERANCE,
        expects=A_NUMBER,
    )


def check_amortised_flops(answer: object, pretraining_flops: float, task_flops: float, tasks: int) -> bool:
    """FLOPs charged to one task when pretraining is shared by `tasks` tasks: task + pretraining / tasks."""
    expected = task_flops + pretraining_flops / tasks
    return _check(
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
