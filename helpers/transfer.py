"""Transfer operations: swap the head, freeze and unfreeze blocks, per-block learning rates, linear probes.

The vocabulary is the one fastai and PyTorch use: `replace_head`, `freeze`, `unfreeze`,
`param_groups`, `extract_features`, `linear_probe`.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from helpers.checkpoint import SOURCE_CHECKPOINT, load_checkpoint
from helpers.core import Dataset
from helpers.cost import flops_per_step
from helpers.data import to_float
from helpers.models import CNN
from helpers.train import History, TrainConfig, fit, predict

if TYPE_CHECKING:  # scikit-learn is imported where a probe is fitted: a lesson that fits none skips its second
    from sklearn.pipeline import Pipeline


def _require_cnn(model: nn.Module, action: str) -> None:
    """The helpers know the suite's CNN (named blocks, a .head); say so clearly for any other model."""
    if not isinstance(model, CNN):
        raise TypeError(
            f"{action} works on the suite's CNN (helpers.models.CNN: blocks named block1, block2, ... and a .head), "
            f"not on a {type(model).__name__}. For a torchvision model, write the lines out as notebook 03 does for "
            "MobileNetV2: model.classifier[1] = nn.Linear(model.last_channel, num_classes) swaps the head, and "
            "model.features.requires_grad_(False) then model.features.eval() freeze the backbone "
            "(a ResNet's head is model.fc instead)."
        )


def replace_head(model: CNN, num_classes: int, seed: int | None = None) -> CNN:
    """A new, randomly initialised linear head for a task with `num_classes` classes."""
    _require_cnn(model, "replace_head")
    if seed is not None:
        torch.manual_seed(seed)
    model.head = nn.Linear(model.feature_dim, num_classes)
    model.config = replace(model.config, num_classes=num_classes)
    return model


def pretrained_model(num_classes: int, seed: int | None = None, path: str | Path = SOURCE_CHECKPOINT) -> CNN:
    """A fresh copy of the shipped letter model with a new, randomly initialised head for `num_classes`."""
    model, _ = load_checkpoint(path)
    return replace_head(model, num_classes, seed=seed)


def _blocks(model: CNN, blocks: list[str] | int | None) -> list[str]:
    """Block names from a list of names, a depth (the first N blocks) or None (all blocks)."""
    names = model.block_names()
    if blocks is None:
        return names
    if isinstance(blocks, int):
        if not 0 <= blocks <= len(names):
            raise ValueError(f"Depth {blocks} is out of range: this backbone has blocks 0..{len(names)}.")
        return names[:blocks]
    unknown = [b for b in blocks if b not in names]
    if unknown:
        raise ValueError(f"Unknown block(s) {unknown}; this backbone has {names}.")
    return list(blocks)


def freeze(model: CNN, blocks: list[str] | int | None = None) -> CNN:
    """Stop training the given backbone blocks (default: the whole backbone)."""
    _require_cnn(model, "freeze")
    for name in _blocks(model, blocks):
        for p in model.backbone.get_submodule(name).parameters():
            p.requires_grad_(False)
        # eval() keeps BatchNorm's running statistics those of pretraining; helpers.train.fit keeps it so.
        model.backbone.get_submodule(name).eval()
    return model


def unfreeze(model: CNN, blocks: list[str] | int | None = None) -> CNN:
    """Train the given backbone blocks again (default: the whole backbone)."""
    _require_cnn(model, "unfreeze")
    for name in _blocks(model, blocks):
        for p in model.backbone.get_submodule(name).parameters():
            p.requires_grad_(True)
    return model


def frozen_blocks(model: CNN) -> list[str]:
    """Names of the backbone blocks none of whose parameters train."""
    return [
        name
        for name in model.block_names()
        if not any(p.requires_grad for p in model.backbone.get_submodule(name).parameters())
    ]


