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

import copy
import math
from collections.abc import Callable, Iterable
from dataclasses import replace

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from scipy import stats
from torch import nn

from helpers.core import Dataset
from helpers.data import ALL, label_text, to_float
from helpers.gpt import GPT, GPTConfig, make_gpt
from helpers.language import next_token_loss
from helpers.models import CNN, STANDARD
from helpers.text import VOCAB_SIZE
from helpers.train import evaluate
from helpers.transfer import frozen_blocks
from helpers.trials import GRIDS, knob

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
    with_bias = expected + batch_size * num_classes  # + the bias gradient: the scores' gradient summed over the batch
    if _as_number(answer) == with_bias:
        return _report(
            True,
            f"{with_bias:,}: the weight gradient's {expected:,} plus the bias gradient's {batch_size * num_classes:,} "
            f"additions. PyTorch's counter, like most, counts the matrix product only: {expected:,}.",
        )
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
    # Say how many are wrong, never which: the answer is for the learner to read off the model.
    hint = f"{len(missing)} frozen block(s) are missing from your answer. " if missing else ""
    hint += f"{len(extra)} block(s) in your answer already train again. " if extra else ""
    return _report(
        False,
        f"{given} is not the set of frozen blocks.",
        hint + "Gradual unfreezing opens from the top (block3) down; a block is frozen while none of its "
        "parameters has requires_grad.",
    )


