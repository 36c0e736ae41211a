"""Save and load trained models with what a reader needs to trust them: architecture, classes, recipe, accuracy.

Writes are atomic (a temporary file, then a rename), and loading uses
`torch.load(weights_only=True)`, which refuses to run code hidden in a file.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import torch

from helpers.core import CHECKPOINT_DIR, REPO_DIR, Dataset, atomic_path
from helpers.models import CNN, CNNConfig
from helpers.train import TrainConfig

FORMAT_VERSION = 1
SOURCE_CHECKPOINT = CHECKPOINT_DIR / "source_letters_cnn.pt"
# How the shipped checkpoint was trained: 694 steps of 128 images = 3 passes over the 29,600 letters.
SOURCE_RECIPE = TrainConfig(steps=694, batch_size=128, lr=3e-3, schedule="onecycle", shift=2, seed=0)
# Notebook 06's other sources, each pretrained with the same recipe (make pretrain-sources).
SOURCE_CHECKPOINTS = {
    "letters": SOURCE_CHECKPOINT,
    "fashion": CHECKPOINT_DIR / "source_fashion_cnn.pt",
    "clothes": CHECKPOINT_DIR / "source_clothes_cnn.pt",
    "shuffled letters": CHECKPOINT_DIR / "source_shuffled_letters_cnn.pt",
}
RETIRED_OPTIONS = {"optimizer": "adamw", "flip": False}  # recorded by the shipped file; the code now fixes them


def same_recipe(recorded: dict, recipe: TrainConfig = SOURCE_RECIPE) -> bool:
    """Whether a checkpoint's recorded recipe is `recipe` (retired options must hold their fixed values)."""
    retired = {k: recorded[k] for k in RETIRED_OPTIONS if k in recorded}
    current = {k: v for k, v in recorded.items() if k not in RETIRED_OPTIONS}
    return current == recipe.as_dict() and all(RETIRED_OPTIONS[k] == v for k, v in retired.items())


class CheckpointError(Exception):
    """A checkpoint is missing, damaged, or does not fit the model asked for."""


def source_checkpoint(name: str) -> Path:
    """The shipped checkpoint of a pretraining source: "letters", "fashion", "clothes" or "shuffled letters"."""
    if name not in SOURCE_CHECKPOINTS:
        raise CheckpointError(f"Unknown source {name!r}; choose one of {list(SOURCE_CHECKPOINTS)}.")
    return SOURCE_CHECKPOINTS[name]


def rebuild_command(path: str | Path) -> str:
    """The make target that retrains a shipped checkpoint."""
    return "make pretrain" if Path(path).name == SOURCE_CHECKPOINT.name else "make pretrain-sources"


def dataset_checksum(dataset: Dataset) -> str:
    """SHA-256 of a dataset's images, labels and class names: which data a model was trained on."""
    digest = hashlib.sha256()
    digest.update(dataset.images.contiguous().numpy().tobytes())
    digest.update(dataset.labels.contiguous().numpy().tobytes())
    digest.update("|".join(dataset.classes).encode())
    return digest.hexdigest()


def library_versions() -> dict[str, str]:
    """Versions of the libraries a checkpoint's numbers depend on."""
    versions = {}
    for package in ("torch", "torchvision", "numpy", "scikit-learn"):
        try:
            versions[package] = version(package)
        except PackageNotFoundError:
            versions[package] = "not installed"
    return versions


def save_checkpoint(
    model: CNN, path: str | Path, classes: Sequence[str], recipe: dict, data_checksum: str, test_accuracy: float
) -> Path:
    """Write model weights and metadata to `path` atomically; returns the path."""
    payload = {
        "format_version": FORMAT_VERSION,
        "architecture": model.describe(),
        "classes": list(classes),
        "recipe": recipe,
        "data_checksum": data_checksum,
        "test_accuracy": float(test_accuracy),
        "versions": library_versions(),
        "state_dict": {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()},
    }
    with atomic_path(path) as staged:  # a reader sees the old file or the new one, never half of one
        torch.save(payload, staged)
    return Path(path)


def restore_command(path: str | Path) -> str:
    """The command that restores a shipped checkpoint from git, with its path as seen from the repository root."""
    path = Path(path).resolve()
    shown = path.relative_to(REPO_DIR) if path.is_relative_to(REPO_DIR) else path
    return f"git checkout -- {shown.as_posix()}"


def read_checkpoint(path: str | Path) -> dict:
    """The raw payload of a checkpoint, with a clear error when it cannot be read."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(
            f"No checkpoint at {path}. The shipped source model is restored with `git checkout -- checkpoints/` "
            f"or rebuilt with `{rebuild_command(path)}` (under a minute per source)."
        )
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:
        raise CheckpointError(
            f"{path} is not a readable checkpoint (truncated or damaged: {type(err).__name__}). "
            f"Restore it with `{restore_command(path)}` or rebuild it with `{rebuild_command(path)}`."
        ) from None
    if not isinstance(payload, dict) or payload.get("format_version") != FORMAT_VERSION:
        raise CheckpointError(f"{path} is not a Transfer Lab checkpoint of format {FORMAT_VERSION}.")
    return payload


def load_checkpoint(path: str | Path = SOURCE_CHECKPOINT, expect: CNNConfig | None = None) -> tuple[CNN, dict]:
    """The model (in eval mode) and its metadata. `expect` checks the architecture before loading."""
    payload = read_checkpoint(path)
    config = CNNConfig(**payload["architecture"])
    if expect is not None and expect != config:
        raise CheckpointError(
            f"Architecture mismatch: {path} holds {config}, but {expect} was expected. "
            f"Build the model from the checkpoint's own config, or retrain with `make pretrain`."
        )
    model = CNN(config)
    try:
        model.load_state_dict(payload["state_dict"])
    except RuntimeError as err:
        raise CheckpointError(f"Weights in {path} do not fit {config}: {str(err).splitlines()[0]}") from None
    model.eval()
    metadata = {k: v for k, v in payload.items() if k != "state_dict"}
    return model, metadata
