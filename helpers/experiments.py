"""Sweeps over approach x labels per class x seeds, cached on disk, returned as a tidy table.

    python -m helpers.experiments fill      # compute only the trials missing from the cache
    python -m helpers.experiments rebuild   # recompute the whole classroom sweep (make rebuild-caches)
    python -m helpers.experiments table     # print the headline table from the cache

Every trial is one training run: an approach, a number of labels per class, a seed and one
setting of its knob (a learning rate for the CNNs, the regularisation C for the logistic
regressions). Each trial is stored under a key made from its whole configuration plus what
it depends on (this module's version, the checksums of the checkpoint and the digits), so a
changed recipe never silently reuses an old number, and a rerun computes only what changed.

The honest-comparison rules live here:
- every CNN approach trains for the same number of steps on the same batches, with the same
  shift augmentation, and tries the same number of learning rates;
- the learning rate (or C) is chosen per approach, per label budget and per seed by accuracy
  on the 200 validation digits, never on the test set;
- test accuracy is reported as mean and spread over seeds.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

import pandas as pd
import torch
from tqdm.auto import tqdm

from helpers import checkpoint, cost, data, models, train, transfer

VERSION = 1  # bump when a change below alters results; old cache entries then stop matching
RESULTS_PATH = checkpoint.REPO_DIR / "data" / "results" / "experiments.json"

ALL = 0  # labels_per_class=ALL trains on the whole pool of 698 training digits (67 to 72 per class)
LABELS_PER_CLASS = (1, 2, 3, 5, 10, 20, 50, ALL)
SEEDS = (0, 1, 2, 3, 4)
STEPS = 400  # every CNN approach gets the same optimiser steps...
BATCH_SIZE = 32  # ...on batches of the same size (fewer when there are fewer images)

APPROACHES = ("logistic regression", "from scratch", "linear probe", "fine-tune", "LP-FT")
GRIDS = {  # the settings each approach may choose from, by validation accuracy
    "logistic regression": {"C": (0.01, 0.1, 1.0, 10.0)},
    "linear probe": {"C": (0.01, 0.1, 1.0, 10.0)},
    "from scratch": {"lr": (1e-3, 3e-3, 1e-2)},
    "fine-tune": {"lr": (1e-3, 3e-3, 1e-2)},
    "LP-FT": {"lr": (3e-4, 1e-3, 3e-3)},  # starts from a trained head, so it gets gentler rates
}
USES_PRETRAINING = ("linear probe", "fine-tune", "LP-FT")
CNN_APPROACHES = ("from scratch", "fine-tune", "LP-FT")  # trained for STEPS optimiser steps


class ExperimentError(ValueError):
    """A trial or a cache that cannot be used, with what to do about it."""


@dataclass(frozen=True)
class Trial:
    approach: str
    labels_per_class: int  # ALL (0) for the whole training pool
    seed: int
    lr: float | None = None  # CNN approaches
    C: float | None = None  # logistic regressions (inverse regularisation strength)
    steps: int = STEPS
    batch_size: int = BATCH_SIZE

    def __post_init__(self):
        if self.approach not in GRIDS:
            raise ExperimentError(f"Unknown approach {self.approach!r}; choose one of {list(GRIDS)}.")
        knob = next(iter(GRIDS[self.approach]))
        if getattr(self, knob) is None:
            raise ExperimentError(f"A {self.approach!r} trial needs {knob}=..., e.g. one of {GRIDS[self.approach][knob]}.")  # fmt: skip
        if self.labels_per_class < 0:
            raise ExperimentError(f"labels_per_class must be positive, or ALL (0), not {self.labels_per_class}.")

    def key(self) -> str:
        """A short hash of the trial and everything its result depends on."""
        text = json.dumps({**asdict(self), **dependencies()}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:20]


def grid(approaches=APPROACHES, labels_per_class=LABELS_PER_CLASS, seeds=SEEDS) -> list[Trial]:
    """Every trial of a sweep: approaches x labels per class x seeds x each approach's settings."""
    trials = []
    for approach in approaches:
        if approach not in GRIDS:
            raise ExperimentError(f"Unknown approach {approach!r}; choose from {list(GRIDS)}.")
        (knob, values), = GRIDS[approach].items()  # fmt: skip
        for n in labels_per_class:
            for seed in seeds:
                trials += [Trial(approach, n, seed, **{knob: value}) for value in values]
    return trials


