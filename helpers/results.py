"""The shipped results of the sweep, read-only: choosing settings, paired statistics, compute to reach a target.

    python -m helpers.results report    # the comparison, from data/results/experiments.json

Two ways to choose each approach's setting (learning rate or C), side by side:
- **budget-true** (the headline): the recipe for k labels per class is the setting with the best
  mean accuracy on the development pairing (Fashion-MNIST at k labels per class, DEV_SEEDS), frozen
  before any digit is seen. At k labels per class, the k digits per class are the only labelled
  digits that any approach ever touches.
- **200 validation digits** (the contrast): per (approach, budget, seed), the setting with the best
  accuracy on 200 spare labelled digits, what many papers do and a real few-shot user cannot.

Every trial of a (budget, seed) trains on the same subset of digits, so approaches are compared
seed by seed (paired): mean difference, a 95% t-interval on it, and seeds won.
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from helpers import checkpoint, cost, experiment, stats, trials
from helpers.core import RESULTS_DIR
from helpers.stats import mean_interval  # noqa: F401  (02-05's notebooks and studies read it here)
from helpers.trials import ALL, APPROACHES, GRIDS, ExperimentError, Trial, knob, label_text

RESULTS_PATH = RESULTS_DIR / "experiments.json"
MEASURED = ["train_images", "val_acc", "test_acc", "trainable_params", "train_flops", "seconds"]
CNN_MEASURED = ["prep_flops", "flops_per_step", "curve"]  # CNN trials only: what compute-to-reach needs
COLUMNS = [*Trial.__dataclass_fields__, *MEASURED, *CNN_MEASURED]


# --- the cache on disk -------------------------------------------------------------------------


def load_cache(path: Path = RESULTS_PATH) -> dict[str, dict]:
    """{trial key: row} of 02-05's cache (helpers.experiment.load_cache, the one every sweep uses)."""
    return experiment.load_cache(path)


def collect(planned: list[Trial], rows: dict[str, dict], path: Path = RESULTS_PATH) -> pd.DataFrame:
    """The cached rows of `planned`, as a table of COLUMNS; an error naming the fix if any is missing."""
    table = experiment.collect(planned, rows, path, "python -m tools.sweep fill --only 02-05")
    return table.reindex(columns=COLUMNS)


def dev_recipes(dev: pd.DataFrame) -> dict[tuple[str, int], float]:
    """{(approach, labels per class): setting}: the best mean accuracy over the development seeds.

    Only Fashion-MNIST decides; ties go to the first setting in the grid.
    """
    recipes = {}
    for (approach, n), group in dev.groupby(["approach", "labels_per_class"], sort=False):
        means = group.groupby(knob(approach), sort=False)["test_acc"].mean()
        order = [v for v in GRIDS[approach][knob(approach)] if v in means.index]
        recipes[approach, int(n)] = max(order, key=lambda v: means[v])  # max keeps the first of equals
    return recipes


def load_results(path: Path = RESULTS_PATH) -> dict[str, pd.DataFrame]:
    """{"dev": the development sweep, "digits": every digits trial of the five approaches, "strategies":
    notebook 04's other two fine-tuning strategies}, checked against the current plan."""
    rows = load_cache(path)
    dev = collect(trials.dev_grid(), rows, path)
    recipes = dev_recipes(dev)
    digits = collect(trials.digits_plan(recipes), rows, path)
    return {"dev": dev, "digits": digits, "strategies": collect(trials.strategies_plan(recipes), rows, path)}


# --- choosing a setting per approach, two ways ------------------------------------------------


