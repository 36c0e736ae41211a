"""Notebook 08's comparison: two real released models against the suite's miniature, under the same protocol.

Three studies, cached in data/results/pretrained.json (`python -m tools.sweep fill --only 08`; read back
by helpers.pretrained_results):

1. **vision, which source?** MobileNetV2 (3.5 M parameters, ImageNet's 1.28 M photos) against the
   letter CNN of 01-05 on two targets: the digits (development pairing: Fashion-MNIST, as in 02-05)
   and Fashion-MNIST (development pairing: the digits). Frozen features and fine-tuning, against
   from scratch and pixels. The letter CNN's runs are helpers.trials trials, shared with 02-05.
2. **text, what scale buys.** all-MiniLM-L6-v2 (22.7 M parameters) on 07's authorship task against
   07's tiny GPT, from scratch and the n-grams: frozen features, full fine-tuning and LoRA (peft).
   07's runs are helpers.language_study trials; the from-scratch and n-gram curves are extended
   to 200 and 1,000 labels per class, so that "how many labels would from scratch need" can be read.
3. **scale, on a measured axis.** The tiny GPT pretrained on growing slices of its corpus, and the
   letter CNN on growing slices of its letters (model size and steps fixed, data varied), each
   read by a frozen-feature probe; the two released models are the far points.

Every recipe (C, learning rate, steps) is chosen on the development pairing at the same budget and
then frozen, as in 02-07: no labelled target example beyond the budget informs any choice.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import json
import time
import warnings
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from helpers import (
    checkpoint,
    cost,
    data,
    experiment,
    gpt,
    language,
    language_study,
    models,
    pretrained,
    results,
    text,
    train,
    transfer,
    trials,
)
from helpers.core import CACHE_DIR, RESULTS_DIR, atomic_path
from helpers.trials import Trial

VERSION = 1  # bump when a change below alters results; old rows then stop matching
RESULTS_PATH = RESULTS_DIR / "pretrained.json"
FILL = "python -m tools.sweep fill --only 08"

# --- 1. vision --------------------------------------------------------------------------------------------

VISION_DEV = {"digits": "fashion", "fashion": "digits"}  # target -> the pairing its recipes are chosen on
VISION_BUDGETS = (1, 2, 5, 10)  # labels per class
FINE_TUNE_BUDGETS = (2, 10)  # a MobileNetV2 fine-tuning run costs about a minute on one core: two budgets
SEEDS = (0, 1, 2, 3, 4)  # reported runs, every study
DEV_SEEDS = (0, 1)  # development runs of the cheap approaches; fine-tuning develops on seed 0 only
LETTER_APPROACHES = ("logistic regression", "from scratch", "linear probe", "fine-tune")  # helpers.trials names
PROBE_C = (0.01, 0.1, 1.0, 10.0)
MOBILENET_LRS = (3e-5, 1e-4, 3e-4)  # 1e-3 ended at chance on all four development runs first tried
FINE_TUNE_STEPS = (30, 60, 120)  # measured along one development run at a constant rate
MOBILENET_BATCH = 32

# --- 2. text ----------------------------------------------------------------------------------------------

TEXT_TASKS = {"authors": "target", "authors (dev)": "dev"}  # task -> helpers.language pairing
TEXT_BUDGETS = language_study.LABELS_PER_CLASS  # 1 to 50 labels per class, as 07
TEXT_FINE_TUNE_BUDGETS = (2, 10)
TEXT_C = language_study.C_VALUES
MINILM_LRS = {"MiniLM full fine-tuning": (3e-5, 1e-4, 3e-4), "MiniLM LoRA": (3e-4, 1e-3, 3e-3)}
TEXT_STEPS = (20, 40, 80)
MINILM_BATCH = 16
LORA_RANK, LORA_ALPHA = language_study.LORA_RANK, 8.0  # as 07's hand-written LoRA
LORA_TARGETS = ["query", "key", "value", "attention.output.dense"]  # every attention matrix, as 07
EXTENDED_BUDGETS = (200, 1000)  # from scratch and n-grams only: the curve effective data is read from
EXTENDED_LRS = language_study.CLASSIFICATION_LRS["from scratch"]
EXTENDED_STEPS = (100, 200, 400)

# --- 3. scale ---------------------------------------------------------------------------------------------

TEXT_FRACTIONS = (0.0, 1 / 64, 1 / 16, 1 / 4, 1.0)  # of the tiny GPT's pretraining text; 0: untrained
LETTER_SLICES = (0, 12, 50, 200, 800)  # letters per class the letter CNN pretrains on; 0: untrained; 800: all
SCALE_TEXT_BUDGET = 10  # labels per class of the probe that reads each tiny GPT
SCALE_VISION_BUDGET = 5  # digits per class of the probe that reads each letter CNN


@dataclass(frozen=True)
class RealTrial:
    """One run of notebook 08: a task, an approach, a budget, a setting (C or learning rate), steps and a seed.

    `source` names the pretraining of a scale-study probe ("" elsewhere); `evaluate_at` lists the steps a
    development run is also measured at.
    """

    task: str  # "digits", "fashion", "authors" or "authors (dev)"
    approach: str
    budget: int  # labels per class
    setting: float
    steps: int
    seed: int
    source: str = ""
    evaluate_at: tuple[int, ...] = ()

    def key(self) -> str:
        return experiment.trial_key(self, version=VERSION, weights=weights_of(self), data=data_of(self.task))


def weights_of(trial: RealTrial) -> str:
    """What the trial starts from, as a hash: a released file's pinned SHA-256, or a scale source's plan."""
    if trial.approach.startswith("MobileNetV2"):
        return pretrained.MOBILENET_V2.sha256[:16]
    if trial.approach.startswith("MiniLM"):
        return pretrained.MINILM.sha256[:16]
    return scale_source(trial.source).key()


@lru_cache(maxsize=4)
def data_of(task: str) -> str:
    """What a task's data is, for the key: the raw digits' hash; the other files are checked by SHA-256 on load."""
    return trials.dependencies()["digits"] if task in VISION_DEV else "sha256-checked files"


# --- the plans --------------------------------------------------------------------------------------------


def mobilenet_dev_plan() -> list[RealTrial]:
    plan = []
    for dev in VISION_DEV.values():
        for k in VISION_BUDGETS:
            plan += [RealTrial(dev, "MobileNetV2 features", k, C, 0, s) for C in PROBE_C for s in DEV_SEEDS]
        for k in FINE_TUNE_BUDGETS:
            steps = FINE_TUNE_STEPS
            plan += [RealTrial(dev, "MobileNetV2 fine-tuned", k, lr, steps[-1], 0, "", steps) for lr in MOBILENET_LRS]
    return plan


def minilm_dev_plan() -> list[RealTrial]:
    plan = [RealTrial("authors (dev)", "MiniLM features", k, C, 0, 0) for k in TEXT_BUDGETS for C in TEXT_C]
    for approach, lrs in MINILM_LRS.items():
        for k in TEXT_FINE_TUNE_BUDGETS:
            plan += [RealTrial("authors (dev)", approach, k, lr, TEXT_STEPS[-1], 0, "", TEXT_STEPS) for lr in lrs]
    return plan


def extended_dev_plan() -> list[language_study.LanguageTrial]:
    """07's from scratch and n-grams at budgets past 07's, on 07's development pairing."""
    plan = []
    for k in EXTENDED_BUDGETS:
        plan += [language_study.LanguageTrial("classification", "dev", "n-grams", k, C, 0, 0) for C in TEXT_C]
        steps = EXTENDED_STEPS
        plan += [
            language_study.LanguageTrial("classification", "dev", "from scratch", k, lr, steps[-1], 0, steps)
            for lr in EXTENDED_LRS
        ]
    return plan


