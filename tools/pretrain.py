"""Pretrain the standard CNN on the source task (printed letters) and write the checkpoint that ships.

    python -m tools.pretrain            # about 40 s on 2 CPU cores
    python -m tools.pretrain --check    # retrain and compare with the shipped checkpoint
    python -m tools.pretrain --source fashion   # notebook 06's other sources (make pretrain-sources)

Deterministic on the CPU: the same recipe gives the same weights, bit for bit, on the same
machine and library versions (other CPUs may differ in the last bits).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from collections.abc import Callable
from pathlib import Path

import torch

from helpers import checkpoint, data, models, train
from helpers.checkpoint import SOURCE_RECIPE
from helpers.core import write_text_atomically
from helpers.cost import flops_per_step, hardware_fingerprint

TASK_TEXT = {  # what each source's record says it was trained on
    "letters": "37 printed letters (data/letters/, drawn by helpers.characters), 29,600 train / 7,400 test images",
    "fashion": "Fashion-MNIST's 10 classes, 60,000 train / 10,000 test images",
    "clothes": "Fashion-MNIST's 6 clothes classes, 36,000 train / 6,000 test images",
    "shuffled letters": "the 29,600 printed letters with their labels shuffled among them (a control)",
}


def pretrain(
    recipe: train.TrainConfig = SOURCE_RECIPE,
    progress: bool = True,
    callback: Callable[[dict], None] | None = None,
    source: str = "letters",
) -> tuple[models.CNN, train.History, float]:
    """Train a fresh standard CNN on a source (default: the letters); returns (model, history, test accuracy)."""
    train.set_threads()
    train_set, test_set = data.source_task("train", source), data.source_task("test", source)
    config = dataclasses.replace(models.STANDARD, num_classes=len(train_set.classes))
    model = models.make_model(config, seed=recipe.seed)
    history = train.fit(model, train_set, recipe, val_set=None, progress=progress, callback=callback)
    return model, history, train.evaluate(model, test_set)


def write_source_checkpoint(
    model: models.CNN,
    history: train.History,
    accuracy: float,
    recipe: train.TrainConfig = SOURCE_RECIPE,
    path: Path = checkpoint.SOURCE_CHECKPOINT,
    source: str = "letters",
) -> dict:
    """The checkpoint and, beside it, a JSON record of the recipe and what was measured."""
    train_set = data.source_task("train", source)
    checkpoint.save_checkpoint(
        model, path, train_set.classes, recipe.as_dict(), checkpoint.dataset_checksum(train_set), accuracy
    )
    record = {
        "checkpoint": path.name,
        "task": TASK_TEXT[source],
        "recipe": recipe.as_dict(),
        "test_accuracy": round(accuracy, 4),
        "train_seconds": round(history.seconds, 1),
        "images_per_second": round(history.images_seen / history.seconds),
        "flops_per_step": flops_per_step(model, recipe.batch_size)["total"],
        "machine": hardware_fingerprint(),
        "date": time.strftime("%Y-%m-%d"),
    }
    write_text_atomically(path.with_suffix(".json"), json.dumps(record, indent=2) + "\n")
    return record


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tools.pretrain", description=__doc__.splitlines()[0])
    parser.add_argument("--source", choices=list(checkpoint.SOURCE_CHECKPOINTS), default="letters")
    parser.add_argument("--out", type=Path, default=None, help="default: the source's shipped checkpoint")
    parser.add_argument("--check", action="store_true", help="retrain and compare with the shipped checkpoint")
    args = parser.parse_args(argv)
    args.out = args.out or checkpoint.source_checkpoint(args.source)
    start = time.perf_counter()
    model, history, accuracy = pretrain(source=args.source)
    seconds = time.perf_counter() - start
    print(f"Pretrained in {history.seconds:.1f} s of training ({seconds:.1f} s in all): test accuracy {accuracy:.2%}")
    if args.check:
        shipped, meta = checkpoint.load_checkpoint(args.out)
        same = all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), shipped.state_dict().values()))
        print(f"Shipped accuracy {meta['test_accuracy']:.2%}; weights identical: {same}")
        return
    record = write_source_checkpoint(model, history, accuracy, path=args.out, source=args.source)
    print(f"Wrote {args.out} and {args.out.with_suffix('.json').name}: {json.dumps(record['recipe'])}")


if __name__ == "__main__":
    main()
