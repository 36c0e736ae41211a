"""Exercise checks: each says whether an answer is right and, when it is not, what is likely wrong.

A check never raises. It prints "Correct: ..." or "Not yet: ... Hint: ..." and returns
True or False, so a notebook cell can call it and the test run can assert on it.
"""

from __future__ import annotations

from torch import nn

from helpers.models import CNN, STANDARD


def _number(answer) -> float | None:
    try:
        return float(str(answer).replace(",", "").replace("_", ""))
    except ValueError:
        return None


def _report(correct: bool, message: str, hint: str = "") -> bool:
    print(f"Correct: {message}" if correct else f"Not yet: {message} Hint: {hint}")
    return correct


def _not_a_number(answer) -> bool:
    return _report(False, f"{answer!r} is not a number.", "replace the `...` with your answer, e.g. `answer = 123`.")


def check_parameter_count(answer, model: CNN | None = None) -> bool:
    """How many parameters does block1 hold? (Standard CNN: 1*32*3*3 conv weights + 32 + 32 BatchNorm = 352.)"""
    block = (model or CNN(STANDARD)).backbone.block1
    conv, bn = block.conv, block.bn
    conv_weights = conv.weight.numel()  # C_out * C_in * 3 * 3; bias=False
    expected = sum(p.numel() for p in block.parameters())
    value = _number(answer)
    if value is None:
        return _not_a_number(answer)
    if value == expected:
        return _report(True, f"block1 holds {expected:,} parameters: {conv_weights} conv weights "
                             f"+ {bn.num_features} BatchNorm scales + {bn.num_features} BatchNorm shifts.")  # fmt: skip
    if value == conv_weights:
        hint = "you counted the convolution's weights. BatchNorm also learns a scale and a shift per channel."
    elif value == conv_weights + conv.out_channels or value == expected + conv.out_channels:
        hint = "this convolution has no bias (bias=False): BatchNorm's shift right after it does that job."
    elif value == expected + 2 * bn.num_features:
        hint = "BatchNorm's running mean and variance are buffers, updated by averaging, not parameters."
    else:
        hint = (f"a 3x3 conv from {conv.in_channels} channel(s) to {conv.out_channels} has "
                f"in x out x 3 x 3 weights; then add BatchNorm's two learned values per channel.")  # fmt: skip
    return _report(False, f"{answer} is not the number of parameters in block1.", hint)