def param_groups(model: CNN, head_lr: float, decay: float = 1.0) -> list[dict]:
    """Discriminative learning rates: the head gets head_lr, each block below it `decay` times the one above."""
    _require_cnn(model, "param_groups")
    groups = [{"name": "head", "params": list(model.head.parameters()), "lr": head_lr}]
    lr = head_lr
    for name in reversed(model.block_names()):
        lr *= decay
        params = [p for p in model.backbone.get_submodule(name).parameters() if p.requires_grad]
        if params:  # frozen blocks are left out, so the optimiser never sees them
            groups.append({"name": name, "params": params, "lr": lr})
    return groups


def extract_features(model: CNN, images: torch.Tensor, batch_size: int = 1024) -> torch.Tensor:
    """Backbone features (N, feature_dim) of uint8 images (N, 28, 28), in eval mode, returned on the CPU."""
    return predict(model.backbone, images, batch_size=batch_size)


@torch.no_grad()
def block_features(model: CNN, images: torch.Tensor, block: str) -> torch.Tensor:
    """(N, channels) features after `block`: each channel's map averaged to one number, in eval mode, on the CPU."""
    names = _blocks(model, [block])  # checks the name
    model.eval()  # BatchNorm's running statistics, as at prediction time
    x = to_float(images.to(next(model.parameters()).device))  # (N, 1, 28, 28)
    for name in model.block_names():  # the blocks in order, stopping after `block`
        x = model.backbone.get_submodule(name)(x)
        if name == names[0]:
            break
    return x.mean(dim=(2, 3)).float().cpu()  # (N, C, h, w) -> (N, C)


def nearest_neighbours(queries: torch.Tensor, gallery: torch.Tensor, k: int = 5) -> tuple[torch.Tensor, torch.Tensor]:
    """(similarities, indices), each (Q, k): the k gallery rows most similar to each query by cosine."""
    similarity = F.normalize(queries.float(), dim=1) @ F.normalize(gallery.float(), dim=1).T  # (Q, G)
    return similarity.topk(k, dim=1)


def nearest_neighbour_accuracy(
    queries: torch.Tensor, query_labels: torch.Tensor, gallery: torch.Tensor, gallery_labels: torch.Tensor
) -> float:
    """How often a query's most similar gallery item (cosine) has the query's label: a classifier with no training."""
    _, index = nearest_neighbours(queries, gallery, k=1)
    return (gallery_labels[index[:, 0]] == query_labels).float().mean().item()


