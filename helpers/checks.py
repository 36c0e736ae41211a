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
