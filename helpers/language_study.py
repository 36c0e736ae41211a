"""Notebook 07's comparison: the tiny GPT pretrained on Austen, against from scratch, on two new tasks.

1. **Generative**: learn to write like Shakespeare from the first 1,000 to 64,000 characters of a play;
   scored by the held-out loss (nats per character) on the play's last 10%.
2. **Classification**: which author wrote a 64-character snippet (Austen or Shakespeare), from 1 to 50
   labelled snippets per class; scored by accuracy on 300 test snippets per class.

The protocol is the one of 02-06, budget-true: every recipe (learning rate, steps, C) is chosen on a
development pairing made of other works (Hamlet for the generative task; Northanger Abbey against
Hamlet for classification), at the same budget, then frozen. No character of Macbeth, Persuasion or
Twelfth Night beyond the stated budget informs any choice. Results are cached in
data/results/language.json (`python -m tools.sweep fill --only 07`). This module plans, runs and sums up in
numbers; helpers.story_07 states the numbers in sentences and tables.
"""

from __future__ import annotations

import copy
import json
import time
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from helpers import cost, experiment, gpt, language, stats, text, transfer
from helpers.core import RESULTS_DIR
from helpers.trials import ExperimentError

VERSIONS = {"generative": 1, "classification": 2}  # bump a task's number when a change alters its results
RESULTS_PATH = RESULTS_DIR / "language.json"

GENERATIVE_WORKS = {"target": "shakespeare-macbeth.txt", "dev": "shakespeare-hamlet.txt"}
TARGET_SIZES = (1_000, 4_000, 16_000, 64_000)  # characters of the new text to learn from
GENERATIVE_SEEDS = (0, 1, 2)
GENERATIVE_APPROACHES = ("from scratch", "last block", "full fine-tuning")
GENERATIVE_LRS = {"from scratch": (1e-3, 3e-3), "last block": (1e-3, 3e-3), "full fine-tuning": (3e-4, 1e-3)}
GENERATIVE_STEPS = (50, 100, 200, 400, 800)  # measured along one development run, at a constant rate
GENERATIVE_BATCH = 8

LABELS_PER_CLASS = (1, 2, 5, 10, 20, 50)
CLASSIFICATION_SEEDS = (0, 1, 2, 3, 4)
CLASSIFICATION_APPROACHES = ("n-grams", "from scratch", "frozen features", "LoRA", "full fine-tuning")
CLASSIFICATION_LRS = {"from scratch": (3e-4, 1e-3, 3e-3), "LoRA": (1e-3, 3e-3), "full fine-tuning": (1e-4, 3e-4)}
CLASSIFICATION_STEPS = (25, 50, 100, 200)
C_VALUES = (0.1, 1.0, 10.0)  # for the two logistic regressions (n-grams, frozen features)
LORA_RANK = 4


@dataclass(frozen=True)
class LanguageTrial:
    """One run: a task, a pairing (dev or target), an approach, a budget, a setting, a seed."""

    task: str  # "generative" or "classification"
    pairing: str  # "dev" (choosing recipes) or "target" (the reported result)
    approach: str
    budget: int  # characters (generative) or labels per class (classification)
    setting: float  # learning rate, or C for the logistic regressions
    steps: int  # 0 for the logistic regressions
    seed: int
    evaluate_at: tuple[int, ...] = ()  # dev runs: the steps at which they are also measured

    def key(self) -> str:
        return experiment.trial_key(self, version=VERSIONS[self.task], checkpoint=checkpoint_sha())


@lru_cache(maxsize=1)
def checkpoint_sha() -> str:
    return text.sha256(language.LM_CHECKPOINT)


# --- the plans ------------------------------------------------------------------------------------------


def dev_plan() -> list[LanguageTrial]:
    """Every setting of every approach at every budget, once (seed 0), on the development pairing."""
    plan = []
    for approach in GENERATIVE_APPROACHES:
        for size in TARGET_SIZES:
            for lr in GENERATIVE_LRS[approach]:
                steps = GENERATIVE_STEPS
                plan.append(LanguageTrial("generative", "dev", approach, size, lr, steps[-1], 0, steps))
    for approach in CLASSIFICATION_APPROACHES:
        for k in LABELS_PER_CLASS:
            if approach in CLASSIFICATION_LRS:
                steps = CLASSIFICATION_STEPS
                for lr in CLASSIFICATION_LRS[approach]:
                    plan.append(LanguageTrial("classification", "dev", approach, k, lr, steps[-1], 0, steps))
            else:
                plan += [LanguageTrial("classification", "dev", approach, k, C, 0, 0) for C in C_VALUES]
    return plan


