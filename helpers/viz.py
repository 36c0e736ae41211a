"""Plots for the lessons: learning curves, first-layer filters, feature maps, and a live curve for `fit`.

Every function returns a matplotlib Figure with a title and labelled axes, so it runs
headless (tests, `make demo`) as well as in JupyterLab. Colours are Okabe-Ito, a palette
that stays distinguishable with the common forms of colour blindness.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn

from helpers.data import label_text, to_float

if TYPE_CHECKING:  # for annotations only: importing pandas here would slow notebooks that never use it
    import pandas as pd

    from helpers.core import Dataset
    from helpers.train import History

# Okabe & Ito (2008), "Color Universal Design".
OKABE_ITO = {
    "orange": "#E69F00",
    "sky blue": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
    "black": "#000000",
}
TRAIN_COLOUR, VAL_COLOUR = OKABE_ITO["blue"], OKABE_ITO["orange"]


def seeds_text(seeds: int | str) -> str:
    """'1 seed', '5 seeds', '5-10 seeds' (a range, where budgets differ): a legend's count of seeds."""
    return f"{seeds} seed" + ("" if str(seeds) == "1" else "s")


def _rows(history) -> list[dict]:
    """Accept a helpers.train.History or a plain list of its row dicts."""
    return list(getattr(history, "rows", history))


def plot_history(
    history: History | list[dict],
    title: str = "Learning curve",
    total_steps: int | None = None,
    held_out: str = "validation",
) -> plt.Figure:
    """Training loss (left) and accuracy (right) against optimiser step.

    held_out names the set the dashed curve is measured on ("validation", or e.g. "test sample").
    """
    rows = _rows(history)
    steps = [row["step"] for row in rows]
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(9, 3.2), constrained_layout=True)
    ax_loss.plot(steps, [row["train_loss"] for row in rows], "o-", color=TRAIN_COLOUR, label="train")
    if any("val_loss" in row for row in rows):
        val_rows = [row for row in rows if "val_loss" in row]
        ax_loss.plot(
            [r["step"] for r in val_rows],
            [r["val_loss"] for r in val_rows],
            "s--",
            color=VAL_COLOUR,
            label=held_out,
        )
    ax_acc.plot(steps, [100 * row["train_acc"] for row in rows], "o-", color=TRAIN_COLOUR, label="train")
    if any("val_acc" in row for row in rows):
        val_rows = [row for row in rows if "val_acc" in row]
        ax_acc.plot(
            [r["step"] for r in val_rows],
            [100 * r["val_acc"] for r in val_rows],
            "s--",
            color=VAL_COLOUR,
            label=held_out,
        )
    ax_loss.set(title="Loss", xlabel="optimiser step", ylabel="cross-entropy (nats)")
    ax_acc.set(title="Accuracy", xlabel="optimiser step", ylabel="accuracy (%)", ylim=(0, 100))
    for ax in (ax_loss, ax_acc):
        if total_steps:
            ax.set_xlim(0, total_steps)
        ax.grid(alpha=0.3)
        ax.legend(loc="best")
    seconds = rows[-1].get("seconds") if rows else None
    fig.suptitle(title + (f" ({seconds:.1f} s of training)" if seconds is not None else ""))
    return fig


class LiveHistoryPlot:
    """A callback for `fit(..., callback=live)`: redraws the learning curve at every history point.

    A thin layer over `plot_history`: it keeps the rows and updates one display in place
    (a display handle, so the progress bar above it is left alone).
    """

    def __init__(
        self, title: str = "Learning curve (live)", total_steps: int | None = None, held_out: str = "validation"
    ):
        self.title, self.total_steps, self.held_out = title, total_steps, held_out
        self.rows: list[dict] = []
        self.handle = None

    def __call__(self, row: dict) -> None:
        from IPython.display import DisplayHandle

        self.rows.append(row)
        fig = plot_history(self.rows, self.title, self.total_steps, self.held_out)
        if self.handle is None:
            self.handle = DisplayHandle()
            self.handle.display(fig)
        else:
            self.handle.update(fig)
        plt.close(fig)  # drawn once into the output; do not show it again at the end of the cell


# --- what a learning curve shows, in sentences computed from its rows --------------------------------


def _steps(rows: list[dict]) -> str:
    """History points as prose: "step 23", "steps 23 and 46", "steps 23, 46 and 69"."""
    steps = [str(row["step"]) for row in rows]
    return f"step {steps[0]}" if len(steps) == 1 else f"steps {', '.join(steps[:-1])} and {steps[-1]}"


