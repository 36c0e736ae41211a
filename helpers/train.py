"""`fit` and `evaluate` on in-memory tensors: the training loop, written out in plain PyTorch.

The whole dataset stays on the device as uint8 (a 60,000-image Fashion-MNIST is 47 MB);
each step slices a batch, converts it to float, optionally shifts it, and takes one
optimiser step. No DataLoader and no worker processes, so it runs the same on Linux,
macOS and Windows.
"""

from __future__ import annotations

import math
import os
import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from helpers.data import Dataset, to_float


@dataclass(frozen=True)
class TrainConfig:
    steps: int = 500  # optimiser steps: the budget that comparisons hold fixed
    batch_size: int = 128
    lr: float = 3e-3  # peak learning rate
    weight_decay: float = 1e-4
    optimizer: str = "adamw"  # "adamw" or "sgd" (momentum 0.9)
    schedule: str = "onecycle"  # "onecycle", "cosine" or "constant"
    shift: int = 2  # random shifts of up to this many pixels (0 turns augmentation off)
    flip: bool = False  # random horizontal flips: fine for clothes, wrong for digits and letters
    eval_every: int = 0  # steps between history points (0: about 10 points per run)
    seed: int = 0

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class History:
    """One row per evaluation point: step, epoch, train loss, accuracies, seconds so far."""

    rows: list[dict] = field(default_factory=list)
    seconds: float = 0.0  # wall time spent in optimiser steps (evaluation excluded)
    images_seen: int = 0

    def column(self, name: str) -> list:
        return [row[name] for row in self.rows]

    @property
    def last(self) -> dict:
        return self.rows[-1] if self.rows else {}


# --- device, threads and seeds -------------------------------------------------------


def pick_device(prefer: str | None = None) -> torch.device:
    """CUDA if present, else Apple's MPS, else the CPU; $TL_DEVICE or `prefer` overrides."""
    prefer = prefer or os.environ.get("TL_DEVICE")
    if prefer:
        return torch.device(prefer)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def set_threads(num_threads: int | None = None) -> int:
    """Use one thread per core (PyTorch's default can oversubscribe shared machines)."""
    num_threads = num_threads or int(os.environ.get("TL_THREADS", 0)) or (os.cpu_count() or 1)
    torch.set_num_threads(num_threads)
    return num_threads


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and PyTorch so a rerun on the CPU gives identical weights."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


# --- augmentation -----------------------------------------------------------------------


def random_shift(x: torch.Tensor, max_shift: int, generator: torch.Generator) -> torch.Tensor:
    """Move each image (B, C, H, W) by its own random offset of up to max_shift pixels, zero-filled."""
    if max_shift == 0:
        return x
    B, C, H, W = x.shape
    padded = F.pad(x, (max_shift,) * 4)  # (B, C, H + 2s, W + 2s)
    dy, dx = torch.randint(0, 2 * max_shift + 1, (2, B, 1), generator=generator, device="cpu").to(x.device)
    rows = (torch.arange(H, device=x.device) + dy)[:, None, :, None]  # (B, 1, H, 1)
    cols = (torch.arange(W, device=x.device) + dx)[:, None, None, :]  # (B, 1, 1, W)
    batch = torch.arange(B, device=x.device)[:, None, None, None]
    channel = torch.arange(C, device=x.device)[None, :, None, None]
    return padded[batch, channel, rows, cols]