# --- what a result depends on --------------------------------------------------------------


@lru_cache(maxsize=1)
def dependencies() -> dict:
    """What a result depends on besides the trial: this module's VERSION, the checkpoint's bytes, and
    the raw scikit-learn digits (integers 0..16) with the split sizes.

    The raw scans are hashed rather than the 28x28 images made from them: resizing is floating-point
    arithmetic, and a CPU that rounds one pixel differently should not throw the whole cache away.
    The resizing and splitting code is covered by VERSION.
    """
    from sklearn.datasets import load_digits

    raw = load_digits()
    digits = hashlib.sha256(raw.images.astype("int8").tobytes() + raw.target.astype("int8").tobytes())
    sizes = [len(data.target_task(split)) for split in ("train", "val", "test")]
    source_sha = hashlib.sha256(checkpoint.SOURCE_CHECKPOINT.read_bytes()).hexdigest()[:16]
    return {"version": VERSION, "checkpoint": source_sha, "digits": digits.hexdigest()[:16], "split_sizes": sizes}


# --- running one trial ---------------------------------------------------------------------------


def training_subset(labels_per_class: int, seed: int) -> data.Dataset:
    pool = data.target_task("train")
    return pool if labels_per_class == ALL else data.few_shot(pool, labels_per_class, seed)


def pixels(dataset: data.Dataset):
    """(N, 784) floats in [0, 1]: what the classical baseline sees."""
    return dataset.images.reshape(len(dataset), -1).float().numpy() / 255


def logistic_flops(num_images: int, num_features: int, num_classes: int, iterations: int) -> int:
    """Training FLOPs of a logistic regression, estimated: each L-BFGS iteration computes the
    logits (2*N*D*K) and their gradient (2*N*D*K) at least once."""
    return 4 * num_images * num_features * num_classes * max(iterations, 1)


@lru_cache(maxsize=4)
def source_features(split: str) -> torch.Tensor:
    """The shipped backbone's features of a fixed digits split, computed once per process."""
    source, _ = checkpoint.load_checkpoint()
    return transfer.extract_features(source, data.target_task(split).images)