def _halves(history: History | list[dict], chance: float) -> tuple[dict, dict, float, float]:
    """(the halfway row, the last row, held-out points gained in the first half, in the second)."""
    rows = _rows(history)
    halfway, last = rows[len(rows) // 2 - 1], rows[-1]  # with about 10 history points, the 5th is halfway
    return halfway, last, 100 * (halfway["val_acc"] - chance), 100 * (last["val_acc"] - halfway["val_acc"])


def describe_learning_curve(history: History | list[dict], chance: float):
    """Markdown: where the blue training accuracy sits against the orange held-out one, and what each half of
    the run added to held-out accuracy (from `chance`, the accuracy of a guess), as this run's rows say."""
    from IPython.display import Markdown

    rows = _rows(history)
    above = [row for row in rows if row["train_acc"] > row["val_acc"]]
    if not above:
        crossing = "The orange held-out accuracy is at or above the blue training accuracy at every point."
    elif len(above) == len(rows):
        crossing = "The blue training accuracy is above the orange held-out one at every point."
    elif above == rows[: len(above)]:
        crossing = (
            f"The blue training accuracy is above the orange held-out one at first ({_steps(above)}); "
            f"from step {rows[len(above)]['step']} on, orange is at or above blue."
        )
    else:
        crossing = f"The blue training accuracy is above the orange held-out one at {_steps(above)}, not elsewhere."
    halfway, last, first, second = _halves(rows, chance)
    gain = first + second
    halves = (
        f"Held-out accuracy went from chance ({chance:.1%}) to {halfway['val_acc']:.1%} at step {halfway['step']}, "
        f"halfway, and to {last['val_acc']:.1%} at step {last['step']}: the first half added {first:.1f} points, "
        f"the second half {'added' if second >= 0 else 'lost'} {abs(second):.1f}."
    )
    if gain <= 0 or second <= 0:
        verdict = "The second half, with its falling learning rate, added nothing to held-out accuracy."
    elif second / gain < 0.15:
        verdict = (
            "Most of the learning happened in the first half; the second, with its falling learning rate, polished."
        )
    else:
        verdict = (
            f"The second half, with its falling learning rate, did more than polish: it brought {second / gain:.0%} "
            "of the gain."
        )
    return Markdown(f"**In this run.** {crossing} {halves} {verdict}")


def summarise_learning_curve(history: History | list[dict], chance: float):
    """Markdown, one bullet for a summary: held-out accuracy at half the run and at its end, from `chance`."""
    from IPython.display import Markdown

    halfway, last, first, second = _halves(history, chance)
    return Markdown(
        f"- Held-out accuracy went from chance ({chance:.1%}) to {halfway['val_acc']:.1%} in the first "
        f"half of the run and to {last['val_acc']:.1%} by its end: {first:.1f} points in the first half, "
        f"{second:+.1f} in the second."
    )


def show_filters(model: nn.Module, columns: int = 8) -> plt.Figure:
    """The first convolution's 3x3 kernels as a grid; purple is negative, orange positive."""
    weight = model.backbone.block1.conv.weight.detach().cpu()  # (C_out, C_in, 3, 3)
    kernels = weight[:, 0]  # the single grey input channel: (C_out, 3, 3)
    limit = kernels.abs().max().item() or 1.0
    columns = min(columns, len(kernels))
    rows = math.ceil(len(kernels) / columns)
    fig, axes = plt.subplots(rows, columns, figsize=(1.1 * columns, 1.1 * rows + 0.8), constrained_layout=True)
    for i, ax in enumerate(axes.flat):
        ax.set_xticks([]), ax.set_yticks([])
        if i < len(kernels):
            image = ax.imshow(kernels[i].numpy(), cmap="PuOr_r", vmin=-limit, vmax=limit)
            ax.set_title(f"#{i}", fontsize=8)
        else:
            ax.axis("off")
    fig.colorbar(image, ax=axes, shrink=0.8, label="weight (no unit)")
    fig.suptitle(f"First-layer filters: {len(kernels)} kernels of 3x3 pixels")
    fig.supxlabel("kernel column (pixels)", fontsize=10)
    fig.supylabel("kernel row (pixels)", fontsize=10)
    return fig


@torch.no_grad()
def feature_maps(model: nn.Module, image: torch.Tensor, block: str) -> torch.Tensor:
    """Activations (C, h, w) after the named backbone block for one uint8 (28, 28) image."""
    names = [name for name in model.backbone._modules if name.startswith("block")]
    if block not in names:
        raise ValueError(f"block must be one of {names}, not {block!r}.")
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()  # BatchNorm uses its running statistics, as at prediction time
    x = to_float(torch.as_tensor(image)[None].to(device))  # (1, 1, 28, 28)
    for name, module in model.backbone.named_children():  # run the blocks in order, stop after `block`
        x = module(x)
        if name == block:
            break
    model.train(was_training)
    return x[0].float().cpu()  # (C, h, w)


def show_feature_maps(model: nn.Module, image: torch.Tensor, block: str, max_maps: int = 16) -> plt.Figure:
    """The input image and the first `max_maps` channels after `block`, brighter = stronger."""
    maps = feature_maps(model, image, block)  # (C, h, w)
    shown = maps[:max_maps]
    columns = min(8, len(shown))  # at most 8 maps per row
    rows = math.ceil(len(shown) / columns)
    fig = plt.figure(figsize=(1.3 * columns + 2.4, 1.3 * rows + 0.9), constrained_layout=True)
    left, right = fig.subfigures(1, 2, width_ratios=[2.4, 1.3 * columns])
    ax_in = left.subplots()
    ax_in.imshow(torch.as_tensor(image).cpu().numpy(), cmap="gray", vmin=0, vmax=255)
    ax_in.set(title="input (28x28)", xlabel="column (pixels)", ylabel="row (pixels)")
    axes = right.subplots(rows, columns, squeeze=False)
    # One colour scale for every map (ReLU and max-pooling leave them >= 0), so a brighter map is a
    # stronger response, not just another map's own contrast.
    vmax = float(shown.max()) or 1.0
    for i, ax in enumerate(axes.flat):
        ax.set_xticks([]), ax.set_yticks([])
        if i < len(shown):
            image = ax.imshow(shown[i].numpy(), cmap="viridis", vmin=0, vmax=vmax)
            ax.set_title(f"ch {i}", fontsize=8)
        else:
            ax.axis("off")
    right.colorbar(image, ax=axes, shrink=0.8, label="activation (one scale for all maps)")
    channels, side = maps.shape[0], maps.shape[-1]
    right.supxlabel(f"map column ({side} positions); brighter = stronger response", fontsize=10)
    right.supylabel(f"map row ({side} positions)", fontsize=10)
    fig.suptitle(f"After {block}: {len(shown)} of {channels} feature maps, {side}x{side} each")
    return fig


# --- data, embeddings and neighbours ----------------------------------------------------------


def show_grid(dataset: Dataset, title: str, classes: Sequence[str] | None = None, per_row: int = 8) -> plt.Figure:
    """The first `per_row` images of each class (all classes unless named), one row per class."""
    classes = list(classes or dataset.classes)
    fig, axes = plt.subplots(len(classes), per_row, figsize=(per_row * 0.8, len(classes) * 0.85), squeeze=False)
    for row, name in zip(axes, classes):
        examples = dataset.images[dataset.labels == dataset.classes.index(name)][:per_row]
        for i, ax in enumerate(row):  # a class may have fewer images than axes
            ax.set_xticks([]), ax.set_yticks([])
            if i < len(examples):
                ax.imshow(_pixels(examples[i]), cmap="gray", vmin=0, vmax=255)
            else:
                ax.axis("off")
        row[0].axis("on")
        row[0].set_xticks([]), row[0].set_yticks([])
        row[0].set_ylabel(name, rotation=0, ha="right", va="center", fontsize=11)
    fig.suptitle(title, fontsize=13)
    fig.tight_layout()
    return fig


def show_examples(dataset: Dataset, title: str, columns: int = 10) -> plt.Figure:
    """Every image of a small dataset, in class order, `columns` to a row, each titled with its class."""
    columns = min(columns, len(dataset))
    rows = math.ceil(len(dataset) / columns)
    fig, axes = plt.subplots(rows, columns, figsize=(columns * 0.9, rows * 1.05 + 0.45), squeeze=False)
    order = torch.argsort(dataset.labels, stable=True)  # (N,) the images of class 0 first
    for i, ax in enumerate(axes.flat):
        ax.set_xticks([]), ax.set_yticks([])
        if i < len(order):
            ax.imshow(_pixels(dataset.images[order[i]]), cmap="gray", vmin=0, vmax=255)
            ax.set_title(f"'{dataset.classes[dataset.labels[order[i]]]}'", fontsize=10)
        else:  # only the last row can be short
            ax.axis("off")
    fig.suptitle(title, fontsize=12)
    fig.tight_layout()
    return fig


def _pixels(image):
    """A (28, 28) uint8 image as a NumPy array, whatever it came as."""
    return torch.as_tensor(image).cpu().numpy()


# Ten classes need ten styles: matplotlib's ten "tab10" colours, none of them faint on white, and
# every point drawn as its own digit, so the plot also reads without telling colours apart.
CLASS_COLOURS = list(plt.get_cmap("tab10").colors)


def plot_embeddings(embeddings: dict, labels: torch.Tensor, classes: Sequence[str], suptitle: str) -> plt.Figure:
    """Side-by-side 2-D scatter plots, {title: (N, 2) array}, each point drawn as its class name."""
    fig, axes = plt.subplots(
        1, len(embeddings), figsize=(4.6 * len(embeddings), 4.4), constrained_layout=True, squeeze=False
    )
    labels = torch.as_tensor(labels)
    for ax, (title, points) in zip(axes[0], embeddings.items()):
        points = torch.as_tensor(points).numpy()
        for c, name in enumerate(classes):
            chosen = points[(labels == c).numpy()]
            ax.scatter(
                chosen[:, 0],
                chosen[:, 1],
                marker=f"$\\mathbf{{{name}}}$",
                s=55,
                color=CLASS_COLOURS[c % 10],
                linewidths=0,
            )
        ax.set(title=title, xlabel="dimension 1 (no unit)", ylabel="dimension 2 (no unit)")
        ax.set_xticks([]), ax.set_yticks([])
    fig.suptitle(suptitle)
    return fig


def show_neighbours(query: torch.Tensor, rows: dict, suptitle: str = "Nearest neighbours") -> plt.Figure:
    """The query image, then for each row title its neighbours: {title: (images, labels, similarities)}."""
    width = max(len(images) for images, _, _ in rows.values())
    fig, axes = plt.subplots(len(rows), width + 1, figsize=(1.25 * (width + 1), 1.55 * len(rows) + 0.5), squeeze=False)
    for (title, (images, labels, similarity)), axes_row in zip(rows.items(), axes):
        axes_row[0].imshow(_pixels(query), cmap="gray", vmin=0, vmax=255)
        axes_row[0].set_title("query", fontsize=9)
        axes_row[0].set_ylabel(title, rotation=0, ha="right", va="center", fontsize=10)
        for ax, image, label, sim in zip(axes_row[1:], images, labels, similarity):
            ax.imshow(_pixels(image), cmap="gray", vmin=0, vmax=255)
            ax.set_title(f"'{label}' ({sim:.3f})", fontsize=9)  # 3 decimals: nearly equal vectors score 0.99x
        for ax in axes_row:
            ax.set_xticks([]), ax.set_yticks([])
    fig.suptitle(suptitle + "  (label, cosine similarity)")
    fig.tight_layout()
    return fig


# --- comparisons across approaches -------------------------------------------------------------

APPROACH_STYLES = {  # colour, line style, marker: distinguishable without colour too
    "logistic regression": (OKABE_ITO["black"], ":", "x"),
    "from scratch": (OKABE_ITO["vermillion"], "--", "s"),
    "linear probe": (OKABE_ITO["sky blue"], "-.", "^"),
    "torch linear probe": (OKABE_ITO["purple"], "-.", "v"),
    "fine-tune": (OKABE_ITO["blue"], "-", "o"),
    "LP-FT": (OKABE_ITO["green"], "-", "D"),
}


def _style(approach: str):
    return APPROACH_STYLES.get(approach, (OKABE_ITO["orange"], "-", "o"))


def images_per_class(summary_rows: pd.DataFrame) -> list[float]:
    """The x position of each label budget: images per class (the whole pool averages 69.8)."""
    return [row / 10 for row in summary_rows["train_images"]]


def _interval(rows: pd.DataFrame) -> tuple:
    """(mean, low, high) in percent; a single seed has no interval, so low = high = mean."""
    mean = 100 * rows["accuracy"].to_numpy()
    if "low" not in rows:
        spread = 100 * rows["spread"].fillna(0).to_numpy()
        return mean, mean - spread, mean + spread
    return (
        mean,
        100 * rows["low"].fillna(rows["accuracy"]).to_numpy(),
        100 * rows["high"].fillna(rows["accuracy"]).to_numpy(),
    )


def plot_data_efficiency(
    summary: pd.DataFrame,
    approaches: Sequence[str] | None = None,
    title: str = "Accuracy against labels per class",
    ax: plt.Axes | None = None,
    labels: dict[str, str] | None = None,
) -> plt.Figure:
    """Test accuracy (mean over seeds, band = 95% interval of the mean) against labels per class, log scale.

    labels: a legend name for any approach whose table name needs saying more ({"linear probe": "..."}).
    """
    fig = None
    if ax is None:
        fig, ax = plt.subplots(figsize=(7.5, 4.4), constrained_layout=True)
    approaches = approaches or list(dict.fromkeys(summary["approach"]))
    for approach in approaches:
        rows = summary[summary["approach"] == approach].sort_values("train_images")
        x = images_per_class(rows)
        mean, low, high = _interval(rows)
        colour, line, marker = _style(approach)
        seeds = (
            f"{rows['seeds'].min()}" if rows["seeds"].nunique() == 1 else f"{rows['seeds'].min()}-{rows['seeds'].max()}"
        )
        name = (labels or {}).get(approach, approach)
        ax.plot(x, mean, linestyle=line, marker=marker, color=colour, label=f"{name} ({seeds_text(seeds)})")
        ax.fill_between(x, low, high, color=colour, alpha=0.15, linewidth=0)
    ticks = sorted(set(images_per_class(summary)))
    ax.set_xscale("log")
    ax.set_xticks(ticks, [f"{t:g}" if t != max(ticks) else f"all\n({t:.0f})" for t in ticks])
    ax.minorticks_off()
    ax.set(title=title, xlabel="labelled training images per class (log scale)", ylabel="test accuracy (%)")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=9, title="bands: 95% interval of the mean", title_fontsize=8)
    return fig or ax.figure


