"""Notebook 03's exercise checks: the head's parameters, a frozen backbone's backward FLOPs, block2's features.

On the skeleton of helpers.checks: each prints "Correct: ..." or "Not yet: ... Hint: ..." and returns
True or False.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from helpers.checks import as_number, function_exercise, numeric_check, report, run_learner
from helpers.data import to_float
from helpers.models import CNN, STANDARD


def check_frozen_backward_flops(
    answer: object, batch_size: int, feature_dim: int = STANDARD.feature_dim, num_classes: int = 10
) -> bool:
    """Backward FLOPs of one step with a frozen backbone: only the head's weight gradient, 2 x B x D x K."""
    expected = 2 * batch_size * feature_dim * num_classes
    with_bias = expected + batch_size * num_classes  # + the bias gradient: the scores' gradient summed over the batch
    if as_number(answer) == with_bias:
        return report(
            True,
            f"{with_bias:,}: the weight gradient's {expected:,} plus the bias gradient's {batch_size * num_classes:,} "
            f"additions. PyTorch's counter, like most, counts the matrix product only: {expected:,}.",
        )
    return numeric_check(
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


@function_exercise("block2_features(model, images)")
def check_block2_features(function: object) -> bool:
    """The learner's block2_features(model, images): (N, C) channel averages of block2's maps, eval mode."""
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
    result, problem = run_learner(function, model, images)
    if problem:
        return report(False, f"block2_features(model, images): {problem}", _BLOCK2_HINT)
    if not isinstance(result, torch.Tensor):
        return report(False, f"it returned a {type(result).__name__}.", "return a torch tensor of shape (N, 64).")
    result = result.detach().float().cpu()
    if result.shape == maps.shape:
        return report(False, f"shape {tuple(result.shape)}: still maps.", "average each channel over its 7x7 map.")
    if result.shape != expected.shape:
        hint = _block2_shape_hint(tuple(result.shape), channels=maps.shape[1], side=maps.shape[-1])
        return report(False, f"shape {tuple(result.shape)}, not {tuple(expected.shape)}.", hint)
    if torch.allclose(result, expected, atol=1e-5):
        return report(True, "64 numbers per image: what block2 sees, averaged over the map, in eval mode.")
    if torch.allclose(result, in_train_mode, atol=1e-5):
        return report(False, "those are training-mode features.", "call model.eval() first, as extract_features does.")
    return report(False, "those are not block2's channel averages.", _BLOCK2_HINT)


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
