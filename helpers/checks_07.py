"""Notebook 07's exercise checks: the uniform loss, LoRA's parameters, the next-character loss.

On the skeleton of helpers.checks: each prints "Correct: ..." or "Not yet: ... Hint: ..." and returns
True or False.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from helpers.checks import (
    A_NUMBER,
    TOLERANCE,
    as_number,
    function_exercise,
    numeric_check,
    report,
    run_learner,
    tiny_gpt,
)
from helpers.language import next_token_loss
from helpers.text import VOCAB_SIZE


def check_uniform_loss(answer: object, vocab_size: int = VOCAB_SIZE) -> bool:
    """The loss of a model that knows nothing: every character equally likely, so ln(vocab_size) nats."""
    expected = math.log(vocab_size)
    return numeric_check(
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
    return numeric_check(
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


@function_exercise("next_character_loss(model, windows)")
def check_next_character_loss(function: object) -> bool:
    """The learner's next_character_loss(model, windows): mean cross-entropy of each next character."""
    model, windows = tiny_gpt()
    expected = next_token_loss(model, windows).item()
    result, problem = run_learner(function, model, windows.clone())
    if problem:
        return report(False, f"next_character_loss(model, windows): {problem}", _NEXT_HINT)
    value = as_number(result.detach() if isinstance(result, torch.Tensor) else result)
    if value is None:
        return report(False, f"it returned {result!r}.", "return the loss: a tensor with a single number.")
    if math.isclose(value, expected, rel_tol=1e-5):
        if not (isinstance(result, torch.Tensor) and result.requires_grad):
            return report(False, "the number is right, but it cannot train anything.", "return the tensor itself.")
        return report(
            True, f"{value:.4f} nats per character on the check's 3 windows, as helpers.language computes it."
        )
    logits = model(windows[:, :-1])
    same_position = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), windows[:, :-1].reshape(-1)).item()
    if math.isclose(value, same_position, rel_tol=1e-5):
        return report(False, "that scores each position against its own character.", "targets are windows[:, 1:].")
    if math.isclose(value, expected * windows[:, 1:].numel(), rel_tol=1e-5):
        return report(False, "that is the sum over characters.", "take the mean (cross_entropy's default).")
    return report(False, f"{value:.4g} is not the next-character loss ({expected:.4g}).", _NEXT_HINT)


_NEXT_HINT = (
    "inputs are windows[:, :-1] and targets windows[:, 1:]; the model gives (B, T, vocab) logits, and "
    "F.cross_entropy wants (B*T, vocab) against (B*T,): reshape both."
)
