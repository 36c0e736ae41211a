"""The lowest layer: where the project's files are, the `Dataset` type, `DataError`, and atomic writes.

Every other module may import this one; it imports no other part of `helpers`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import torch

REPO_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = REPO_DIR / "data"
CACHE_DIR = DATA_DIR / "cache"  # rebuilt on demand, never committed
RESULTS_DIR = DATA_DIR / "results"  # shipped results of the sweeps
CHECKPOINT_DIR = REPO_DIR / "checkpoints"


class DataError(Exception):
    """A data file is missing, damaged or asked for in a way that cannot work."""


@dataclass(frozen=True)
class Dataset:
    """Images, labels and class names: what every loader returns."""

    images: torch.Tensor  # (N, 28, 28) uint8, bright object on a dark background
    labels: torch.Tensor  # (N,) int64, indices into classes
    classes: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.labels)

    def counts(self) -> dict[str, int]:
        """Number of examples of each class."""
        counts = torch.bincount(self.labels, minlength=len(self.classes)).tolist()
        return dict(zip(self.classes, counts))


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside `path`; on success rename it over `path`, on failure delete it."""
    # A reader then sees the old file or the new one, never half of one:
    #     with atomic_path("model.pt") as staged:
    #         torch.save(payload, staged)
    # The temporary file sits in the same folder because a rename is atomic only within one file system.
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    staged = path.with_name(path.name + ".part")
    try:
        yield staged
        os.replace(staged, path)
    finally:
        staged.unlink(missing_ok=True)


def write_text_atomically(path: str | Path, text: str) -> Path:
    """Write `text` (UTF-8) to `path` through `atomic_path`."""
    with atomic_path(path) as staged:
        staged.write_text(text, encoding="utf-8")
    return Path(path)