def plot_label_budget(summary: pd.DataFrame, labels_per_class: int, title: str | None = None) -> plt.Figure:
    """One label budget: each approach's mean test accuracy as a bar, with its 95% interval over seeds."""
    rows = summary[summary["labels_per_class"] == labels_per_class]
    fig, ax = plt.subplots(figsize=(7, 3.2), constrained_layout=True)
    names = list(rows["approach"])
    colours = [_style(name)[0] for name in names]
    mean, low, high = _interval(rows)
    ax.barh(names, mean, xerr=[mean - low, high - mean], color=colours, alpha=0.85, capsize=4)
    for y, (m, lo, hi) in enumerate(zip(mean, low, high)):
        text = f"{m:.1f}% [{lo:.1f}, {hi:.1f}]" if hi > lo else f"{m:.1f}% (one seed)"
        ax.text(1, y, text, va="center", color="white", fontsize=9, fontweight="bold")
    seeds = int(rows["seeds"].min()) if len(rows) else 0
    label = label_text(labels_per_class)
    ax.set(
        xlim=(0, 100),
        xlabel=f"test accuracy (%), mean and 95% interval over {seeds} seeds",
        title=title or f"{label} labelled image(s) per class",
    )
    ax.invert_yaxis()
    ax.grid(axis="x", alpha=0.3)
    return fig