# --- notebook 05 --------------------------------------------------------------------------------


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
    return _check(
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


# --- notebook 06 --------------------------------------------------------------------------------


def _two_models(num_classes: int = 19) -> tuple[CNN, CNN]:
    """A 'base' with non-default BatchNorm statistics and a fresh 'target', different weights throughout."""
    config = replace(STANDARD, num_classes=num_classes)
    torch.manual_seed(1)
    source = CNN(config)
    for module in source.modules():
        if isinstance(module, nn.BatchNorm2d):  # as after training: statistics far from (0, 1)
            module.running_mean.uniform_(-1, 1)
            module.running_var.uniform_(0.5, 2)
    torch.manual_seed(2)
    return source, CNN(config)


def _copy_problem(function: Callable, blocks: int, freeze: bool) -> str:
    """What is wrong with function(source, target, blocks, freeze), or "" if nothing."""
    source, target = _two_models()
    before_source = {k: v.clone() for k, v in source.state_dict().items()}
    before_target = {k: v.clone() for k, v in target.state_dict().items()}
    result = function(source, target, blocks, freeze)
    model = target if result is None else result
    if not isinstance(model, CNN):
        return f"it returned a {type(result).__name__}; return the target model."
    copied = set(source.block_names()[:blocks])
    state = model.state_dict()
    if all(torch.equal(value, before_target[key]) for key, value in state.items()):
        return "nothing was copied yet: the target is as it was. Write the loop over the first blocks."
    for key, value in state.items():
        block = key.split(".")[1] if key.startswith("backbone.") else "head"
        wanted = before_source[key] if block in copied else before_target[key]
        if not torch.equal(value, wanted):
            if block in copied and key.endswith(("running_mean", "running_var")):
                return f"{key} was not copied: BatchNorm's running statistics travel with the block (load_state_dict)."
            if block in copied:
                return f"{key} does not hold the source's values: copy the first {blocks} block(s)."
            return f"{key} changed, but {block} is not among the first {blocks} block(s): leave it as it was."
    if any(not torch.equal(v, before_source[k]) for k, v in source.state_dict().items()):
        return "the source model changed: copy from it, never into it."
    shared = {p.data_ptr() for p in source.parameters()} & {p.data_ptr() for p in model.parameters()}
    if shared:
        return "the target shares tensors with the source, so training one would change the other: copy the values."
    for name in model.block_names():
        trains = [p.requires_grad for p in model.backbone.get_submodule(name).parameters()]
        should_train = not (freeze and name in copied)
        if any(t != should_train for t in trains):
            state_word = "train" if should_train else "be frozen (requires_grad_(False))"
            return f"with blocks={blocks}, freeze={freeze}, {name} should {state_word}."
    if not all(p.requires_grad for p in model.head.parameters()):
        return "the head must train: it is the new part."
    return ""


def check_copy_blocks(function: object) -> bool:
    """The learner's copy_first_blocks(source, target, blocks, freeze) on fresh models, four ways."""
    if function is ...:
        return _no_answer()
    if not callable(function):
        return _wrong_type(function, "a function, e.g. `def copy_first_blocks(source, target, blocks, freeze): ...`")
    for blocks, freeze in ((1, True), (2, False), (3, True), (2, True)):
        try:
            problem = _copy_problem(function, blocks, freeze)
        except Exception as error:  # the learner's code may fail in any way: say how, never raise
            problem = f"it raised {type(error).__name__}: {error}"
        if problem:
            return _report(
                False, f"copy_first_blocks(source, target, {blocks}, freeze={freeze}): {problem}", _COPY_HINT
            )
    return _report(
        True, "the first n blocks arrive with their BatchNorm statistics, frozen or not; the rest stay fresh."
    )


_COPY_HINT = (
    "a block's state_dict() holds its weights and its BatchNorm statistics; "
    "a frozen parameter has requires_grad False (helpers.transfer.freeze shows one way)."
)


def check_prediction(
    prediction: object, measured: list[str], verdicts: dict[tuple[str, str], str] | None = None
) -> bool:
    """A predicted order (best first) against the measured one.

    With `verdicts` ({(a, b): 'better', 'worse' or 'unresolved'}: a against b, seed by seed), only the pairs
    the seeds resolve are scored, and True means the prediction reverses none of them; without, every
    place counts.
    """
    if prediction is ...:
        return _no_answer()
    options = sorted(measured)
    if not isinstance(prediction, (list, tuple)) or sorted(map(str, prediction)) != options:
        return _wrong_type(prediction, f"a list that orders all of {options}, best first")
    # A prediction is not an answer to get right: say what was measured, and how far the guess was.
    if verdicts is None:
        right = [p for p, m in zip(prediction, measured) if p == m]
        placed = f"You placed {len(right)} of {len(measured)} where they landed."
        print(f"Measured, best first: {' > '.join(measured)}. {placed}")
        return len(right) == len(measured)
    rank = {name: place for place, name in enumerate(prediction)}
    settled = [
        (a, b) if verdict == "better" else (b, a) for (a, b), verdict in verdicts.items() if verdict != "unresolved"
    ]
    reversed_ = [(ahead, behind) for ahead, behind in settled if rank[ahead] > rank[behind]]
    print(f"Measured means, best first: {' > '.join(measured)}.")
    if not settled:
        print(
            f"Seed by seed, none of the {len(verdicts)} pairs is resolved: every 95% interval of a difference "
            "includes zero. This order of the means is within noise, so no order, yours included, can be scored "
            "right or wrong against it."
        )
        return True
    pairs = "; ".join(f"{ahead} ahead of {behind}" for ahead, behind in settled)
    verdict = (
        "your order agrees with all of them"
        if not reversed_
        else "your order puts " + "; ".join(f"{behind} above {ahead}" for ahead, behind in reversed_)
    )
    within = len(verdicts) - len(settled)
    others = "The other pair is" if within == 1 else f"The other {within} pairs are"
    noise = f" {others} within noise: either order fits the seeds." if within else ""
    resolved_ = f"{len(settled)} of the {len(verdicts)} pairs {'is' if len(settled) == 1 else 'are'} resolved"
    print(f"Seed by seed, {resolved_} ({pairs}): {verdict}.{noise}")
    return not reversed_


# --- coding exercises of 01-05 -------------------------------------------------------------------


def _tiny_classifier() -> tuple[nn.Module, Dataset]:
    """A small classifier with BatchNorm whose running statistics are unlike any batch's, so its answers in
    train and eval mode differ; and 40 images, labelled with its eval-mode answers on 30 of them."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.BatchNorm1d(28 * 28), nn.Linear(28 * 28, 4))  # (B, 1, 28, 28) -> (B, 4)
    model[1].running_mean.uniform_(0, 1)
    model[1].running_var.uniform_(0.01, 0.1)
    images = (torch.rand(40, 28, 28, generator=torch.Generator().manual_seed(0)) * 255).to(torch.uint8)
    model.eval()
    with torch.no_grad():
        labels = model(to_float(images)).argmax(1)
    labels[30:] = (labels[30:] + 1) % 4
    return model, Dataset(images, labels, ("a", "b", "c", "d"))


def check_accuracy_function(function: object) -> bool:
    """The learner's accuracy(model, dataset): eval mode, no gradients, a fraction between 0 and 1."""
    if function is ...:
        return _no_answer()
    if not callable(function):
        return _wrong_type(function, "a function, e.g. `def accuracy(model, dataset): ...`")
    model, dataset = _tiny_classifier()
    expected = evaluate(model, dataset)
    model.train()  # as after training: the function must switch to eval mode itself
    with torch.no_grad():
        in_train_mode = (model(to_float(dataset.images)).argmax(1) == dataset.labels).float().mean().item()
    model.train()
    try:
        value = function(model, dataset)
    except Exception as error:  # the learner's code may fail in any way: say how, never raise
        return _report(False, f"accuracy(model, dataset) raised {type(error).__name__}: {error}", _ACCURACY_HINT)
    number = _as_number(value)
    if value is None or number is None:
        return _report(False, f"accuracy(model, dataset) returned {value!r}.", "return a number: `return ...`.")
    if abs(number - expected) < 1e-6:
        return _report(True, f"{number:.1%} on the check's 40 images, as helpers.train.evaluate says.")
    if abs(number - expected * len(dataset)) < 1e-6:
        return _report(False, f"{number:g} is a count.", "divide by the number of images: a fraction, 0 to 1.")
    if abs(number - in_train_mode) < 1e-6:
        return _report(
            False,
            f"{number:.1%} is the accuracy in training mode.",
            "call model.eval() first: in training mode BatchNorm uses the batch's own statistics.",
        )
    return _report(False, f"{number:.4g} is not the accuracy.", _ACCURACY_HINT)


_ACCURACY_HINT = (
    "model.eval(); under torch.no_grad(), logits = model(data.to_float(dataset.images)); "
    "compare logits.argmax(1) with dataset.labels and take the mean."
)


def _run_learner(function: Callable, *args) -> tuple[object, str]:
    """(result, "") or (None, what went wrong): a learner's function never makes a check raise."""
    try:
        return function(*args), ""
    except Exception as error:
        return None, f"it raised {type(error).__name__}: {error}"


def check_paired_interval(function: object) -> bool:
    """The learner's paired_interval(a, b): mean of a - b with a 95% t-interval, over paired seeds."""
    if function is ...:
        return _no_answer()
    if not callable(function):
        return _wrong_type(function, "a function, e.g. `def paired_interval(a, b): ...`")
    generator = np.random.default_rng(0)
    a = 0.7 + 0.1 * generator.standard_normal(8)
    b = a - 0.03 + 0.01 * generator.standard_normal(8)  # b tracks a seed by seed: pairing matters
    d = a - b
    half = stats.t.ppf(0.975, len(d) - 1) * d.std(ddof=1) / np.sqrt(len(d))
    expected = (d.mean(), d.mean() - half, d.mean() + half)
    result, problem = _run_learner(function, a.copy(), b.copy())
    if problem:
        return _report(False, f"paired_interval(a, b): {problem}", _PAIRED_HINT)
    try:
        mean, low, high = (float(x) for x in result)
    except (TypeError, ValueError):
        return _report(False, f"paired_interval(a, b) returned {result!r}.", "return three numbers: (mean, low, high).")
    if np.allclose((mean, low, high), expected, rtol=1e-6, atol=1e-9):
        return _report(True, f"mean {mean:+.4f}, 95% interval [{low:+.4f}, {high:+.4f}] on the check's 8 seeds.")
    if not np.isclose(mean, expected[0]):
        return _report(False, f"{mean:.4g} is not the mean difference.", "subtract b from a seed by seed: a - b.")
    width, right_width = high - low, expected[2] - expected[1]
    unpaired = 2 * stats.t.ppf(0.975, 2 * len(a) - 2) * np.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))
    if np.isclose(width, unpaired, rtol=0.05):
        return _report(False, "that interval treats a and b as unpaired.", "work on the differences a - b alone.")
    if np.isclose(width, right_width * 1.96 / stats.t.ppf(0.975, len(d) - 1), rtol=1e-3):
        return _report(False, "1.96 is for many seeds.", f"with {len(d)} seeds use the t-distribution: stats.t.ppf.")
    if np.isclose(width, right_width * np.sqrt((len(d) - 1) / len(d)), rtol=1e-3):
        return _report(False, "the spread is a little too small.", "the sample standard deviation divides by n - 1.")
    return _report(False, f"[{low:.4g}, {high:.4g}] is not the 95% interval.", _PAIRED_HINT)


