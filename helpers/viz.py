"""Plots for the lessons: learning curves, first-layer filters, feature maps, and a live curve for `fit`.

Every function returns a matplotlib Figure with a title and labelled axes, so it runs
headless (tests, `make demo`) as well as in JupyterLab. Colours are Okabe-Ito, a palette
that stays distinguishable with the common forms of colour blindness.
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import torch
from torch import nn

from helpers.data import to_float

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


def _rows(history) -> list[dict]:
    """Accept a helpers.train.History or a plain list of its row dicts."""
    return list(getattr(history, "rows", history))


def plot_history(history, title: str = "Learning curve", total_steps: int | None = None) -> plt.Figure:
    """Training loss (left) and accuracy (right) against optimiser step."""
    rows = _rows(history)
    steps = [row["step"] for row in rows]
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(9, 3.2), constrained_layout=True)
    ax_loss.plot(steps, [row["train_loss"] for row in rows], "o-", color=TRAIN_COLOUR, label="train")
    if any("val_loss" in row for row in rows):
        val_rows = [row for row in rows if "val_loss" in row]
        ax_loss.plot([r["step"] for r in val_rows], [r["val_loss"] for r in val_rows], "s--", color=VAL_COLOUR, label="validation")  # fmt: skip
    ax_acc.plot(steps, [100 * row["train_acc"] for row in rows], "o-", color=TRAIN_COLOUR, label="train")
    if any("val_acc" in row for row in rows):
        val_rows = [row for row in rows if "val_acc" in row]
        ax_acc.plot([r["step"] for r in val_rows], [100 * r["val_acc"] for r in val_rows], "s--", color=VAL_COLOUR, label="validation")  # fmt: skip
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

    def __init__(self, title: str = "Learning curve (live)", total_steps: int | None = None):
        self.title, self.total_steps = title, total_steps
        self.rows: list[dict] = []
        self.handle = None

    def __call__(self, row: dict) -> None:
        from IPython.display import DisplayHandle

        self.rows.append(row)
        fig = plot_history(self.rows, self.title, self.total_steps)
        if self.handle is None:
            self.handle = DisplayHandle()
            self.handle.display(fig)
        else:
            self.handle.update(fig)
        plt.close(fig)  # drawn once into the output; do not show it again at the end of the cell


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
    for i, ax in enumerate(axes.flat):
        ax.set_xticks([]), ax.set_yticks([])
        if i < len(shown):
            ax.imshow(shown[i].numpy(), cmap="viridis")
            ax.set_title(f"ch {i}", fontsize=8)
        else:
            ax.axis("off")
    channels, side = maps.shape[0], maps.shape[-1]
    right.supxlabel(f"map column ({side} positions); brighter = stronger response", fontsize=10)
    right.supylabel(f"map row ({side} positions)", fontsize=10)
    fig.suptitle(f"After {block}: {len(shown)} of {channels} feature maps, {side}x{side} each")
    return fig
