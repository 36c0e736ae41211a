"""Notebook 08's results, read back: every reported run as one tidy table, paired comparisons, the scale axis
and the compute table (the runs themselves are planned and made in helpers.pretrained_study).

    found = pretrained_results.load()      # 08's sweep, with the runs of 02-05 and 07 it compares with
    pretrained_results.comparisons(found, "digits", [("MobileNetV2 features", "pixels")])
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import torch
from torch import nn

from helpers import checkpoint, cost, data, experiment, language, language_study, pretrained, results, stats, trials
from helpers.pretrained_study import (
    FILL,
    LETTER_APPROACHES,
    RESULTS_PATH,
    SCALE_TEXT_BUDGET,
    SCALE_VISION_BUDGET,
    SEEDS,
    VISION_BUDGETS,
    Recipes,
    author_task,
    choose_recipes,
    mobilenet,
    scale_sources,
    target_plan,
)

# --- the shipped results ----------------------------------------------------------------------------------

# Display names: (kind of trial, its approach) -> what the tables call it
VISION_NAMES = {
    "logistic regression": "pixels",
    "from scratch": "small CNN from scratch",
    "linear probe": "letter CNN features",
    "fine-tune": "letter CNN fine-tuned",
    "MobileNetV2 features": "MobileNetV2 features",
    "MobileNetV2 fine-tuned": "MobileNetV2 fine-tuned",
}
TEXT_NAMES = {
    "n-grams": "n-grams",
    "from scratch": "tiny GPT from scratch",
    "frozen features": "tiny GPT features",
    "LoRA": "tiny GPT LoRA",
    "full fine-tuning": "tiny GPT fine-tuned",
    "MiniLM features": "MiniLM features",
    "MiniLM LoRA": "MiniLM LoRA",
    "MiniLM full fine-tuning": "MiniLM fine-tuned",
}
TIDY = ["task", "approach", "budget", "seed", "score", "train_flops", "seconds", "trainable_params", "source"]


@dataclass
class Found:
    """Notebook 08's results: every reported run as one tidy table, the recipes, and the scale study's sources."""

    runs: pd.DataFrame  # TIDY columns; score is the test accuracy
    recipes: Recipes
    sources: pd.DataFrame  # one row per scale source: kind, amount, unique_examples, examples_seen, seconds, flops

    def __repr__(self) -> str:
        return f"Found({len(self.runs)} reported runs, {len(self.sources)} pretraining sources)"


def load(path: Path = RESULTS_PATH) -> Found:
    """The shipped results, checked against the current plan; 02-05's and 07's runs come from their own files."""
    rows = {
        **experiment.load_cache(results.RESULTS_PATH),
        **experiment.load_cache(language_study.RESULTS_PATH),
        **experiment.load_cache(path),
    }
    recipes = choose_recipes(rows)
    planned = target_plan(recipes)
    experiment.collect(planned, rows, path, FILL)  # every planned run is there, or an error naming the fix
    runs = [_tidy(rows[trial.key()]) for trial in planned] + [_tidy(row) for row in _shipped_runs()]
    sources = experiment.collect(scale_sources(), rows, path, FILL)
    return Found(pd.DataFrame(runs, columns=TIDY), recipes, sources)


def _shipped_runs() -> list[dict]:
    """02-05's budget-true digits runs and 07's classification runs, at 08's budgets and seeds."""
    digits = results.budget_true(results.load_results())
    digits = digits[digits.labels_per_class.isin(VISION_BUDGETS) & digits.seed.isin(SEEDS)]
    digits = digits[digits.approach.isin(LETTER_APPROACHES)]
    language_runs = language_study.load().target
    language_runs = language_runs[language_runs.task == "classification"]
    return digits.to_dict("records") + language_runs.to_dict("records")


def _tidy(row: dict) -> dict:
    """A row of any of the three kinds (helpers.trials, helpers.language_study, RealTrial) as TIDY columns."""
    if "labels_per_class" in row:
        return {
            "task": row["task"],
            "approach": VISION_NAMES[row["approach"]],
            "budget": row["labels_per_class"],
            "seed": row["seed"],
            "score": row["test_acc"],
            "train_flops": row["train_flops"],
            "seconds": row["seconds"],
            "trainable_params": row["trainable_params"],
            "source": "",
        }
    if "pairing" in row:
        return {"task": "authors", "approach": TEXT_NAMES[row["approach"]], **_measured(row), "source": ""}
    names = {**VISION_NAMES, **TEXT_NAMES}
    return {
        "task": row["task"],
        "approach": names.get(row["approach"], row["approach"]),
        **_measured(row),
        "source": row["source"],
    }


