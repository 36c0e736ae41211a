"""Notebook 06's exercise checks: copying the first blocks (the prediction check is in the core).

On the skeleton of helpers.checks: each prints "Correct: ..." or "Not yet: ... Hint: ..." and returns
True or False.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from helpers.checks import function_exercise, report, two_cnns
from helpers.models import CNN


def _copy_problem(function: Callable, blocks: int, freeze: bool) -> str:
    """What is wrong with function(source, target, blocks, freeze), or "" if nothing."""
    source, target = two_cnns()
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


@function_exercise("copy_first_blocks(source, target, blocks, freeze)")
def check_copy_blocks(function: object) -> bool:
    """The learner's copy_first_blocks(source, target, blocks, freeze) on fresh models, four ways."""
    for blocks, freeze in ((1, True), (2, False), (3, True), (2, True)):
        try:
            problem = _copy_problem(function, blocks, freeze)
        except Exception as error:  # the learner's code may fail in any way: say how, never raise
            problem = f"it raised {type(error).__name__}: {error}"
        if problem:
            return report(False, f"copy_first_blocks(source, target, {blocks}, freeze={freeze}): {problem}", _COPY_HINT)
    return report(
        True, "the first n blocks arrive with their BatchNorm statistics, frozen or not; the rest stay fresh."
    )


_COPY_HINT = (
    "a block's state_dict() holds its weights and its BatchNorm statistics; "
    "a frozen parameter has requires_grad False (helpers.transfer.freeze shows one way)."
)