def letter_dev_plan() -> list[Trial]:
    """The letter CNN's approaches on the digits, every setting, seeds 0-1: development runs for the Fashion target."""
    return trials.grid(LETTER_APPROACHES, VISION_BUDGETS, DEV_SEEDS, task="digits")


def scale_dev_plan() -> list[RealTrial]:
    plan = []
    for source in scale_sources():
        if source.kind == "tiny GPT":
            plan += [
                RealTrial("authors (dev)", "tiny GPT features", SCALE_TEXT_BUDGET, C, 0, 0, source.name) for C in TEXT_C
            ]
        else:
            k = SCALE_VISION_BUDGET
            plan += [
                RealTrial("fashion", "letter CNN features", k, C, 0, s, source.name) for C in PROBE_C for s in DEV_SEEDS
            ]
    return plan


def dev_plan() -> list:
    return mobilenet_dev_plan() + minilm_dev_plan() + extended_dev_plan() + letter_dev_plan() + scale_dev_plan()


Recipes = dict[
    tuple[str, str, int, str], tuple[float, int]
]  # (target task, approach, budget, source) -> (setting, steps)


def choose_recipes(rows: dict[str, dict]) -> Recipes:
    """Every approach's (setting, steps) at every budget, from the development rows alone."""
    recipes: Recipes = {}
    dev = experiment.collect(mobilenet_dev_plan() + minilm_dev_plan() + scale_dev_plan(), rows, RESULTS_PATH, FILL)
    target_of = {"fashion": "digits", "digits": "fashion", "authors (dev)": "authors"}
    for (task, approach, budget, source), group in dev.groupby(["task", "approach", "budget", "source"], sort=False):
        options = [((setting, steps), score) for (setting, steps), score in _dev_scores(group)]
        recipes[target_of[task], approach, int(budget), source] = experiment.choose(options)
    extended = experiment.collect(extended_dev_plan(), rows, RESULTS_PATH, FILL)
    for (approach, budget), group in extended.groupby(["approach", "budget"], sort=False):
        recipes["authors", approach, int(budget), ""] = experiment.choose(experiment.curve_options(group))
    letters = experiment.collect(letter_dev_plan(), rows, RESULTS_PATH, FILL)
    for (approach, n), setting in results.dev_recipes(letters).items():
        recipes["fashion", approach, n, ""] = (setting, trials.STEPS if approach in trials.CNN_APPROACHES else 0)
    return recipes