def run_trial(trial: Trial) -> dict:
    """Train one model as the trial says; returns its row: accuracies, parameters, FLOPs, seconds.

    Runs on one CPU thread: batches of 10 to 32 images gain nothing from more, and a fixed thread
    count fixes the order of the arithmetic, so a rerun on the same machine gives the same numbers.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _run_trial(trial)
    finally:
        torch.set_num_threads(threads)


def _run_trial(trial: Trial) -> dict:
    train.seed_everything(trial.seed)
    subset = training_subset(trial.labels_per_class, trial.seed)
    val, test = data.target_task("val"), data.target_task("test")
    if trial.approach == "logistic regression":
        measured = _run_logistic_on_pixels(trial, subset, val, test)
    elif trial.approach == "linear probe":
        measured = _run_linear_probe(trial, subset, val, test)
    else:
        measured = _run_cnn(trial, subset, val, test)
    return {**asdict(trial), "train_images": len(subset), **measured}


def _run_logistic_on_pixels(trial, subset, val, test) -> dict:
    start = time.perf_counter()
    model = transfer.logistic_probe(pixels(subset), subset.labels, trial.C, standardise=False, max_iter=5000)
    seconds = time.perf_counter() - start
    logistic = model[-1]
    return {
        "val_acc": model.score(pixels(val), val.labels.numpy()),
        "test_acc": model.score(pixels(test), test.labels.numpy()),
        "trainable_params": logistic.coef_.size + logistic.intercept_.size,
        "train_flops": logistic_flops(len(subset), 784, 10, int(logistic.n_iter_.max())),
        "seconds": seconds,
    }


def _run_linear_probe(trial, subset, val, test) -> dict:
    source, _ = checkpoint.load_checkpoint()
    start = time.perf_counter()
    features = transfer.extract_features(source, subset.images)  # the backbone runs once, forward only
    model = transfer.logistic_probe(features, subset.labels, trial.C, max_iter=5000)
    seconds = time.perf_counter() - start
    logistic = model[-1]
    forward = cost.flops_per_prediction(source.backbone) * len(subset)
    return {
        "val_acc": model.score(source_features("val").numpy(), val.labels.numpy()),
        "test_acc": model.score(source_features("test").numpy(), test.labels.numpy()),
        "trainable_params": logistic.coef_.size + logistic.intercept_.size,
        "train_flops": forward + logistic_flops(len(subset), source.feature_dim, 10, int(logistic.n_iter_.max())),
        "seconds": seconds,
    }


def make_cnn(approach: str, subset: data.Dataset, seed: int) -> tuple[models.CNN, int, float]:
    """The starting model of a CNN approach, with the FLOPs and seconds it cost to prepare."""
    if approach == "from scratch":
        return models.make_model(models.CNNConfig(num_classes=10), seed=seed), 0, 0.0
    model = transfer.pretrained_model(10, seed=seed)
    if approach == "fine-tune":
        return model, 0, 0.0
    start = time.perf_counter()  # LP-FT: a linear probe first, then everything trains
    transfer.linear_probe(model, subset, method="sklearn")
    seconds = time.perf_counter() - start
    transfer.unfreeze(model)
    return model, cost.flops_per_prediction(model.backbone) * len(subset), seconds


def _run_cnn(trial, subset, val, test) -> dict:
    model, flops, seconds = make_cnn(trial.approach, subset, trial.seed)
    config = train.TrainConfig(steps=trial.steps, batch_size=trial.batch_size, lr=trial.lr, seed=trial.seed)
    history = train.fit(model, subset, config, progress=False, device=torch.device("cpu"))
    per_step = cost.flops_per_step(model, min(trial.batch_size, len(subset)))["total"]
    return {
        "val_acc": train.evaluate(model, val),
        "test_acc": train.evaluate(model, test),
        "trainable_params": cost.count_parameters(model)["trainable"],
        "train_flops": flops + trial.steps * per_step,
        "seconds": seconds + history.seconds,
    }


# --- the cache on disk -------------------------------------------------------------------------------


def load_cache(path: Path = RESULTS_PATH) -> dict[str, dict]:
    """{trial key: row}; an absent file is an empty cache."""
    path = Path(path)
    if not path.exists():
        return {}
    try:
        stored = json.loads(path.read_text())
        rows = stored["rows"]
        assert isinstance(rows, dict)
    except (json.JSONDecodeError, KeyError, TypeError, AssertionError) as error:
        raise ExperimentError(
            f"The results cache {path} is not a cache this version wrote ({error!r}). "
            f"Rebuild it with `make rebuild-caches`, or delete it to start empty."
        ) from error
    return rows


def save_cache(rows: dict[str, dict], path: Path = RESULTS_PATH) -> Path:
    """Write atomically: a temporary file renamed over the old one, so a crash never half-writes."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    staged = path.with_name(path.name + ".part")
    staged.write_text(json.dumps({"format": 1, "machine": cost.hardware_fingerprint(), "rows": rows}, indent=0))
    os.replace(staged, path)
    return path


