"""What a run costs: parameters, FLOPs, seconds, images per second, and a ledger to compare runs.

FLOPs are counted by PyTorch itself (`torch.utils.flop_counter`), by running one real
step, so a frozen backbone's missing backward pass shows up in the count. Notebooks
report; this module measures.
"""

from __future__ import annotations

import html
import math
import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import nn

if TYPE_CHECKING:  # for the annotations only: measuring cost needs nothing from the training loop
    from torch.utils.flop_counter import FlopCounterMode

    from helpers.train import History

# --- parameters and FLOPs -----------------------------------------------------------------


def count_parameters(model: nn.Module) -> dict[str, int]:
    """Total and trainable (requires_grad) parameter counts."""
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return {"total": total, "trainable": trainable}


def _example_batch(model: nn.Module, batch_size: int, image_size: int = 28) -> torch.Tensor:
    device = next(model.parameters()).device
    in_channels = getattr(getattr(model, "config", None), "in_channels", 1)
    return torch.zeros(batch_size, in_channels, image_size, image_size, device=device)


def flops_per_prediction(model: nn.Module, batch_size: int = 1) -> int:
    """FLOPs of one forward pass on `batch_size` images (a multiply-add counts as 2)."""
    x = _example_batch(model, batch_size)
    was_training = model.training
    model.eval()
    with torch.no_grad(), flop_counter() as counter:
        model(x)
    model.train(was_training)
    return counter.get_total_flops()


def flops_per_step(model: nn.Module, batch_size: int = 128) -> dict[str, int]:
    """FLOPs of one training step on `batch_size` zero images: forward, and backward only through what trains."""
    # BatchNorm runs in eval mode so that its running statistics never see the zeros.
    x = _example_batch(model, batch_size)
    y = torch.zeros(batch_size, dtype=torch.long, device=x.device)  # class 0 exists whatever the head
    modes = {module: module.training for module in model.modules()}
    model.eval()
    try:
        return step_flops(model, lambda: F.cross_entropy(model(x), y))
    finally:
        for module, training in modes.items():
            module.training = training


def step_flops(model: nn.Module, loss_of: Callable[[], torch.Tensor]) -> dict[str, int]:
    """FLOPs of one real training step, counted by PyTorch: the forward pass that `loss_of` runs, and the
    backward pass through what trains (none if nothing does). The model's gradients are put back as they were."""
    saved = [p.grad for p in model.parameters()]
    with flop_counter() as forward_counter:
        loss = loss_of()
    with flop_counter() as backward_counter:
        if loss.requires_grad:  # nothing trains -> no backward pass at all
            loss.backward()
    for parameter, grad in zip(model.parameters(), saved):
        parameter.grad = grad
    forward, backward = forward_counter.get_total_flops(), backward_counter.get_total_flops()
    return {"forward": forward, "backward": backward, "total": forward + backward}


def forward_flops(model: nn.Module, batch: object) -> int:
    """FLOPs of one forward pass on `batch` (a tensor, or a dict of a tokenizer's tensors), counted by PyTorch."""
    with torch.no_grad(), flop_counter() as counter:
        model(**batch) if isinstance(batch, dict) else model(batch)
    return counter.get_total_flops()


def flop_counter() -> FlopCounterMode:
    """PyTorch's FLOP counter (a multiply-add counts as 2), silent, with CPU attention counted.

    PyTorch's counter knows the GPU kernels of scaled_dot_product_attention but not the CPU one (it
    counts 0 for it in torch 2.14), so attention would vanish from every count here: the CPU kernel
    gets the formula PyTorch uses for the others (the whole T x T square), unless a formula is there
    already (a later torch). Imported here, not at the top: torch.utils.flop_counter loads triton,
    a fifth of a second that a lesson which counts nothing need not spend.
    """
    from torch.utils import flop_counter as counting

    cpu_attention = {
        torch.ops.aten._scaled_dot_product_flash_attention_for_cpu: lambda q, k, v, *args, out_val=None, **kw: (
            counting.sdpa_flop_count(q.shape, k.shape, v.shape)
        ),
        torch.ops.aten._scaled_dot_product_flash_attention_for_cpu_backward: (
            lambda grad, q, k, v, *args, out_val=None, **kw: counting.sdpa_backward_flop_count(
                grad.shape, q.shape, k.shape, v.shape
            )
        ),
    }
    for op, formula in cpu_attention.items():
        if op not in counting.flop_registry and op.default not in counting.flop_registry:
            counting.register_flop_formula(op, get_raw=True)(formula)
    return counting.FlopCounterMode(display=False)


# --- time and the machine -------------------------------------------------------


def hardware_fingerprint() -> dict[str, str | int]:
    """What the timings were measured on: results from another machine are not comparable."""
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else ""
    return {
        "machine": platform.machine(),
        "processor": platform.processor() or platform.machine(),
        "system": f"{platform.system()} {platform.release()}",
        "cpu_count": os.cpu_count() or 0,
        "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "gpu": gpu,
    }


def matmul_flops_per_second(size: int = 2048, repeats: int = 10, device: str = "cpu") -> float:
    """The machine's float32 matrix-multiply rate: the ceiling a CNN's training speed is compared with."""
    a = torch.randn(size, size, device=device)
    b = torch.randn(size, size, device=device)
    for _ in range(3):  # burn-in: first calls pay for allocation and thread start-up
        a @ b
    start = time.perf_counter()
    for _ in range(repeats):
        a @ b
    if device == "cuda":
        torch.cuda.synchronize()
    return 2 * size**3 * repeats / (time.perf_counter() - start)


