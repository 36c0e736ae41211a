"""Notebook 01's exercise checks: block1's parameters, the side after the blocks, FLOPs, accuracy().

On the skeleton of helpers.checks: each prints "Correct: ..." or "Not yet: ... Hint: ..." and returns
True or False.
"""

from __future__ import annotations

import torch
from torch import nn

from helpers.checks import as_number, function_exercise, numeric_check, report, tiny_classifier
from helpers.data import to_float
from helpers.models import CNN, STANDARD
from helpers.train import evaluate


def check_parameter_count(answer: object, model: CNN | None = None) -> bool:
    """How many parameters does block1 hold? (Standard CNN: 1*32*3*3 conv weights + 32 + 32 BatchNorm = 352.)"""
    block = (model or CNN(STANDARD)).backbone.block1
    conv, bn = block.conv, block.bn
    conv_weights = conv.weight.numel()  # C_out * C_in * 3 * 3; bias=False
    expected = sum(p.numel() for p in block.parameters())
    conv_only = "you counted the convolution's weights. BatchNorm also learns a scale and a shift per channel."
    no_bias = "this convolution has no bias (bias=False): BatchNorm's shift right after it does that job."
    buffers = "BatchNorm's running mean and variance are buffers, updated by averaging, not parameters."
    return numeric_check(
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
    return numeric_check(
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
    return numeric_check(
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


@function_exercise("accuracy(model, dataset)")
def check_accuracy_function(function: object) -> bool:
    """The learner's accuracy(model, dataset): eval mode, no gradients, a fraction between 0 and 1."""
    model, dataset = tiny_classifier()
    expected = evaluate(model, dataset)
    model.train()  # as after training: the function must switch to eval mode itself
    with torch.no_grad():
        in_train_mode = (model(to_float(dataset.images)).argmax(1) == dataset.labels).float().mean().item()
    model.train()
    try:
        value = function(model, dataset)
    except Exception as error:  # the learner's code may fail in any way: say how, never raise
        return report(False, f"accuracy(model, dataset) raised {type(error).__name__}: {error}", _ACCURACY_HINT)
    number = as_number(value)
    if value is None or number is None:
        return report(False, f"accuracy(model, dataset) returned {value!r}.", "return a number: `return ...`.")
    if abs(number - expected) < 1e-6:
        return report(True, f"{number:.1%} on the check's 40 images, as helpers.train.evaluate says.")
    if abs(number - expected * len(dataset)) < 1e-6:
        return report(False, f"{number:g} is a count.", "divide by the number of images: a fraction, 0 to 1.")
    if abs(number - in_train_mode) < 1e-6:
        return report(
            False,
            f"{number:.1%} is the accuracy in training mode.",
            "call model.eval() first: in training mode BatchNorm uses the batch's own statistics.",
        )
    return report(False, f"{number:.4g} is not the accuracy.", _ACCURACY_HINT)


_ACCURACY_HINT = (
    "model.eval(); under torch.no_grad(), logits = model(data.to_float(dataset.images)); "
    "compare logits.argmax(1) with dataset.labels and take the mean."
)
