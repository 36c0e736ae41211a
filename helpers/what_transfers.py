"""Notebook 06's experiments: which layers transfer, which source, negative transfer, forgetting.

Four small studies, each a list of trials, run by `run` and cached in data/results/what_transfers.json
(tools.sweep fills it; `make rebuild-caches` rebuilds it). Nothing is tuned here: every approach on the
digits uses the recipe that the development pairing chose for it in 02-05 (helpers.results.dev_recipes),
so no labelled digit beyond the stated budget informs any choice.

1. **Layers** (Yosinski et al. 2014, "How transferable are features in deep neural networks?", in
   miniature): the letters split into two halves A and B with no class in common; base models are trained
   on each; then the first n blocks of a base model are copied into a fresh network that trains on B,
   frozen (AnB, BnB) or fine-tuned (AnB+, BnB+).
2. **Sources**: the digits at 1 to 10 labels per class, starting from the letters, from Fashion-MNIST, from
   the letters with shuffled labels (a control), or from nothing.
3. **Negative transfer**: Fashion-MNIST's clothes as the source, its shoes and bags as the target.
4. **Forgetting**: after fine-tuning on the digits, how well does the backbone still read letters with
   its old head put back?
"""

from __future__ import annotations

import copy
import time
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path

import pandas as pd
import torch

from helpers import characters, checkpoint, data, experiment, models, results, stats, train, transfer, trials
from helpers.core import CACHE_DIR, RESULTS_DIR, Dataset
from helpers.trials import ALL, ExperimentError, Trial

VERSION = 1  # bump when a change below alters results
RESULTS_PATH = RESULTS_DIR / "what_transfers.json"

# --- 1. which layers transfer ---------------------------------------------------------------------

HALVES_SEED = 0  # the one random split of the 37 letters into A (18) and B (19)
LAYER_SEEDS = (0, 1, 2)
# Base and transferred networks train alike: 300 steps of 64 letters (1.3 passes over a half).
LAYER_RECIPE = train.TrainConfig(steps=300, batch_size=64, lr=3e-3)
LAYER_TEST_PER_CLASS = 100  # each half is scored on 100 test letters per class
FRESH_INIT_OFFSET = 1000  # the blocks that are not copied start from seed + 1000, not the base's own init


@lru_cache(maxsize=1)
def letter_halves() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(A, B): the 37 letters split at random into 18 and 19, no letter in both."""
    letters = characters.LETTERS
    order = torch.randperm(len(letters), generator=torch.Generator().manual_seed(HALVES_SEED)).tolist()
    return tuple(sorted(letters[i] for i in order[:18])), tuple(sorted(letters[i] for i in order[18:]))


def half_task(half: str, split: str) -> Dataset:
    """The letters of half "A" or "B", relabelled 0..k-1; the test split keeps 100 per class."""
    classes = letter_halves()["AB".index(half)]
    dataset = data.split_classes(data.source_task(split), classes)
    return dataset if split == "train" else data.few_shot(dataset, LAYER_TEST_PER_CLASS, seed=0)


@dataclass(frozen=True)
class LayerTrial:
    """A base model (copied_from="") of half `task`, or a network for B whose first `blocks` blocks
    are copied from base A or base B and then frozen or fine-tuned."""

    seed: int
    copied_from: str = ""  # "", "A" or "B"
    blocks: int = 0
    fine_tune: bool = False
    task: str = "B"

    def __post_init__(self) -> None:
        if self.copied_from not in ("", "A", "B") or self.task not in ("A", "B"):
            raise ExperimentError("copied_from must be '', 'A' or 'B', and task 'A' or 'B'.")
        if not 0 <= self.blocks <= models.STANDARD.depth or bool(self.copied_from) != (self.blocks > 0):
            raise ExperimentError(f"A copy takes 1..{models.STANDARD.depth} blocks; a base model copies none.")

    @property
    def name(self) -> str:
        """Yosinski's names: baseA, baseB, AnB, AnB+, BnB, BnB+ (n is `blocks`)."""
        if not self.copied_from:
            return f"base{self.task}"
        return f"{self.copied_from}n{self.task}" + ("+" if self.fine_tune else "")

    def key(self) -> str:
        letters = [sha for _, sha in data.LETTER_FILES.values()]  # the shipped bytes both halves come from
        context = {"version": VERSION, "letters": letters, "recipe": LAYER_RECIPE.as_dict()}
        return experiment.payload_key({"study": "layers", **asdict(self), **context, "halves": letter_halves()})