def check_output_side(answer, depth: int = STANDARD.depth, side: int = 28) -> bool:
    """The image side after `depth` blocks: each 2x2 max-pool halves it, rounding down (28 -> 14 -> 7 -> 3)."""
    sides = [side]
    for _ in range(depth):
        sides.append(sides[-1] // 2)
    expected = sides[-1]
    value = _number(answer)
    if value is None:
        return _not_a_number(answer)
    path = " -> ".join(map(str, sides))
    if value == expected:
        return _report(True, f"{path}. The 3x3 convolutions keep the side (padding=1); each pool halves it.")
    if value == side / 2**depth:
        hint = "max-pooling cannot return half a pixel: 7 // 2 drops the odd last row and column."
    elif value == side:
        hint = "the convolutions keep the side (padding=1), but every block ends with a 2x2 max-pool."
    elif value == expected + 1:
        hint = "PyTorch's MaxPool2d rounds down, not up, when the side is odd."
    else:
        hint = f"halve {side} once per block, {depth} times, rounding down each time."
    return _report(False, f"{answer} is not the side after {depth} blocks.", hint)


def check_flops_block1(answer, model: CNN | None = None, side: int = 28) -> bool:
    """Forward FLOPs of block1's convolution on one image: 2 x side^2 x C_out x C_in x 3 x 3 (451,584)."""
    conv: nn.Conv2d = (model or CNN(STANDARD)).backbone.block1.conv
    macs = side * side * conv.out_channels * conv.in_channels * conv.kernel_size[0] * conv.kernel_size[1]
    expected = 2 * macs
    value = _number(answer)
    if value is None:
        return _not_a_number(answer)
    if value == expected:
        return _report(True, f"{side}x{side} positions x {conv.out_channels} filters x {macs // (side * side * conv.out_channels)} "
                             f"multiply-adds x 2 = {expected:,} FLOPs.")  # fmt: skip
    if value == macs:
        hint = "that counts multiply-adds. A multiply-add is two floating-point operations."
    elif value == expected // 4 or value == macs // 4:
        hint = f"the convolution runs before the pool, on the full {side}x{side} image."
    elif value == 2 * conv.out_channels * 9:
        hint = f"the filters slide over every one of the {side}x{side} positions (padding=1 keeps them all)."
    else:
        hint = (
            "count multiply-adds per output value (C_in x 3 x 3), times output values (side x side x C_out), times 2."
        )
    return _report(False, f"{answer} is not the forward FLOPs of block1's convolution.", hint)


def _close(value: float, expected: float, rel: float = 0.01, abs_: float = 0.0) -> bool:
    return abs(value - expected) <= max(rel * abs(expected), abs_)


# --- notebook 02 --------------------------------------------------------------------------


def check_epochs(answer, steps: int, batch_size: int, num_images: int) -> bool:
    """How many passes over the training images do `steps` steps make? steps x min(batch, N) / N."""
    per_step = min(batch_size, num_images)
    expected = steps * per_step / num_images
    value = _number(answer)
    if value is None:
        return _not_a_number(answer)
    if _close(value, expected):
        return _report(True, f"{steps} steps x {per_step} images / {num_images} images = {expected:g} passes "
                             f"(epochs): each training image is seen {expected:g} times.")  # fmt: skip
    if _close(value, steps * batch_size / num_images) and batch_size > num_images:
        hint = f"a batch cannot hold more images than there are: with {num_images} images each step uses {per_step}."
    elif _close(value, steps):
        hint = "that is the number of steps. An epoch is one pass over all the training images."
    elif _close(value, num_images / per_step):
        hint = "that is the number of steps one epoch takes. Divide the images seen (steps x batch) by the images."
    else:
        hint = "images seen = steps x images per step; divide by the number of training images."
    return _report(False, f"{answer} is not the number of passes.", hint)


def labels_to_reach(summary, approach: str, target: float):
    """The smallest label budget at which `approach`'s mean test accuracy reaches `target`, or None."""
    rows = summary[summary["approach"] == approach].sort_values("train_images")
    reached = rows[rows["accuracy"] >= target]
    return None if reached.empty else int(reached.iloc[0]["labels_per_class"])


def check_labels_to_reach(answer, summary, approach: str, target: float) -> bool:
    """The fewest labels per class with which `approach` reaches `target` mean test accuracy."""
    expected = labels_to_reach(summary, approach, target)
    if expected is None:
        correct = answer is None
        return _report(correct, f"{approach} never reaches {target:.0%} in this sweep.",
                       "answer None when no budget in the table gets there.")  # fmt: skip
    value = _number(answer)
    if value is None:
        return _not_a_number(answer)
    label = "all" if expected == 0 else expected
    if value == expected:
        return _report(True, f"{approach} first reaches {target:.0%} (mean over seeds) with {label} labels per class.")
    rows = summary[summary["approach"] == approach].set_index("labels_per_class")
    if value in rows.index and rows.loc[value, "accuracy"] >= target:
        hint = "that budget gets there, but a smaller one does too: look for the first row that does."
    elif value in rows.index:
        hint = f"at {value:g} labels per class the mean is {rows.loc[value, 'accuracy']:.1%}, still under {target:.0%}."
    else:
        hint = f"read the '{approach}' rows of the summary table; the sweep has budgets {list(rows.index)}."
    return _report(False, f"{answer} is not the smallest budget that reaches {target:.0%}.", hint)


# --- notebook 03 -----------------------------------------------------------------------------


def check_head_parameters(answer, feature_dim: int = STANDARD.feature_dim, num_classes: int = 10) -> bool:
    """Trainable parameters of a linear head on frozen features: feature_dim x classes + classes."""
    expected = feature_dim * num_classes + num_classes
    value = _number(answer)
    if value is None:
        return _not_a_number(answer)
    if value == expected:
        return _report(True, f"{feature_dim} x {num_classes} weights + {num_classes} biases = {expected:,}: "
                             f"all that trains when the backbone is frozen.")  # fmt: skip
    if value == feature_dim * num_classes:
        hint = "nn.Linear also learns one bias per output class."
    elif value > 10 * expected:
        hint = "the frozen backbone's parameters do not train; count only the head's."
    else:
        hint = (
            f"the head maps {feature_dim} features to {num_classes} scores: a weight per pair, plus a bias per class."
        )
    return _report(False, f"{answer} is not the number of trainable parameters.", hint)


def check_frozen_backward_flops(answer, batch_size: int, feature_dim: int = STANDARD.feature_dim, num_classes: int = 10) -> bool:  # fmt: skip
    """Backward FLOPs of one step with a frozen backbone: only the head's weight gradient, 2 x B x D x K."""
    expected = 2 * batch_size * feature_dim * num_classes
    value = _number(answer)
    if value is None:
        return _not_a_number(answer)
    if value == expected:
        return _report(True, f"2 x {batch_size} images x {feature_dim} features x {num_classes} classes = "
                             f"{expected:,}. Nothing flows back into the frozen backbone.")  # fmt: skip
    if value == expected // 2:
        hint = "a multiply-add counts as 2 FLOPs."
    elif value == 2 * expected:
        hint = "the gradient for the head's *input* is not needed: nothing below the head trains."
    elif value == 0:
        hint = "the head itself trains, so its weight gradient must be computed."
    else:
        hint = "the head's weight gradient is features^T (D x B) times the logits' gradient (B x K): a matrix product."
    return _report(False, f"{answer} is not the backward FLOPs with a frozen backbone.", hint)


# --- notebook 04 -------------------------------------------------------------------------------


def check_discriminative_lr(answer, head_lr: float, decay: float, block: str, block_names=None) -> bool:
    """The learning rate of `block` when each block below the head gets `decay` times the one above."""
    names = list(block_names or [f"block{i + 1}" for i in range(STANDARD.depth)])
    if block not in names:
        raise ValueError(f"block must be one of {names}, not {block!r}.")
    steps_down = len(names) - names.index(block)
    expected = head_lr * decay**steps_down
    value = _number(answer)
    if value is None:
        return _not_a_number(answer)
    if _close(value, expected):
        return _report(True, f"{head_lr:g} x {decay:g}^{steps_down} = {expected:.3g}: the lower the block, the gentler its updates.")  # fmt: skip
    if _close(value, head_lr * decay ** (steps_down - 1)) or _close(value, head_lr * decay ** (steps_down + 1)):
        hint = f"count the steps down from the head: {' <- '.join(['head', *reversed(names)])}."
    elif _close(value, head_lr * decay * steps_down):
        hint = "the decay multiplies once per block: use a power, not a product with the number of blocks."
    else:
        hint = "start at the head's rate and multiply by the decay once for each block you go down."
    return _report(False, f"{answer} is not {block}'s learning rate.", hint)


def check_frozen_blocks(answer, model) -> bool:
    """Which backbone blocks are frozen right now? Compared as a set of names with the model itself."""
    from helpers.transfer import frozen_blocks

    expected = frozen_blocks(model)
    if answer is ... or not isinstance(answer, (list, tuple, set)):
        return _report(False, f"{answer!r} is not a list of block names.", "answer e.g. ['block1', 'block2'].")
    given = sorted(set(answer))
    if given == sorted(expected):
        return _report(True, f"frozen now: {expected or 'nothing'}; training: the rest and the head.")
    missing, extra = sorted(set(expected) - set(given)), sorted(set(given) - set(expected))
    hint = (f"still frozen but missing from your answer: {missing}. " if missing else "") + (
        f"already unfrozen: {extra}. " if extra else ""
    )
    return _report(False, f"{given} is not the set of frozen blocks.", hint + "Gradual unfreezing opens from the top (block3) down.")  # fmt: skip


# --- notebook 05 --------------------------------------------------------------------------------


def check_gap(answer, summary, labels_per_class: int, better: str = "fine-tune", worse: str = "from scratch") -> bool:
    """Accuracy points `better` gains over `worse` at one label budget (mean over seeds), within 0.5."""
    rows = summary[summary["labels_per_class"] == labels_per_class].set_index("approach")["accuracy"]
    expected = 100 * (rows[better] - rows[worse])
    value = _number(answer)
    if value is None:
        return _not_a_number(answer)
    if abs(value - expected) <= 0.5:
        return _report(True, f"{better} {rows[better]:.1%} - {worse} {rows[worse]:.1%} = {expected:+.1f} points.")
    if abs(value - expected / 100) <= 0.005:
        hint = "give the gap in percentage points (e.g. 8.2), not as a fraction."
    elif abs(value + expected) <= 0.5:
        hint = f"the sign: subtract {worse} from {better}."
    else:
        hint = f"read both means in the {labels_per_class}-label rows and subtract."
    return _report(False, f"{answer} is not the gap at {labels_per_class} label(s) per class.", hint)


def check_amortised_flops(answer, pretraining_flops: float, task_flops: float, tasks: int) -> bool:
    """FLOPs charged to one task when pretraining is shared by `tasks` tasks: task + pretraining / tasks."""
    expected = task_flops + pretraining_flops / tasks
    value = _number(answer)
    if value is None:
        return _not_a_number(answer)
    if _close(value, expected):
        return _report(True, f"{task_flops:.3g} + {pretraining_flops:.3g} / {tasks} = {expected:.3g} FLOPs per task.")
    if _close(value, task_flops + pretraining_flops):
        hint = f"that charges the whole pretraining to one task; it is shared by {tasks}."
    elif _close(value, (task_flops + pretraining_flops) / tasks):
        hint = "each task still pays its own fine-tuning in full; only the pretraining is shared."
    else:
        hint = "add the task's own training FLOPs to its share of the pretraining."
    return _report(False, f"{value:.3g} FLOPs is not the cost per task.", hint)
