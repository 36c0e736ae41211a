"""Numbers from a few seeds: a mean with its 95% interval, and two approaches compared seed by seed.

A data-efficiency curve (accuracy against labels, from scratch) also says what a pretrained model's
score is worth in labels: Hernandez et al. (2021)'s effective data transferred (`effective_labels`).

The studies of 02-08 run each approach on the same data at each seed, so the fair comparison is
paired: the difference at every seed, then a t-interval on the mean difference. A difference is
*resolved* when the whole interval lies on one side of zero.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import stdtrit  # the t-distribution's quantile; scipy.stats would take half a second to import


def mean_interval(
    values: Sequence[float] | pd.Series | np.ndarray, confidence: float = 0.95
) -> tuple[float, float, float]:
    """(mean, low, high): a t-interval on the mean of a few numbers (nan bounds for a single value)."""
    values = np.asarray(values, dtype=float)
    mean = float(values.mean())
    if len(values) < 2:
        return mean, math.nan, math.nan
    half = stdtrit(len(values) - 1, (1 + confidence) / 2) * values.std(ddof=1) / math.sqrt(len(values))
    return mean, mean - half, mean + half


@dataclass(frozen=True)
class Paired:
    """A minus B seed by seed: the differences, their mean with a 95% interval, and the seeds A won."""

    seeds: tuple[int, ...]
    differences: tuple[float, ...]  # one per seed, in the order of `seeds`
    mean: float
    low: float
    high: float
    won: int  # seeds where A was better (higher, or lower when lower_is_better)
    lower_is_better: bool = False

    @property
    def verdict(self) -> str:
        """'better', 'worse' or 'unresolved': A against B, from where the interval lies."""
        if math.isnan(self.low):
            return "unresolved"
        above, below = self.low > 0, self.high < 0
        if self.lower_is_better:
            above, below = below, above
        return "better" if above else "worse" if below else "unresolved"


def paired(a: pd.Series, b: pd.Series, lower_is_better: bool = False) -> Paired:
    """Compare two scores indexed by seed, on the seeds both have; an error if they share none."""
    seeds = tuple(sorted(set(a.index) & set(b.index)))
    if not seeds:
        raise ValueError("the two approaches share no seed: nothing to pair")
    differences = np.array([a[s] - b[s] for s in seeds], dtype=float)
    mean, low, high = mean_interval(differences)
    won = int(((differences < 0) if lower_is_better else (differences > 0)).sum())
    return Paired(seeds, tuple(differences.tolist()), mean, low, high, won, lower_is_better)


@dataclass(frozen=True)
class Effective:
    """Labels per class that from scratch would need to match a score: `labels`, exact or a bound.

    bound is "=" (read off the curve between two measured budgets), "<=" (from scratch matches it at its
    smallest budget already) or ">" (from scratch never reaches it within its largest budget).
    """

    labels: float
    bound: str

    def transferred(self, budget: float) -> Effective:
        """Hernandez et al.'s effective data transferred, D_T = D_E - D_F, with the same bound."""
        return Effective(self.labels - budget, self.bound)


def effective_labels(curve: pd.Series, score: float) -> Effective:
    """D_E: the labels per class from scratch needs to reach `score`, read off its curve (budget -> mean score).

    The curve's running maximum is used (more labels never make from scratch worse, so a dip is noise),
    and between two measured budgets the reading is linear in log(labels), as a data-efficiency curve
    on a log axis is drawn. Outside the measured budgets only a bound is known.
    """
    curve = curve.sort_index()
    budgets, envelope = curve.index.to_numpy(float), np.maximum.accumulate(curve.to_numpy(float))
    if score <= envelope[0]:
        return Effective(budgets[0], "<=")
    if score > envelope[-1]:
        return Effective(budgets[-1], ">")
    i = int(np.argmax(envelope >= score))  # the first budget at which from scratch reaches the score
    fraction = (score - envelope[i - 1]) / (envelope[i] - envelope[i - 1])
    return Effective(float(np.exp(np.log(budgets[i - 1]) + fraction * np.log(budgets[i] / budgets[i - 1]))), "=")
