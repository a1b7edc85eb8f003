"""Is system A really better than system B? A paired bootstrap of their score difference.

Reads two leaderboard CSVs of the same task and a reference (a ``labels_consensus``-style CSV or
its ``.json`` twin, or a toolkit manifest of any corpus); writes nothing. Each file is validated
and scored exactly as ``toolkit score`` does (:func:`toolkit.submission.score.score_submission`,
over the reference's class inventory), then the same resampled rows score both systems.

Method: paired bootstrap. Each of ``resamples`` resamples draws the scored reference rows with
replacement (``numpy.random.default_rng(seed).integers(0, n, n)`` per resample, the draws of
``toolkit score --bootstrap``, so a system's interval here equals its ``toolkit score`` interval
for the same seed and count) and computes ``delta* = metric(A) - metric(B)`` on those rows.

- The 95 % interval of the difference is the 2.5th and 97.5th percentiles of the ``delta*``.
- The p-value (two-sided, H0: no difference) inverts that percentile interval:
  ``p = min(1, 2 * (min(#{delta* <= 0}, #{delta* >= 0}) + 1) / (R + 1))`` over the R resamples
  with a finite ``delta*``. So p < 0.05 when 0 lies outside the interval (they can differ by one
  resample at the boundary, through the ``+1``, which keeps a Monte Carlo p-value from being 0:
  the smallest is ``2 / (R + 1)``, and the percentiles' interpolation).
  Identical files give ``delta* = 0`` in every resample, hence difference 0 and p = 1.

Why the bootstrap rather than approximate randomisation (swapping A's and B's prediction per row):
both suit corpus-level metrics like Macro-F1 and CCC, but what a team needs before spending a
leaderboard submission is both "is it better" and "by how much, give or take"; one set of
resamples answers both, and its verdict agrees with its own interval. Approximate
randomisation gives a p-value only. Caveat: the bootstrap test is somewhat liberal on small
sets (Riezler and Maxwell 2005), so treat p near 0.05 on a few hundred rows as "not shown".
"""

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Dict, List, Optional

import numpy as np

from toolkit.emotions import Inventory
from toolkit.metrics import attribute_ccc, confusion_scores
from toolkit.submission.formats import ATTRIBUTES_TASK, CATEGORICAL, TASK_TITLES
from toolkit.submission.reference import read_reference
from toolkit.submission.score import ScoreResult, attribute_arrays, categorical_arrays, json_float, score_submission
from toolkit.utils.atomic import PathLike
from toolkit.utils.errors import ToolkitError

#: metric -> the task whose files it scores.
METRIC_TASKS: Dict[str, str] = {"macro_f1": CATEGORICAL, "uar": CATEGORICAL, "ccc_mean": ATTRIBUTES_TASK}
METRIC_TITLES: Dict[str, str] = {"macro_f1": "Macro-F1", "uar": "UAR", "ccc_mean": "CCC mean"}
#: The level of the verdict, matching the 95 % interval.
ALPHA = 0.05
METHOD = "paired bootstrap (rows resampled with replacement), two-sided percentile test"


