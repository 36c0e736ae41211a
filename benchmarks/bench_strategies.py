"""Seconds per step of notebook 04's strategies at 2 labels per class, back to back on one thread.

    python benchmarks/bench_strategies.py [--rounds 3]

Each round trains every strategy once as the sweep does (`trials.make_cnn`, fine-tuning's recipe rate
for discriminative rates and gradual unfreezing, 400 steps of up to 32 images, seed 0), in an order that
rotates from round to round, so a change in the machine's load falls on all of them alike. Prints each
run's training seconds and median step, then each strategy's range over the rounds. (LP-FT's seconds
leave out its probe, which the sweep's seconds include.)
"""

import argparse
import statistics
import time

import torch

from helpers import cost, results, train, transfer, trials

STRATEGIES = ["from scratch", "fine-tune", *trials.STRATEGIES, "LP-FT"]


def one_run(name: str, recipes: dict) -> tuple[float, list[float]]:
    """Training seconds of one run and the seconds of each of its steps."""
    subset = trials.training_subset(trials.STRATEGY_LABELS, 0, "digits")
    model, _, _ = trials.make_cnn(name, subset, seed=0)
    lr = recipes["fine-tune" if name in trials.STRATEGIES else name, trials.STRATEGY_LABELS]
    config = train.TrainConfig(steps=trials.STEPS, batch_size=trials.BATCH_SIZE, lr=lr, seed=0, eval_every=1)
    if name == "gradual unfreezing":
        history, _ = transfer.gradual_unfreezing(model, subset, config)
    else:
        groups = None
        if name == "discriminative lr":
            groups = transfer.param_groups(model, head_lr=lr, decay=trials.DISCRIMINATIVE_DECAY)
        history = train.fit(model, subset, config, param_groups=groups, device=torch.device("cpu"))
    elapsed = [0.0] + [row["seconds"] for row in history.rows]  # seconds so far, after each step
    return history.seconds, [after - before for before, after in zip(elapsed, elapsed[1:])]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)  # as the sweep's runs
    print(f"machine: {cost.hardware_fingerprint()}  threads: 1  date: {time.strftime('%Y-%m-%d')}")
    recipes = results.dev_recipes(results.load_results()["dev"])
    found = {name: [] for name in STRATEGIES}
    for round_ in range(args.rounds):
        shift = round_ % len(STRATEGIES)
        for name in STRATEGIES[shift:] + STRATEGIES[:shift]:
            seconds, steps = one_run(name, recipes)
            found[name].append((seconds, steps))
            print(f"round {round_} {name:>18}: {seconds:5.2f} s, median step {1e3 * statistics.median(steps):.1f} ms")
    print()
    for name, runs in found.items():
        totals, steps = [s for s, _ in runs], [step for _, per_step in runs for step in per_step]
        print(
            f"{name:>18}: {min(totals):.2f} to {max(totals):.2f} s per run of {trials.STEPS} steps, "
            f"median step {1e3 * statistics.median(steps):.1f} ms"
        )


if __name__ == "__main__":
    main()