def _dev_scores(group: pd.DataFrame) -> list[tuple[tuple[float, int], float]]:
    """((setting, steps), mean score over the development seeds) for each option of one approach at one budget."""
    scores: dict[tuple[float, int], list[float]] = {}
    for row in group.itertuples():
        for step, score in row.curve.items():
            scores.setdefault((row.setting, int(step)), []).append(score)
    return [(option, float(np.mean(values))) for option, values in scores.items()]


def target_plan(recipes: Recipes) -> list:
    """The reported runs: every approach's frozen recipe at every budget and seed."""
    plan: list = []
    for (task, approach, budget, source), (setting, steps) in recipes.items():
        if task == "fashion" and approach in LETTER_APPROACHES:
            plan += [Trial(approach, budget, s, task="fashion", **{trials.knob(approach): setting}) for s in SEEDS]
        elif approach in ("from scratch", "n-grams"):
            plan += [
                language_study.LanguageTrial("classification", "target", approach, budget, setting, steps, s)
                for s in SEEDS
            ]
        else:
            plan += [RealTrial(task, approach, budget, setting, steps, s, source) for s in SEEDS]
    return plan


# --- the scale study's sources ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ScaleSource:
    """One pretraining run of the scale study: the tiny GPT on a fraction of its text, or the letter CNN on a slice."""

    kind: str  # "tiny GPT" or "letter CNN"
    amount: float  # fraction of the text (tiny GPT), or letters per class (letter CNN)
    name: str

    def key(self) -> str:
        shipped = self.shipped()
        if shipped is not None:
            return trials.checkpoint_sha(shipped)
        return experiment.trial_key(self, version=VERSION, recipe=str(self.recipe()))

    def shipped(self) -> Path | None:
        """The shipped checkpoint that is this run (all the data, the shipped recipe), or None."""
        if self.kind == "tiny GPT" and self.amount == 1.0:
            return language.LM_CHECKPOINT
        if self.kind == "letter CNN" and self.amount == LETTER_SLICES[-1]:
            return checkpoint.SOURCE_CHECKPOINT
        return None

    def recipe(self) -> object:
        return language.PRETRAIN_RECIPE if self.kind == "tiny GPT" else checkpoint.SOURCE_RECIPE


def scale_sources() -> list[ScaleSource]:
    sources = [ScaleSource("tiny GPT", f, f"tiny GPT, {_fraction_text(f)} of its text") for f in TEXT_FRACTIONS]
    sources += [ScaleSource("letter CNN", n, f"letter CNN, {n} letters per class") for n in LETTER_SLICES]
    return sources


