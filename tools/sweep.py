"""Run the sweeps behind notebooks 02-08 and keep every result in data/results/.

    python -m tools.sweep fill      # compute only the trials missing from the caches
    python -m tools.sweep rebuild   # recompute everything into fresh files (make rebuild-caches)
    python -m tools.sweep fill --only 06   # notebook 06's four studies only (helpers.what_transfers)
    python -m tools.sweep fill --only 08   # notebook 08's released models and scale axis (helpers.pretrained_study)

First the development sweep (every setting of every approach on Fashion-MNIST) and the
contrast grid on the digits; then, from the recipes the development sweep chose, the rest of
the digits trials. Every result is saved as soon as it is computed, so an interrupted sweep
keeps its work, and each is stored under a key of its whole configuration (helpers.trials).
Notebook 06's studies (data/results/what_transfers.json) reuse the same recipes; 07's and 08's sweeps
(data/results/language.json, data/results/pretrained.json) follow. The cache format, keys and the
one-thread runner are helpers.experiment's, shared by every sweep.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import pandas as pd
from tqdm.auto import tqdm

from helpers import experiment, language_study, pretrained_study, results, trials, what_transfers
from helpers.experiment import save_cache  # noqa: F401  (tools.sweep.save_cache: the shared one)
from helpers.trials import Trial


def compute(
    planned: list[Trial],
    path: Path | None,
    workers: int = 1,
    progress: bool = True,
    run: Callable[[Trial], dict] | None = None,
    columns: list[str] | None = results.COLUMNS,
) -> pd.DataFrame:
    """Rows of `planned` (one per trial), computing only those not cached; path=None keeps nothing on disk.

    `run` trains one trial (default: helpers.trials.run_trial); notebook 06's studies pass
    what_transfers.run (and columns=None: their own).
    """
    run = run or trials.run_trial
    cached = experiment.load_cache(path) if path is not None else {}
    missing = [trial for trial in planned if trial.key() not in cached]
    bar = tqdm(total=len(missing), desc="trials", disable=not progress or not missing)
    for trial, row in _run_all(missing, workers, run):
        cached[trial.key()] = row
        if path is not None:
            experiment.save_cache(cached, path)  # after every trial: an interrupted sweep keeps its work
        bar.update()
    bar.close()
    return pd.DataFrame([cached[trial.key()] for trial in planned], columns=columns)


def _run_all(planned: list[Trial], workers: int, run: Callable[[Trial], dict]) -> Iterator[tuple[Trial, dict]]:
    if workers <= 1:
        for trial in planned:
            yield trial, run(trial)
        return
    # One thread per trial, one trial per core; "spawn" starts clean processes on every OS.
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = {pool.submit(run, trial): trial for trial in planned}
        for future in as_completed(futures):
            yield futures[future], future.result()


def fill(path: Path, workers: int) -> None:
    """Compute what the current plan lacks: the development sweep and contrast grid first, then the rest.

    Rows of trials the plan no longer asks for (an old recipe's runs, say) are dropped at the end.
    """
    contrast = trials.grid(labels_per_class=trials.CONTRAST_LABELS, seeds=trials.CONTRAST_SEEDS)
    dev = compute(trials.dev_grid() + contrast, path, workers).iloc[: len(trials.dev_grid())]
    recipes = results.dev_recipes(dev)
    digits = trials.digits_plan(recipes) + trials.strategies_plan(recipes)
    compute(digits, path, workers)
    experiment.prune(path, [trial.key() for trial in trials.dev_grid() + digits])


def fill_what_transfers(path: Path, workers: int, main_path: Path = results.RESULTS_PATH) -> None:
    """Notebook 06's studies at the recipes the development sweep chose; base models first, as copies need them."""
    recipes = results.dev_recipes(results.load_results(main_path)["dev"])
    planned = [trial for plan in what_transfers.plans(recipes).values() for trial in plan]
    bases = [trial for trial in planned if isinstance(trial, what_transfers.LayerTrial) and not trial.copied_from]
    for batch in (bases, planned):
        compute(batch, path, workers, run=what_transfers.run, columns=None)
    experiment.prune(path, [trial.key() for trial in planned])


def fill_language(path: Path, workers: int) -> None:
    """Notebook 07's runs: the development pairing first, then the reported runs at the recipes it chose."""
    dev = compute(language_study.dev_plan(), path, workers, run=language_study.run, columns=None)
    planned = language_study.dev_plan() + language_study.target_plan(language_study.choose_recipes(dev))
    compute(planned, path, workers, run=language_study.run, columns=None)
    experiment.prune(path, [trial.key() for trial in planned])


def fill_pretrained(path: Path, workers: int) -> None:
    """Notebook 08's runs: the scale study's pretraining first, then the development runs, then the reported runs.

    Runs that 02-05 or 07 already cached (the letter CNN on the digits, 07's approaches) are read from
    their files, not run again.
    """
    shared = {**experiment.load_cache(results.RESULTS_PATH), **experiment.load_cache(language_study.RESULTS_PATH)}
    sources, dev = pretrained_study.scale_sources(), pretrained_study.dev_plan()
    compute(sources, path, workers, run=pretrained_study.run, columns=None)
    compute(
        [trial for trial in dev if trial.key() not in shared], path, workers, run=pretrained_study.run, columns=None
    )
    target = pretrained_study.target_plan(pretrained_study.choose_recipes({**shared, **experiment.load_cache(path)}))
    compute(
        [trial for trial in target if trial.key() not in shared], path, workers, run=pretrained_study.run, columns=None
    )
    experiment.prune(path, [trial.key() for trial in sources + dev + target])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tools.sweep", description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=["fill", "rebuild"])
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="trials run in parallel")
    parser.add_argument("--path", type=Path, default=results.RESULTS_PATH)
    parser.add_argument("--path-06", type=Path, default=what_transfers.RESULTS_PATH)
    parser.add_argument("--path-07", type=Path, default=language_study.RESULTS_PATH)
    parser.add_argument("--path-08", type=Path, default=pretrained_study.RESULTS_PATH)
    parser.add_argument("--only", choices=["02-05", "06", "07", "08"], default=None, help="one sweep (default: all)")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    sweeps = [
        ("02-05", fill, args.path),
        ("06", lambda p, w: fill_what_transfers(p, w, args.path), args.path_06),
        ("07", fill_language, args.path_07),
        ("08", fill_pretrained, args.path_08),
    ]
    for name, run_sweep, path in sweeps:
        if args.only not in (None, name):
            continue
        if args.command == "rebuild":  # compute everything into a fresh file, then replace the old one
            staged = path.with_name("rebuild-" + path.name)
            run_sweep(staged, args.workers)
            os.replace(staged, path)
        else:
            run_sweep(path, args.workers)
    print(f"{args.command}: done in {time.perf_counter() - start:.0f} s with {args.workers} worker(s).")
    if args.only in (None, "02-05"):
        print(results.report(results.load_results(args.path)))


if __name__ == "__main__":
    main()
