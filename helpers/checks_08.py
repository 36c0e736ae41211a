"""Notebook 08's exercise checks, on the shared skeleton of helpers.checks (right or not, and a hint)."""

from __future__ import annotations

import math

import torch

from helpers.checks import A_NUMBER, TOLERANCE, function_exercise, numeric_check, report, run_learner

_POOL_HINT = (
    "zero the padded vectors with the mask (its shape must line up with tokens' (N, T, 384)), sum over the "
    "tokens, and divide each text's sum by its own count of real tokens, as a column that broadcasts."
)


def _padded_batch() -> tuple[torch.Tensor, torch.Tensor]:
    """(3, 5, 4) token vectors and their (3, 5) mask: texts of 5, 3 and 1 real tokens, the rest padding."""
    tokens = torch.randn(3, 5, 4, generator=torch.Generator().manual_seed(8))
    mask = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0], [1, 0, 0, 0, 0]])
    return tokens, mask


@function_exercise("mean_pool(tokens, mask)")
def check_mean_pooling(function: object) -> bool:
    """The learner's mean_pool(tokens, mask): each text's mean token vector, padding left out."""
    tokens, mask = _padded_batch()
    expected = torch.stack([tokens[i, : int(mask[i].sum())].mean(dim=0) for i in range(len(tokens))])
    result, problem = run_learner(function, tokens.clone(), mask.clone())
    if problem:
        return report(False, f"mean_pool(tokens, mask): {problem}", _POOL_HINT)
    if not isinstance(result, torch.Tensor) or result.shape != expected.shape:
        shape = tuple(result.shape) if isinstance(result, torch.Tensor) else type(result).__name__
        return report(False, f"it returned {shape}, not one vector per text {tuple(expected.shape)}.", _POOL_HINT)
    if torch.allclose(result, expected, atol=1e-5):
        return report(True, "one vector per text, the mean of its real tokens: padding changes nothing.")
    if torch.allclose(result, tokens.mean(dim=1), atol=1e-5):
        return report(False, "that averages the padding too.", "leave the padded positions out: use the mask.")
    if torch.allclose(result, (tokens * mask.unsqueeze(-1)).sum(dim=1) / tokens.shape[1], atol=1e-5):
        return report(
            False, "that divides by the padded length.", "divide by each text's real tokens, mask.sum(dim=1)."
        )
    return report(False, "these are not the mean vectors of the real tokens.", _POOL_HINT)


def effective_labels(low: tuple[float, float], high: tuple[float, float], score: float) -> float:
    """Labels per class at which a from-scratch curve through (labels, accuracy) points `low` and `high`
    reaches `score`: linear in log(labels), as the curve is drawn on a log axis."""
    (b0, s0), (b1, s1) = low, high
    return math.exp(math.log(b0) + (score - s0) / (s1 - s0) * math.log(b1 / b0))


def check_effective_transferred(
    answer: object, low: tuple[float, float], high: tuple[float, float], score: float, budget: int
) -> bool:
    """D_T = D_E - D_F: labels from scratch would need (read off the curve in log space) minus the labels used."""
    d_e = effective_labels(low, high, score)
    linear = low[0] + (score - low[1]) / (high[1] - low[1]) * (high[0] - low[0])
    return numeric_check(
        answer,
        d_e - budget,
        what="the effective labels transferred per class",
        right=f"from scratch would need about {d_e:.1f} labels per class; pretraining was worth "
        f"{d_e - budget:.1f} of them.",
        mistakes=[
            (d_e, "that is D_E, what from scratch needs; subtract the labels the transferred model was given."),
            (linear - budget, "that reads the curve in straight labels; the curve is drawn, and read, in log(labels)."),
            (linear, "that is read in straight labels, and D_E, not D_T: use log(labels) and subtract the budget."),
        ],
        otherwise="find where the line between the two from-scratch points reaches the score, with log(labels) "
        "as the x axis, then subtract the labels the transferred model used.",
        tolerance=TOLERANCE,
        expects=A_NUMBER,
    )