def sweep(
    trials: list[Trial],
    path: Path | None = RESULTS_PATH,
    compute: bool = True,
    workers: int = 1,
    progress: bool = True,
) -> pd.DataFrame:
    """Results of `trials` as a tidy table (one row per trial), computing only those not cached.

    compute=False returns only what is cached (the notebooks' default: no surprises on the day).
    path=None keeps nothing on disk.
    """
    cached = load_cache(path) if path is not None else {}
    keys = [trial.key() for trial in trials]
    missing = [trial for trial, key in zip(trials, keys) if key not in cached]
    if missing and compute:
        bar = tqdm(total=len(missing), desc="trials", disable=not progress)
        for trial, row in _compute(missing, workers):
            cached[trial.key()] = row
            if path is not None:
                save_cache(cached, path)  # after every trial: an interrupted sweep keeps its work
            bar.update()
        bar.close()
    rows = [cached[key] for key in keys if key in cached]
    return pd.DataFrame(rows, columns=_COLUMNS)


def _compute(trials: list[Trial], workers: int):
    if workers <= 1:
        for trial in trials:
            yield trial, run_trial(trial)
        return
    import multiprocessing

    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = {pool.submit(run_trial, trial): trial for trial in trials}  # one thread per trial, one trial per core
        for future in as_completed(futures):
            yield futures[future], future.result()


_COLUMNS = [*Trial.__dataclass_fields__, "train_images", "val_acc", "test_acc", "trainable_params", "train_flops", "seconds"]  # fmt: skip


def cached_results(approaches=APPROACHES, labels_per_class=LABELS_PER_CLASS, seeds=SEEDS) -> pd.DataFrame:
    """The classroom sweep from the shipped cache, without computing anything."""
    trials = grid(approaches, labels_per_class, seeds)
    table = sweep(trials, compute=False, progress=False)
    expected = len(trials)
    if len(table) < expected:
        raise ExperimentError(
            f"The results cache holds {len(table)} of the {expected} trials asked for "
            f"({RESULTS_PATH}). Run `make rebuild-caches` (or `python -m helpers.experiments fill`)."
        )
    return table


# --- from trials to comparisons ------------------------------------------------------------------------


def choose_by_validation(table: pd.DataFrame) -> pd.DataFrame:
    """One row per (approach, labels per class, seed): the setting with the best validation accuracy.

    Ties go to the first setting in the grid. The test set plays no part in the choice.
    """
    ordered = table.reset_index(drop=True)
    best = ordered.groupby(["approach", "labels_per_class", "seed"], sort=False)["val_acc"].idxmax()
    return ordered.loc[best.sort_values()].reset_index(drop=True)


def summarise(chosen: pd.DataFrame) -> pd.DataFrame:
    """Mean and spread over seeds for each approach and label budget (input: choose_by_validation's table)."""
    grouped = chosen.groupby(["approach", "labels_per_class"], sort=False)
    summary = grouped.agg(
        accuracy=("test_acc", "mean"),
        spread=("test_acc", "std"),
        seeds=("seed", "nunique"),
        train_images=("train_images", "first"),
        trainable_params=("trainable_params", "first"),
        train_flops=("train_flops", "mean"),
        seconds=("seconds", "mean"),
    )
    return summary.reset_index()


def label_text(labels_per_class: int) -> str:
    return "all" if labels_per_class == ALL else str(labels_per_class)


def headline(summary: pd.DataFrame, labels_per_class=(1, 2, 3, 10, ALL)) -> str:
    """The side-by-side table `make demo` prints: approach, labels, accuracy, parameters, FLOPs, seconds."""
    lines = [
        f"{'approach':<20} {'labels/class':>12} {'test accuracy':>16} {'trainable':>10} {'train FLOPs':>12} {'seconds':>8}"
    ]
    for n in labels_per_class:
        for _, row in summary[summary.labels_per_class == n].iterrows():
            lines.append(
                f"{row.approach:<20} {label_text(n):>12} {row.accuracy:>9.1%} ± {row.spread:>4.1%} "
                f"{row.trainable_params:>10,} {row.train_flops:>12.2e} {row.seconds:>8.2f}"
            )
        lines.append("")
    return "\n".join(lines).rstrip()


