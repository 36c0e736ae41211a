"""Pretrain the standard CNN on the source task (printed letters) and write the checkpoint that ships.

    python -m helpers.pretrain            # about 40 s on 2 CPU cores
    python -m helpers.pretrain --check    # retrain and compare with the shipped checkpoint

Deterministic on the CPU: the same recipe gives the same weights, bit for bit, on the same
machine and library versions (other CPUs may differ in the last bits).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import time
from pathlib import Path

import torch

from helpers import checkpoint, data, models, train
from helpers.cost import flops_per_step, hardware_fingerprint

SOURCE_RECIPE = train.TrainConfig(steps=694, batch_size=128, lr=3e-3, schedule="onecycle", shift=2, flip=False, seed=0)
# 694 steps of 128 images = 3 passes over the 29,600 training letters.


def pretrain(recipe: train.TrainConfig = SOURCE_RECIPE, progress: bool = True, callback=None):
    """Train a fresh standard CNN on the letters; returns (model, history, test accuracy)."""
    train.set_threads()
    train_set, test_set = data.source_task("train"), data.source_task("test")
    config = dataclasses.replace(models.STANDARD, num_classes=len(train_set.classes))
    model = models.make_model(config, seed=recipe.seed)
    history = train.fit(model, train_set, recipe, val_set=None, progress=progress, callback=callback)
    return model, history, train.evaluate(model, test_set)


def write_source_checkpoint(model, history, accuracy, recipe=SOURCE_RECIPE, path: Path = checkpoint.SOURCE_CHECKPOINT):
    """The checkpoint and, beside it, a JSON record of the recipe and what was measured."""
    train_set = data.source_task("train")
    checkpoint.save_checkpoint(
        model, path, train_set.classes, recipe.as_dict(), checkpoint.dataset_checksum(train_set), accuracy
    )
    record = {
        "checkpoint": path.name,
        "task": "37 printed letters (helpers.characters), 29,600 train / 7,400 test images",
        "recipe": recipe.as_dict(),
        "test_accuracy": round(accuracy, 4),
        "train_seconds": round(history.seconds, 1),
        "images_per_second": round(history.images_seen / history.seconds),
        "flops_per_step": flops_per_step(model, recipe.batch_size)["total"],
        "machine": hardware_fingerprint(),
        "date": time.strftime("%Y-%m-%d"),
    }
    staged = path.with_suffix(".json.part")
    staged.write_text(json.dumps(record, indent=2) + "\n")
    os.replace(staged, path.with_suffix(".json"))
    return record


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m helpers.pretrain", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=checkpoint.SOURCE_CHECKPOINT)
    parser.add_argument("--check", action="store_true", help="retrain and compare with the shipped checkpoint")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    model, history, accuracy = pretrain()
    print(f"Pretrained in {history.seconds:.1f} s of training ({time.perf_counter() - start:.1f} s in all): "
          f"test accuracy {accuracy:.2%}")  # fmt: skip
    if args.check:
        shipped, meta = checkpoint.load_checkpoint(args.out)
        same = all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), shipped.state_dict().values()))
        print(f"Shipped accuracy {meta['test_accuracy']:.2%}; weights identical: {same}")
        return
    record = write_source_checkpoint(model, history, accuracy, path=args.out)
    print(f"Wrote {args.out} and {args.out.with_suffix('.json').name}: {json.dumps(record['recipe'])}")


if __name__ == "__main__":
    main()
