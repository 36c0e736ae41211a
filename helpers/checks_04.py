"""Notebook 04's exercise checks: discriminative learning rates, frozen blocks, unfreezing the top.

On the skeleton of helpers.checks: each prints "Correct: ..." or "Not yet: ... Hint: ..." and returns
True or False.
"""

from __future__ import annotations

import torch

from helpers.checks import (
    A_NUMBER,
    TOLERANCE,
    function_exercise,
    no_answer,
    numeric_check,
    report,
    run_learner,
    wrong_type,
)
from helpers.models import CNN, STANDARD
from helpers.transfer import frozen_blocks


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
    return numeric_check(
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
        return no_answer()
    if not isinstance(answer, (list, tuple, set)):
        return wrong_type(answer, "a list of block names, e.g. ['block1', 'block2']")
    given = sorted(set(map(str, answer)))
    if given == sorted(expected):
        return report(True, f"frozen now: {expected or 'nothing'}; training: the rest and the head.")
    missing, extra = sorted(set(expected) - set(given)), sorted(set(given) - set(expected))
    # Say how many are wrong, never which: the answer is for the learner to read off the model.
    hint = f"{len(missing)} frozen block(s) are missing from your answer. " if missing else ""
    hint += f"{len(extra)} block(s) in your answer already train again. " if extra else ""
    return report(
        False,
        f"{given} is not the set of frozen blocks.",
        hint + "Gradual unfreezing opens from the top (block3) down; a block is frozen while none of its "
        "parameters has requires_grad.",
    )


@function_exercise("unfreeze_top(model, k)")
def check_unfreeze_top(function: object) -> bool:
    """The learner's unfreeze_top(model, k): the top k backbone blocks and the head train, every other block is
    frozen, whatever the model's state before."""
    for k in (1, 0, 3, 2):
        torch.manual_seed(0)
        model = CNN(STANDARD)
        names = model.block_names()
        for name in names[:1]:  # a state left over from an earlier stage: block1 trains, the rest is frozen
            model.backbone.get_submodule(name).requires_grad_(True)
        for name in names[1:]:
            model.backbone.get_submodule(name).requires_grad_(False)
        result, problem = run_learner(function, model, k)
        if problem:
            return report(False, f"unfreeze_top(model, {k}): {problem}", _TOP_HINT)
        model = model if result is None else result
        if not isinstance(model, CNN):
            return report(False, f"unfreeze_top(model, {k}) returned a {type(model).__name__}.", "return the model.")
        training = [n for n in names if all(p.requires_grad for p in model.backbone.get_submodule(n).parameters())]
        wanted = names[len(names) - k :]
        if not all(p.requires_grad for p in model.head.parameters()):
            return report(False, f"with k={k} the head is frozen.", "the head always trains: it is new.")
        if training == names[:k] and k not in (0, len(names)):
            return report(
                False, f"with k={k}, {training} train: the bottom blocks.", "open from the top: block3 first."
            )
        if training != wanted:
            return report(False, f"with k={k}, these blocks train: {training or 'none'}.", _TOP_HINT)
    return report(True, "the top k blocks and the head train; the rest is frozen, whatever came before.")


_TOP_HINT = (
    "freeze every block first (an earlier stage may have left some open), then requires_grad_(True) on the last k "
    "of model.block_names(); the head always trains."
)