def gap_table(summary: pd.DataFrame) -> pd.DataFrame:
    """Mean test accuracy (%) by label budget and approach, and the best transfer approach's lead over from scratch."""
    wide = summary.pivot(index="labels_per_class", columns="approach", values="accuracy")
    wide = wide.loc[[n for n in LABELS_PER_CLASS if n in wide.index], [a for a in APPROACHES if a in wide.columns]]
    best_transfer = wide[[a for a in wide.columns if a in USES_PRETRAINING]].max(axis=1)
    table = (100 * wide).round(1)
    table["best transfer minus from scratch (points)"] = (100 * (best_transfer - wide["from scratch"])).round(1)
    return table.rename(index=label_text).rename_axis("labels per class")


def pretraining_cost() -> dict:
    """What the shipped letter model cost to train, from the record written beside it: FLOPs and seconds."""
    record = json.loads(checkpoint.SOURCE_CHECKPOINT.with_suffix(".json").read_text())
    return {
        "flops": record["recipe"]["steps"] * record["flops_per_step"],
        "seconds": record["train_seconds"],
        "steps": record["recipe"]["steps"],
        "machine": record["machine"],
    }


def cost_to_reach(summary: pd.DataFrame, target: float) -> pd.DataFrame:
    """For each approach, the cheapest label budget whose mean test accuracy reaches `target`, with its cost."""
    rows = []
    for approach, group in summary.groupby("approach", sort=False):
        reached = group[group["accuracy"] >= target].sort_values("train_images")
        if reached.empty:
            rows.append({"approach": approach, "labels per class": "never"})
            continue
        best = reached.iloc[0]
        rows.append(
            {
                "approach": approach,
                "labels per class": label_text(int(best.labels_per_class)),
                "accuracy": f"{best.accuracy:.1%} ± {best.spread:.1%}",
                "steps": STEPS if approach in CNN_APPROACHES else "-",
                "train FLOPs": f"{best.train_flops:.2e}",
                "seconds": round(float(best.seconds), 2),
            }
        )
    return pd.DataFrame(rows).fillna("-")


def lookup(table: pd.DataFrame, approach: str, labels_per_class: int, seeds=SEEDS) -> pd.DataFrame:
    """The validation-chosen trials of one approach and label budget, one row per seed."""
    chosen = choose_by_validation(table)
    mask = (chosen.approach == approach) & (chosen.labels_per_class == labels_per_class) & chosen.seed.isin(list(seeds))
    return chosen[mask].reset_index(drop=True)


def rerun_cached(table: pd.DataFrame, approach: str, labels_per_class: int, seed: int = 0) -> tuple[dict, dict]:
    """Run the validation-chosen trial of (approach, labels, seed) again, now; returns (fresh row, cached row)."""
    cached = lookup(table, approach, labels_per_class, [seed])
    if cached.empty:
        raise ExperimentError(f"No cached {approach!r} trial at {label_text(labels_per_class)} labels per class, seed {seed}.")  # fmt: skip
    row = cached.iloc[0]
    knob = next(iter(GRIDS[approach]))
    trial = Trial(approach, labels_per_class, seed, **{knob: float(row[knob])}, steps=int(row.steps), batch_size=int(row.batch_size))  # fmt: skip
    return run_trial(trial), row.to_dict()


# --- the command line -------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m helpers.experiments", description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=["fill", "rebuild", "table"])
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="trials run in parallel")
    parser.add_argument("--path", type=Path, default=RESULTS_PATH)
    args = parser.parse_args(argv)
    trials = grid()
    if args.command == "rebuild":  # compute everything into a fresh file, then replace the old one
        start = time.perf_counter()
        staged = args.path.with_name("rebuild-" + args.path.name)
        staged.unlink(missing_ok=True)
        sweep(trials, staged, workers=args.workers)
        os.replace(staged, args.path)
        print(f"Rebuilt {len(trials)} trials in {time.perf_counter() - start:.0f} s with {args.workers} worker(s).")
    elif args.command == "fill":
        sweep(trials, args.path, workers=args.workers)
    table = sweep(trials, args.path, compute=False, progress=False)
    print(headline(summarise(choose_by_validation(table))))


if __name__ == "__main__":
    main()