def plot_paired_differences(
    paired: list[dict],
    title: str = "Paired differences",
    xlabel: str = "difference in test accuracy (percentage points; right of the line at zero: ahead)",
    scale: float = 100,
) -> plt.Figure:
    """One row per comparison: each seed's difference (dots), the mean and its 95% interval (bar).

    paired: [{"label": ..., "differences": array of fractions, "mean", "low", "high"}, ...]; each
    value is multiplied by `scale` (100: fractions shown as percentage points).
    """
    fig, ax = plt.subplots(figsize=(8, 0.5 + 0.45 * len(paired)), constrained_layout=True)
    for y, row in enumerate(paired):
        diffs = scale * np.asarray(row["differences"])
        ax.scatter(
            diffs,
            np.full(len(diffs), y) + np.linspace(-0.12, 0.12, len(diffs)),
            s=14,
            color=OKABE_ITO["sky blue"],
            zorder=2,
            label="one seed" if y == 0 else None,
        )
        if not math.isnan(row["low"]):
            ax.plot(
                [scale * row["low"], scale * row["high"]],
                [y, y],
                color="black",
                linewidth=2.5,
                zorder=3,
                label="95% interval of the mean" if y == 0 else None,
            )
        ax.plot(scale * row["mean"], y, marker="D", color="black", zorder=4, label="mean" if y == 0 else None)
    ax.axvline(0, color=OKABE_ITO["vermillion"], linewidth=1)
    ax.set_yticks(range(len(paired)), [row["label"] for row in paired])
    ax.invert_yaxis()
    ax.set(title=title, xlabel=xlabel)
    ax.grid(axis="x", alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    return fig


def plot_curves(
    curves: dict, target: float | None = None, title: str = "Validation accuracy while training"
) -> plt.Figure:
    """Validation accuracy against steps (left) and seconds (right), one line per run: {name: History}.

    The top row shows the whole run (0 to 100%); the bottom row zooms in near the top, where the
    curves end and where one overtakes the other.
    """
    fig, axes = plt.subplots(2, 2, figsize=(10, 6.4), sharex="col", constrained_layout=True)
    finals = []
    for name, history in curves.items():
        rows = [row for row in _rows(history) if "val_acc" in row]
        colour, line, marker = _style(name)
        acc = [100 * r["val_acc"] for r in rows]
        finals += acc[len(acc) // 2 :]
        for row_axes in axes:
            for ax, x in zip(row_axes, ([r["step"] for r in rows], [r["seconds"] for r in rows])):
                ax.plot(x, acc, linestyle=line, marker=marker, markersize=3, color=colour, label=name)
    low = min([*finals, 100 * target if target is not None else 100]) - 3
    for top, zoom, xlabel in zip(*axes, ("optimiser step", "training time (s, this machine)")):
        top.set_xlabel(xlabel)
        zoom.set(xlabel=xlabel, ylim=(max(0, low), 100))
    for (ax_top, ax_zoom), what in zip(axes.T, ("optimiser steps", "training time")):
        ax_top.set(title=f"against {what}", ylim=(0, 100))
        ax_zoom.set_title(f"against {what}, zoomed in above {max(0, low):.0f}%", fontsize=10)
    for ax in axes.flat:
        if target is not None:
            ax.axhline(100 * target, color="grey", linewidth=1)
            ax.text(  # inside the axes on the right: never clipped by the y axis
                0.99,
                100 * target,
                f"target {target:.0%}",
                transform=ax.get_yaxis_transform(),
                ha="right",
                va="bottom",
                color="grey",
                fontsize=8,
            )
        ax.set_ylabel("validation accuracy (%)")
        ax.grid(alpha=0.3)
        ax.legend(loc="lower right", fontsize=8)
    fig.suptitle(title)
    return fig


COMPUTE_AXES = {  # summary column -> axis label
    "train_flops": "training FLOPs (log scale)",
    "seconds": "training seconds, one CPU thread (log scale)",
}


def plot_accuracy_vs_compute(
    summary: pd.DataFrame,
    labels_per_class: int,
    pretraining: float,
    amortise_over: int = 10,
    measure: str = "train_flops",
) -> plt.Figure:
    """Accuracy against training compute (log scale) at one label budget, in FLOPs or seconds.

    `pretraining` is the letter model's cost in the same measure. Transfer approaches show two
    points: their own training alone (open) and with a 1/N share of the pretraining (filled).
    Error bars: 95% interval of the mean accuracy over seeds.
    """
    if measure not in COMPUTE_AXES:
        raise ValueError(f"measure must be one of {list(COMPUTE_AXES)}, not {measure!r}.")
    rows = summary[summary["labels_per_class"] == labels_per_class]
    fig, ax = plt.subplots(figsize=(9.5, 4.2), constrained_layout=True)
    handles = []
    for k, (_, row) in enumerate(rows.iterrows()):
        colour, _, marker = _style(row.approach)
        # Approaches that train for the same steps cost about the same: nudge each sideways (a factor of
        # 1.2 per approach on the log axis) so their error bars never sit on top of each other.
        nudge = 1.2 ** (k - (len(rows) - 1) / 2)
        own = row[measure] * nudge
        acc = 100 * row.accuracy
        spread = [[0], [0]] if math.isnan(row.low) else [[acc - 100 * row.low], [100 * row.high - acc]]
        style = {"marker": marker, "color": colour, "capsize": 3, "linestyle": "none"}
        if row.uses_pretraining:
            ax.errorbar(own, acc, yerr=spread, mfc="white", **style)
            shared = (row[measure] + pretraining / amortise_over) * nudge
            ax.annotate("", (shared, acc), (own, acc), arrowprops={"arrowstyle": "->", "color": colour})
            ax.errorbar(shared, acc, yerr=spread, **style)
        else:
            ax.errorbar(own, acc, yerr=spread, **style)
        handles.append(plt.Line2D([], [], marker=marker, color=colour, linestyle="none", label=row.approach))
    # Two more legend entries say what open and filled mean, in neutral grey.
    grey = {"marker": "o", "color": "grey", "linestyle": "none"}
    handles.append(plt.Line2D([], [], mfc="white", label="open: own training only", **grey))
    handles.append(plt.Line2D([], [], label=f"filled: + pretraining / {amortise_over} tasks", **grey))
    label = f"{label_text(labels_per_class)} label{'' if labels_per_class == 1 else 's'}"
    ax.set_xscale("log")
    ax.set(
        title=f"Accuracy against training compute, {label} per class",
        xlabel=COMPUTE_AXES[measure] + "; points with equal cost nudged apart",
        ylabel="test accuracy (%), 95% interval",
    )
    ax.grid(alpha=0.3, which="both")
    ax.legend(handles=handles, loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8)
    return fig


# --- notebook 06: what transfers, and when it fails ---------------------------------------------------

LAYER_STYLES = {  # curve -> colour, line style, marker, offset on the x axis (so error bars never overlap)
    "AnB": (OKABE_ITO["vermillion"], "--", "v", -0.09),
    "AnB+": (OKABE_ITO["vermillion"], "-", "^", -0.03),
    "BnB": (OKABE_ITO["blue"], "--", "s", 0.03),
    "BnB+": (OKABE_ITO["blue"], "-", "D", 0.09),
}
LAYER_MEANINGS = {
    "AnB": "AnB: first n blocks from base A, frozen",
    "AnB+": "AnB+: from base A, fine-tuned",
    "BnB": "BnB: from base B itself, frozen",
    "BnB+": "BnB+: from base B itself, fine-tuned",
}


def plot_layer_transfer(
    summary: pd.DataFrame, title: str = "Which layers transfer: letters A to letters B"
) -> plt.Figure:
    """Yosinski et al.'s Figure 2 in miniature: accuracy on B against n, the blocks copied, for four curves.

    summary: helpers.what_transfers.layer_summary (curve, n, mean, low, high, seeds); bars span min to max.
    """
    fig, ax = plt.subplots(figsize=(8.5, 4.6), constrained_layout=True)
    base = summary[summary["curve"] == "baseB"].iloc[0]
    ax.axhspan(100 * base["low"], 100 * base["high"], color="grey", alpha=0.2, linewidth=0)
    ax.axhline(100 * base["mean"], color="grey", linewidth=1, label="base B (n = 0), min to max over seeds")
    for curve, (colour, line, marker, offset) in LAYER_STYLES.items():
        rows = summary[summary["curve"] == curve].sort_values("n")
        x = rows["n"].to_numpy() + offset
        mean = 100 * rows["mean"].to_numpy()
        bars = [mean - 100 * rows["low"].to_numpy(), 100 * rows["high"].to_numpy() - mean]
        ax.errorbar(
            x, mean, yerr=bars, color=colour, linestyle=line, marker=marker, capsize=3, label=LAYER_MEANINGS[curve]
        )
    seeds = int(summary["seeds"].min())
    ax.set_xticks(sorted(set(summary["n"])))
    ax.set(
        title=title,
        xlabel="n: blocks copied from a base model (n = 0: base B, trained on B from scratch)",
        ylabel=f"test accuracy on B (%), mean of {seeds} seeds;\nbars: min to max (axis zoomed)",
    )
    ax.grid(alpha=0.3)
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8)
    return fig


SOURCE_STYLES = {  # source -> colour, marker
    "letters": (OKABE_ITO["blue"], "o"),
    "fashion": (OKABE_ITO["purple"], "s"),
    "shuffled letters": (OKABE_ITO["orange"], "x"),
    "none": (OKABE_ITO["vermillion"], "D"),
}


def plot_sources(summary: pd.DataFrame, approaches: Sequence[str] = ("linear probe", "fine-tune")) -> plt.Figure:
    """Digits accuracy against labels per class for each source, one panel per approach, from scratch in each.

    summary: helpers.what_transfers.source_summary; bands are the 95% interval of the mean over seeds.
    """
    fig, axes = plt.subplots(1, len(approaches), figsize=(11, 4.2), sharey=True, constrained_layout=True)
    for ax, approach in zip(np.atleast_1d(axes), approaches):
        for name in [*[f"{approach}: {s}" for s in SOURCE_STYLES if s != "none"], "from scratch"]:
            rows = summary[summary["approach"] == name].sort_values("labels_per_class")
            if rows.empty:
                continue
            colour, marker = SOURCE_STYLES[name.split(": ")[1] if ": " in name else "none"]
            mean, low, high = _interval(rows)
            x = rows["labels_per_class"].to_numpy()
            line = "--" if name == "from scratch" else "-"
            ax.plot(x, mean, color=colour, marker=marker, linestyle=line, label=name.split(": ")[-1])
            ax.fill_between(x, low, high, color=colour, alpha=0.15, linewidth=0)
        ax.set_xscale("log")
        ticks = sorted(set(summary["labels_per_class"]))
        ax.set_xticks(ticks, [str(t) for t in ticks])
        ax.minorticks_off()
        ax.set(title=f"{approach} from each source", xlabel="labelled digits per class (log scale)")
        ax.grid(alpha=0.3)
    np.atleast_1d(axes)[0].set_ylabel("digits test accuracy (%)")
    np.atleast_1d(axes)[-1].legend(loc="lower right", fontsize=9, title="source (band: 95% interval)")
    return fig


STRATEGY_STYLES = {  # forgetting strategy -> colour, marker
    "fine-tune": (OKABE_ITO["blue"], "o"),
    "LP-FT": (OKABE_ITO["green"], "D"),
    "block1 frozen": (OKABE_ITO["purple"], "s"),
    "lr / 10": (OKABE_ITO["orange"], "^"),
}


def plot_forgetting(forgetting: pd.DataFrame, letters_before: float) -> plt.Figure:
    """Digits accuracy against the letters the backbone still reads, one point per seed, a panel per budget."""
    budgets = sorted(set(forgetting["labels_per_class"]), key=lambda n: math.inf if n == 0 else n)
    fig, axes = plt.subplots(1, len(budgets), figsize=(11, 4.2), sharey=True, constrained_layout=True)
    for ax, n in zip(np.atleast_1d(axes), budgets):
        at = forgetting[forgetting["labels_per_class"] == n]
        for strategy, (colour, marker) in STRATEGY_STYLES.items():
            rows = at[at["strategy"] == strategy]
            ax.scatter(100 * rows["digits_acc"], 100 * rows["letters_acc"], color=colour, marker=marker, alpha=0.45)
            ax.scatter(
                100 * rows["digits_acc"].mean(),
                100 * rows["letters_acc"].mean(),
                color=colour,
                marker=marker,
                s=120,
                edgecolor="black",
                label=f"{strategy} (large: mean)",
            )
        ax.axhline(100 * letters_before, color="grey", linestyle=":", label="letters before fine-tuning")
        label = "all" if n == 0 else str(n)
        ax.set(title=f"{label} labelled digits per class", xlabel="digits test accuracy (%)")
        ax.grid(alpha=0.3)
    np.atleast_1d(axes)[0].set_ylabel("letters test accuracy (%),\nold letter head put back")
    np.atleast_1d(axes)[-1].legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8)
    return fig