@dataclass
class Comparison:
    """Both systems' ``toolkit score`` results and, when both files are valid, the paired test."""

    a: ScoreResult
    b: ScoreResult
    reference: str
    split: Optional[str]
    resamples: int
    seed: int
    metric: Optional[str] = None
    task: Optional[str] = None
    scored_rows: int = 0
    unscored: Dict[str, int] = field(default_factory=dict)
    #: metric(A), metric(B) and metric(A) - metric(B) on all scored rows.
    values: Dict[str, float] = field(default_factory=dict)
    #: 95 % percentile intervals of ``a``, ``b`` and ``difference`` over the resamples.
    intervals: Dict[str, List[float]] = field(default_factory=dict)
    p_value: float = math.nan

    @property
    def valid(self) -> bool:
        return self.a.validation.valid and self.b.validation.valid

    def verdict(self) -> str:
        difference = self.values["difference"]
        if not math.isfinite(difference) or not math.isfinite(self.p_value):
            return ("the difference is undefined (a CCC is NaN: a system or the reference is constant on an "
                    "attribute); compare another metric or more rows")
        if self.p_value < ALPHA and difference != 0:
            better, worse = ("A", "B") if difference > 0 else ("B", "A")
            return f"{better} is better than {worse} (p < {ALPHA:g})"
        return f"no significant difference at the {ALPHA:g} level: these rows cannot tell A and B apart"

    def to_dict(self) -> dict:
        systems = {}
        for key, result in (("a", self.a), ("b", self.b)):
            systems[key] = {"submission": result.submission, "valid": result.validation.valid,
                            "validation": result.validation.to_dict()}
        payload = {"reference": self.reference, "split": self.split, "task": self.task, "valid": self.valid,
                   **systems}
        if not self.valid:
            return payload
        for key in ("a", "b"):
            payload[key]["value"] = json_float(self.values[key])
            payload[key]["interval_95"] = [json_float(bound) for bound in self.intervals[key]]
        payload.update({
            "metric": self.metric,
            "difference": {
                "value": json_float(self.values["difference"]),
                "interval_95": [json_float(bound) for bound in self.intervals["difference"]],
                "p_value": json_float(self.p_value),
            },
            "verdict": self.verdict(),
            "scored_rows": self.scored_rows,
            "unscored_reference_rows": self.unscored,
            "method": METHOD,
            "resamples": self.resamples,
            "seed": self.seed,
        })
        return payload


def _metric(task: str, metric: str, true: np.ndarray, pred: np.ndarray, num_classes: int) -> float:
    """One metric on (resampled) rows; equal to ``toolkit score``'s (tested against scikit-learn)."""
    if task == CATEGORICAL:
        return confusion_scores(true, pred, num_classes)[metric]
    return attribute_ccc(true, pred)["mean"]


def _interval(draws: np.ndarray) -> List[float]:
    """2.5th and 97.5th percentiles of the finite draws, as ``toolkit score --bootstrap`` computes them."""
    if not np.isfinite(draws).any():
        return [math.nan, math.nan]
    return [float(bound) for bound in np.nanpercentile(draws, [2.5, 97.5])]


def paired_p_value(differences: np.ndarray) -> float:
    """Two-sided p-value of H0 "no difference" from bootstrap differences (module docstring); NaN if none is finite."""
    finite = differences[np.isfinite(differences)]
    if not finite.size:
        return math.nan
    tail = min(int((finite <= 0).sum()), int((finite >= 0).sum()))
    return min(1.0, 2.0 * (tail + 1) / (finite.size + 1))


def _check_tasks(a: ScoreResult, b: ScoreResult, metric: Optional[str]) -> str:
    """The metric to test; raises when the two files or the metric are of different tasks."""
    if a.task != b.task:
        raise ToolkitError(
            f"{a.submission} is a {TASK_TITLES[a.task]} file but {b.submission} is a {TASK_TITLES[b.task]} file; "
            "compare two files of the same task"
        )
    if metric is None:
        return a.headline
    if METRIC_TASKS[metric] != a.task:
        fitting = ", ".join(name for name, task in METRIC_TASKS.items() if task == a.task)
        raise ToolkitError(
            f"--metric {metric} scores {TASK_TITLES[METRIC_TASKS[metric]]} files, but {a.submission} and "
            f"{b.submission} are {TASK_TITLES[a.task]} files; use --metric {fitting}, or give "
            f"{TASK_TITLES[METRIC_TASKS[metric]]} files"
        )
    return metric