def budget_true(results: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per (approach, budget, seed): the digits trial of the recipe the development pairing chose."""
    recipes = dev_recipes(results["dev"])
    digits = results["digits"]
    keep = [
        setting == recipes[approach, n] and seed in trials.seeds_for(n)
        for approach, n, seed, setting in zip(digits.approach, digits.labels_per_class, digits.seed, _settings(digits))
    ]
    return digits[keep].drop_duplicates(["approach", "labels_per_class", "seed"]).reset_index(drop=True)


def validation_tuned(results: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The contrast: per (approach, budget, seed), the setting with the best accuracy on 200 validation digits.

    Only where every setting was run (CONTRAST_LABELS x CONTRAST_SEEDS); ties go to the first in the grid.
    """
    digits = results["digits"]
    grid = digits[digits.labels_per_class.isin(trials.CONTRAST_LABELS) & digits.seed.isin(trials.CONTRAST_SEEDS)]
    order = {(a, v): i for a in APPROACHES for i, v in enumerate(GRIDS[a][knob(a)])}
    grid = grid.assign(_order=[order[a, s] for a, s in zip(grid.approach, _settings(grid))])
    grid = grid.sort_values(["approach", "labels_per_class", "seed", "_order"], kind="stable")
    best = grid.groupby(["approach", "labels_per_class", "seed"], sort=False)["val_acc"].idxmax()
    return grid.loc[best.values].drop(columns="_order").reset_index(drop=True)


def _settings(table: pd.DataFrame) -> list[float]:
    return [row[knob(row["approach"])] for _, row in table.iterrows()]


def dev_best_transfer(results: dict[str, pd.DataFrame], labels_per_class: int) -> str:
    """The transfer approach with the best mean development accuracy at this budget: chosen without digits."""
    dev, recipes = results["dev"], dev_recipes(results["dev"])
    scores = {}
    for approach in trials.USES_PRETRAINING:
        rows = dev[(dev.approach == approach) & (dev.labels_per_class == labels_per_class)]
        scores[approach] = rows[_settings(rows) == np.array(recipes[approach, labels_per_class])].test_acc.mean()
    return max(scores, key=scores.get)


# --- statistics over seeds ----------------------------------------------------------------------------


def test_set_error(accuracy: float, num_test: int = 899) -> float:
    """The binomial standard error of one accuracy measured on `num_test` test images."""
    return math.sqrt(accuracy * (1 - accuracy) / num_test)


def paired_stats(chosen: pd.DataFrame, approach: str, baseline: str, labels_per_class: int) -> stats.Paired:
    """approach minus baseline, seed by seed (the same digits for both), as helpers.stats.paired gives it."""
    at = chosen[chosen.labels_per_class == labels_per_class]
    a = at[at.approach == approach].set_index("seed").test_acc
    b = at[at.approach == baseline].set_index("seed").test_acc
    if not set(a.index) & set(b.index):
        raise ExperimentError(f"No common seeds for {approach!r} and {baseline!r} at {labels_per_class} labels.")
    return stats.paired(a, b)  # the one paired comparison every study uses


def paired(chosen: pd.DataFrame, approach: str, baseline: str, labels_per_class: int) -> dict:
    """approach minus baseline, seed by seed (the same digits for both): differences, mean, 95% interval, wins."""
    p = paired_stats(chosen, approach, baseline, labels_per_class)
    diffs = np.array(p.differences)
    won = {"won": p.won, "lost": int((diffs < 0).sum())}
    return {"seeds": list(p.seeds), "differences": diffs, "mean": p.mean, "low": p.low, "high": p.high, **won}


PAIRED_COLUMNS = ["approach", "baseline", "labels_per_class", "mean", "low", "high", "won", "seeds", "verdict"]


def paired_row(approach: str, baseline: str, labels_per_class: int, p: stats.Paired) -> dict:
    """One row of a paired table (PAIRED_COLUMNS): mean difference and its 95% interval (fractions), seeds won
    of seeds paired, and the verdict ('better', 'worse', 'unresolved') read off the interval."""
    return {
        "approach": approach,
        "baseline": baseline,
        "labels_per_class": int(labels_per_class),
        "mean": p.mean,
        "low": p.low,
        "high": p.high,
        "won": p.won,
        "seeds": len(p.seeds),
        "verdict": p.verdict,
    }


def summarise(chosen: pd.DataFrame) -> pd.DataFrame:
    """Per approach and budget: mean test accuracy with its 95% interval and spread, and the mean costs."""
    rows = []
    present = list(dict.fromkeys(chosen.approach))
    for n in budgets(chosen):
        for approach in [a for a in APPROACHES if a in present] + [a for a in present if a not in APPROACHES]:
            group = chosen[(chosen.approach == approach) & (chosen.labels_per_class == n)]
            if group.empty:
                continue
            mean, low, high = mean_interval(group.test_acc)
            rows.append(
                {
                    "approach": approach,
                    "labels_per_class": n,
                    "accuracy": mean,
                    "low": low,
                    "high": high,
                    "spread": group.test_acc.std(ddof=1) if len(group) > 1 else math.nan,
                    "seeds": len(group),
                    "train_images": int(group.train_images.iloc[0]),
                    "trainable_params": int(group.trainable_params.iloc[0]),
                    "train_flops": group.train_flops.mean(),
                    "seconds": group.seconds.mean(),
                    "uses_pretraining": approach in trials.USES_PRETRAINING,
                }
            )
    return pd.DataFrame(rows)


def first_tie(chosen: pd.DataFrame, approach: str, baseline: str = "from scratch") -> tuple[int | None, dict | None]:
    """The first budget (smallest first) at which approach minus baseline's 95% interval reaches zero, with its
    paired comparison (paired); (None, None) if the interval lies above zero at every budget."""
    for n in trials.LABELS_PER_CLASS:
        p = paired(chosen, approach, baseline, n)
        if p["low"] <= 0:
            return n, p
    return None, None


def budgets(table: pd.DataFrame) -> list[int]:
    """The label budgets in a table, smallest first, ALL last."""
    return sorted(set(table.labels_per_class), key=lambda n: math.inf if n == ALL else n)


def paired_table(chosen: pd.DataFrame, baseline: str = "from scratch") -> pd.DataFrame:
    """Every approach against `baseline` at every budget (smallest first, ALL = 0 last), numbers only
    (PAIRED_COLUMNS): mean paired difference in test accuracy and its 95% interval, as fractions (0.031 is
    3.1 points), seeds won, seeds, verdict. story_02_05.paired_table_text shows it."""
    rows = []
    for n in budgets(chosen):
        for approach in APPROACHES:
            if approach == baseline:
                continue
            rows.append(paired_row(approach, baseline, n, paired_stats(chosen, approach, baseline, n)))
    return pd.DataFrame(rows, columns=PAIRED_COLUMNS)


# --- compute to reach a target ------------------------------------------------------------------------

TARGET_FRACTION = 0.9  # the compute comparison asks: how much to reach 90% of the best final accuracy?


def pretraining_cost() -> dict:
    """What the shipped letter model cost to train, from the record written beside it: FLOPs and seconds."""
    record = json.loads(checkpoint.SOURCE_CHECKPOINT.with_suffix(".json").read_text())
    return {
        "flops": record["recipe"]["steps"] * record["flops_per_step"],
        "seconds": record["train_seconds"],
        "steps": record["recipe"]["steps"],
        "machine": record["machine"],
    }


def target_accuracy(chosen: pd.DataFrame, labels_per_class: int, fraction: float = TARGET_FRACTION) -> float:
    """`fraction` of the best approach's mean final validation accuracy at this budget."""
    at = chosen[chosen.labels_per_class == labels_per_class]
    return fraction * at.groupby("approach").val_acc.mean().max()


def cost_to_reach(row: pd.Series | dict, target: float) -> dict | None:
    """{"steps", "flops", "seconds"} at which one trial first reached `target` validation accuracy, or None.

    A CNN may stop at the first point of its recorded curve at or above the target: its bill is its
    preparation (LP-FT's probe) plus the steps so far. A logistic regression has no steps: it pays its
    whole fit, and reaches the target only if its final accuracy does.
    """
    if row["approach"] not in trials.CNN_APPROACHES:
        if row["val_acc"] < target:
            return None
        return {"steps": None, "flops": float(row["train_flops"]), "seconds": float(row["seconds"])}
    for step, accuracy, seconds in row["curve"]:
        if accuracy >= target:
            return {"steps": step, "flops": row["prep_flops"] + step * row["flops_per_step"], "seconds": seconds}
    return None


def reach_table(chosen: pd.DataFrame, fraction: float = TARGET_FRACTION) -> pd.DataFrame:
    """Per approach and budget, over seeds: how many reached the target, and the median and range of
    steps, FLOPs and seconds to reach it. A seed that never reached it counts as infinitely expensive,
    so a median is finite only when more than half the seeds got there."""
    rows = []
    for n in budgets(chosen):
        target = target_accuracy(chosen, n, fraction)
        for approach in APPROACHES:
            group = chosen[(chosen.approach == approach) & (chosen.labels_per_class == n)]
            if group.empty:
                continue
            reached = [cost_to_reach(row, target) for _, row in group.iterrows()]
            row = {"approach": approach, "labels_per_class": n, "target": target}
            row["reached"] = sum(r is not None for r in reached)
            row["seeds"] = len(reached)
            for measure in ("steps", "flops", "seconds"):
                values = [
                    math.inf if r is None else (r[measure] if r[measure] is not None else math.nan) for r in reached
                ]
                finite = [v for v in values if math.isfinite(v)]
                row[f"median {measure}"] = float(np.median(values))
                row[f"min {measure}"] = min(finite) if finite else math.nan
                row[f"max {measure}"] = max(finite) if finite else math.nan
            rows.append(row)
    return pd.DataFrame(rows)


def search_flops(results: dict[str, pd.DataFrame], approach: str, labels_per_class: int) -> float:
    """FLOPs of the budget-true setting search: every setting, every development seed, run in full. Paid once."""
    dev = results["dev"]
    return float(dev[(dev.approach == approach) & (dev.labels_per_class == labels_per_class)].train_flops.sum())


def break_even(results: dict[str, pd.DataFrame], chosen: pd.DataFrame, approach: str, labels_per_class: int) -> dict:
    """When does pretraining pay for itself in compute, against from scratch, at equal outcome?

    Over N tasks, transfer costs P + S_t + N * c_t (pretraining, its recipe search, its runs to the target)
    and from scratch S_s + N * c_s; cost.break_even gives the first N at which transfer is strictly cheaper.
    """
    reach = reach_table(chosen)
    at = reach[reach.labels_per_class == labels_per_class].set_index("approach")
    c_t, c_s = at.loc[approach, "median flops"], at.loc["from scratch", "median flops"]
    one_off = pretraining_cost()["flops"] + search_flops(results, approach, labels_per_class)
    one_off_scratch = search_flops(results, "from scratch", labels_per_class)
    verdict = {"transfer_flops": c_t, "scratch_flops": c_s, "one_off": one_off, "one_off_scratch": one_off_scratch}
    # Stopping at the first curve point on target needs an oracle: a learner with k labels has no held-out
    # curve to watch. Without one, every run takes its full STEPS, and the saving per task is this:
    at_budget = chosen[chosen.labels_per_class == labels_per_class]
    full_t = at_budget[at_budget.approach == approach].train_flops.mean()
    full_s = at_budget[at_budget.approach == "from scratch"].train_flops.mean()
    verdict["full_run_n"] = cost.break_even(one_off, full_t, full_s, one_off_scratch)
    if not math.isfinite(c_t):
        return {**verdict, "n": None, "why": f"{approach} does not reach the target in most seeds"}
    if not math.isfinite(c_s):
        return {
            **verdict,
            "n": None,
            "why": "from scratch does not reach the target in most seeds: transfer buys accuracy",
        }
    if c_s <= c_t:
        return {**verdict, "n": math.inf, "why": "from scratch reaches the target for no more compute: never"}
    return {**verdict, "n": cost.break_even(one_off, c_t, c_s, one_off_scratch), "why": ""}


# --- what the notebooks show -----------------------------------------------------------------------


def recipes_table(results: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The frozen recipe of each approach at each budget, as the development pairing chose it."""
    recipes = dev_recipes(results["dev"])
    table = pd.DataFrame(
        {label_text(n): {a: f"{knob(a)} {recipes[a, n]:g}" for a in APPROACHES} for n in trials.LABELS_PER_CLASS}
    )
    return table.rename_axis("approach").rename_axis("labels per class", axis=1)


def contrast_table(results: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The setting chosen on 200 validation digits minus the budget-true recipe, paired over the contrast seeds,
    numbers only: approach, labels_per_class, the mean test accuracy of each (`budget_true`, `validation_tuned`),
    then PAIRED_COLUMNS' mean, low, high (fractions), won, seeds and verdict, with baseline "budget-true".
    story_02_05.contrast_table_text shows it."""
    true, tuned = budget_true(results), validation_tuned(results)
    rows = []
    for n in trials.CONTRAST_LABELS:
        for approach in APPROACHES:
            pick = [
                t[(t.approach == approach) & (t.labels_per_class == n) & t.seed.isin(trials.CONTRAST_SEEDS)]
                .set_index("seed")
                .test_acc
                for t in (true, tuned)
            ]
            row = paired_row(approach, "budget-true", n, stats.paired(pick[1], pick[0]))
            rows.append({**row, "budget_true": pick[0].mean(), "validation_tuned": pick[1].mean()})
    columns = ["approach", "baseline", "labels_per_class", "budget_true", "validation_tuned", *PAIRED_COLUMNS[3:]]
    return pd.DataFrame(rows, columns=columns)


def reach_summary(chosen: pd.DataFrame, fraction: float = TARGET_FRACTION) -> pd.DataFrame:
    """reach_table, formatted for reading: the target, seeds that reached it, median steps, FLOPs and seconds."""
    reach = reach_table(chosen, fraction)
    return pd.DataFrame(
        {
            "labels per class": [label_text(n) for n in reach.labels_per_class],
            "approach": reach.approach,
            "target (val. acc.)": [f"{t:.1%}" for t in reach.target],
            "seeds reaching it": [f"{r}/{n}" for r, n in zip(reach.reached, reach.seeds)],
            "median steps": [_median_text(row, "steps", ".0f") for _, row in reach.iterrows()],
            "median FLOPs": [_median_text(row, "flops", ".2e") for _, row in reach.iterrows()],
            "median seconds": [_median_text(row, "seconds", ".2f") for _, row in reach.iterrows()],
        }
    )


def break_even_table(results: dict[str, pd.DataFrame], chosen: pd.DataFrame) -> pd.DataFrame:
    """Per budget, for the transfer approach chosen on the development pairing: the break-even number of tasks."""
    rows = []
    for n in budgets(chosen):
        approach = dev_best_transfer(results, n)
        b = break_even(results, chosen, approach, n)
        finite = b["n"] is not None and math.isfinite(b["n"])
        rows.append(
            {
                "labels per class": label_text(n),
                "transfer approach (chosen on dev)": approach,
                "FLOPs to target, transfer": b["transfer_flops"],
                "FLOPs to target, from scratch": b["scratch_flops"],
                "one-off FLOPs, transfer (pretraining + search)": b["one_off"],
                "one-off FLOPs, from scratch (search)": b["one_off_scratch"],
                "break-even, stopping at the target": f"{b['n']:,} tasks" if finite else b["why"],
                "break-even, full runs": "never" if math.isinf(b["full_run_n"]) else f"{b['full_run_n']:,} tasks",
            }
        )
    return pd.DataFrame(rows)


def lookup(chosen: pd.DataFrame, approach: str, labels_per_class: int) -> pd.DataFrame:
    """The chosen trials of one approach and label budget, one row per seed."""
    rows = chosen[(chosen.approach == approach) & (chosen.labels_per_class == labels_per_class)]
    return rows.sort_values("seed").reset_index(drop=True)


def rerun(row: pd.Series | dict) -> dict:
    """Train a cached trial again, now; returns the fresh row (compare it with `row`)."""
    fields = {name: row[name] for name in Trial.__dataclass_fields__}
    fields.update(labels_per_class=int(fields["labels_per_class"]), seed=int(fields["seed"]))
    fields.update(steps=int(fields["steps"]), batch_size=int(fields["batch_size"]))
    fields = {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in fields.items()}
    return trials.run_trial(Trial(**fields))


# --- the report ---------------------------------------------------------------------------------------


def _interval(low: float, high: float, sign: str = "") -> str:
    if math.isnan(low):
        return "(one seed)"
    return f"[{100 * low:{sign}.1f}, {100 * high:{sign}.1f}]"


def _median_text(row: pd.Series, measure: str, fmt: str) -> str:
    value = row[f"median {measure}"]
    if math.isinf(value):
        return "not reached"
    return "-" if math.isnan(value) else format(value, fmt)


def budget_report(results: dict[str, pd.DataFrame], chosen: pd.DataFrame, labels_per_class: int) -> str:
    """One budget: accuracy with interval, paired difference against from scratch, and compute to the target."""
    summary = summarise(chosen).set_index(["approach", "labels_per_class"])
    reach = reach_table(chosen).set_index(["approach", "labels_per_class"])
    n = labels_per_class
    versus_scratch = paired_table(chosen[chosen.labels_per_class == n]).set_index("approach")
    seeds = summary.loc[("from scratch", n), "seeds"]
    target = target_accuracy(chosen, n)
    lines = [
        f"{label_text(n)} label{'' if n == 1 else 's'} per class ({seeds} seeds); "
        f"compute target: {target:.1%} validation accuracy",
        f"{'approach':<20} {'test accuracy [95%]':>22} {'minus scratch [95%]':>25} {'won':>6} "
        f"{'reached':>8} {'steps':>11} {'FLOPs':>11} {'seconds':>11}",
    ]
    for approach in APPROACHES:
        row, to = summary.loc[(approach, n)], reach.loc[(approach, n)]
        if approach == "from scratch":
            versus, won = "", ""
        else:
            p = versus_scratch.loc[approach]
            versus = f"{100 * p['mean']:+.1f} {_interval(p['low'], p['high'], '+')}"
            won = f"{p['won']}/{p['seeds']}"
        lines.append(
            f"{approach:<20} {row.accuracy:>6.1%} {_interval(row.low, row.high):>15} {versus:>25} {won:>6} "
            f"{int(to.reached):>4}/{int(to.seeds):<3} {_median_text(to, 'steps', '.0f'):>11} "
            f"{_median_text(to, 'flops', '.2e'):>11} {_median_text(to, 'seconds', '.2f'):>11}"
        )
    return "\n".join(lines)


def break_even_report(results: dict[str, pd.DataFrame], chosen: pd.DataFrame) -> str:
    pre = pretraining_cost()
    lines = [
        f"Pretraining the letter model: {pre['flops']:.2e} FLOPs ({pre['seconds']:.0f} s on "
        f"{pre['machine']['cpu_count']} CPU cores). Break-even number of tasks for the transfer approach "
        f"chosen on the development pairing, at equal outcome (the compute target above), with each run stopped "
        f"when it first reaches the target (an oracle: a learner with k labels has no curve to watch), and with "
        f"full {trials.STEPS}-step runs. One-off: pretraining plus the recipe search, minus scratch's own search.",
        f"{'labels/class':>12} {'approach':<14} {'FLOPs/task':>11} {'scratch':>11} {'one-off':>11} "
        f"{'scratch 1-off':>13} {'break-even N, stopping at target':>40} {'full runs':>10}",
    ]
    for n in budgets(chosen):
        approach = dev_best_transfer(results, n)
        b = break_even(results, chosen, approach, n)
        verdict = b["why"] if b["n"] is None or math.isinf(b["n"]) else f"{b['n']:,} tasks"
        full = "never" if math.isinf(b["full_run_n"]) else f"{b['full_run_n']:,}"
        lines.append(
            f"{label_text(n):>12} {approach:<14} {b['transfer_flops']:>11.2e} {b['scratch_flops']:>11.2e} "
            f"{b['one_off']:>11.2e} {b['one_off_scratch']:>13.2e} {verdict:>40} {full:>10}"
        )
    return "\n".join(lines)


def contrast_report(results: dict[str, pd.DataFrame]) -> str:
    """Budget-true against tuning on 200 validation digits, paired over the contrast seeds."""
    lines = [
        f"What 200 spare labelled digits buy for tuning ({len(trials.CONTRAST_SEEDS)} seeds): "
        f"test accuracy when each setting is chosen on them, against the budget-true recipe",
        f"{'labels/class':>12} {'approach':<20} {'budget-true':>11} {'200 val':>8} {'difference [95%]':>24}",
    ]
    for row in contrast_table(results).itertuples():
        lines.append(
            f"{row.labels_per_class:>12} {row.approach:<20} {row.budget_true:>11.1%} {row.validation_tuned:>8.1%} "
            f"{100 * row.mean:>+7.1f} {_interval(row.low, row.high, '+'):>16}"
        )
    return "\n".join(lines)


def report(results: dict[str, pd.DataFrame]) -> str:
    """The whole comparison as text: what `python -m helpers.results report` and `make demo` print."""
    chosen = budget_true(results)
    typical = summarise(chosen).accuracy.median()
    parts = [
        "Letters -> handwritten digits, budget-true: each approach's setting was tuned on Fashion-MNIST "
        "at the same labels per class, then frozen; at k labels per class no other labelled digit informs "
        "any choice. Test accuracy on 899 digits: mean over seeds [95% t-interval]; 'minus scratch' is the "
        "paired difference in points (same digits, seed by seed) [95% interval] and seeds won. "
        f"One accuracy near {typical:.0%} measured on 899 digits has a standard error of "
        f"{100 * test_set_error(typical):.1f} points. Compute: per seed, the steps, FLOPs and seconds "
        f"of training until the validation curve first reaches {TARGET_FRACTION:.0%} of the best final "
        "validation accuracy at that budget (median over seeds; 'reached' counts the seeds).",
    ]
    parts += [budget_report(results, chosen, n) for n in budgets(chosen)]
    parts += [break_even_report(results, chosen), contrast_report(results)]
    return "\n\n".join(parts)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m helpers.results", description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=["report"])
    parser.add_argument("--path", type=Path, default=RESULTS_PATH)
    args = parser.parse_args(argv)
    print(report(load_results(args.path)))


if __name__ == "__main__":
    main()


def formatted(table: pd.DataFrame, formats: dict[str, str]) -> pd.DataFrame:
    """A copy with the named columns as text in the given formats (e.g. "{:.1%}"): it reads the same as
    plain text and as HTML, where a pandas Styler shows only `<Styler at 0x...>` unless HTML is rendered."""
    text = {
        column: [fmt.format(value) if pd.notna(value) else "" for value in table[column]]
        for column, fmt in formats.items()
        if column in table
    }
    return table.assign(**text)


# --- what pretraining is worth in labels ------------------------------------------------------


def effective_data(
    summary: pd.DataFrame, approaches: Sequence[str] = ("linear probe", "fine-tune", "LP-FT")
) -> pd.DataFrame:
    """Hernandez et al. (2021)'s effective data transferred, on the digits: per approach and budget, the labels
    per class from scratch would need to match its mean accuracy (D_E, read off from scratch's budget-true curve),
    and D_T = D_E - the labels it had. A bound where from scratch matched it at 1 label, or never within all 698."""
    per_class = summary.assign(per_class=summary.train_images / 10)
    scratch = per_class[per_class.approach == "from scratch"].set_index("per_class").accuracy
    rows = []
    for row in per_class[per_class.approach.isin(approaches)].itertuples():
        if row.labels_per_class == ALL:
            continue  # the whole pool: no larger budget to read from scratch at
        needed = stats.effective_labels(scratch, row.accuracy)
        transferred = needed.transferred(row.per_class)
        rows.append(
            {
                "approach": row.approach,
                "labels_per_class": row.labels_per_class,
                "accuracy": row.accuracy,
                "scratch_needs": needed.labels,
                "transferred": transferred.labels,
                "bound": needed.bound,
            }
        )
    return pd.DataFrame(rows)