def _measured(row: dict) -> dict:
    return {key: row[key] for key in ("budget", "seed", "score", "train_flops", "seconds", "trainable_params")}


# --- summaries --------------------------------------------------------------------------------------------


def study_runs(found: Found, task: str) -> pd.DataFrame:
    """The reported runs of one task's comparison (the scale study's probes left out)."""
    return found.runs[(found.runs.task == task) & (found.runs.source == "")]


def summary(found: Found, task: str) -> pd.DataFrame:
    """Per approach and budget: mean accuracy with its 95% interval over seeds, seeds, mean FLOPs and parameters."""
    rows = []
    for (approach, budget), group in study_runs(found, task).groupby(["approach", "budget"], sort=False):
        mean, low, high = stats.mean_interval(group.score)
        rows.append(
            {
                "approach": approach,
                "budget": int(budget),
                "accuracy": mean,
                "low": low,
                "high": high,
                "seeds": len(group),
                "train_flops": group.train_flops.mean(),
                "seconds": group.seconds.mean(),
                "trainable_params": int(group.trainable_params.iloc[0]),
            }
        )
    return pd.DataFrame(rows)


def compare(found: Found, task: str, approach: str, baseline: str, budget: int) -> stats.Paired:
    """approach minus baseline in accuracy, seed by seed on the same labelled examples."""
    runs = study_runs(found, task)
    at = runs[runs.budget == budget]
    return stats.paired(
        at[at.approach == approach].set_index("seed").score, at[at.approach == baseline].set_index("seed").score
    )


def comparisons(found: Found, task: str, pairs: list[tuple[str, str]]) -> pd.DataFrame:
    """Each (approach, baseline) at every budget both were run at: difference in points, 95% interval, wins."""
    runs = study_runs(found, task)
    rows = []
    for approach, baseline in pairs:
        budgets = sorted(set(runs[runs.approach == approach].budget) & set(runs[runs.approach == baseline].budget))
        for budget in budgets:
            p = compare(found, task, approach, baseline, int(budget))
            rows.append({**paired_row(approach, baseline, p), "budget": int(budget)})
    return pd.DataFrame(rows)


def paired_row(approach: str, baseline: str, p: stats.Paired) -> dict:
    """One comparison as a table row: the difference and its interval in points, seeds won, the verdict."""
    interval = {"difference": 100 * p.mean, "low": 100 * p.low, "high": 100 * p.high}
    return {
        "approach": approach,
        "baseline": baseline,
        **interval,
        "won": p.won,
        "seeds": len(p.seeds),
        "verdict": p.verdict,
    }


# --- effective data transferred ----------------------------------------------------------------------------


def scratch_curve(found: Found, task: str, reference: str) -> pd.Series:
    """budget -> mean accuracy of a from-scratch learner (e.g. 'tiny GPT from scratch', 'n-grams')."""
    runs = study_runs(found, task)
    return runs[runs.approach == reference].groupby("budget").score.mean()


def scale_points(found: Found) -> pd.DataFrame:
    """The scale axis: each source's pretraining data against its probe's accuracy and the effective data transferred.

    The tiny GPTs and MiniLM are read on the authors at SCALE_TEXT_BUDGET labels per class, against the
    tiny GPT from scratch; the letter CNNs and MobileNetV2 on the digits at SCALE_VISION_BUDGET, against
    the small CNN from scratch. The released models' pretraining data is documented, not measured here
    (RELEASED_DATA).
    """
    rows = []
    for source in found.sources.itertuples():
        task, budget = ("authors", SCALE_TEXT_BUDGET) if source.kind == "tiny GPT" else ("digits", SCALE_VISION_BUDGET)
        probes = found.runs[(found.runs.source == source.source) & (found.runs.budget == budget)]
        rows.append(_scale_row(found, source.kind, source.source, source.unique_examples, probes.score, task, budget))
    for model, (task, approach, budget) in RELEASED_PROBES.items():
        runs = study_runs(found, task)
        probes = runs[(runs.approach == approach) & (runs.budget == budget)]
        rows.append(_scale_row(found, model, model, RELEASED_DATA[model]["examples"], probes.score, task, budget))
    return pd.DataFrame(rows)