def scale_source(name: str) -> ScaleSource:
    for source in scale_sources():
        if source.name == name:
            return source
    raise experiment.ExperimentError(
        f"no scale source called {name!r}; the sources: {[s.name for s in scale_sources()]}"
    )


def _fraction_text(fraction: float) -> str:
    return "none" if fraction == 0 else "all" if fraction == 1 else f"1/{round(1 / fraction)}"


def pretraining_text_slice(fraction: float) -> torch.Tensor:
    """The first `fraction` of the tiny GPT's training text (Pride and Prejudice, then Emma)."""
    tokens = text.pretraining_text().train
    return tokens[: max(int(len(tokens) * fraction), language.SNIPPET_LENGTH + 1)]


def letters_slice(per_class: int) -> data.Dataset:
    """`per_class` letters of each of the 37 classes, the same draw every time (seed 0)."""
    return data.few_shot(data.load_letters("train"), per_class, seed=0)


def source_path(source: ScaleSource) -> Path:
    return source.shipped() or CACHE_DIR / f"scale-{source.key()}.pt"


def pretrain_source(source: ScaleSource) -> dict:
    """Pretrain one scale source (nothing for the untrained and the shipped ones); returns its record.

    The weights go to data/cache/ (never committed; rebuilt when missing), the record into the results cache.
    """
    recipe = source.recipe()
    if source.kind == "tiny GPT":
        unique = len(pretraining_text_slice(source.amount)) if source.amount else 0
        seen = recipe.steps * recipe.batch_size * gpt.GPTConfig().context
    else:
        unique = int(source.amount) * len(data.load_letters("train").classes)
        seen = recipe.steps * recipe.batch_size
    record = {
        "source": source.name,
        "kind": source.kind,
        "amount": source.amount,
        "unique_examples": unique,
        "examples_seen": seen if source.amount else 0,
        "seconds": 0.0,
        "train_flops": 0,
    }
    if source.shipped() is not None:
        shipped = json.loads(source.shipped().with_suffix(".json").read_text())
        return {**record, "seconds": shipped["train_seconds"], "train_flops": _train_flops(source, shipped)}
    if not source.amount:
        return record
    with experiment.one_thread():
        model, seconds, flops = _pretrain(source)
    with atomic_path(source_path(source)) as staged:
        torch.save(model.state_dict(), staged)
    return {**record, "seconds": seconds, "train_flops": flops}


def _train_flops(source: ScaleSource, shipped: dict) -> float:
    if source.kind == "tiny GPT":
        return shipped["train_flops"]
    return shipped["flops_per_step"] * source.recipe().steps


def _pretrain(source: ScaleSource) -> tuple[nn.Module, float, float]:
    """(model, seconds, FLOPs) of one pretraining run on a slice, with the shipped model's recipe."""
    if source.kind == "tiny GPT":
        model = gpt.make_gpt(gpt.GPTConfig(), seed=language.PRETRAIN_RECIPE.seed)
        history = language.train_lm(model, pretraining_text_slice(source.amount), language.PRETRAIN_RECIPE)
        return model, history.seconds, gpt.flops_per_token(model.config)["train"] * history.tokens_seen
    config = dataclasses.replace(models.STANDARD, num_classes=len(data.load_letters("train").classes))
    model = models.make_model(config, seed=checkpoint.SOURCE_RECIPE.seed)
    history = train.fit(
        model, letters_slice(int(source.amount)), checkpoint.SOURCE_RECIPE, val_set=None, progress=False
    )
    per_step = cost.flops_per_step(model, checkpoint.SOURCE_RECIPE.batch_size)["total"]
    return model, history.seconds, per_step * checkpoint.SOURCE_RECIPE.steps


@lru_cache(maxsize=16)
def source_model(name: str) -> nn.Module:
    """A scale source's model, pretrained (from data/cache/, pretraining it first if missing) or untrained."""
    source = scale_source(name)
    if source.kind == "tiny GPT":
        if source.shipped():
            return language.load_lm(source.shipped())[0].eval()
        model = gpt.make_gpt(gpt.GPTConfig(), seed=language.PRETRAIN_RECIPE.seed)
    else:
        if source.shipped():
            return checkpoint.load_checkpoint(source.shipped())[0].eval()
        config = dataclasses.replace(models.STANDARD, num_classes=len(data.load_letters("train").classes))
        model = models.make_model(config, seed=checkpoint.SOURCE_RECIPE.seed)
    if source.amount:
        path = source_path(source)
        if not path.exists():
            pretrain_source(source)
        model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    return model.eval()