# --- notebook 07 ----------------------------------------------------------------------------------------

LANGUAGE_STYLES = {
    "from scratch": (OKABE_ITO["vermillion"], "--", "s"),
    "last block": (OKABE_ITO["green"], "-", "D"),
    "full fine-tuning": (OKABE_ITO["blue"], "-", "o"),
    "LoRA": (OKABE_ITO["purple"], "-", "^"),
    "frozen features": (OKABE_ITO["sky blue"], "-", "v"),
    "n-grams": (OKABE_ITO["black"], ":", "x"),
}


def plot_language_task(summary: pd.DataFrame, task: str, reference: float | None = None) -> plt.Figure:
    """Notebook 07: held-out loss against target size, or accuracy against labels per class; min-max bands.

    reference: a horizontal line, the pretrained model's loss on the target before any fine-tuning.
    """
    fig, ax = plt.subplots(figsize=(7.5, 4.4), constrained_layout=True)
    scale = 1 if task == "generative" else 100
    for approach in dict.fromkeys(summary["approach"]):
        rows = summary[summary["approach"] == approach].sort_values("budget")
        colour, line, marker = LANGUAGE_STYLES.get(approach, (OKABE_ITO["orange"], "-", "o"))
        seeds = rows["seeds"].max()
        x = rows["budget"].to_numpy()
        ax.plot(
            x,
            scale * rows["score"],
            linestyle=line,
            marker=marker,
            color=colour,
            label=f"{approach} ({seeds_text(seeds)})",
        )
        ax.fill_between(x, scale * rows["low"], scale * rows["high"], color=colour, alpha=0.1, linewidth=0)
    if reference is not None:
        ax.axhline(reference, color="grey", linestyle="-.", linewidth=1, label="pretrained, not fine-tuned")
    ax.set_xscale("log")
    ticks = sorted(summary["budget"].unique())
    ax.set_xticks(ticks, [f"{t:,}" for t in ticks])
    ax.minorticks_off()
    if task == "generative":
        ax.set(
            title="Learning Macbeth's style: held-out loss (lower is better)",
            xlabel="characters of Macbeth trained on (log scale)",
            ylabel="held-out loss (nats per character)",
        )
    else:
        ax.set(
            title="Who wrote this snippet: Austen or Shakespeare?",
            xlabel="labelled snippets per class (log scale)",
            ylabel="test accuracy (%)",
        )
        ax.axhline(50, color="grey", linewidth=0.8, label="chance (50%)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, title="bands: min to max over seeds", title_fontsize=8)
    return fig


# --- notebook 08: released models against the miniature -------------------------------------------------

MODEL_COLOURS = {  # the family of the model behind an approach: its colour in 08's plots
    "pixels": OKABE_ITO["black"],
    "n-grams": OKABE_ITO["black"],
    "small CNN": OKABE_ITO["orange"],
    "tiny GPT from scratch": OKABE_ITO["orange"],
    "letter CNN": OKABE_ITO["blue"],
    "tiny GPT": OKABE_ITO["blue"],
    "MobileNetV2": OKABE_ITO["vermillion"],
    "MiniLM": OKABE_ITO["vermillion"],
}
METHOD_LINES = {"features": ("--", "v"), "fine-tuned": ("-", "o"), "LoRA": (":", "^"), "scratch": ("-.", "s")}


def _released_style(approach: str) -> tuple[str, str, str]:
    colour = next((c for name, c in MODEL_COLOURS.items() if approach.startswith(name)), OKABE_ITO["green"])
    line, marker = next((style for word, style in METHOD_LINES.items() if word in approach), (":", "x"))
    return colour, line, marker


def plot_budget_curves(summary: pd.DataFrame, title: str, xlabel: str, chance: float, ax=None) -> plt.Figure:
    """Notebook 08: test accuracy (mean over seeds, band = 95% interval) against labels per class, log scale.

    Colour says which model (black: no network; orange: a small network from scratch; blue: the suite's
    miniature; vermillion: the released model), the line says how it was used (dashed: frozen features;
    solid: fine-tuned; dotted: LoRA).
    """
    fig = None
    if ax is None:
        fig, ax = plt.subplots(figsize=(7.5, 4.4), constrained_layout=True)
    for approach in dict.fromkeys(summary["approach"]):
        rows = summary[summary["approach"] == approach].sort_values("budget")
        colour, line, marker = _released_style(approach)
        seeds = rows["seeds"].max()
        x, (mean, low, high) = rows["budget"].to_numpy(), _interval(rows)
        ax.plot(x, mean, linestyle=line, marker=marker, color=colour, label=f"{approach} ({seeds_text(seeds)})")
        ax.fill_between(x, low, high, color=colour, alpha=0.1, linewidth=0)
    ax.axhline(100 * chance, color="grey", linewidth=0.8, label=f"chance ({100 * chance:.0f}%)")
    ax.set_xscale("log")
    ticks = sorted(summary["budget"].unique())
    ax.set_xticks(ticks, [f"{t:,}" for t in ticks])
    ax.minorticks_off()
    ax.set(title=title, xlabel=xlabel, ylabel="test accuracy (%)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7.5, title="bands: 95% interval of the mean", title_fontsize=7.5, loc="best")
    return fig or ax.figure


def plot_scale_axis(points: pd.DataFrame) -> plt.Figure:
    """Notebook 08's scale axis: accuracy (top) and effective labels transferred (bottom) against pretraining data.

    points: helpers.pretrained_study.scale_points. Text on the left, vision on the right. An untrained model
    sits at the left edge; a released model's point is its documented pretraining data. A hollow marker is a
    bound: from scratch never reached the score (a triangle up) or reached it at its smallest budget already.
    """
    fig, axes = plt.subplots(2, 2, figsize=(10, 6.4), sharex="col", constrained_layout=True)
    units = (("authors", "characters of text"), ("digits", "images"))
    for column, (task, unit) in enumerate(units):
        rows = points[points.task == task].copy()
        floor = rows.pretraining_examples[rows.pretraining_examples > 0].min() / 10
        rows["x"] = rows.pretraining_examples.where(rows.pretraining_examples > 0, floor)
        released = ~rows.kind.isin(("tiny GPT", "letter CNN"))
        top, bottom = axes[0, column], axes[1, column]
        for part, colour, label in (
            (~released, OKABE_ITO["blue"], "the miniature"),
            (released, OKABE_ITO["vermillion"], "released"),
        ):
            at = rows[part]
            mean, low, high = _interval(at)
            top.errorbar(
                at.x,
                mean,
                yerr=[mean - low, high - mean],
                fmt="o-" if label == "the miniature" else "D",
                color=colour,
                capsize=3,
                label=label,
            )
            exact = at.bound == "="
            bottom.vlines(at.x, at.effective_low, at.effective_high, color=colour, alpha=0.5)  # the accuracy's interval
            bottom.plot(at.x[exact], at.effective_transferred[exact], "o", color=colour, label=label)
            bottom.plot(
                at.x[~exact],
                at.effective_transferred[~exact],
                "^",
                mfc="white",
                color=colour,
                label=f"{label}: a bound" if (~exact).any() else None,
            )
        budget = int(rows.budget.iloc[0])
        top.set(
            xscale="log",
            ylabel=f"probe accuracy (%), {budget} labels per class",
            title="Who wrote it? (tiny GPT, then MiniLM)"
            if task == "authors"
            else "Digits (letter CNN, then MobileNetV2)",
        )
        bottom.axhline(0, color="grey", linewidth=0.8)
        wide = rows.effective_transferred.abs().max() > 50
        if wide:  # from -6 to +577 on one axis: linear near zero, log beyond
            bottom.set_yscale("symlog", linthresh=10)
        top.annotate(
            "none",
            (floor, rows.accuracy[rows.pretraining_examples == 0].iloc[0] * 100),
            textcoords="offset points",
            xytext=(6, -12),
            fontsize=8,
        )
        bottom.set(
            xscale="log",
            xlabel=f"pretraining data, unique {unit} (log scale; left edge: none)",
            ylabel="effective labels transferred\n(per class, vs from scratch" + ("; symlog)" if wide else ")"),
        )
        for ax in (top, bottom):
            ax.grid(alpha=0.3)
            ax.legend(fontsize=8)
    fig.suptitle("What the scale of pretraining buys: the miniature, then a released model")
    return fig
