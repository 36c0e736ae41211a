"""One training run per trial: how each approach of the comparison trains, and what it measures.

A trial is an approach, a task, a number of labels per class, a seed and one setting of the
approach's knob (a learning rate for the CNNs, the regularisation C for the logistic
regressions). `run_trial` trains it and returns one row: accuracies, trainable parameters,
FLOPs, seconds and, for the CNNs, the held-out accuracy curve during training.

Two tasks:
- "digits", the real target: scikit-learn's handwritten digits (helpers.data.target_task);
- "fashion", the development pairing: Fashion-MNIST's 10 classes with the same label budgets.
  Each approach's recipe for k labels per class is tuned here, where no digit is involved,
  then frozen and used on the digits (see helpers.results).

The sweep that the notebooks read is planned here too (`dev_grid`, `digits_plan`); tools/sweep.py
runs it and helpers/results.py reads it.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from helpers import checkpoint, cost, data, experiment, models, train, transfer
from helpers.checkpoint import SOURCE_CHECKPOINT
from helpers.core import Dataset
from helpers.data import ALL, label_text  # noqa: F401  (label_text: part of this module's vocabulary)
from helpers.experiment import ExperimentError  # noqa: F401  (raised here; studies import it from here too)

VERSION = 2  # bump when a change below alters results; old cache entries then stop matching

# labels_per_class=ALL (helpers.data.ALL) trains on the whole pool (698 digits, 67 to 72 per class)
DEV_ALL = 70  # ...which the development task mirrors with 70 per class
LABELS_PER_CLASS = (1, 2, 3, 5, 10, ALL)
HEADLINE_LABELS = (1, 2, 3, 5)  # the budgets where transfer matters most get 10 seeds
HEADLINE_SEEDS = tuple(range(10))
OTHER_SEEDS = tuple(range(5))
DEV_SEEDS = (0, 1)  # seeds of the development pairing that each recipe is tuned on
CONTRAST_LABELS = (1, 2, 3, 5)  # where every setting is also run on the digits, for the 200-label contrast
CONTRAST_SEEDS = tuple(range(5))

STEPS = 400  # every CNN approach gets the same optimiser steps...
BATCH_SIZE = 32  # ...on batches of the same size (fewer when there are fewer images)
CURVE_STEPS = (10, 20, 30, 50, 75, 100, 150, 200, 300, 400)  # held-out accuracy recorded here

APPROACHES = ("logistic regression", "from scratch", "linear probe", "fine-tune", "LP-FT")
# The settings each approach may choose from; every CNN approach gets four learning rates. The grids
# were extended one step past the edges chosen with narrower grids (C=10, lr 1e-2 and 3e-3); some
# choices still sit on the new edges, where the development accuracies differ by little.
GRIDS = {
    "logistic regression": {"C": (0.01, 0.1, 1.0, 10.0, 100.0)},
    "linear probe": {"C": (0.01, 0.1, 1.0, 10.0)},
    "from scratch": {"lr": (1e-3, 3e-3, 1e-2, 3e-2)},
    "fine-tune": {"lr": (1e-3, 3e-3, 1e-2, 3e-2)},
    "LP-FT": {"lr": (3e-4, 1e-3, 3e-3, 1e-2)},  # starts from a trained head, so it starts gentler
}
# Notebook 04's two other fine-tuning strategies, cached at one budget only: they take fine-tuning's
# recipe rate at that budget (not one tuned for them), on the headline seeds.
STRATEGIES = ("discriminative lr", "gradual unfreezing")
STRATEGY_LABELS = 2
DISCRIMINATIVE_DECAY = 0.3  # each block down from the head trains at 0.3 times the rate of the one above
for _strategy in STRATEGIES:
    GRIDS[_strategy] = {"lr": GRIDS["fine-tune"]["lr"]}
USES_PRETRAINING = ("linear probe", "fine-tune", "LP-FT")  # of APPROACHES (the STRATEGIES pretrain too)
CNN_APPROACHES = ("from scratch", "fine-tune", "LP-FT")  # trained for STEPS optimiser steps
TASKS = ("digits", "fashion", "shoes and bags")  # the third: notebook 06's negative transfer


def knob(approach: str) -> str:
    """The name of the setting an approach chooses: "lr" or "C"."""
    return next(iter(GRIDS[approach]))


def seeds_for(labels_per_class: int) -> tuple[int, ...]:
    """The seeds of the digits sweep at this budget: 10 where transfer matters most, 5 elsewhere."""
    return HEADLINE_SEEDS if labels_per_class in HEADLINE_LABELS else OTHER_SEEDS


@dataclass(frozen=True)
class Trial:
    approach: str
    labels_per_class: int  # ALL (0) for the whole training pool
    seed: int
    lr: float | None = None  # CNN approaches
    C: float | None = None  # logistic regressions (inverse regularisation strength)
    steps: int = STEPS
    batch_size: int = BATCH_SIZE
    task: str = "digits"

    def __post_init__(self) -> None:
        if self.approach not in GRIDS:
            raise ExperimentError(f"Unknown approach {self.approach!r}; choose one of {list(GRIDS)}.")
        if getattr(self, knob(self.approach)) is None:
            values = GRIDS[self.approach][knob(self.approach)]
            raise ExperimentError(f"A {self.approach!r} trial needs {knob(self.approach)}=..., e.g. one of {values}.")
        if self.labels_per_class < 0:
            raise ExperimentError(f"labels_per_class must be positive, or ALL (0), not {self.labels_per_class}.")
        if self.task not in TASKS:
            raise ExperimentError(f"Unknown task {self.task!r}; choose one of {list(TASKS)}.")

    @property
    def setting(self) -> float:
        return getattr(self, knob(self.approach))

    @property
    def uses_pretraining(self) -> bool:
        return self.approach in USES_PRETRAINING or self.approach in STRATEGIES

    def key(self, source_path: Path = SOURCE_CHECKPOINT) -> str:
        """A short hash of the trial and everything its result depends on. The source checkpoint's bytes
        count only for an approach that starts from it: a new source model leaves from-scratch results valid."""
        context = {k: v for k, v in dependencies().items() if k != "checkpoint"}
        if self.uses_pretraining:
            context["checkpoint"] = checkpoint_sha(source_path)
        return experiment.trial_key(self, **context)


# --- the plan of the sweep ---------------------------------------------------------------------------


def grid(
    approaches: Sequence[str] = APPROACHES,
    labels_per_class: Sequence[int] = LABELS_PER_CLASS,
    seeds: Sequence[int] = OTHER_SEEDS,
    task: str = "digits",
) -> list[Trial]:
    """Every trial of approaches x labels per class x seeds x each approach's settings."""
    trials = []
    for approach in approaches:
        if approach not in GRIDS:
            raise ExperimentError(f"Unknown approach {approach!r}; choose from {list(GRIDS)}.")
        for n in labels_per_class:
            for seed in seeds:
                values = GRIDS[approach][knob(approach)]
                trials += [Trial(approach, n, seed, task=task, **{knob(approach): v}) for v in values]
    return trials