def _scale_row(found: Found, kind: str, name: str, examples: float, scores: pd.Series, task: str, budget: int) -> dict:
    reference = SCRATCH_REFERENCE[task]
    mean, low, high = stats.mean_interval(scores)
    effective = stats.effective_labels(scratch_curve(found, task, reference), mean).transferred(budget)
    classical = stats.effective_labels(scratch_curve(found, task, CLASSICAL[task]), mean).transferred(budget)
    ends = [stats.effective_labels(scratch_curve(found, task, reference), x).transferred(budget) for x in (low, high)]
    return {
        "effective_low": ends[0].labels,
        "effective_low_bound": ends[0].bound,
        "effective_high": ends[1].labels,
        "effective_high_bound": ends[1].bound,
        "classical_transferred": classical.labels,
        "classical_bound": classical.bound,
        "kind": kind,
        "source": name,
        "pretraining_examples": examples,
        "task": task,
        "budget": budget,
        "accuracy": mean,
        "low": low,
        "high": high,
        "seeds": len(scores),
        "reference": reference,
        "effective_transferred": effective.labels,
        "bound": effective.bound,
    }


CLASSICAL = {"authors": "n-grams", "digits": "pixels"}  # the other reference: no network at all
SCRATCH_REFERENCE = {
    "authors": "tiny GPT from scratch",
    "digits": "small CNN from scratch",
    "fashion": "small CNN from scratch",
}
RELEASED_PROBES = {  # the far point of each axis: the study's frozen-feature runs at the scale budget
    "MiniLM": ("authors", "MiniLM features", SCALE_TEXT_BUDGET),
    "MobileNetV2": ("digits", "MobileNetV2 features", SCALE_VISION_BUDGET),
}
RELEASED_DATA = {  # what each released model's documentation says it was trained on (sources: data/README.md)
    "MiniLM": {
        # distillation on 160 GB of English text (Wang et al. 2020, the setting of the released checkpoint),
        # counted in characters at about one byte each; then 1.17 billion sentence pairs (model card)
        "examples": 160e9,
        "unit": "characters",
        "text": "160 GB of English text (Wikipedia, BookCorpus, OpenWebText, CC-News, Stories) in distillation, "
        "then 1.17 billion sentence pairs",
    },
    "MobileNetV2": {
        "examples": 1_281_167,  # ImageNet-1k's training images, seen 300 times (torchvision's recipe)
        "unit": "images",
        "text": "ImageNet-1k's 1,281,167 labelled photos of 1,000 classes, 300 passes",
    },
}


def ranking(
    found: Found, task: str, approaches: list[str], budget: int
) -> tuple[list[str], dict[tuple[str, str], str]]:
    """The approaches best first by mean accuracy at one budget, and each pair's paired verdict (a against b)."""
    table = summary(found, task)
    at = table[(table.budget == budget) & table.approach.isin(approaches)]
    order = list(at.sort_values("accuracy", ascending=False).approach)
    pairs = [(a, b) for i, a in enumerate(order) for b in order[i + 1 :]]
    return order, {(a, b): compare(found, task, a, b, budget).verdict for a, b in pairs}


def sweep_score(found: Found, task: str, approach: str, budget: int, seed: int) -> float:
    """The test accuracy of one reported run: what a live rerun in the notebook is compared with."""
    runs = study_runs(found, task)
    at = runs[(runs.approach == approach) & (runs.budget == budget) & (runs.seed == seed)]
    if at.empty:
        raise experiment.ExperimentError(f"no reported run of {approach!r} at {budget} labels per class, seed {seed}")
    return float(at.score.iloc[0])


# --- compute ----------------------------------------------------------------------------------------------

COMPUTE_BUDGET = 10  # labels per class at which fine-tuning and from scratch are costed per task
COMPUTE_CASES = [  # (model, task, its fine-tuned approach, the from-scratch approach it replaces)
    ("letter CNN", "digits", "letter CNN fine-tuned", "small CNN from scratch"),
    ("MobileNetV2", "digits", "MobileNetV2 fine-tuned", "small CNN from scratch"),
    ("tiny GPT", "authors", "tiny GPT fine-tuned", "tiny GPT from scratch"),
    ("MiniLM", "authors", "MiniLM fine-tuned", "tiny GPT from scratch"),
]
IMAGENET_IMAGES, MOBILENET_EPOCHS, IMAGENET_SIZE = 1_281_167, 300, 224  # torchvision's recipe (data/README.md)


def forward_seconds(model: nn.Module, batch: object, repeats: int = 3) -> float:
    """Seconds of one forward pass on `batch` (a tensor or a tokenizer's dict), the best of `repeats`, no gradients."""
    model.eval()
    best = float("inf")
    with torch.no_grad():
        for _ in range(repeats):
            start = time.perf_counter()
            model(**batch) if isinstance(batch, dict) else model(batch)
            best = min(best, time.perf_counter() - start)
    return best