# --- running one trial ------------------------------------------------------------------------------------


def run(trial: RealTrial | Trial | language_study.LanguageTrial | ScaleSource, one_thread: bool = True) -> dict:
    """Run one trial of any of the four kinds on one CPU thread, as the sweep does; returns its row.

    `one_thread=False` runs a released model's trial on the threads the caller set instead (notebook 08's
    live run: faster, and the same arithmetic up to the order of its sums, so a score may differ in the last
    test snippet)."""
    if isinstance(trial, ScaleSource):
        return pretrain_source(trial)
    if isinstance(trial, Trial):
        return trials.run_trial(trial)
    if isinstance(trial, language_study.LanguageTrial):
        return language_study.run(trial)
    with experiment.one_thread() if one_thread else contextlib.nullcontext():
        torch.manual_seed(trial.seed)
        measured = RUNNERS[trial.approach](trial)
        return {**asdict(trial), **measured}


# vision


@lru_cache(maxsize=1)
def mobilenet() -> nn.Module:
    return pretrained.load_mobilenet_v2()


@torch.no_grad()
def mobilenet_features(images: torch.Tensor, model: nn.Module | None = None) -> torch.Tensor:
    """(N, 1280) MobileNetV2 features of (N, 28, 28) images at 112 px: its last feature map, averaged."""
    model = (model or mobilenet()).eval()
    chunks = [model.features(pretrained.image_batch(chunk)).mean(dim=(2, 3)) for chunk in images.split(128)]
    return torch.cat(chunks)


@lru_cache(maxsize=4)
def test_features(task: str) -> torch.Tensor:
    return mobilenet_features(trials.task_splits(task)[2].images)


@lru_cache(maxsize=1)
def mobilenet_flops() -> int:
    """FLOPs of one MobileNetV2 forward pass on one 112 x 112 image."""
    return cost.forward_flops(mobilenet(), torch.zeros(1, 3, pretrained.IMAGE_SIZE, pretrained.IMAGE_SIZE))


def _probe(trial: RealTrial, train_features, train_labels, test_feats, test_labels, reading_flops: float) -> dict:
    start = time.perf_counter()
    probe = transfer.logistic_probe(train_features, train_labels, trial.setting, max_iter=5000)
    seconds = time.perf_counter() - start
    logistic = probe[-1]
    fit_flops = trials.logistic_flops(
        len(train_labels), train_features.shape[1], len(logistic.classes_), int(logistic.n_iter_.max())
    )
    score = float(probe.score(np.asarray(test_feats), np.asarray(test_labels)))
    return {
        "score": score,
        "curve": {"0": score},
        "seconds": seconds,
        "train_flops": reading_flops + fit_flops,
        "trainable_params": logistic.coef_.size + logistic.intercept_.size,
    }


def _run_mobilenet_features(trial: RealTrial) -> dict:
    subset = trials.training_subset(trial.budget, trial.seed, trial.task)
    start = time.perf_counter()
    features = mobilenet_features(subset.images)
    reading = time.perf_counter() - start
    test = trials.task_splits(trial.task)[2]
    row = _probe(
        trial, features, subset.labels, test_features(trial.task), test.labels, mobilenet_flops() * len(subset)
    )
    return {**row, "seconds": row["seconds"] + reading}


def freeze_batchnorm(model: nn.Module) -> nn.Module:
    """Keep every BatchNorm on ImageNet's running statistics: a batch of 20 digits would be a poor estimate."""
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.eval()
    return model


def new_head(model: nn.Module, num_classes: int, seed: int) -> nn.Module:
    """MobileNetV2 with its 1,000 ImageNet classes replaced by a fresh layer for `num_classes`, seeded."""
    torch.manual_seed(seed)
    model.classifier[-1] = nn.Linear(model.classifier[-1].in_features, num_classes)
    return model


