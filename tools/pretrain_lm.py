"""Pretrain notebook 07's tiny GPT on two Jane Austen novels and write the checkpoint that ships (make pretrain-lm).

    python -m tools.pretrain_lm            # under 2 minutes on 2 CPU cores
    python -m tools.pretrain_lm --check    # retrain and compare with the shipped checkpoint, bit for bit

Next-character prediction on Pride and Prejudice and Emma (their first 90%; the last 10% of each is
the held-out text the loss is reported on). Deterministic on the CPU: the same recipe gives the same
weights on the same machine and library versions.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from helpers import cost, gpt, language, text
from helpers.core import write_text_atomically

EVALUATE_AT = (100, 250, 500, 750)


def pretrain(recipe: language.LMRecipe = language.PRETRAIN_RECIPE) -> tuple[gpt.GPT, language.LMHistory]:
    """A fresh GPT trained on the pretraining corpus; its history holds held-out losses along the way."""
    torch.set_num_threads(2)
    corpus = text.pretraining_text()
    model = gpt.make_gpt(gpt.GPTConfig(), seed=recipe.seed)
    history = language.train_lm(model, corpus.train, recipe, held_out=corpus.held_out, evaluate_at=EVALUATE_AT)
    return model, history


def record(model: gpt.GPT, history: language.LMHistory, recipe: language.LMRecipe, path: Path) -> dict:
    """What the JSON beside the checkpoint says: recipe, losses, time, throughput against this machine's matmul."""
    flops = gpt.flops_per_token(model.config)["train"] * history.tokens_seen
    matmul = cost.matmul_flops_per_second()
    held_out = history.evaluations[recipe.steps]
    return {
        "checkpoint": path.name,
        "task": "next character of Pride and Prejudice and Emma (first 90% of each; last 10% held out)",
        "config": model.config.as_dict(),
        "parameters": cost.count_parameters(model)["total"],
        "recipe": recipe.as_dict(),
        "held_out_loss": round(held_out, 4),
        "held_out_perplexity": round(gpt.perplexity(held_out), 3),
        "held_out_loss_by_step": {str(step): round(loss, 4) for step, loss in history.evaluations.items()},
        "first_train_loss": round(history.losses[0], 4),
        "train_seconds": round(history.seconds, 1),
        "characters_seen": history.tokens_seen,
        "train_flops": flops,
        "achieved_gflops": round(flops / history.seconds / 1e9, 1),
        "matmul_gflops": round(matmul / 1e9, 1),
        "fraction_of_matmul": round(flops / history.seconds / matmul, 3),
        "machine": cost.hardware_fingerprint(),
        "date": time.strftime("%Y-%m-%d"),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tools.pretrain_lm", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=language.LM_CHECKPOINT)
    parser.add_argument("--check", action="store_true", help="retrain and compare with the shipped checkpoint")
    args = parser.parse_args(argv)
    recipe = language.PRETRAIN_RECIPE
    model, history = pretrain(recipe)
    held_out = history.evaluations[recipe.steps]
    print(f"Pretrained in {history.seconds:.1f} s: held-out loss {held_out:.3f} nats per character")
    if args.check:
        shipped, meta = language.load_lm(args.out)
        mine, theirs = model.state_dict(), shipped.state_dict()
        same = mine.keys() == theirs.keys() and all(torch.equal(mine[k], theirs[k]) for k in mine)
        print(f"Shipped held-out loss {meta['held_out_loss']:.3f}; weights identical: {same}")
        return
    language.save_lm(model, args.out, recipe, held_out)
    summary = record(model, history, recipe, args.out)
    write_text_atomically(args.out.with_suffix(".json"), json.dumps(summary, indent=2) + "\n")
    print(json.dumps({k: summary[k] for k in ("held_out_loss", "train_seconds", "fraction_of_matmul")}))


if __name__ == "__main__":
    main()
