"""The layer the studies share: what a trial's key is, the results cache on disk, and the one-thread runner.

A study (helpers.trials with helpers.results for 02-05, helpers.what_transfers for 06,
helpers.language_study for 07, helpers.pretrained_study for 08) plans trials, runs each one
with `one_thread`, and keeps every row in a JSON cache under the trial's key. The key hashes
the whole configuration plus what the result depends on (a checkpoint's bytes, a code
version), so a changed dependency makes old rows stop matching instead of being reused.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path

import pandas as pd
import torch

from helpers import checkpoint, cost
from helpers.core import write_text_atomically

CACHE_FORMAT = 2


class ExperimentError(ValueError):
    """A trial or a cache that cannot be used, with what to do about it."""


def trial_key(trial: object, **context: object) -> str:
    """The key of a trial dataclass: its fields plus `context` (what else its result depends on), hashed."""
    return payload_key({**asdict(trial), **context})


def payload_key(payload: dict) -> str:
    """20 hex digits of the SHA-256 of a dict written as sorted JSON (a value JSON lacks is written as str())."""
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:20]


def load_cache(path: Path) -> dict[str, dict]:
    """{trial key: row}; an absent file is an empty cache, a file of another format an error naming the fix."""
    path = Path(path)
    if not path.exists():
        return {}
    try:
        rows = json.loads(path.read_text())["rows"]
        if not isinstance(rows, dict):
            raise TypeError(f"'rows' is a {type(rows).__name__}, not a dict")
    except (json.JSONDecodeError, KeyError, TypeError) as error:
        raise ExperimentError(
            f"The results cache {path} is not a cache this version wrote ({error!r}). Restore the shipped one "
            f"with `{checkpoint.restore_command(path)}`, or rebuild it with `make rebuild-caches` (about an hour)."
        ) from error
    return rows


def save_cache(rows: dict[str, dict], path: Path) -> Path:
    """Write the whole cache atomically: a crash never half-writes it."""
    payload = {"format": CACHE_FORMAT, "machine": cost.hardware_fingerprint(), "rows": rows}
    return write_text_atomically(path, json.dumps(payload, indent=0))


def prune(path: Path, keep: Iterable[str]) -> int:
    """Drop the rows of trials no plan asks for any more (an old recipe's runs, say); returns how many went."""
    keep, rows = set(keep), load_cache(path)
    stale = set(rows) - keep
    if stale:
        save_cache({key: row for key, row in rows.items() if key in keep}, path)
    return len(stale)


def collect(planned: list, rows: dict[str, dict], path: Path, fill: str) -> pd.DataFrame:
    """The cached rows of `planned`, in order; if any is missing, an error naming `fill`, the command to run."""
    keys = [trial.key() for trial in planned]
    missing = sum(key not in rows for key in keys)
    if missing:
        raise ExperimentError(
            f"{path} lacks {missing} of the {len(planned)} trials asked for (built for other code, data or "
            f"weights). Run `{fill}` to compute what is missing (`make rebuild-caches` recomputes every sweep), "
            "or restore the shipped files with `git checkout -- data/results/ checkpoints/`."
        )
    return pd.DataFrame([rows[key] for key in keys])


@contextmanager
def one_thread() -> Iterator[None]:
    """Run the body on one CPU thread, then restore the count: a sweep runs one trial per core, and a fixed
    thread count fixes the order of the arithmetic, so a rerun on the same machine gives the same numbers."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def choose(options: Iterable[tuple[object, float]], lower_is_better: bool = False) -> object:
    """The option with the best score, the first of equals: [(recipe, score), ...] -> recipe."""
    best: tuple[object, float] | None = None
    for recipe, score in options:
        if best is None or (score < best[1] if lower_is_better else score > best[1]):
            best = (recipe, score)
    if best is None:
        raise ExperimentError("no development run to choose a recipe from")
    return best[0]


def curve_options(rows: pd.DataFrame, setting: str = "setting") -> Iterator[tuple[tuple[float, int], float]]:
    """((setting, steps), score) for every step measured along every development run (column 'curve')."""
    for row in rows.itertuples():
        for step, score in row.curve.items():
            yield (getattr(row, setting), int(step)), score