def dev_grid() -> list[Trial]:
    """The development sweep: every setting of every approach on Fashion-MNIST, at every budget."""
    return grid(seeds=DEV_SEEDS, task="fashion")


def digits_plan(recipes: dict[tuple[str, int], float]) -> list[Trial]:
    """The digits sweep: each approach's frozen recipe at every (budget, seed), plus every setting
    at CONTRAST_LABELS x CONTRAST_SEEDS for the contrast with tuning on 200 validation digits.

    recipes: {(approach, labels per class): setting}, as helpers.results.dev_recipes chooses them.
    """
    plan = grid(labels_per_class=CONTRAST_LABELS, seeds=CONTRAST_SEEDS)
    for approach in APPROACHES:
        for n in LABELS_PER_CLASS:
            for seed in seeds_for(n):
                plan.append(Trial(approach, n, seed, **{knob(approach): recipes[approach, n]}))
    return list(dict.fromkeys(plan))  # the contrast grid already holds some of these


def strategies_plan(recipes: dict[tuple[str, int], float]) -> list[Trial]:
    """Discriminative rates and gradual unfreezing at STRATEGY_LABELS, with fine-tuning's recipe rate."""
    lr = recipes["fine-tune", STRATEGY_LABELS]
    return [Trial(s, STRATEGY_LABELS, seed, lr=lr) for s in STRATEGIES for seed in seeds_for(STRATEGY_LABELS)]


# --- what a result depends on --------------------------------------------------------------