def choose_recipes(dev: pd.DataFrame) -> dict[tuple[str, str, int], tuple[float, int]]:
    """{(task, approach, budget): (setting, steps)}: the lowest dev loss, or the highest dev accuracy."""
    chosen = {}
    for (task, approach, budget), rows in dev.groupby(["task", "approach", "budget"], sort=False):
        options = [(row.setting, int(step), score) for row in rows.itertuples() for step, score in row.curve.items()]
        best = min if task == "generative" else max
        setting, steps, _ = best(options, key=lambda option: option[2])
        chosen[task, approach, budget] = (setting, steps)
    return chosen


def target_plan(recipes: dict[tuple[str, str, int], tuple[float, int]]) -> list[LanguageTrial]:
    """The reported runs: every approach at every budget and seed, with its frozen dev recipe."""
    plan = []
    for (task, approach, budget), (setting, steps) in recipes.items():
        seeds = GENERATIVE_SEEDS if task == "generative" else CLASSIFICATION_SEEDS
        plan += [LanguageTrial(task, "target", approach, budget, setting, steps, seed) for seed in seeds]
    return plan


# --- running one trial ----------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def pretrained() -> gpt.GPT:
    return language.load_lm()[0]


def start_model(approach: str, seed: int) -> gpt.GPT:
    """A copy of the pretrained GPT, or (from scratch) a fresh one of the same shape seeded by `seed`."""
    base = pretrained()  # loaded (and cached) before seeding: loading draws random numbers for a fresh GPT
    if approach == "from scratch":
        return gpt.make_gpt(base.config, seed=seed + 1000)
    torch.manual_seed(seed)  # heads and LoRA's A start from this seed, whether or not the model was loaded already
    return copy.deepcopy(base)


def generative_recipe(lr: float, steps: int, seed: int) -> language.LMRecipe:
    """Fine-tuning (or training from scratch) on a target text: a constant rate after 10 warm-up steps."""
    return language.LMRecipe(steps=steps, batch_size=GENERATIVE_BATCH, lr=lr, warmup=10, seed=seed, decay=False)


@lru_cache(maxsize=2)
def generative_text(pairing: str) -> text.Split:
    return text.split(text.read_text(GENERATIVE_WORKS[pairing]))


def _run_generative(trial: LanguageTrial) -> dict:
    split = generative_text(trial.pairing)
    model = start_model(trial.approach, trial.seed)
    if trial.approach == "last block":
        language.freeze_all_but_last_block(model)
    recipe = generative_recipe(trial.setting, trial.steps, trial.seed)
    tokens = text.first_characters(split.train, trial.budget)
    history = language.train_lm(model, tokens, recipe, held_out=split.held_out, evaluate_at=trial.evaluate_at)
    batch = torch.zeros(GENERATIVE_BATCH, model.config.context + 1, dtype=torch.long)
    flops = language.lm_step_flops(model, batch)["total"]
    return {
        "score": history.evaluations[trial.steps],
        "curve": {str(step): loss for step, loss in history.evaluations.items()},
        "seconds": history.seconds,
        "train_flops": flops * trial.steps,
        "trainable_params": sum(p.numel() for p in model.parameters() if p.requires_grad),
    }


@lru_cache(maxsize=2)
def author_task(pairing: str) -> language.TextTask:
    return language.author_task(pairing)


