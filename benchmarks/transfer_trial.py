"""A quick trial of the flagship measurement: letters -> handwritten digits at 1-3 labels per class.

    python benchmarks/transfer_trial.py      # about 3 minutes on 2 cores

Fine-tuning the shipped letters model against a from-scratch CNN (each with its own best
learning rate and step budget, same augmentation) and logistic regression on pixels,
mean and spread over 5 seeds. Notebooks 02-05 will carry the full version of this table.
"""

import copy

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression

from helpers import checkpoint, data, models, train, transfer


def pixels(dataset):
    return dataset.images.reshape(len(dataset), -1).float().numpy() / 255


def main(labels_per_class=(1, 2, 3), seeds=range(5)) -> None:
    train_set, test_set = data.target_task("train"), data.target_task("test")
    source, _ = checkpoint.load_checkpoint()
    for n in labels_per_class:
        results = {}
        for seed in seeds:
            subset = data.few_shot(train_set, n, seed)
            logistic = LogisticRegression(max_iter=2000).fit(pixels(subset), subset.labels)
            results.setdefault("logistic regression on pixels", []).append(
                logistic.score(pixels(test_set), test_set.labels)
            )
            for steps in (100, 300):
                for lr in (1e-3, 3e-3, 1e-2):
                    model = models.make_model(models.CNNConfig(num_classes=10), seed=seed)
                    train.fit(model, subset, train.TrainConfig(steps=steps, lr=lr, seed=seed), progress=False)
                    results.setdefault(f"from scratch, {steps} steps, lr {lr}", []).append(
                        train.evaluate(model, test_set)
                    )
                    model = transfer.replace_head(copy.deepcopy(source), 10, seed=seed)
                    train.fit(model, subset, train.TrainConfig(steps=steps, lr=lr, seed=seed), progress=False)
                    results.setdefault(f"fine-tune, {steps} steps, lr {lr}", []).append(train.evaluate(model, test_set))
        print(f"{n} label(s) per class, {len(seeds)} seeds")
        for name, accuracies in results.items():
            print(f"  {name:40s} {np.mean(accuracies):.3f} ± {np.std(accuracies):.3f}")


if __name__ == "__main__":
    torch.set_num_threads(1)  # tiny batches: one thread is as fast and leaves a core free
    main()