@lru_cache(maxsize=1)
def dependencies() -> dict:
    """What a result depends on besides the trial: VERSION, the checkpoint's bytes, and the raw
    scikit-learn digits (integers 0..16) with the split sizes.

    The raw scans are hashed rather than the 28x28 images made from them: resizing is floating-point
    arithmetic, and a CPU that rounds one pixel differently should not throw the whole cache away.
    The resizing and splitting code is covered by VERSION. Fashion-MNIST is checksum-verified on load.
    """
    from sklearn.datasets import load_digits

    raw = load_digits()
    digits = hashlib.sha256(raw.images.astype("int8").tobytes() + raw.target.astype("int8").tobytes())
    sizes = [len(data.target_task(split)) for split in ("train", "val", "test")]
    source_sha = checkpoint_sha(SOURCE_CHECKPOINT)
    return {"version": VERSION, "checkpoint": source_sha, "digits": digits.hexdigest()[:16], "split_sizes": sizes}


@lru_cache(maxsize=8)
def checkpoint_sha(path: Path) -> str:
    """The first 16 hex digits of a checkpoint file's SHA-256: which source model a result started from."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]


# --- the data of a trial ---------------------------------------------------------------------------

DEV_TEST_PER_CLASS = 100  # the development task is scored on 1,000 Fashion-MNIST test images


SHOES_TEST_PER_CLASS = 250  # "shoes and bags" is scored on 1,000 Fashion-MNIST test images too


@lru_cache(maxsize=4)
def task_splits(task: str) -> tuple[Dataset, Dataset | None, Dataset]:
    """(training pool, validation set or None, test set) of a task."""
    if task == "digits":
        return data.target_task("train"), data.target_task("val"), data.target_task("test")
    if task == "shoes and bags":
        test = data.few_shot(data.shoes_and_bags_task("test"), SHOES_TEST_PER_CLASS, seed=0)
        return data.shoes_and_bags_task("train"), None, test
    test = data.few_shot(data.load_fashion_mnist("test"), DEV_TEST_PER_CLASS, seed=0)
    return data.load_fashion_mnist("train"), None, test


def training_subset(labels_per_class: int, seed: int, task: str = "digits") -> Dataset:
    pool = task_splits(task)[0]
    if labels_per_class == ALL:
        return pool if task == "digits" else data.few_shot(pool, DEV_ALL, seed)
    return data.few_shot(pool, labels_per_class, seed)


def pixels(dataset: Dataset) -> np.ndarray:
    """(N, 784) floats in [0, 1]: what the classical baseline sees."""
    return dataset.images.reshape(len(dataset), -1).float().numpy() / 255


def logistic_flops(num_images: int, num_features: int, num_classes: int, iterations: int) -> int:
    """Training FLOPs of a logistic regression, estimated: each L-BFGS iteration computes the
    logits (2*N*D*K) and their gradient (2*N*D*K) at least once."""
    return 4 * num_images * num_features * num_classes * max(iterations, 1)


@lru_cache(maxsize=8)
def source_features(task: str, split: str, source_path: Path = SOURCE_CHECKPOINT) -> torch.Tensor:
    """A shipped backbone's features of a task's fixed validation or test set, computed once per process."""
    source, _ = checkpoint.load_checkpoint(source_path)
    _, val, test = task_splits(task)
    return transfer.extract_features(source, (val if split == "val" else test).images)


# --- running one trial ---------------------------------------------------------------------------


def run_trial(trial: Trial, source_path: Path = SOURCE_CHECKPOINT) -> dict:
    """Train one model as the trial says; returns its row: accuracies, parameters, FLOPs, seconds.

    The approaches that use pretraining start from `source_path` (default: the shipped letter model).

    Runs on one CPU thread: batches of 10 to 32 images gain nothing from more, and a fixed thread
    count fixes the order of the arithmetic, so a rerun on the same machine gives the same numbers.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        train.seed_everything(trial.seed)
        subset = training_subset(trial.labels_per_class, trial.seed, trial.task)
        if trial.approach == "logistic regression":
            measured = _run_logistic_on_pixels(trial, subset)
        elif trial.approach == "linear probe":
            measured = _run_linear_probe(trial, subset, source_path)
        else:
            measured = _run_cnn(trial, subset, source_path)
        return {**asdict(trial), "train_images": len(subset), **measured}
    finally:
        torch.set_num_threads(threads)