def layer_plan(seeds: tuple[int, ...] = LAYER_SEEDS) -> list[LayerTrial]:
    """Base A and base B for every seed first (the transfers copy them), then the four curves at n = 1..depth."""
    bases = [LayerTrial(seed, task=task) for seed in seeds for task in "AB"]
    copies = [
        LayerTrial(seed, source, n, fine_tune)
        for seed in seeds
        for source in "AB"
        for fine_tune in (False, True)
        for n in range(1, models.STANDARD.depth + 1)
    ]
    return bases + copies


def base_model(half: str, seed: int) -> models.CNN:
    """The base model of a half, trained once and kept in data/cache/ (rebuilt if missing)."""
    base = LayerTrial(seed, task=half)
    path = CACHE_DIR / f"layers-base{half}-seed{seed}-{base.key()[:10]}.pt"
    if path.is_file():
        return checkpoint.load_checkpoint(path)[0]
    train_set = half_task(half, "train")
    model = models.make_model(models.CNNConfig(num_classes=len(train_set.classes)), seed=seed)
    train.fit(model, train_set, _layer_config(seed), device=torch.device("cpu"))
    checkpoint.save_checkpoint(model, path, train_set.classes, LAYER_RECIPE.as_dict(), "", 0.0)
    return model


def copy_blocks(source: models.CNN, target: models.CNN, blocks: int, freeze: bool) -> models.CNN:
    """Copy the first `blocks` blocks of `source`'s backbone into `target`, frozen or not; returns target."""
    for name in source.block_names()[:blocks]:
        target.backbone.get_submodule(name).load_state_dict(source.backbone.get_submodule(name).state_dict())
    if freeze:
        transfer.freeze(target, blocks)
    return target


def _layer_config(seed: int) -> train.TrainConfig:
    return train.TrainConfig(**{**LAYER_RECIPE.as_dict(), "seed": seed})


def _run_layer_trial(trial: LayerTrial) -> dict:
    start = time.perf_counter()
    if not trial.copied_from:
        model = base_model(trial.task, trial.seed)
    else:
        train_set = half_task(trial.task, "train")
        config = models.CNNConfig(num_classes=len(train_set.classes))
        model = models.make_model(config, seed=trial.seed + FRESH_INIT_OFFSET)
        copy_blocks(base_model(trial.copied_from, trial.seed), model, trial.blocks, freeze=not trial.fine_tune)
        train.fit(model, train_set, _layer_config(trial.seed), device=torch.device("cpu"))
    return {
        **asdict(trial),
        "name": trial.name,
        "test_acc": train.evaluate(model, half_task(trial.task, "test")),
        "trainable_params": sum(p.numel() for p in model.parameters() if p.requires_grad),
        "seconds": time.perf_counter() - start,
    }


# --- 2 and 3. which source; negative transfer -------------------------------------------------------

OTHER_SOURCES = ("fashion", "shuffled letters")  # the letters' digits trials are those of 02-05
SOURCE_APPROACHES = ("linear probe", "fine-tune")
SOURCE_LABELS = (1, 2, 3, 5, 10)
NEGATIVE_APPROACHES = ("from scratch", "linear probe", "fine-tune")
NEGATIVE_LABELS = (1, 5, 10, ALL)  # ALL: 70 per class, as on the development task
NEGATIVE_SEEDS = trials.OTHER_SEEDS