def example_inputs(model_name: str, tokenizer: object = None, size: int = 32) -> object:
    """`size` examples of the kind each model reads: digits (28 px, or 112 px for MobileNetV2), or test snippets."""
    if model_name in ("letter CNN", "MobileNetV2"):
        images = trials.task_splits("digits")[2].images[:size]
        return pretrained.image_batch(images) if model_name == "MobileNetV2" else data.to_float(images)
    snippets = list(author_task("authors").test_texts[:size])
    if model_name == "tiny GPT":
        return language.encode_batch(snippets)
    return dict(tokenizer(snippets, padding=True, return_tensors="pt"))


def pretraining_flops(model_name: str, mobilenet_model: nn.Module | None = None) -> tuple[float, str]:
    """(FLOPs, how they were obtained) of each model's pretraining: measured for the miniature, estimated or unknown
    for the released models."""
    if model_name == "letter CNN":
        record = json.loads(checkpoint.SOURCE_CHECKPOINT.with_suffix(".json").read_text())
        return record["flops_per_step"] * checkpoint.SOURCE_RECIPE.steps, "measured (make pretrain's record)"
    if model_name == "tiny GPT":
        return language_study.pretraining_record()["train_flops"], "measured (make pretrain-lm's record)"
    if model_name == "MobileNetV2":
        full_size = torch.zeros(1, 3, IMAGENET_SIZE, IMAGENET_SIZE)
        per_image = 3 * cost.forward_flops(mobilenet_model or mobilenet(), full_size)  # forward + backward ~ 3 forwards
        how = f"estimated: 3 forward passes at {IMAGENET_SIZE} px x {IMAGENET_IMAGES:,} images x {MOBILENET_EPOCHS}"
        return per_image * IMAGENET_IMAGES * MOBILENET_EPOCHS, how
    return math.nan, "not published (400,000 distillation steps of 2,048 texts, then 100,000 steps of 1,024 pairs)"


def compute_costs(found: Found, mobilenet_model: nn.Module, minilm_model: nn.Module, tokenizer: object) -> pd.DataFrame:
    """One row per model: parameters, forward FLOPs and measured seconds per example on this machine, pretraining
    FLOPs, and per task at COMPUTE_BUDGET: fine-tuning's FLOPs and accuracy against from scratch, and the break-even
    number of tasks for someone who pays for the pretraining."""
    models_by_name = {
        "letter CNN": checkpoint.load_checkpoint()[0],
        "MobileNetV2": mobilenet_model,
        "tiny GPT": language_study.pretrained(),
        "MiniLM": minilm_model,
    }
    rows = []
    for name, task, tuned, scratch in COMPUTE_CASES:
        model, batch = models_by_name[name], example_inputs(name, tokenizer)
        size = len(batch["input_ids"]) if isinstance(batch, dict) else len(batch)
        table = summary(found, task).set_index(["approach", "budget"])
        tuned_row, scratch_row = table.loc[(tuned, COMPUTE_BUDGET)], table.loc[(scratch, COMPUTE_BUDGET)]
        flops, how = pretraining_flops(name, mobilenet_model)
        rows.append(
            {
                "model": name,
                "parameters": sum(p.numel() for p in model.parameters()),
                "forward FLOPs per example": cost.forward_flops(model, batch) / size,
                "forward seconds per example": forward_seconds(model, batch) / size,
                "pretraining FLOPs": flops,
                "pretraining FLOPs, how": how,
                "fine-tuning FLOPs per task": tuned_row.train_flops,
                "from scratch FLOPs per task": scratch_row.train_flops,
                "fine-tuned accuracy": tuned_row.accuracy,
                "from scratch accuracy": scratch_row.accuracy,
                "from scratch": scratch,
                "n-grams accuracy": table.loc[("n-grams", COMPUTE_BUDGET)].accuracy if task == "authors" else math.nan,
                "break-even tasks": cost.break_even(flops, tuned_row.train_flops, scratch_row.train_flops)
                if not math.isnan(flops)
                else math.nan,
            }
        )
    return pd.DataFrame(rows)


def scale_steps(found: Found) -> pd.DataFrame:
    """Each slice of a miniature's pretraining data against the slice before, seed by seed on the same labels."""
    rows = []
    for kind in ("tiny GPT", "letter CNN"):
        names = [source.name for source in scale_sources() if source.kind == kind]
        for before, after in zip(names, names[1:]):
            runs = found.runs
            p = stats.paired(
                runs[runs.source == after].set_index("seed").score, runs[runs.source == before].set_index("seed").score
            )
            rows.append({"kind": kind, **paired_row(after, before, p)})
    return pd.DataFrame(rows)
