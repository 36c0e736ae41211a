"""Exercise checks, the core: the skeleton every check uses, the models the checks try code on, and the
prediction check of 06-08. Each notebook's checks are in checks_01 ... checks_08.

A check never raises. It prints "Correct: ..." or "Not yet: ... Hint: ..." and returns
True or False, so a notebook cell can call it and the test run can assert on it.

Every numeric check follows one skeleton (`numeric_check`): it states the expected value, the
likely mistakes with a hint for each, and a hint for anything else. One tolerance rule
(`within`): counts (parameters, FLOPs, sides, label budgets) must be exact; computed
quantities (epochs, learning rates, gaps, amortised FLOPs) may be off by TOLERANCE, 1% of
the expected value, so three significant figures are enough. An answer within 10% of a
computed quantity, but not within 1%, is told that it is close and was rounded too early.
A check of a function the learner writes is decorated with `function_exercise`, which answers `...` and
anything that is not a function before the check runs, and calls the learner's code through `run_learner`,
so that nothing the learner writes makes a check raise.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import replace

import torch
from torch import nn

from helpers.core import Dataset
from helpers.data import to_float
from helpers.gpt import GPT, GPTConfig, make_gpt
from helpers.models import CNN, STANDARD
from helpers.text import VOCAB_SIZE

EXACT = 0.0  # counts have one right answer
TOLERANCE = 0.01  # computed quantities: within 1% of the expected value
CLOSE = 0.1  # within 10%: right idea, rounded too early
A_WHOLE_NUMBER = "a whole number, e.g. `answer = 123`"
A_NUMBER = "a number, e.g. `answer = 1.5` or `answer = 3e-4`"


# --- the skeleton every check uses ----------------------------------------------------------------


def report(correct: bool, message: str, hint: str = "") -> bool:
    print(f"Correct: {message}" if correct else f"Not yet: {message} Hint: {hint}")
    return correct


def no_answer() -> bool:
    return report(False, "there is no answer yet.", "replace the `...` with your answer.")


def wrong_type(answer: object, expects: str) -> bool:
    return report(False, f"{answer!r} is a {type(answer).__name__}.", f"the answer is {expects}.")


def as_number(answer: object) -> float | None:
    """The answer as a float: ints, floats, NumPy and 0-d torch numbers; None for anything else (str, bool, list)."""
    if isinstance(answer, bool) or not hasattr(type(answer), "__float__"):
        return None
    try:
        return float(answer)
    except (TypeError, ValueError):  # e.g. a tensor with more than one element
        return None


def within(value: float, expected: float, tolerance: float) -> bool:
    """The one rule: right when within `tolerance` x |expected| (EXACT: equal)."""
    return abs(value - expected) <= tolerance * abs(expected) + 1e-12 * abs(expected)  # + float rounding


def shown(value: float) -> str:
    return f"{int(value):,}" if value.is_integer() and abs(value) < 1e15 else f"{value:.4g}"


def numeric_check(
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
        return no_answer()
    value = as_number(answer)
    if value is None:
        return wrong_type(answer, expects)
    if within(value, expected, tolerance):
        return report(True, right)
    wrong = f"{shown(value)} is not {what}."
    for mistake, hint in mistakes:
        if within(value, mistake, tolerance):
            return report(False, wrong, hint)
    if tolerance > EXACT and within(value, expected, CLOSE):
        return report(
            False, wrong, f"close, but not within {tolerance:.0%}: round less, or let Python do the arithmetic."
        )
    return report(False, wrong, otherwise(value) if callable(otherwise) else otherwise)


# --- a function the learner writes ----------------------------------------------------------------


def function_exercise(signature: str) -> Callable[[Callable[..., bool]], Callable[..., bool]]:
    """Decorate the check of a function the learner writes, e.g. `@function_exercise("accuracy(model, dataset)")`:
    no answer yet (`...`) and an answer that is not a function are told so before the check runs."""

    def decorate(check: Callable[..., bool]) -> Callable[..., bool]:
        @functools.wraps(check)
        def checked(function: object, *args: object, **kwargs: object) -> bool:
            if function is ...:
                return no_answer()
            if not callable(function):
                return wrong_type(function, f"a function, e.g. `def {signature}: ...`")
            return check(function, *args, **kwargs)

        return checked

    return decorate


def run_learner(function: Callable, *args) -> tuple[object, str]:
    """(result, "") or (None, what went wrong): a learner's function never makes a check raise."""
    try:
        return function(*args), ""
    except Exception as error:
        return None, f"it raised {type(error).__name__}: {error}"


# --- the models the checks try the learner's code on ----------------------------------------------


def tiny_classifier() -> tuple[nn.Module, Dataset]:
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


def two_cnns(num_classes: int = 19) -> tuple[CNN, CNN]:
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


def tiny_gpt() -> tuple[GPT, torch.Tensor]:
    """A one-block GPT and 3 windows of 17 random characters (16 inputs and the next of each)."""
    model = make_gpt(GPTConfig(context=16, layers=1, heads=2, width=16), seed=0)
    tokens = torch.randint(VOCAB_SIZE, (3, 17), generator=torch.Generator().manual_seed(0))
    return model, tokens


# --- checks that more than one notebook asks ------------------------------------------------------


def check_head_parameters(answer: object, feature_dim: int = STANDARD.feature_dim, num_classes: int = 10) -> bool:
    """Trainable parameters of a linear head on frozen features: feature_dim x classes + classes."""
    expected = feature_dim * num_classes + num_classes

    def hint(value: float) -> str:
        if value > 10 * expected:
            return "the frozen backbone's parameters do not train; count only the head's."
        return (
            f"the head maps {feature_dim} features to {num_classes} scores: a weight per pair, plus a bias per class."
        )

    return numeric_check(
        answer,
        expected,
        what="the number of trainable parameters",
        right=f"{feature_dim} x {num_classes} weights + {num_classes} biases = {expected:,}: "
        f"all that trains when the backbone is frozen.",
        mistakes=[(feature_dim * num_classes, "nn.Linear also learns one bias per output class.")],
        otherwise=hint,
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
        return no_answer()
    options = sorted(measured)
    if not isinstance(prediction, (list, tuple)) or sorted(map(str, prediction)) != options:
        return wrong_type(prediction, f"a list that orders all of {options}, best first")
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