# --- the ledger ---------------------------------------------------------------------------


@dataclass
class Run:
    """One row of a ledger: what one training run reached and what it cost."""

    name: str
    accuracy: float | None  # test accuracy, 0..1
    trainable_params: int
    total_params: int
    steps: int
    flops_per_step: int
    seconds: float
    images_seen: int
    is_pretraining: bool = False  # the run that made the pretrained model
    uses_pretraining: bool = False  # starts from the pretrained model, so pays a share of its cost

    def __post_init__(self) -> None:
        if self.is_pretraining and self.uses_pretraining:
            raise ValueError(f"Run {self.name!r} cannot both be the pretraining and use it.")

    @property
    def train_flops(self) -> int:
        return self.steps * self.flops_per_step

    @property
    def images_per_second(self) -> float:
        return self.images_seen / self.seconds if self.seconds > 0 else float("nan")


def run_from_history(
    name: str,
    model: nn.Module,
    history: History,
    batch_size: int,
    accuracy: float | None = None,
    *,
    is_pretraining: bool = False,  # the run that made the pretrained model
    uses_pretraining: bool = False,  # a run that starts from the pretrained model
) -> Run:
    """A ledger row for a model trained with helpers.train.fit (its History gives steps, seconds, images)."""
    steps = history.rows[-1]["step"] if history.rows else 0
    params = count_parameters(model)
    return Run(
        name=name,
        accuracy=accuracy,
        trainable_params=params["trainable"],
        total_params=params["total"],
        steps=steps,
        flops_per_step=flops_per_step(model, batch_size)["total"],
        seconds=history.seconds,
        images_seen=history.images_seen,
        is_pretraining=is_pretraining,
        uses_pretraining=uses_pretraining,
    )


def break_even(one_off: float, per_task: float, scratch_per_task: float, scratch_one_off: float = 0.0) -> float:
    """After how many tasks paying a one-off cost (pretraining, a recipe search) is cheaper than starting from scratch.

    Over N tasks, transfer costs one_off + N * per_task and from scratch scratch_one_off + N * scratch_per_task.
    Break-even is the first whole N at which transfer's total is strictly below from scratch's, so at an exact
    tie it is the next N; inf ("never") when from scratch costs no more per task. Notebooks 05 to 08 use this one rule.
    """
    saving = scratch_per_task - per_task  # what each task saves by starting from the pretrained model
    if saving <= 0:
        return math.inf
    extra = one_off - scratch_one_off  # what transfer pays once, beyond from scratch's own one-off cost
    return max(1, math.floor(extra / saving) + 1)  # N * saving > extra first at floor(extra / saving) + 1


def _human(number: float) -> str:
    for unit, scale in (("T", 1e12), ("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(number) >= scale:
            return f"{number / scale:.1f}{unit}"
    return f"{number:.0f}"


class Ledger:
    """Runs side by side. The pretraining run is charged once, and also spread over N later tasks."""

    def __init__(self, amortise_over: int = 10) -> None:
        self.runs: list[Run] = []
        self.amortise_over = amortise_over

    def add(self, run: Run) -> Run:
        """Add `run`, replacing a run of the same name."""
        self.runs = [r for r in self.runs if r.name != run.name] + [run]  # re-running a cell replaces its row
        return run

    def pretraining(self) -> Run | None:
        """The run marked is_pretraining, if the ledger has one."""
        return next((r for r in self.runs if r.is_pretraining), None)

    def rows(self) -> list[dict]:
        """One dict per run; runs that use pretraining also carry its cost, amortised over N tasks."""
        pre = self.pretraining()
        rows = []
        for run in self.runs:
            row = {
                "run": run.name,
                "accuracy": run.accuracy,
                "trainable params": run.trainable_params,
                "total params": run.total_params,
                "steps": run.steps,
                "FLOPs/step": run.flops_per_step,
                "train FLOPs": run.train_flops,
                "seconds": run.seconds,
                "images/s": run.images_per_second,
            }
            share = pre.train_flops / self.amortise_over if pre is not None and run.uses_pretraining else 0
            row[f"FLOPs incl. pretraining / {self.amortise_over}"] = run.train_flops + share
            rows.append(row)
        return rows

    def to_text(self) -> str:
        """The runs as a plain-text table, numbers right-aligned."""
        rows = self.rows()
        if not rows:
            return "(no runs yet)"
        headers = list(rows[0])
        cells = [[self._format(h, row[h]) for h in headers] for row in rows]
        widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(headers)]
        lines = ["  ".join(h.rjust(w) for h, w in zip(headers, widths))]
        lines += ["  ".join(c.rjust(w) for c, w in zip(cell_row, widths)) for cell_row in cells]
        return "\n".join(lines)

    @staticmethod
    def _format(header: str, value) -> str:
        if value is None:
            return "-"
        if header == "accuracy":
            return f"{value:.1%}"
        if header == "seconds":
            return f"{value:.1f}"
        if isinstance(value, (int, float)) and header != "steps":
            return _human(value)
        return str(value)

    def __str__(self) -> str:
        return self.to_text()

    def __repr__(self) -> str:  # a notebook without HTML output shows the table, not <Ledger at 0x...>
        return self.to_text()

    def _repr_html_(self) -> str:
        rows = self.rows()
        if not rows:
            return "<p>(no runs yet)</p>"
        head = "".join(f"<th>{html.escape(h)}</th>" for h in rows[0])
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(self._format(h, v))}</td>" for h, v in row.items()) + "</tr>"
            for row in rows
        )
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