def _run_classification(trial: LanguageTrial) -> dict:
    task = author_task(trial.pairing)
    snippets, labels = language.few_shot(task, trial.budget, trial.seed)
    if trial.approach == "n-grams":
        model = language.ngram_baseline(snippets, labels, C=trial.setting)
        score = language.ngram_accuracy(model, task.test_texts, task.test_labels)
        return {"score": score, "curve": {"0": score}, "seconds": 0.0, "train_flops": 0, "trainable_params": 0}
    if trial.approach == "frozen features":
        start = time.perf_counter()
        probe = frozen_probe(pretrained(), snippets, labels, C=trial.setting)
        seconds = time.perf_counter() - start  # reading the snippets' features, then the logistic regression
        score = float(np.mean(probe.predict(features(pretrained(), task.test_texts)) == np.asarray(task.test_labels)))
        reading = gpt.flops_per_token(pretrained().config)["forward"] * language.SNIPPET_LENGTH * len(snippets)
        trainable = pretrained().config.width + 1  # the logistic regression's weights and bias
        return {
            "score": score,
            "curve": {"0": score},
            "seconds": seconds,
            "train_flops": reading,
            "trainable_params": trainable,
        }
    body = start_model(trial.approach, trial.seed)
    model = language.TextClassifier(body, len(task.classes))
    if trial.approach == "LoRA":
        language.add_lora(model, rank=LORA_RANK)
        model.head.requires_grad_(True)
    recipe = language.ClassifierRecipe(steps=trial.steps, lr=trial.setting, seed=trial.seed)
    test = (language.encode_batch(task.test_texts), torch.tensor(task.test_labels))
    run = language.train_classifier(model, snippets, labels, recipe, test=test, evaluate_at=trial.evaluate_at)
    batch = language.encode_batch(snippets[:1] * min(recipe.batch_size, len(snippets)))
    flops = cost.step_flops(
        model, lambda: torch.nn.functional.cross_entropy(model(batch), torch.zeros(len(batch), dtype=torch.long))
    )
    return {
        "score": run["accuracies"][trial.steps],
        "curve": {str(step): acc for step, acc in run["accuracies"].items()},
        "seconds": run["seconds"],
        "train_flops": flops["total"] * trial.steps,
        "trainable_params": sum(p.numel() for p in model.parameters() if p.requires_grad),
    }


@torch.no_grad()
def features(model: gpt.GPT, snippets: tuple[str, ...] | list[str]) -> np.ndarray:
    """(N, width) mean hidden states of the frozen model."""
    model.eval()
    return torch.cat([model.features(chunk) for chunk in language.encode_batch(snippets).split(256)]).numpy()


def frozen_probe(model: gpt.GPT, snippets: list[str], labels: list[int], C: float) -> object:
    """A logistic regression on the frozen model's features: the cheapest way to reuse it."""
    return transfer.logistic_probe(features(model, snippets), labels, C, max_iter=1000)


def run(trial: LanguageTrial) -> dict:
    """Run one trial on one CPU thread (as helpers.trials does); returns its row."""
    with experiment.one_thread():
        measured = _run_generative(trial) if trial.task == "generative" else _run_classification(trial)
        return {**asdict(trial), **measured}


# --- the shipped results --------------------------------------------------------------------------------


@dataclass
class LanguageResults:
    dev: pd.DataFrame
    target: pd.DataFrame
    recipes: dict

    def __repr__(self) -> str:
        return f"LanguageResults({len(self.dev)} development runs, {len(self.target)} reported runs)"


def load(path: Path = RESULTS_PATH) -> LanguageResults:
    """The shipped results, checked against the current plan and checkpoint."""
    rows = experiment.load_cache(path)
    dev = _collect(dev_plan(), rows, path)
    recipes = choose_recipes(dev)
    return LanguageResults(dev, _collect(target_plan(recipes), rows, path), recipes)


def _collect(planned: list[LanguageTrial], rows: dict[str, dict], path: Path) -> pd.DataFrame:
    return experiment.collect(planned, rows, path, "python -m tools.sweep fill --only 07")


# --- numeric summaries (helpers.story_07 states them) ---------------------------------------------------


def task_rows(found: LanguageResults, task: str) -> pd.DataFrame:
    """The reported runs of one task."""
    return found.target[found.target.task == task]


def summary(found: LanguageResults, task: str) -> pd.DataFrame:
    """Per approach and budget: mean score, min, max over seeds, mean seconds, FLOPs and trainable parameters."""
    grouped = task_rows(found, task).groupby(["approach", "budget"], sort=False)
    table = grouped.agg(
        score=("score", "mean"),
        low=("score", "min"),
        high=("score", "max"),
        seeds=("seed", "count"),
        seconds=("seconds", "mean"),
        train_flops=("train_flops", "mean"),
        trainable_params=("trainable_params", "first"),
    ).reset_index()
    if task == "generative":
        table["perplexity"] = np.exp(table.score)
    return table


def paired(found: LanguageResults, task: str, approach: str, baseline: str, budget: int) -> dict:
    """approach minus baseline, seed by seed (same text or same snippets at a seed): mean, 95% interval, wins.

    For the generative task the difference is in loss (below zero: approach better); for
    classification in accuracy (above zero: approach better).
    """
    rows = task_rows(found, task)
    rows = rows[rows.budget == budget]
    a = rows[rows.approach == approach].set_index("seed").score
    b = rows[rows.approach == baseline].set_index("seed").score
    if not set(a.index) & set(b.index):
        raise ExperimentError(f"no common seeds for {approach!r} and {baseline!r} at budget {budget}")
    p = stats.paired(a, b, lower_is_better=task == "generative")  # the one paired comparison every study uses
    interval = {"mean": p.mean, "low": p.low, "high": p.high}
    return {"differences": np.array(p.differences), **interval, "won": p.won, "seeds": len(p.seeds)}