@dataclass(frozen=True)
class SourceTrial:
    """A trial of helpers.trials whose pretrained approaches start from another source's checkpoint."""

    trial: Trial
    source: str

    def key(self) -> str:
        # The trial's key counts this source's checkpoint when the approach starts from it (not the letters').
        return experiment.payload_key(
            {
                "study": "sources",
                "trial": self.trial.key(checkpoint.source_checkpoint(self.source)),
                "source": self.source,
            }
        )


def source_plan(recipes: dict[tuple[str, int], float]) -> list[SourceTrial]:
    """Every other source, probed and fine-tuned on the digits at each budget and seed, at the recipes of 02-05."""
    return [
        SourceTrial(Trial(approach, n, seed, **{trials.knob(approach): recipes[approach, n]}), source)
        for source in OTHER_SOURCES
        for approach in SOURCE_APPROACHES
        for n in SOURCE_LABELS
        for seed in trials.seeds_for(n)
    ]


def negative_plan(recipes: dict[tuple[str, int], float]) -> list[SourceTrial]:
    """Clothes to shoes and bags: from scratch, a frozen clothes backbone (probe) and fine-tuning it; and, as a
    control for what any frozen backbone costs, a probe on the letter backbone."""
    runs = [(approach, "clothes") for approach in NEGATIVE_APPROACHES] + [("linear probe", "letters")]
    return [
        SourceTrial(
            Trial(approach, n, seed, task="shoes and bags", **{trials.knob(approach): recipes[approach, n]}), source
        )
        for approach, source in runs
        for n in NEGATIVE_LABELS
        for seed in NEGATIVE_SEEDS
    ]


def _run_source_trial(trial: SourceTrial) -> dict:
    row = trials.run_trial(trial.trial, checkpoint.source_checkpoint(trial.source))
    return {**row, "source": trial.source}


# --- 4. forgetting -----------------------------------------------------------------------------------

STRATEGIES = ("fine-tune", "LP-FT", "block1 frozen", "lr / 10")
FORGETTING_LABELS = (10, ALL)
FORGETTING_SEEDS = trials.OTHER_SEEDS
LETTERS_TEST_PER_CLASS = 50  # 1,850 test letters


@dataclass(frozen=True)
class ForgettingTrial:
    """Fine-tune the letter model on the digits one way, then put the letter head back and read letters."""

    strategy: str
    labels_per_class: int
    seed: int
    lr: float
    steps: int = trials.STEPS
    batch_size: int = trials.BATCH_SIZE

    def key(self) -> str:
        return experiment.payload_key({"study": "forgetting", **asdict(self), **trials.dependencies(), "v": VERSION})


def forgetting_plan(recipes: dict[tuple[str, int], float]) -> list[ForgettingTrial]:
    """Each strategy at each budget and seed; the rates are fine-tuning's and LP-FT's recipes from 02-05."""
    plan = []
    for n in FORGETTING_LABELS:
        rates = {
            "fine-tune": recipes["fine-tune", n],
            "LP-FT": recipes["LP-FT", n],
            "block1 frozen": recipes["fine-tune", n],
            "lr / 10": recipes["fine-tune", n] / 10,
        }
        plan += [ForgettingTrial(s, n, seed, rates[s]) for s in STRATEGIES for seed in FORGETTING_SEEDS]
    return plan


@lru_cache(maxsize=1)
def letters_test() -> Dataset:
    return data.few_shot(data.source_task("test"), LETTERS_TEST_PER_CLASS, seed=0)


def letter_accuracy(model: models.CNN) -> float:
    """Accuracy on the letters of `model`'s backbone under the shipped model's own letter head."""
    reader = copy.deepcopy(model)
    reader.head = checkpoint.load_checkpoint()[0].head
    return train.evaluate(reader, letters_test())