@torch.no_grad()
def _accuracy(model: nn.Module, inputs: torch.Tensor, labels: torch.Tensor, batch_size: int = 128) -> float:
    model.eval()
    predictions = torch.cat([model(chunk).argmax(dim=1) for chunk in inputs.split(batch_size)])
    return (predictions == labels).float().mean().item()


@lru_cache(maxsize=2)
def test_inputs(task: str) -> tuple[torch.Tensor, torch.Tensor]:
    test = trials.task_splits(task)[2]
    return pretrained.image_batch(test.images), test.labels


def _run_mobilenet_fine_tuning(trial: RealTrial) -> dict:
    subset = trials.training_subset(trial.budget, trial.seed, trial.task)
    model = new_head(copy.deepcopy(mobilenet()), len(subset.classes), trial.seed)
    x, y = pretrained.image_batch(subset.images), subset.labels
    batch = min(MOBILENET_BATCH, len(y))
    step_flops = cost.step_flops(model, lambda: F.cross_entropy(model(x[:batch]), y[:batch]))["total"]
    curve, seconds = _fine_tune(model, x, y, trial, batch, test_inputs(trial.task), freeze_batchnorm)
    return {
        "score": curve[str(trial.steps)],
        "curve": curve,
        "seconds": seconds,
        "train_flops": step_flops * trial.steps,
        "trainable_params": cost.count_parameters(model)["trainable"],
    }


def _fine_tune(model, x, y, trial: RealTrial, batch: int, test, prepare=lambda m: m) -> tuple[dict[str, float], float]:
    """AdamW at a constant rate on random batches; the test accuracy at each step in evaluate_at and at the end.

    `x` may be a tensor of inputs or a dict of them (a tokenizer's output), indexed by example along dim 0.
    """
    generator = torch.Generator().manual_seed(trial.seed)
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=trial.setting, weight_decay=0.01)
    curve, seconds = {}, 0.0
    for step in range(1, trial.steps + 1):
        start = time.perf_counter()
        prepare(model.train())
        rows = torch.randint(len(y), (batch,), generator=generator)
        inputs = {k: v[rows] for k, v in x.items()} if isinstance(x, dict) else x[rows]
        loss = F.cross_entropy(model(inputs), y[rows])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        seconds += time.perf_counter() - start
        if step in trial.evaluate_at or step == trial.steps:
            curve[str(step)] = (
                _accuracy(model, *test) if not isinstance(test[0], dict) else _text_accuracy(model, *test)
            )
    return curve, seconds


# text


@lru_cache(maxsize=1)
def minilm() -> tuple[nn.Module, object]:
    return pretrained.load_minilm()


@lru_cache(maxsize=2)
def author_task(task: str) -> language.TextTask:
    return language.author_task(TEXT_TASKS[task])


@lru_cache(maxsize=2)
def test_embeddings(task: str) -> torch.Tensor:
    return pretrained.sentence_embeddings(author_task(task).test_texts, *minilm())


def minilm_flops_per_token() -> float:
    """Forward FLOPs per token of MiniLM's six layers (2 per multiply-add; embeddings and attention scores left out)."""
    model = minilm()[0]
    body = sum(p.numel() for name, p in model.named_parameters() if name.startswith("encoder"))
    return 2.0 * body


def _run_minilm_features(trial: RealTrial) -> dict:
    task = author_task(trial.task)
    snippets, labels = language.few_shot(task, trial.budget, trial.seed)
    start = time.perf_counter()
    features = pretrained.sentence_embeddings(snippets, *minilm())
    reading = time.perf_counter() - start
    tokens = sum(len(ids) for ids in minilm()[1](snippets)["input_ids"])  # word pieces, with [CLS] and [SEP]
    row = _probe(
        trial, features, labels, test_embeddings(trial.task), task.test_labels, minilm_flops_per_token() * tokens
    )
    return {**row, "seconds": row["seconds"] + reading}


class SentenceClassifier(nn.Module):
    """MiniLM's transformer with a new head: the mean of its token vectors (padding left out) -> class scores."""

    def __init__(self, body: nn.Module, num_classes: int) -> None:
        super().__init__()
        self.body = body
        self.head = nn.Linear(body.config.hidden_size, num_classes)

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        tokens = self.body(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).to(tokens.dtype)  # (N, T, 1)
        return self.head((tokens * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0))  # (N, classes)