def random_flip(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Mirror a random half of the images left to right."""
    flip = (torch.rand(x.shape[0], generator=generator) < 0.5).to(x.device)
    return torch.where(flip[:, None, None, None], x.flip(-1), x)


# --- optimiser and schedule -----------------------------------------------------------


def make_optimizer(param_groups: list[dict], config: TrainConfig) -> torch.optim.Optimizer:
    """param_groups: [{"params": [...], "lr": ...}, ...] (see helpers.transfer.param_groups)."""
    if config.optimizer == "adamw":
        return torch.optim.AdamW(param_groups, lr=config.lr, weight_decay=config.weight_decay)
    if config.optimizer == "sgd":
        return torch.optim.SGD(param_groups, lr=config.lr, momentum=0.9, weight_decay=config.weight_decay)
    raise ValueError(f"optimizer must be 'adamw' or 'sgd', not {config.optimizer!r}.")


def make_scheduler(optimizer: torch.optim.Optimizer, config: TrainConfig):
    peak_lrs = [group["lr"] for group in optimizer.param_groups]
    if config.schedule == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=peak_lrs, total_steps=config.steps, pct_start=0.25)
    if config.schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=config.steps)
    if config.schedule == "constant":
        return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0)
    raise ValueError(f"schedule must be 'onecycle', 'cosine' or 'constant', not {config.schedule!r}.")


def train_mode(model: nn.Module, frozen_bn_eval: bool = True) -> None:
    """model.train(), except BatchNorm layers whose weights are frozen stay in eval mode.

    In train mode BatchNorm normalises with the batch's statistics and updates its running
    averages even when its weights are frozen, so a "frozen" backbone would still drift.
    """
    model.train()
    if not frozen_bn_eval:
        return
    for module in model.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            if not any(p.requires_grad for p in module.parameters()):
                module.eval()


# --- the loop -------------------------------------------------------------------------------


def fit(
    model: nn.Module,
    train_set: Dataset,
    config: TrainConfig = TrainConfig(),
    val_set: Dataset | None = None,
    param_groups: list[dict] | None = None,
    callback: Callable[[dict], None] | None = None,
    progress: bool = True,
    frozen_bn_eval: bool = True,
    device: torch.device | None = None,
) -> History:
    """Train `model` for config.steps optimiser steps; returns its History."""
    device = device or pick_device()
    model.to(device, memory_format=torch.channels_last)  # NHWC is faster for convs on CPU
    images, labels = train_set.images.to(device), train_set.labels.to(device)
    if param_groups is None:
        param_groups = [{"params": [p for p in model.parameters() if p.requires_grad]}]
    optimizer = make_optimizer(param_groups, config)
    scheduler = make_scheduler(optimizer, config)
    generator = torch.Generator().manual_seed(config.seed)  # data order and augmentation
    batch_size = min(config.batch_size, len(images))
    eval_every = config.eval_every or max(1, config.steps // 10)
    history = History()
    order, cursor, running_loss, running_correct, running_count = None, len(images), 0.0, 0, 0

    for step in tqdm(range(1, config.steps + 1), desc="training", disable=not progress, leave=False):
        start = time.perf_counter()
        if cursor + batch_size > len(images):  # new epoch: reshuffle
            order, cursor = torch.randperm(len(images), generator=generator).to(device), 0
        index = order[cursor : cursor + batch_size]
        cursor += batch_size
        x = to_float(images[index]).contiguous(memory_format=torch.channels_last)  # (B, 1, 28, 28)
        x = random_shift(x, config.shift, generator)
        if config.flip:
            x = random_flip(x, generator)
        y = labels[index]

        train_mode(model, frozen_bn_eval)
        logits = model(x)
        loss = F.cross_entropy(logits, y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        scheduler.step()

        if device.type == "cuda":
            torch.cuda.synchronize()
        history.seconds += time.perf_counter() - start
        history.images_seen += len(y)
        running_loss += loss.item() * len(y)
        running_correct += (logits.argmax(1) == y).sum().item()
        running_count += len(y)

        if step % eval_every == 0 or step == config.steps:
            row = {
                "step": step,
                "epoch": history.images_seen / len(images),
                "train_loss": running_loss / running_count,
                "train_acc": running_correct / running_count,
                "seconds": history.seconds,
            }
            if val_set is not None:
                row["val_loss"], row["val_acc"] = evaluate(model, val_set, device=device, with_loss=True)
            history.rows.append(row)
            running_loss, running_correct, running_count = 0.0, 0, 0
            if callback is not None:
                callback(row)
    model.eval()
    return history


@torch.no_grad()
def predict(model: nn.Module, images: torch.Tensor, batch_size: int = 1024, device: torch.device | None = None):
    """Logits (N, num_classes) for uint8 images (N, 28, 28), in eval mode."""
    device = device or next(model.parameters()).device
    model.eval()
    outputs = []
    for start in range(0, len(images), batch_size):
        x = to_float(images[start : start + batch_size].to(device)).contiguous(memory_format=torch.channels_last)
        outputs.append(model(x).float().cpu())
    return torch.cat(outputs)


def evaluate(model: nn.Module, dataset: Dataset, device: torch.device | None = None, with_loss: bool = False):
    """Accuracy on `dataset` (and the mean cross-entropy if with_loss)."""
    logits = predict(model, dataset.images, device=device)  # leaves the model in eval mode
    accuracy = (logits.argmax(1) == dataset.labels).float().mean().item()
    if with_loss:
        return F.cross_entropy(logits, dataset.labels).item(), accuracy
    return accuracy


def epochs_to_steps(num_epochs: float, num_images: int, batch_size: int) -> int:
    """How many optimiser steps make `num_epochs` passes over `num_images`."""
    return max(1, math.ceil(num_epochs * num_images / min(batch_size, num_images)))


def steps_to_reach(history: History, target: float, metric: str = "val_acc") -> tuple[int, float] | None:
    """(step, seconds) of the first history point where `metric` reached `target`, or None if it never did."""
    for row in history.rows:
        if row.get(metric, -1) >= target:
            return row["step"], row["seconds"]
    return None