def _run_forgetting_trial(trial: ForgettingTrial) -> dict:
    train.seed_everything(trial.seed)
    subset = trials.training_subset(trial.labels_per_class, trial.seed)
    approach = "LP-FT" if trial.strategy == "LP-FT" else "fine-tune"
    model, _, _ = trials.make_cnn(approach, subset, trial.seed)
    if trial.strategy == "block1 frozen":
        transfer.freeze(model, ["block1"])
    config = train.TrainConfig(steps=trial.steps, batch_size=trial.batch_size, lr=trial.lr, seed=trial.seed)
    history = train.fit(model, subset, config, device=torch.device("cpu"))
    return {
        **asdict(trial),
        "digits_acc": train.evaluate(model, trials.task_splits("digits")[2]),
        "letters_acc": letter_accuracy(model),
        "seconds": history.seconds,
    }


# --- running and caching -----------------------------------------------------------------------------


def run(trial: LayerTrial | SourceTrial | ForgettingTrial) -> dict:
    """Run one trial of any of the four studies on one CPU thread (as helpers.trials does); returns its row."""
    with experiment.one_thread():
        train.seed_everything(getattr(trial, "seed", 0))
        if isinstance(trial, LayerTrial):
            return {"study": "layers", **_run_layer_trial(trial)}
        if isinstance(trial, SourceTrial):
            return {"study": "sources", **_run_source_trial(trial)}
        return {"study": "forgetting", **_run_forgetting_trial(trial)}


def plans(recipes: dict[tuple[str, int], float]) -> dict[str, list]:
    """The four studies' trials, in the order the sweep runs them (base models first)."""
    return {
        "layers": layer_plan(),
        "sources": source_plan(recipes),
        "negative": negative_plan(recipes),
        "forgetting": forgetting_plan(recipes),
    }


@dataclass
class Studies:
    """Notebook 06's results: one table per study, plus the 02-05 digits trials they are compared with."""

    layers: pd.DataFrame
    sources: pd.DataFrame
    negative: pd.DataFrame
    forgetting: pd.DataFrame
    digits: pd.DataFrame = field(repr=False)  # the budget-true digits trials of 02-05 (results.budget_true)
    recipes: dict = field(repr=False, default_factory=dict)  # {(approach, labels per class): setting}, from 02-05

    def __repr__(self) -> str:
        sizes = ", ".join(
            f"{name} {len(getattr(self, name))}" for name in ("layers", "sources", "negative", "forgetting")
        )
        return f"Studies({sizes} trials)"


def load(path: Path = RESULTS_PATH, main_path: Path = results.RESULTS_PATH) -> Studies:
    """The shipped results of notebook 06's four studies, checked against the current plan."""
    main = results.load_results(main_path)
    recipes = results.dev_recipes(main["dev"])
    rows = experiment.load_cache(path)
    fill = "python -m tools.sweep fill --only 06"
    tables = {study: experiment.collect(planned, rows, path, fill) for study, planned in plans(recipes).items()}
    return Studies(**tables, digits=results.budget_true(main), recipes=recipes)


# --- summaries for the notebook ----------------------------------------------------------------------


CURVES = ("baseA", "baseB", "AnB", "AnB+", "BnB", "BnB+")


def layer_summary(layers: pd.DataFrame) -> pd.DataFrame:
    """Per curve (AnB, AnB+, BnB, BnB+, and the bases at n = 0): mean test accuracy, min, max, seeds."""
    grouped = layers.groupby(["name", "blocks"], sort=False).test_acc
    table = grouped.agg(mean="mean", low="min", high="max", seeds="count").reset_index()
    return table.rename(columns={"name": "curve", "blocks": "n"})