_PAIRED_HINT = (
    "work on the differences a - b: their mean, and on each side of it the t-quantile (0.975, n - 1 degrees of "
    "freedom) times their standard deviation (ddof=1) over the square root of n."
)


def check_block2_features(function: object) -> bool:
    """The learner's block2_features(model, images): (N, C) channel averages of block2's maps, eval mode."""
    if function is ...:
        return _no_answer()
    if not callable(function):
        return _wrong_type(function, "a function, e.g. `def block2_features(model, images): ...`")
    torch.manual_seed(0)
    model = CNN(STANDARD)
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):  # as after training, so that eval and train modes differ
            module.running_mean.uniform_(-1, 1)
            module.running_var.uniform_(0.5, 2)
    images = (torch.rand(12, 28, 28, generator=torch.Generator().manual_seed(0)) * 255).to(torch.uint8)
    model.eval()
    with torch.no_grad():
        maps = model.backbone.block2(model.backbone.block1(to_float(images)))  # (12, 64, 7, 7)
        expected = maps.mean(dim=(2, 3))
        trainee = copy.deepcopy(model).train()  # a copy: a training-mode pass moves the running statistics
        in_train_mode = trainee.backbone.block2(trainee.backbone.block1(to_float(images))).mean(dim=(2, 3))
    model.train()
    result, problem = _run_learner(function, model, images)
    if problem:
        return _report(False, f"block2_features(model, images): {problem}", _BLOCK2_HINT)
    if not isinstance(result, torch.Tensor):
        return _report(False, f"it returned a {type(result).__name__}.", "return a torch tensor of shape (N, 64).")
    result = result.detach().float().cpu()
    if result.shape == maps.shape:
        return _report(False, f"shape {tuple(result.shape)}: still maps.", "average each channel over its 7x7 map.")
    if result.shape != expected.shape:
        hint = _block2_shape_hint(tuple(result.shape), channels=maps.shape[1], side=maps.shape[-1])
        return _report(False, f"shape {tuple(result.shape)}, not {tuple(expected.shape)}.", hint)
    if torch.allclose(result, expected, atol=1e-5):
        return _report(True, "64 numbers per image: what block2 sees, averaged over the map, in eval mode.")
    if torch.allclose(result, in_train_mode, atol=1e-5):
        return _report(False, "those are training-mode features.", "call model.eval() first, as extract_features does.")
    return _report(False, "those are not block2's channel averages.", _BLOCK2_HINT)


