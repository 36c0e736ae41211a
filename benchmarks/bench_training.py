"""Training throughput of the standard CNN against this machine's matrix-multiply rate, in one run.

    python benchmarks/bench_training.py [--pretrain]

Prints images/s and FLOP/s of real training steps (burn-in first, then timed), the float32
matmul FLOP/s of the same process, their ratio, and with --pretrain the full pretraining
time and accuracy. Timings are noisy: compare ratios measured in the same run.
"""

import argparse
import dataclasses
import time

import torch

from helpers import cost, data, models, train
from helpers.checkpoint import SOURCE_RECIPE
from tools.pretrain import pretrain


def training_rate(batch_size: int = 128, steps: int = 60, burn_in: int = 10) -> dict:
    letters = data.source_task("train")
    config = dataclasses.replace(models.STANDARD, num_classes=len(letters.classes))
    model = models.make_model(config, seed=0)
    recipe = train.TrainConfig(steps=burn_in, batch_size=batch_size, schedule="constant")
    train.fit(model, letters, recipe, progress=False)  # burn-in: allocations, thread pool, oneDNN kernels
    history = train.fit(model, letters, dataclasses.replace(recipe, steps=steps), progress=False)
    flops = cost.flops_per_step(model, batch_size)["total"]
    return {
        "images_per_second": history.images_seen / history.seconds,
        "flops_per_second": flops * steps / history.seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pretrain", action="store_true", help="also time the full pretraining recipe")
    args = parser.parse_args()
    threads = train.set_threads()
    print(f"machine: {cost.hardware_fingerprint()}  threads: {threads}  date: {time.strftime('%Y-%m-%d')}")
    matmul_before = cost.matmul_flops_per_second()
    rate = training_rate()
    matmul_after = cost.matmul_flops_per_second()
    matmul = max(matmul_before, matmul_after)
    print(f"training: {rate['images_per_second']:.0f} images/s, {rate['flops_per_second'] / 1e9:.1f} GFLOP/s")
    before, after = matmul_before / 1e9, matmul_after / 1e9
    print(f"float32 matmul 2048x2048: {matmul / 1e9:.1f} GFLOP/s (before {before:.1f}, after {after:.1f})")
    print(f"ratio training / matmul: {rate['flops_per_second'] / matmul:.2f}")
    if args.pretrain:
        start = time.perf_counter()
        _, history, accuracy = pretrain(SOURCE_RECIPE, progress=False)
        seconds = time.perf_counter() - start
        print(f"pretraining: {history.seconds:.1f} s in steps, {seconds:.1f} s in all, test accuracy {accuracy:.2%}")


if __name__ == "__main__":
    torch.manual_seed(0)
    main()