def layer_differences(layers: pd.DataFrame) -> pd.DataFrame:
    """Each transfer curve minus base B, seed by seed (a network and base B of the same seed): mean and 95% interval."""
    base = layers[layers["name"] == "baseB"].set_index("seed").test_acc
    rows = []
    for (name, n), group in layers[layers["copied_from"] != ""].groupby(["name", "blocks"], sort=False):
        differences = group.set_index("seed").test_acc - base.loc[group.seed].to_numpy()
        mean, low, high = results.mean_interval(differences.to_numpy())
        rows.append({"curve": name, "n": n, "mean": mean, "low": low, "high": high, "seeds": len(differences)})
    table = pd.DataFrame(rows)
    return table.sort_values(["curve", "n"], key=lambda c: c.map(CURVES.index) if c.name == "curve" else c)


def curve_difference(layers: pd.DataFrame, curve: str, other: str, n: int) -> dict:
    """One curve minus another at n, seed by seed (e.g. AnB minus BnB): mean and 95% interval."""
    at = layers[layers["blocks"] == n]
    a = at[at["name"] == curve].set_index("seed").test_acc
    b = at[at["name"] == other].set_index("seed").test_acc.loc[a.index]
    mean, low, high = results.mean_interval((a - b).to_numpy())
    return {"mean": mean, "low": low, "high": high}


def anb_minus_bnb(layers: pd.DataFrame) -> dict[int, dict]:
    """{n: AnB minus BnB at n, seed by seed (curve_difference)} for n = 1..the deepest copy: how specific to A."""
    deepest = int(layers["blocks"].max())
    return {n: curve_difference(layers, "AnB", "BnB", n) for n in range(1, deepest + 1)}


def source_label(approach: str, source: str) -> str:
    return "from scratch" if approach == "from scratch" else f"{approach}: {source}"


def source_frame(studies: Studies) -> pd.DataFrame:
    """Every digits trial of the source study in one table, the approach column naming approach and source."""
    main = studies.digits[
        studies.digits.approach.isin([*SOURCE_APPROACHES, "from scratch"])
        & studies.digits.labels_per_class.isin(SOURCE_LABELS)
    ].assign(source="letters")
    frame = pd.concat([main, studies.sources], ignore_index=True)
    return frame.assign(approach=[source_label(a, s) for a, s in zip(frame.approach, frame.source)])


def source_summary(studies: Studies) -> pd.DataFrame:
    """Mean test accuracy with its 95% interval per (approach: source, labels per class)."""
    return results.summarise(source_frame(studies))


def paired_against(
    frame: pd.DataFrame, baseline: str, labels: tuple[int, ...], task: str = "digits", approaches: list | None = None
) -> pd.DataFrame:
    """Every approach (or those named) minus `baseline`, seed by seed, at each budget, numbers only: the columns
    of results.PAIRED_COLUMNS (mean difference in test accuracy and its 95% interval as fractions, seeds won,
    seeds, verdict; labels_per_class 0 is the whole pool) and `task`, the target task ("digits", "shoes and
    bags"), which says how a budget reads. story_06.paired_text shows it."""
    rows = []
    for n in labels:
        for approach in approaches or dict.fromkeys(frame.approach):
            if approach == baseline:
                continue
            p = results.paired_stats(frame, approach, baseline, n)
            rows.append({**results.paired_row(approach, baseline, n, p), "task": task})
    return pd.DataFrame(rows, columns=[*results.PAIRED_COLUMNS, "task"])


def negative_frame(studies: Studies) -> pd.DataFrame:
    """The shoes-and-bags trials, the approach column naming the source ("fine-tune: clothes")."""
    frame = studies.negative
    return frame.assign(approach=[source_label(a, s) for a, s in zip(frame.approach, frame.source)])


def sources_against_scratch(studies: Studies, approach: str = "fine-tune") -> pd.DataFrame:
    """Each source under `approach` ("fine-tune" or "linear probe") minus from scratch on the digits, seed by seed."""
    frame = source_frame(studies)
    chosen = frame[frame.approach.str.startswith(approach) | (frame.approach == "from scratch")]
    return paired_against(chosen, "from scratch", SOURCE_LABELS)