def _block2_shape_hint(shape: tuple[int, ...], channels: int, side: int) -> str:
    """What a wrong shape says about the mistake: block2's maps are (N, channels, side, side)."""
    if len(shape) == 2 and shape[1] == channels * side * side:
        return f"that flattens block2's maps ({shape[1]:,} numbers an image); average each {side}x{side} map instead."
    if len(shape) == 3 and shape[1:] == (side, side):
        return "that averages over the channels (dim 1); average over each channel's map instead (dims 2 and 3)."
    if len(shape) > 2 and shape[1] == channels and all(size == 1 for size in shape[2:]):
        return f"averaged, but the map's 1x1 is still there: return shape (N, {channels}), e.g. with .flatten(1)."
    if len(shape) > 2 and shape[1] == channels:
        return f"block2's {channels} channels, but not averaged over the whole map: take the mean over dims 2 and 3."
    if len(shape) >= 2 and shape[1] > channels:
        return f"those are {shape[1]} channels, block3's: stop after block2, which has {channels}."
    if len(shape) >= 2 and shape[1] < channels:
        return f"{shape[1]} channels: that is block1's output. Run block2 on it too."
    return f"return one number per channel of block2 for each image: shape (N, {channels})."


_BLOCK2_HINT = (
    "model.eval(); with torch.no_grad(), x = data.to_float(images), then model.backbone.block1 and .block2 in "
    "turn, then the mean over the last two dimensions (the map's rows and columns)."
)