def _score(model, features_of, task: str) -> dict:
    """Validation (digits only) and test accuracy of a fitted scikit-learn model."""
    _, val, test = task_splits(task)
    return {
        "val_acc": model.score(features_of("val"), val.labels.numpy()) if val is not None else None,
        "test_acc": model.score(features_of("test"), test.labels.numpy()),
    }


def _run_logistic_on_pixels(trial: Trial, subset: Dataset) -> dict:
    start = time.perf_counter()
    model = transfer.logistic_probe(pixels(subset), subset.labels, trial.C, standardise=False, max_iter=5000)
    seconds = time.perf_counter() - start
    logistic = model[-1]
    _, val, test = task_splits(trial.task)
    return {
        **_score(model, lambda split: pixels(val if split == "val" else test), trial.task),
        "trainable_params": logistic.coef_.size + logistic.intercept_.size,
        "train_flops": logistic_flops(len(subset), 784, len(subset.classes), int(logistic.n_iter_.max())),
        "seconds": seconds,
    }


def _run_linear_probe(trial: Trial, subset: Dataset, source_path: Path) -> dict:
    source, _ = checkpoint.load_checkpoint(source_path)
    start = time.perf_counter()
    features = transfer.extract_features(source, subset.images)  # the backbone runs once, forward only
    model = transfer.logistic_probe(features, subset.labels, trial.C, max_iter=5000)
    seconds = time.perf_counter() - start
    logistic = model[-1]
    forward = cost.flops_per_prediction(source.backbone) * len(subset)
    return {
        **_score(model, lambda split: source_features(trial.task, split, source_path).numpy(), trial.task),
        "trainable_params": logistic.coef_.size + logistic.intercept_.size,
        "train_flops": forward
        + logistic_flops(len(subset), source.feature_dim, len(subset.classes), int(logistic.n_iter_.max())),
        "seconds": seconds,
    }


def make_cnn(
    approach: str, subset: Dataset, seed: int, source_path: Path = SOURCE_CHECKPOINT
) -> tuple[models.CNN, int, float]:
    """The starting model of a CNN approach, with the FLOPs and seconds it cost to prepare."""
    num_classes = len(subset.classes)
    if approach == "from scratch":
        return models.make_model(models.CNNConfig(num_classes=num_classes), seed=seed), 0, 0.0
    model = transfer.pretrained_model(num_classes, seed=seed, path=source_path)
    if approach in ("fine-tune", *STRATEGIES):
        return model, 0, 0.0
    start = time.perf_counter()  # LP-FT: a linear probe first, then everything trains
    transfer.linear_probe(model, subset, method="sklearn")
    seconds = time.perf_counter() - start
    transfer.unfreeze(model)
    return model, cost.flops_per_prediction(model.backbone) * len(subset), seconds


def _run_cnn(trial: Trial, subset: Dataset, source_path: Path) -> dict:
    model, prep_flops, prep_seconds = make_cnn(trial.approach, subset, trial.seed, source_path)
    _, val, test = task_splits(trial.task)
    config = train.TrainConfig(steps=trial.steps, batch_size=trial.batch_size, lr=trial.lr, seed=trial.seed)
    if trial.approach == "gradual unfreezing":  # stages of its own; no curve at the shared steps
        history, train_flops = transfer.gradual_unfreezing(model, subset, config)
        per_step = train_flops / trial.steps
    else:
        curve_steps = [s for s in CURVE_STEPS if s <= trial.steps] if val is not None else []
        groups = None
        if trial.approach == "discriminative lr":
            groups = transfer.param_groups(model, head_lr=trial.lr, decay=DISCRIMINATIVE_DECAY)
        history = train.fit(
            model, subset, config, val, param_groups=groups, device=torch.device("cpu"), eval_at=curve_steps
        )
        per_step = cost.flops_per_step(model, min(trial.batch_size, len(subset)))["total"]
    curve = [[row["step"], row["val_acc"], prep_seconds + row["seconds"]] for row in history.rows if "val_acc" in row]
    return {
        "val_acc": history.last.get("val_acc"),
        "test_acc": train.evaluate(model, test),
        "trainable_params": cost.count_parameters(model)["trainable"],
        "train_flops": prep_flops + trial.steps * per_step,
        "seconds": prep_seconds + history.seconds,
        "prep_flops": prep_flops,
        "flops_per_step": per_step,
        "curve": curve,  # [[step, validation accuracy, seconds so far], ...]
    }
