"""Thin ipywidgets layers over pure functions in helpers.viz and helpers.results.

Each control only picks arguments and redraws; the tests call the functions underneath
directly, so what a widget shows is what the tests check.
"""

from __future__ import annotations

import time

import ipywidgets as widgets
import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import display

from helpers import results, viz
from helpers.trials import ALL, APPROACHES, HEADLINE_SEEDS, label_text

WIDE = {"description_width": "initial"}  # labels are shown whole, never cut


def _label_options(summary: pd.DataFrame) -> list[tuple[str, int]]:
    budgets = sorted(set(summary["labels_per_class"]), key=lambda n: (n == ALL, n))
    return [(label_text(n), n) for n in budgets]


def label_budget_slider(summary: pd.DataFrame, title: str | None = None) -> widgets.interactive:
    """A labels-per-class slider that redraws each approach's accuracy at that budget (cached results)."""

    def show(labels_per_class):
        viz.plot_label_budget(summary, labels_per_class, title)
        plt.show()

    slider = widgets.SelectionSlider(options=_label_options(summary), description="labels/class", style=WIDE)
    return widgets.interact(show, labels_per_class=slider).widget


def amortisation_slider(summary: pd.DataFrame, labels_per_class: int, pretraining_flops: float) -> widgets.interactive:
    """How many later tasks share the pretraining cost: redraws accuracy against training FLOPs."""

    def show(tasks):
        viz.plot_accuracy_vs_compute(summary, labels_per_class, pretraining_flops, amortise_over=tasks)
        plt.show()

    slider = widgets.SelectionSlider(
        options=[1, 3, 10, 30, 100, 1000, 10000], value=10, description="tasks sharing the pretraining", style=WIDE
    )
    return widgets.interact(show, tasks=slider).widget


def console(chosen: pd.DataFrame) -> widgets.VBox:
    """Pick approach, labels per class and seeds: the cached budget-true results at once; a button reruns one."""
    approach = widgets.Dropdown(options=APPROACHES, value="fine-tune", description="approach", style=WIDE)
    labels = widgets.SelectionSlider(options=_label_options(chosen), value=1, description="labels/class", style=WIDE)
    seeds = widgets.SelectMultiple(options=HEADLINE_SEEDS, value=HEADLINE_SEEDS, description="seeds", rows=5)
    button = widgets.Button(description="run seed 0 again", layout=widgets.Layout(width="auto"))
    cached_out, fresh_out = widgets.Output(), widgets.Output()

    def redraw(_=None):
        every_seed = results.lookup(chosen, approach.value, labels.value)
        rows = every_seed[every_seed.seed.isin(seeds.value)]
        with cached_out:
            cached_out.clear_output(wait=True)
            display(console_table(rows))
            print(console_summary(rows))
        seconds = float(every_seed[every_seed.seed == 0].seconds.iloc[0])  # training time when the cache was built
        button.description = f"run seed 0 again (took {seconds:.1f} s when the cache was built)"

    def run_fresh(_):
        with fresh_out:
            fresh_out.clear_output()
            print("training...")
            row = results.lookup(chosen, approach.value, labels.value).iloc[0]
            start = time.perf_counter()
            fresh = results.rerun(row)
            fresh_out.clear_output()
            print(
                f"fresh run: test accuracy {fresh['test_acc']:.2%} in {time.perf_counter() - start:.1f} s; "
                f"cache: {row['test_acc']:.2%}"
            )

    for control in (approach, labels, seeds):
        control.observe(redraw, names="value")
    button.on_click(run_fresh)
    redraw()
    return widgets.VBox([widgets.HBox([widgets.VBox([approach, labels, button]), seeds]), cached_out, fresh_out])


def console_table(rows: pd.DataFrame) -> pd.DataFrame:
    """The console's table: one row per seed, accuracies in percent, the setting that was used."""
    table = rows[["seed", "lr", "C", "train_images", "test_acc", "train_flops", "seconds"]].copy()
    table = table.dropna(axis=1, how="all")  # a CNN has no C, a logistic regression no lr
    table["test_acc"] = (100 * table["test_acc"]).round(1)
    table["train_flops"] = [f"{flops:.2e}" for flops in table["train_flops"]]  # 3.54e+11, not 354401341440
    table["seconds"] = table["seconds"].round(1)
    renamed = {"test_acc": "test accuracy (%)", "train_images": "images", "train_flops": "training FLOPs"}
    return table.rename(columns={**renamed, "seconds": "seconds (one thread)"}).set_index("seed")


def console_summary(rows: pd.DataFrame) -> str:
    """Mean over the selected seeds, with a 95% interval only when there are two or more."""
    if rows.empty:
        return "no seed selected"
    mean, low, high = results.mean_interval(rows.test_acc)
    if len(rows) == 1:
        return f"{mean:.1%} (one seed: no interval)"
    return f"mean {mean:.1%}, 95% interval {low:.1%} to {high:.1%}, over {len(rows)} seeds"