def check_unfreeze_top(function: object) -> bool:
    """The learner's unfreeze_top(model, k): the top k backbone blocks and the head train, every other block is
    frozen, whatever the model's state before."""
    if function is ...:
        return _no_answer()
    if not callable(function):
        return _wrong_type(function, "a function, e.g. `def unfreeze_top(model, k): ...`")
    for k in (1, 0, 3, 2):
        torch.manual_seed(0)
        model = CNN(STANDARD)
        names = model.block_names()
        for name in names[:1]:  # a state left over from an earlier stage: block1 trains, the rest is frozen
            model.backbone.get_submodule(name).requires_grad_(True)
        for name in names[1:]:
            model.backbone.get_submodule(name).requires_grad_(False)
        result, problem = _run_learner(function, model, k)
        if problem:
            return _report(False, f"unfreeze_top(model, {k}): {problem}", _TOP_HINT)
        model = model if result is None else result
        if not isinstance(model, CNN):
            return _report(False, f"unfreeze_top(model, {k}) returned a {type(model).__name__}.", "return the model.")
        training = [n for n in names if all(p.requires_grad for p in model.backbone.get_submodule(n).parameters())]
        wanted = names[len(names) - k :]
        if not all(p.requires_grad for p in model.head.parameters()):
            return _report(False, f"with k={k} the head is frozen.", "the head always trains: it is new.")
        if training == names[:k] and k not in (0, len(names)):
            return _report(
                False, f"with k={k}, {training} train: the bottom blocks.", "open from the top: block3 first."
            )
        if training != wanted:
            return _report(False, f"with k={k}, these blocks train: {training or 'none'}.", _TOP_HINT)
    return _report(True, "the top k blocks and the head train; the rest is frozen, whatever came before.")


_TOP_HINT = (
    "freeze every block first (an earlier stage may have left some open), then requires_grad_(True) on the last k "
    "of model.block_names(); the head always trains."
)


def check_choose_setting(function: object, dev: pd.DataFrame) -> bool:
    """The learner's choose_setting(rows, knob): the setting with the best mean accuracy over the development
    seeds, the first in the grid on a tie; tried on every approach and budget of the development sweep."""
    if function is ...:
        return _no_answer()
    if not callable(function):
        return _wrong_type(function, "a function, e.g. `def choose_setting(rows, knob): ...`")
    for (approach, n), rows in dev.groupby(["approach", "labels_per_class"], sort=False):
        name = knob(approach)
        means = rows.groupby(name, sort=False)["test_acc"].mean()
        order = [v for v in GRIDS[approach][name] if v in means.index]
        expected = max(order, key=lambda v: means[v])
        result, problem = _run_learner(function, rows.copy(), name)
        if problem:
            return _report(False, f"choose_setting(rows, {name!r}): {problem}", _CHOOSE_HINT)
        if result is None:
            return _report(False, "choose_setting returned None.", "return the chosen setting: `return ...`.")
        if result != expected:
            best_single = rows.loc[rows["test_acc"].idxmax(), name]
            hint = (
                "that is the best single run; average over the seeds first."
                if result == best_single and best_single != expected
                else _CHOOSE_HINT
            )
            label, shown = label_text(int(n)), f"{result:g}" if _as_number(result) is not None else repr(result)
            return _report(False, f"{approach} at {label} label(s) per class: {shown}, not {expected:g}.", hint)
    return _report(True, "the best mean over the development seeds, for every approach and budget.")


_CHOOSE_HINT = "group the rows by the setting, take the mean test_acc of each, and return the setting with the largest."


def check_labels_to_reach_function(function: object, summary: pd.DataFrame) -> bool:
    """The learner's labels_to_reach(summary, approach, target): the first budget whose mean reaches the target
    (ALL, 0, for the whole pool; None if none does), tried on every approach at several targets."""
    if function is ...:
        return _no_answer()
    if not callable(function):
        return _wrong_type(function, "a function, e.g. `def labels_to_reach(summary, approach, target): ...`")
    for approach in dict.fromkeys(summary["approach"]):
        for target in (0.5, 0.7, 0.8, 0.9, 0.95, 0.999):
            expected = labels_to_reach(summary, approach, target)
            result, problem = _run_learner(function, summary.copy(), approach, target)
            if problem:
                return _report(False, f"labels_to_reach(summary, {approach!r}, {target}): {problem}", _REACH_HINT)
            if result != expected or (result is None) != (expected is None):
                shown = "None" if expected is None else label_text(expected)
                hint = (
                    "no budget gets there: return None."
                    if expected is None
                    else "the budgets are not in order in the table: sort by train_images (ALL, 0, is the largest)."
                    if result == 0 or result == summary["labels_per_class"].min()
                    else _REACH_HINT
                )
                return _report(False, f"{approach} at {target:.1%}: {result!r}, not {shown}.", hint)
    return _report(True, "the first budget that reaches each target, for every approach, and None where none does.")


