"""Thin ipywidgets layers over pure functions in helpers.viz and helpers.experiments.

Each control only picks arguments and redraws; the tests call the functions underneath
directly, so what a widget shows is what the tests check.
"""

from __future__ import annotations

import time

import ipywidgets as widgets
import matplotlib.pyplot as plt
from IPython.display import display

from helpers import experiments, viz


def _label_options(summary) -> list[tuple[str, int]]:
    budgets = sorted(set(summary["labels_per_class"]), key=lambda n: (n == experiments.ALL, n))
    return [(experiments.label_text(n), n) for n in budgets]


def label_budget_slider(summary, title: str | None = None):
    """A labels-per-class slider that redraws each approach's accuracy at that budget (cached results)."""

    def show(labels_per_class):
        viz.plot_label_budget(summary, labels_per_class, title)
        plt.show()

    slider = widgets.SelectionSlider(options=_label_options(summary), description="labels/class")
    return widgets.interact(show, labels_per_class=slider)


def amortisation_slider(summary, labels_per_class: int, pretraining_flops: float):
    """How many later tasks share the pretraining cost: redraws accuracy against training FLOPs."""

    def show(tasks):
        viz.plot_accuracy_vs_compute(summary, labels_per_class, pretraining_flops, amortise_over=tasks)
        plt.show()

    slider = widgets.SelectionSlider(options=[1, 3, 10, 30, 100, 1000], value=10, description="tasks sharing")
    return widgets.interact(show, tasks=slider)


def console(table):
    """Pick approach, labels per class and seeds: the cached results at once; a button runs one trial fresh."""
    approach = widgets.Dropdown(options=experiments.APPROACHES, value="fine-tune", description="approach")
    labels = widgets.SelectionSlider(options=_label_options(table), value=1, description="labels/class")
    seeds = widgets.SelectMultiple(options=experiments.SEEDS, value=experiments.SEEDS, description="seeds", rows=5)
    button = widgets.Button(description="run seed 0 fresh", icon="play")
    cached_out, fresh_out = widgets.Output(), widgets.Output()

    def redraw(_=None):
        every_seed = experiments.lookup(table, approach.value, labels.value)
        rows = every_seed[every_seed.seed.isin(seeds.value)]
        with cached_out:
            cached_out.clear_output(wait=True)
            display(rows[["seed", "lr", "C", "train_images", "val_acc", "test_acc", "seconds"]])
            if len(rows):
                print(f"mean {rows.test_acc.mean():.1%} ± {rows.test_acc.std():.1%} over {len(rows)} seed(s)")
        cached_seconds = float(
            every_seed[every_seed.seed == 0].seconds.iloc[0]
        )  # training time when the cache was built
        button.description = f"run seed 0 fresh (~{cached_seconds:.0f} s)"

    def run_fresh(_):
        with fresh_out:
            fresh_out.clear_output()
            print("training...")
            start = time.perf_counter()
            fresh, cached = experiments.rerun_cached(table, approach.value, labels.value, seed=0)
            fresh_out.clear_output()
            print(f"fresh run: test accuracy {fresh['test_acc']:.2%} in {time.perf_counter() - start:.1f} s; "
                  f"cache: {cached['test_acc']:.2%}")  # fmt: skip

    for control in (approach, labels, seeds):
        control.observe(redraw, names="value")
    button.on_click(run_fresh)
    redraw()
    return widgets.VBox([widgets.HBox([widgets.VBox([approach, labels, button]), seeds]), cached_out, fresh_out])