def logistic_probe(
    features: torch.Tensor | np.ndarray,
    labels: torch.Tensor | np.ndarray,
    C: float = 1.0,
    standardise: bool = True,
    max_iter: int = 2000,
) -> Pipeline:
    """scikit-learn's LogisticRegression on standardised features: the classical linear probe."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    logistic = LogisticRegression(C=C, max_iter=max_iter)
    # The pixel baseline passes standardise=False: with a handful of images, rescaling the
    # nearly-constant border pixels to unit variance only adds noise.
    probe = make_pipeline(StandardScaler(), logistic) if standardise else make_pipeline(logistic)
    return probe.fit(np.asarray(features), np.asarray(labels))


def train_linear_head(
    features: torch.Tensor, labels: torch.Tensor, num_classes: int, steps: int = 300, lr: float = 1e-2, seed: int = 0
) -> nn.Linear:
    """A torch linear head trained on frozen features with full-batch AdamW: the probe as a layer."""
    torch.manual_seed(seed)
    mean, std = features.mean(0), features.std(0) + 1e-6
    head = nn.Linear(features.shape[1], num_classes)
    optimizer = torch.optim.AdamW(head.parameters(), lr=lr, weight_decay=1e-2)
    x = (features - mean) / std  # standardised, as the scikit-learn probe does
    for _ in range(steps):
        loss = F.cross_entropy(head(x), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    # Fold the standardisation into the layer so it takes raw features:
    # W (x - mean) / std + b = (W / std) x + (b - W (mean / std)).
    with torch.no_grad():
        head.bias -= head.weight @ (mean / std)
        head.weight /= std
    return head


def linear_probe(
    model: CNN, train_set: Dataset, method: str = "torch", steps: int = 300, lr: float = 1e-2, seed: int = 0
) -> CNN:
    """Freeze the backbone and fit a linear head on its features ("torch" or "sklearn"); returns the model."""
    freeze(model)
    # The backbone runs once over the training images, not once per step: that is the probe's saving.
    features = extract_features(model, train_set.images)  # (N, feature_dim)
    num_classes = len(train_set.classes)
    if method == "torch":  # an nn.Linear trained by AdamW
        head = train_linear_head(features, train_set.labels, num_classes, steps=steps, lr=lr, seed=seed)
    elif method == "sklearn":  # LogisticRegression, its weights copied into an nn.Linear
        head = _linear_from_sklearn(logistic_probe(features, train_set.labels), num_classes)
    else:
        raise ValueError(f"method must be 'torch' or 'sklearn', not {method!r}.")
    model.head = head.to(next(model.parameters()).device)
    model.config = replace(model.config, num_classes=num_classes)
    return model


def _linear_from_sklearn(probe: Pipeline, num_classes: int) -> nn.Linear:
    """The pipeline (scaler, logistic regression) as one nn.Linear on raw features."""
    scaler, logistic = probe[0], probe[-1]
    weight = logistic.coef_ / scaler.scale_  # (classes, feature_dim)
    bias = logistic.intercept_ - weight @ scaler.mean_
    if num_classes == 2 and weight.shape[0] == 1:  # scikit-learn stores one row for two classes
        weight, bias = np.concatenate([-weight, weight]) / 2, np.concatenate([-bias, bias]) / 2
    head = nn.Linear(weight.shape[1], num_classes)
    with torch.no_grad():
        head.weight.copy_(torch.as_tensor(weight, dtype=torch.float32))
        head.bias.copy_(torch.as_tensor(bias, dtype=torch.float32))
    return head


def unfreezing_stages(model: CNN) -> list[list[str]]:
    """Gradual unfreezing's stages, each the blocks that train in it: none (the head alone), then one more."""
    names = model.block_names()
    return [[]] + [names[-k:] for k in range(1, len(names) + 1)]  # [], [block3], [block2, block3], ...


def unfreeze_for_step(model: CNN, step: int, steps: int) -> CNN:
    """Freeze and unfreeze the blocks as gradual unfreezing has them at `step` (1 to `steps`) of a run of `steps`."""
    _require_cnn(model, "unfreeze_for_step")
    stages = unfreezing_stages(model)
    per_stage = steps // len(stages)  # as gradual_unfreezing splits them
    if not 1 <= step <= per_stage * len(stages):
        raise ValueError(
            f"step {step} is outside a gradual unfreezing of {steps} steps (1 to {per_stage * len(stages)})"
        )
    freeze(model)
    return unfreeze(model, stages[(step - 1) // per_stage])


def gradual_unfreezing(
    model: CNN, train_set: Dataset, config: TrainConfig, val_set: Dataset | None = None, progress: bool = False
) -> tuple[History, int]:
    """Train the head alone, then unfreeze one block at a time from the top (ULMFiT); returns (history, FLOPs)."""
    # Each stage gets an equal share of config.steps and its own learning-rate cycle (Howard & Ruder 2018).
    # The one History runs across the stages (steps and seconds add up, each row names its stage);
    # the FLOPs grow stage by stage as more blocks train.
    stages = unfreezing_stages(model)
    steps = config.steps // len(stages)
    combined, train_flops = History(), 0
    freeze(model)
    for number, unfrozen in enumerate(stages):
        unfreeze(model, unfrozen)
        stage = fit(
            model, train_set, replace(config, steps=steps, seed=config.seed + number), val_set, progress=progress
        )
        train_flops += steps * flops_per_step(model, min(config.batch_size, len(train_set)))["total"]
        label = "head only" if not unfrozen else "head + " + ", ".join(unfrozen)
        for row in stage.rows:
            step, seconds = row["step"] + number * steps, row["seconds"] + combined.seconds
            combined.rows.append({**row, "step": step, "seconds": seconds, "stage": label})
        combined.seconds += stage.seconds
        combined.images_seen += stage.images_seen
    return combined, train_flops
