"""Training throughput of notebook 07's tiny GPT against this machine's matrix-multiply rate, in one run.

    python benchmarks/bench_language.py [--pretrain]

Prints characters/s and FLOP/s of real training steps at the pretraining recipe's batch (burn-in
first, then timed), the float32 matmul FLOP/s of the same process (before and after; the larger is
used), their ratio, and with --pretrain the full `make pretrain-lm` recipe's time and held-out loss.
"""

import argparse
import time

import torch

from helpers import cost, gpt, language, text, train
from tools.pretrain_lm import pretrain


def training_rate(batch_size: int = 16, steps: int = 60, burn_in: int = 10) -> dict:
    corpus = text.pretraining_text()
    model = gpt.make_gpt(gpt.GPTConfig(), seed=0)
    recipe = language.LMRecipe(steps=burn_in, batch_size=batch_size, decay=False)
    language.train_lm(model, corpus.train, recipe)  # burn-in: allocations, thread pool, kernels
    history = language.train_lm(model, corpus.train, language.LMRecipe(steps=steps, batch_size=batch_size))
    batch = torch.zeros(batch_size, model.config.context + 1, dtype=torch.long)
    flops = language.lm_step_flops(model, batch)["total"]
    return {
        "characters_per_second": history.tokens_seen / history.seconds,
        "flops_per_second": flops * steps / history.seconds,
        "flops_per_step": flops,
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
    print(
        f"tiny GPT training: {rate['characters_per_second']:.0f} characters/s, "
        f"{rate['flops_per_second'] / 1e9:.1f} GFLOP/s ({rate['flops_per_step'] / 1e9:.2f} GFLOP per step)"
    )
    before, after = matmul_before / 1e9, matmul_after / 1e9
    print(f"float32 matmul 2048x2048: {matmul / 1e9:.1f} GFLOP/s (before {before:.1f}, after {after:.1f})")
    print(f"ratio training / matmul: {rate['flops_per_second'] / matmul:.2f}")
    if args.pretrain:
        start = time.perf_counter()
        _, history = pretrain()
        seconds = time.perf_counter() - start
        loss = history.evaluations[language.PRETRAIN_RECIPE.steps]
        print(f"pretraining: {history.seconds:.1f} s in steps, {seconds:.1f} s in all, held-out loss {loss:.3f}")


if __name__ == "__main__":
    main()