def comparisons(found: LanguageResults, task: str, baseline: str, approaches: tuple[str, ...]) -> pd.DataFrame:
    """Each approach minus the baseline at every budget, seed by seed: one row per pair with the mean difference,
    its 95% interval (`low`, `high`), seeds won, the verdict (`resolved`) and each seed's difference.

    Differences are in the task's score: loss in nats (below zero: better), or accuracy as a fraction.
    """
    rows = []
    for approach in approaches:
        for budget in sorted(task_rows(found, task).budget.unique()):
            p = paired(found, task, approach, baseline, int(budget))
            rows.append(
                {
                    "task": task,
                    "approach": approach,
                    "baseline": baseline,
                    "budget": int(budget),
                    "difference": p["mean"],
                    "low": p["low"],
                    "high": p["high"],
                    "won": p["won"],
                    "seeds": p["seeds"],
                    "verdict": resolved(p, task),
                    "differences": p["differences"],
                }
            )
    return pd.DataFrame(rows)


def resolved(p: dict, task: str) -> str:
    """'better', 'worse' or 'unresolved': whether the whole 95% interval is on one side of zero."""
    if np.isnan(p["low"]):
        return "unresolved"
    good_side = (p["high"] < 0) if task == "generative" else (p["low"] > 0)
    bad_side = (p["low"] > 0) if task == "generative" else (p["high"] < 0)
    return "better" if good_side else "worse" if bad_side else "unresolved"


def ranking(
    found: LanguageResults, task: str, approaches: list[str], budget: int
) -> tuple[list[str], dict[tuple[str, str], str]]:
    """The approaches best first by mean score at one budget, and each pair's verdict seed by seed (`resolved`).

    The verdicts are what a predicted order can be scored against: {(a, b): 'better', 'worse' or 'unresolved'},
    a against b, for every pair with a above b in the order of the means.
    """
    table = summary(found, task)
    at = table[(table.budget == budget) & table.approach.isin(approaches)]
    order = list(at.sort_values("score", ascending=task == "generative").approach)  # lower loss is better
    pairs = [(a, b) for i, a in enumerate(order) for b in order[i + 1 :]]
    return order, {(a, b): resolved(paired(found, task, a, b, budget), task) for a, b in pairs}


def pretraining_record(path: Path = language.LM_CHECKPOINT) -> dict:
    """The JSON record written beside the shipped checkpoint by `make pretrain-lm`."""
    record = path.with_suffix(".json")
    if not record.exists():
        raise language.LMCheckpointError(
            f"{record} is missing; restore it with `git checkout -- checkpoints/`"
            " or rebuild it with `make pretrain-lm`."
        )
    return json.loads(record.read_text())


def ledger(found: LanguageResults, task: str, budget: int, approach: str, amortise_over: int = 10) -> pd.DataFrame:
    """FLOPs per task of `approach` and of from scratch at one budget, with pretraining spread over N tasks.

    One row per approach: pretraining_flops (paid once; none from scratch), flops_per_task, amortised_flops
    (per task, with the pretraining spread over `amortise_over` tasks) and the mean score.
    """
    table = summary(found, task).set_index(["approach", "budget"])
    pretrain = pretraining_record()["train_flops"]
    rows = []
    for name in ("from scratch", approach):
        per_task = table.loc[(name, budget), "train_flops"]
        one_off = pretrain if name != "from scratch" else 0
        rows.append(
            {
                "approach": name,
                "pretraining_flops": one_off,
                "flops_per_task": per_task,
                "amortised_flops": per_task + one_off / amortise_over,
                "score": table.loc[(name, budget), "score"],
            }
        )
    return pd.DataFrame(rows)


def break_even(found: LanguageResults, task: str, budget: int, approach: str) -> float:
    """Tasks N after which pretraining + N fine-tunings cost fewer FLOPs than N runs from scratch (inf: never).

    Over N tasks: P + N c_t against N c_s (cost.break_even, the rule 05 uses too). Each run is counted at
    its recipe's full length; the recipe searches are left out (from scratch tried three learning rates in
    classification, the pretrained approaches two).
    """
    table = summary(found, task).set_index(["approach", "budget"])
    c_t, c_s = table.loc[(approach, budget), "train_flops"], table.loc[("from scratch", budget), "train_flops"]
    return float(cost.break_even(pretraining_record()["train_flops"], c_t, c_s))