def with_lora(body: nn.Module) -> nn.Module:
    """peft's LoRA on every attention matrix of MiniLM, rank 4 and alpha 8 as 07's hand-written LoRALinear."""
    from peft import LoraConfig, get_peft_model

    config = LoraConfig(r=LORA_RANK, lora_alpha=LORA_ALPHA, lora_dropout=0.0, target_modules=LORA_TARGETS)
    with warnings.catch_warnings():  # transformers 5 renamed a property peft still reads; nothing a learner can act on
        warnings.simplefilter("ignore", FutureWarning)
        return get_peft_model(body, config)


def tokenize(snippets) -> dict[str, torch.Tensor]:
    batch = minilm()[1](list(snippets), padding=True, truncation=True, return_tensors="pt")
    return {"input_ids": batch["input_ids"], "attention_mask": batch["attention_mask"]}


@torch.no_grad()
def _text_accuracy(model: nn.Module, batch: dict[str, torch.Tensor], labels: torch.Tensor, size: int = 100) -> float:
    model.eval()
    predictions = []
    for start in range(0, len(labels), size):
        predictions.append(model({k: v[start : start + size] for k, v in batch.items()}).argmax(dim=1))
    return (torch.cat(predictions) == labels).float().mean().item()


@lru_cache(maxsize=2)
def test_tokens(task: str) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
    found = author_task(task)
    return tokenize(found.test_texts), torch.tensor(found.test_labels)


def _run_minilm_fine_tuning(trial: RealTrial) -> dict:
    task = author_task(trial.task)
    snippets, labels = language.few_shot(task, trial.budget, trial.seed)
    body = copy.deepcopy(minilm()[0])
    torch.manual_seed(trial.seed)  # the head, and LoRA's A matrices
    if trial.approach == "MiniLM LoRA":
        body = with_lora(body)
    model = SentenceClassifier(body, len(task.classes))
    x, y = tokenize(snippets), torch.tensor(labels)
    batch = min(MINILM_BATCH, len(y))
    step_flops = cost.step_flops(model, lambda: F.cross_entropy(model({k: v[:batch] for k, v in x.items()}), y[:batch]))
    curve, seconds = _fine_tune(model, x, y, trial, batch, test_tokens(trial.task))
    return {
        "score": curve[str(trial.steps)],
        "curve": curve,
        "seconds": seconds,
        "train_flops": step_flops["total"] * trial.steps,
        "trainable_params": sum(p.numel() for p in model.parameters() if p.requires_grad),
    }


# scale


def _run_source_features(trial: RealTrial) -> dict:
    """A frozen-feature probe on one scale source: the tiny GPT's on the authors, the letter CNN's on the digits."""
    model = source_model(trial.source)
    if trial.approach == "tiny GPT features":
        task = author_task(trial.task)
        snippets, labels = language.few_shot(task, trial.budget, trial.seed)
        train_features = language_study.features(model, snippets)
        test = _source_test_features(trial.source, trial.task)
        reading = gpt.flops_per_token(model.config)["forward"] * language.SNIPPET_LENGTH * len(snippets)
        return _probe(trial, train_features, labels, test, task.test_labels, reading)
    subset = trials.training_subset(trial.budget, trial.seed, trial.task)
    train_features = transfer.extract_features(model, subset.images)
    reading = cost.flops_per_prediction(model.backbone) * len(subset)
    test = _source_test_features(trial.source, trial.task)
    return _probe(trial, train_features, subset.labels, test, trials.task_splits(trial.task)[2].labels, reading)


@lru_cache(maxsize=32)
def _source_test_features(name: str, task: str) -> np.ndarray:
    model = source_model(name)
    if scale_source(name).kind == "tiny GPT":
        return language_study.features(model, author_task(task).test_texts)
    return transfer.extract_features(model, trials.task_splits(task)[2].images).numpy()


RUNNERS = {
    "MobileNetV2 features": _run_mobilenet_features,
    "MobileNetV2 fine-tuned": _run_mobilenet_fine_tuning,
    "MiniLM features": _run_minilm_features,
    "MiniLM full fine-tuning": _run_minilm_fine_tuning,
    "MiniLM LoRA": _run_minilm_fine_tuning,
    "tiny GPT features": _run_source_features,
    "letter CNN features": _run_source_features,
}
