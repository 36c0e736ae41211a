"""`fit` and `evaluate` on in-memory tensors: the training loop, written out in plain PyTorch.

The whole dataset stays on the device as uint8 (a 60,000-image Fashion-MNIST is 47 MB);
each step slices a batch, converts it to float, optionally shifts it, and takes one
optimiser step. No DataLoader and no worker processes, so it runs the same on Linux,
macOS and Windows.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable, Collection
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm  # a text bar, for the command line; notebooks show live curves instead

from helpers.core import Dataset
from helpers.data import to_float


@dataclass(frozen=True)
class TrainConfig:
    """One training recipe: how many steps, how big the batches, how fast, with what augmentation."""

    steps: int = 500  # optimiser steps: the budget that comparisons hold fixed
    batch_size: int = 128
    lr: float = 3e-3  # peak learning rate
    weight_decay: float = 1e-4
    schedule: str = "onecycle"  # "onecycle" (warm up, then anneal) or "constant" (for benchmarks)
    shift: int = 2  # random shifts of up to this many pixels (0 turns augmentation off)
    eval_every: int = 0  # steps between history points (0: about 10 points per run)
    seed: int = 0

    def as_dict(self) -> dict:
        """The recipe as a plain dict, as checkpoints and results record it."""
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


CGROUP_CPU_MAX = Path("/sys/fs/cgroup/cpu.max")  # a container's CPU quota (cgroup v2): "<quota> <period>" or "max ..."


def available_cores() -> int:
    """The cores this process is given: its CPU affinity, capped by a container's quota and a hub's CPU_LIMIT."""
    # On a class server many kernels share a few cores; a kernel that takes os.cpu_count() threads each
    # makes N students run N x cores threads, and every one of them slows down.
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    limits = [cgroup_cpu_limit(CGROUP_CPU_MAX), float(os.environ.get("CPU_LIMIT") or 0)]  # JupyterHub sets CPU_LIMIT
    for limit in limits:
        if limit > 0:
            cores = min(cores, max(1, int(limit)))  # 1.5 cores of quota: 1 thread, never 0
    return cores


def cgroup_cpu_limit(path: Path = CGROUP_CPU_MAX) -> float:
    """Cores of CPU quota from cgroup v2's cpu.max (200000 100000 -> 2.0); 0 when there is none."""
    try:
        quota, period = path.read_text().split()[:2]
    except (OSError, ValueError):
        return 0.0
    return 0.0 if quota == "max" else int(quota) / int(period)


def set_threads(num_threads: int | None = None) -> int:
    """One thread per core this kernel is given (see available_cores); $TL_THREADS overrides. Returns the count."""
    num_threads = num_threads or int(os.environ.get("TL_THREADS", 0)) or available_cores()
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


# --- optimiser and schedule -----------------------------------------------------------


def make_optimizer(param_groups: list[dict], config: TrainConfig) -> torch.optim.Optimizer:
    """AdamW over param_groups: [{"params": [...], "lr": ...}, ...] (see helpers.transfer.param_groups)."""
    # AdamW is Adam with the weight decay applied to the weights directly, not through the gradient.
    return torch.optim.AdamW(param_groups, lr=config.lr, weight_decay=config.weight_decay)


def make_scheduler(optimizer: torch.optim.Optimizer, config: TrainConfig) -> torch.optim.lr_scheduler.LRScheduler:
    """One-cycle (the learning rate rises for the first quarter of the steps, then anneals) or constant."""
    peak_lrs = [group["lr"] for group in optimizer.param_groups]
    if config.schedule == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=peak_lrs, total_steps=config.steps, pct_start=0.25)
    if config.schedule == "constant":
        return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0)
    raise ValueError(f"schedule must be 'onecycle' or 'constant', not {config.schedule!r}.")


def train_mode(model: nn.Module, frozen_bn_eval: bool = True) -> None:
    """model.train(), except BatchNorm layers whose weights are frozen stay in eval mode."""
    # In train mode BatchNorm normalises with the batch's statistics and updates its running
    # averages even when its weights are frozen, so a "frozen" backbone would still drift.
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
    progress: bool = False,
    frozen_bn_eval: bool = True,
    device: torch.device | None = None,
    eval_at: Collection[int] | None = None,
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
    # History gets a row every config.eval_every steps, or at the steps listed in eval_at, and at the
    # last step. Evaluating val_set there changes nothing in the training: same batches, same weights.
    eval_every = config.eval_every or max(1, config.steps // 10)
    eval_steps = set(eval_at) if eval_at is not None else set(range(eval_every, config.steps + 1, eval_every))
    eval_steps.add(config.steps)
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

        if step in eval_steps:
            row = {
                "step": step,
                "epoch": history.images_seen / len(images),
                "train_loss": running_loss / running_count,
                "train_acc": running_correct / running_count,
                "seconds": history.seconds,
            }
            if val_set is not None:
                row["val_loss"], row["val_acc"] = loss_and_accuracy(model, val_set, device=device)
            history.rows.append(row)
            running_loss, running_correct, running_count = 0.0, 0, 0
            if callback is not None:
                callback(row)
    model.eval()
    return history


@torch.no_grad()
def predict(
    model: nn.Module, images: torch.Tensor, batch_size: int = 1024, device: torch.device | None = None
) -> torch.Tensor:
    """Outputs of `model` (logits, or features for a backbone) for uint8 images (N, 28, 28), in eval mode."""
    device = device or next(model.parameters()).device
    model.eval()
    outputs = []
    for start in range(0, len(images), batch_size):
        x = to_float(images[start : start + batch_size].to(device)).contiguous(memory_format=torch.channels_last)
        outputs.append(model(x).float().cpu())
    return torch.cat(outputs)


def evaluate(model: nn.Module, dataset: Dataset, device: torch.device | None = None) -> float:
    """Accuracy on `dataset`, 0..1."""
    logits = predict(model, dataset.images, device=device)  # (N, num_classes); leaves the model in eval mode
    return (logits.argmax(1) == dataset.labels).sum().item() / len(dataset.labels)  # 180/200 is 0.9, not 0.8999999


def loss_and_accuracy(model: nn.Module, dataset: Dataset, device: torch.device | None = None) -> tuple[float, float]:
    """(mean cross-entropy in nats, accuracy 0..1) on `dataset`."""
    logits = predict(model, dataset.images, device=device)  # (N, num_classes); leaves the model in eval mode
    accuracy = (logits.argmax(1) == dataset.labels).sum().item() / len(dataset.labels)  # exact: 180/200 reaches 0.90
    return F.cross_entropy(logits, dataset.labels).item(), accuracy


def steps_to_reach(history: History, target: float, metric: str = "val_acc") -> tuple[int, float] | None:
    """(step, seconds) of the first history point where `metric` reached `target`, or None if it never did."""
    for row in history.rows:
        if row.get(metric, -1) >= target:
            return row["step"], row["seconds"]
    return None