def compare_submissions(
    submission_a: PathLike,
    submission_b: PathLike,
    reference: PathLike,
    metric: Optional[str] = None,
    split: Optional[str] = None,
    resamples: int = 1000,
    seed: int = 42,
    max_per_code: int = 10,
    inventory: Optional[Inventory] = None,
) -> Comparison:
    """Validate and score both files against ``reference``, then test A - B by a paired bootstrap.

    ``metric``: ``macro_f1`` or ``uar`` (Task 1 files), ``ccc_mean`` (Task 2 files); default the
    task's headline (Macro-F1 or CCC mean). ``split`` and ``inventory`` as for ``score_submission``
    (default inventory: the reference manifest's classes). An invalid file is returned with its
    validation report and no statistics. Raises ``ToolkitError`` for an unusable reference, files
    of different tasks, a metric of the other task, or ``resamples < 1``.
    """
    if resamples < 1:
        raise ToolkitError(f"--resamples {resamples}: the paired bootstrap needs at least 1 resample (1000 is usual)")
    if metric is not None and metric not in METRIC_TASKS:
        raise ToolkitError(f"unknown metric {metric!r}; use one of {', '.join(METRIC_TASKS)}")
    results = [score_submission(path, reference, split=split, max_per_code=max_per_code, inventory=inventory)
               for path in (submission_a, submission_b)]
    comparison = Comparison(a=results[0], b=results[1], reference=str(reference), split=split,
                            resamples=resamples, seed=seed)
    if not comparison.valid:
        return comparison
    a, b = results
    comparison.metric = metric = _check_tasks(a, b, metric)
    comparison.task = task = a.task
    # The scorer's own row alignment (reference order, unscorable rows dropped), so both systems
    # are resampled on exactly the rows `toolkit score` scored.
    labels = read_reference(reference, split=split)
    if task == CATEGORICAL:
        true, pred_a = categorical_arrays(labels, a.validation.records, Counter(), a.inventory, None)
        _, pred_b = categorical_arrays(labels, b.validation.records, Counter(), b.inventory, None)
    else:
        true, pred_a = attribute_arrays(labels, a.validation.records, Counter())
        _, pred_b = attribute_arrays(labels, b.validation.records, Counter())
    comparison.scored_rows, comparison.unscored = a.scored_rows, a.unscored
    comparison.values = {"a": a.metrics[metric], "b": b.metrics[metric],
                         "difference": a.metrics[metric] - b.metrics[metric]}

    num_classes = a.inventory.num_classes
    rng = np.random.default_rng(seed)
    draws = np.empty((resamples, 2))
    for index in range(resamples):
        rows = rng.integers(0, len(true), size=len(true))
        draws[index] = (_metric(task, metric, true[rows], pred_a[rows], num_classes),
                        _metric(task, metric, true[rows], pred_b[rows], num_classes))
    differences = draws[:, 0] - draws[:, 1]
    comparison.intervals = {"a": _interval(draws[:, 0]), "b": _interval(draws[:, 1]),
                            "difference": _interval(differences)}
    comparison.p_value = paired_p_value(differences)
    return comparison


def format_comparison(comparison: Comparison) -> str:
    """The comparison as a score sheet like ``toolkit score``'s (validation reports are printed separately)."""
    split = f" (Split_Set {comparison.split})" if comparison.split else ""
    title = METRIC_TITLES[comparison.metric]
    lines = [f"{TASK_TITLES[comparison.task]}, {title}: A vs B on {comparison.reference}{split}"]
    unscored = "; ".join(f"{count} with {reason}" for reason, count in comparison.unscored.items())
    lines.append(f"scored {comparison.scored_rows} rows" + (f"; not scored: {unscored}" if unscored else ""))

    def row(label: str, key: str) -> str:
        low, high = comparison.intervals[key]
        return f"{label:<16}{comparison.values[key]:8.4f}   [{low:.4f}, {high:.4f}]"

    lines.append(row(f"A {title}", "a") + f"   {comparison.a.submission}")
    lines.append(row(f"B {title}", "b") + f"   {comparison.b.submission}")
    lines.append(row("A - B", "difference"))
    lines.append(f"{'p-value':<16}{comparison.p_value:8.4f}   (two-sided; the smallest possible with "
                 f"{comparison.resamples} resamples is {2 / (comparison.resamples + 1):.4f})")
    lines.append(f"(intervals: 95% CI, {comparison.resamples} paired bootstrap resamples, seed {comparison.seed})")
    lines.append(comparison.verdict())
    return "\n".join(lines)