def probes_against_letters(studies: Studies) -> pd.DataFrame:
    """Frozen features: each source's linear probe minus the letters' probe on the digits (paired_against)."""
    frame = source_frame(studies)
    return paired_against(frame[frame.approach.str.startswith("linear probe")], "linear probe: letters", SOURCE_LABELS)


def negative_against_scratch(studies: Studies) -> pd.DataFrame:
    """Shoes and bags: every approach (clothes probe, clothes fine-tuned, letters probe) minus from scratch."""
    return paired_against(negative_frame(studies), "from scratch", NEGATIVE_LABELS, task="shoes and bags")


def forgetting_table(studies: Studies) -> tuple[pd.DataFrame, float]:
    """(per strategy and budget, numbers only: strategy, labels_per_class, the mean digits and letters accuracy
    over seeds (`digits_acc`, `letters_acc`), `mean`, `low` and `high`: the letters' change against the shipped
    model with its 95% interval (fractions, negative: letters lost), and `seeds`; the shipped model's own letter
    accuracy on the same test letters). story_06.forgetting_text shows it."""
    before = letter_accuracy(checkpoint.load_checkpoint()[0])
    rows = []
    for (strategy, n), group in studies.forgetting.groupby(["strategy", "labels_per_class"], sort=False):
        mean, low, high = results.mean_interval(group.letters_acc - before)
        rows.append(
            {
                "strategy": strategy,
                "labels_per_class": int(n),
                "digits_acc": group.digits_acc.mean(),
                "letters_acc": group.letters_acc.mean(),
                "mean": mean,
                "low": low,
                "high": high,
                "seeds": len(group),
            }
        )
    return pd.DataFrame(rows), before


def forgetting_paired(studies: Studies) -> pd.DataFrame:
    """Each strategy minus full fine-tuning, seed by seed (same digits and seed), on the letters and on the digits:
    a row per (labels_per_class, strategy, measure), measure "letters" or "digits", with results.PAIRED_COLUMNS
    (approach: the strategy; baseline: "fine-tune"; mean, low, high as fractions; verdict 'better' when the
    strategy scores higher)."""
    rows = []
    frame = studies.forgetting
    for n in FORGETTING_LABELS:
        at = frame[frame.labels_per_class == n]
        base = at[at.strategy == "fine-tune"].set_index("seed")
        for strategy in STRATEGIES[1:]:
            other = at[at.strategy == strategy].set_index("seed")
            for measure, name in (("letters_acc", "letters"), ("digits_acc", "digits")):
                p = stats.paired(other[measure], base[measure])
                rows.append({**results.paired_row(strategy, "fine-tune", n, p), "measure": name})
    return pd.DataFrame(rows, columns=[*results.PAIRED_COLUMNS, "measure"])


def below_zero(paired_table: pd.DataFrame) -> pd.DataFrame:
    """The rows of a paired table (paired_against) whose whole 95% interval lies below zero: negative transfer."""
    return paired_table[paired_table.verdict == "worse"]


def ranking(studies: Studies, labels_per_class: int, approach: str = "fine-tune") -> tuple[list[str], dict]:
    """The sources under `approach` best first by mean accuracy at one budget ("from scratch" as "none"), and
    each pair's paired verdict ({(a, b): 'better', 'worse' or 'unresolved'}, a against b, seed by seed)."""
    frame = source_frame(studies)
    summary = results.summarise(frame)
    rows = summary[summary.labels_per_class == labels_per_class]
    rows = rows[rows.approach.str.startswith(approach + ":") | (rows.approach == "from scratch")]
    full_names = list(rows.sort_values("accuracy", ascending=False).approach)
    short = {name: name.split(": ")[1] if ": " in name else "none" for name in full_names}
    verdicts = {
        (short[a], short[b]): results.paired_stats(frame, a, b, labels_per_class).verdict
        for i, a in enumerate(full_names)
        for b in full_names[i + 1 :]
    }
    return [short[name] for name in full_names], verdicts