_REACH_HINT = (
    "keep the approach's rows, sort them by train_images, and return labels_per_class of the first row whose "
    "accuracy is at least the target; None if there is none."
)


# --- notebook 07 --------------------------------------------------------------------------------


def check_uniform_loss(answer: object, vocab_size: int = VOCAB_SIZE) -> bool:
    """The loss of a model that knows nothing: every character equally likely, so ln(vocab_size) nats."""
    expected = math.log(vocab_size)
    return _check(
        answer,
        expected,
        what=f"the loss of a uniform guess over {vocab_size} characters",
        right=f"ln {vocab_size} = {expected:.3f} nats per character; a model below it has learned something.",
        mistakes=[
            (math.log2(vocab_size), "that is in bits (log base 2); PyTorch's cross-entropy uses the natural log."),
            (1 / vocab_size, "that is the probability of each character; the loss is minus its logarithm."),
            (vocab_size, "that is the perplexity of the uniform guess; the loss is its natural logarithm."),
        ],
        otherwise="cross-entropy is -ln p(right character), and a uniform guess gives every character p = 1/vocab.",
        tolerance=TOLERANCE,
        expects=A_NUMBER,
    )


def check_lora_parameters(answer: object, in_features: int, out_features: int, rank: int) -> bool:
    """Trainable parameters LoRA adds to one in_features -> out_features linear layer: rank x (in + out)."""
    expected = rank * (in_features + out_features)
    return _check(
        answer,
        expected,
        what=f"the number of LoRA parameters of a {in_features} -> {out_features} layer at rank {rank}",
        right=f"A is {rank} x {in_features} and B is {out_features} x {rank}: {expected:,} numbers, "
        f"{expected / (in_features * out_features):.1%} of the {in_features * out_features:,} weights they adapt.",
        mistakes=[
            (in_features * out_features, "that is the frozen weight matrix itself; LoRA trains A and B only."),
            (rank * in_features * out_features, "A and B are two thin matrices, not rank copies of the weight."),
            (rank * in_features, "that is A alone; count B too."),
            (rank * out_features, "that is B alone; count A too."),
        ],
        otherwise="A maps the input down to rank numbers, B maps them back up to the output: count both.",
    )


def _tiny_gpt() -> tuple[GPT, torch.Tensor]:
    model = make_gpt(GPTConfig(context=16, layers=1, heads=2, width=16), seed=0)
    tokens = torch.randint(VOCAB_SIZE, (3, 17), generator=torch.Generator().manual_seed(0))
    return model, tokens


def check_next_character_loss(function: object) -> bool:
    """The learner's next_character_loss(model, windows): mean cross-entropy of each next character."""
    if function is ...:
        return _no_answer()
    if not callable(function):
        return _wrong_type(function, "a function, e.g. `def next_character_loss(model, windows): ...`")
    model, windows = _tiny_gpt()
    expected = next_token_loss(model, windows).item()
    result, problem = _run_learner(function, model, windows.clone())
    if problem:
        return _report(False, f"next_character_loss(model, windows): {problem}", _NEXT_HINT)
    value = _as_number(result.detach() if isinstance(result, torch.Tensor) else result)
    if value is None:
        return _report(False, f"it returned {result!r}.", "return the loss: a tensor with a single number.")
    if math.isclose(value, expected, rel_tol=1e-5):
        if not (isinstance(result, torch.Tensor) and result.requires_grad):
            return _report(False, "the number is right, but it cannot train anything.", "return the tensor itself.")
        return _report(
            True, f"{value:.4f} nats per character on the check's 3 windows, as helpers.language computes it."
        )
    logits = model(windows[:, :-1])
    same_position = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), windows[:, :-1].reshape(-1)).item()
    if math.isclose(value, same_position, rel_tol=1e-5):
        return _report(False, "that scores each position against its own character.", "targets are windows[:, 1:].")
    if math.isclose(value, expected * windows[:, 1:].numel(), rel_tol=1e-5):
        return _report(False, "that is the sum over characters.", "take the mean (cross_entropy's default).")
    return _report(False, f"{value:.4g} is not the next-character loss ({expected:.4g}).", _NEXT_HINT)


_NEXT_HINT = (
    "inputs are windows[:, :-1] and targets windows[:, 1:]; the model gives (B, T, vocab) logits, and "
    "F.cross_entropy wants (B*T, vocab) against (B*T,): reshape both."
)
