"""Score a leaderboard CSV against reference labels, as the challenge server would.

Reads a submission and a reference (a ``labels_consensus``-style CSV or a toolkit manifest);
writes nothing. The submission is validated against the reference's FileNames first. Task 1:
Macro-F1 (the headline), per-class precision/recall/F1, accuracy, UAR, confusion matrix, over
the classes of an inventory: the reference manifest's (its soft-label columns), ``--classes``,
or the challenge's 8 for a ``labels_consensus`` file. Task 2: CCC per attribute and their
mean. Optional bootstrap 95% intervals.
"""

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Dict, List, Optional

import numpy as np

from toolkit.class_map import ClassMap
from toolkit.data.inventory import read_inventory
from toolkit.emotions import ATTRIBUTES, CHALLENGE, Inventory
from toolkit.metrics import attribute_ccc, confusion_scores, macro_f1
from toolkit.submission.formats import ATTRIBUTES_TASK, CATEGORICAL, TASK_TITLES
from toolkit.submission.reference import Reference, read_reference
from toolkit.submission.validate import ValidationReport, validate_submission
from toolkit.utils.atomic import PathLike
from toolkit.utils.errors import ToolkitError


@dataclass
class ScoreResult:
    """Validation report and, when the submission is valid, the scores."""

    submission: str
    reference: str
    split: Optional[str]
    validation: ValidationReport
    task: Optional[str] = None
    scored_rows: int = 0
    #: Reference rows the task cannot score, by reason (e.g. ``EmoClass X``).
    unscored: Dict[str, int] = field(default_factory=dict)
    metrics: Dict[str, float] = field(default_factory=dict)
    intervals: Dict[str, List[float]] = field(default_factory=dict)
    bootstrap: int = 0
    seed: int = 0
    per_class: Dict[str, Dict[str, float]] = field(default_factory=dict)
    confusion: Optional[np.ndarray] = None
    inventory: Inventory = CHALLENGE

    @property
    def headline(self) -> str:
        return "macro_f1" if self.task == CATEGORICAL else "ccc_mean"

    def to_dict(self) -> dict:
        payload = {
            "submission": self.submission,
            "reference": self.reference,
            "split": self.split,
            "task": self.task,
            "valid": self.validation.valid,
            "validation": self.validation.to_dict(),
        }
        if not self.validation.valid:
            return payload
        payload.update({
            "headline": {"metric": self.headline, "value": json_float(self.metrics[self.headline])},
            "scored_rows": self.scored_rows,
            "unscored_reference_rows": self.unscored,
            "metrics": {name: json_float(value) for name, value in self.metrics.items()},
            "bootstrap": self.bootstrap,
            "seed": self.seed,
            "intervals_95": {name: [json_float(v) for v in bounds] for name, bounds in self.intervals.items()},
        })
        if self.task == CATEGORICAL:
            payload["per_class"] = self.per_class
            payload["confusion_matrix"] = {
                "labels": list(self.inventory.codes),
                "rows": "reference",
                "columns": "prediction",
                "matrix": self.confusion.tolist() if self.confusion is not None else [],
            }
        return payload


def json_float(value: float) -> Optional[float]:
    """JSON has no NaN: an undefined score (e.g. CCC of constant values) becomes null."""
    return None if value is None or not math.isfinite(value) else float(value)


def categorical_arrays(reference: Reference, records: Dict[str, object], unscored: Counter, inventory: Inventory,
                        class_map: Optional[ClassMap]):
    if not reference.has_classes:
        raise ToolkitError(f"{reference.path}: no EmoClass column, so Task 1 cannot be scored against it")
    true, pred = [], []
    for name in reference.ids:
        code = reference.classes[name]
        if code in inventory.codes:
            true.append(inventory.index(code))
            predicted = str(records[name])
            # A class the map sends nowhere is an error for the true class (index -1 matches no label).
            pred.append(class_map.target_index(predicted) if class_map is not None else inventory.index(predicted))
        else:
            unscored[f"EmoClass {code or '(empty)'}"] += 1
    return np.array(true, dtype=np.int64), np.array(pred, dtype=np.int64)


def attribute_arrays(reference: Reference, records: Dict[str, object], unscored: Counter):
    if not reference.has_attributes:
        raise ToolkitError(
            f"{reference.path}: no {', '.join(ATTRIBUTES)} columns, so Task 2 cannot be scored against it"
        )
    true, pred = [], []
    for name in reference.ids:
        values = reference.attributes[name]
        if values is None:
            unscored["attributes empty"] += 1
        else:
            true.append(values)
            pred.append(records[name])
    return np.array(true, dtype=np.float64).reshape(-1, 3), np.array(pred, dtype=np.float64).reshape(-1, 3)


def categorical_scores(true: np.ndarray, pred: np.ndarray, inventory: Inventory = CHALLENGE):
    """(metrics, per-class table, confusion matrix) for class indices into ``inventory``."""
    from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support, recall_score

    labels = list(range(inventory.num_classes))
    precision, recall, f1, support = precision_recall_fscore_support(
        true, pred, labels=labels, zero_division=0
    )
    present = sorted(set(true.tolist()))
    metrics = {
        "macro_f1": macro_f1(true, pred, inventory.num_classes),
        "accuracy": float(accuracy_score(true, pred)),
        # UAR: mean recall over the classes present in the reference (sklearn's balanced accuracy).
        "uar": float(recall_score(true, pred, labels=present, average="macro", zero_division=0)),
    }
    per_class = {
        code: {"precision": float(precision[i]), "recall": float(recall[i]), "f1": float(f1[i]),
               "support": int(support[i])}
        for i, code in enumerate(inventory.codes)
    }
    return metrics, per_class, confusion_matrix(true, pred, labels=labels)


def _resampled_attributes(true: np.ndarray, pred: np.ndarray) -> Dict[str, float]:
    scores = attribute_ccc(true, pred)
    return {f"ccc_{name}": value for name, value in scores.items()}


def bootstrap_intervals(true: np.ndarray, pred: np.ndarray, task: str, resamples: int, seed: int,
                        num_classes: int = CHALLENGE.num_classes):
    """95% percentile intervals of each metric over ``resamples`` row resamples with replacement."""
    from tqdm import tqdm

    def statistic(true_rows, pred_rows):
        if task == CATEGORICAL:
            return confusion_scores(true_rows, pred_rows, num_classes)
        return _resampled_attributes(true_rows, pred_rows)

    rng = np.random.default_rng(seed)
    draws: Dict[str, List[float]] = {}
    for _ in tqdm(range(resamples), desc="bootstrap", unit="resample", disable=None, leave=False):
        rows = rng.integers(0, len(true), size=len(true))
        for name, value in statistic(true[rows], pred[rows]).items():
            draws.setdefault(name, []).append(value)
    return {
        name: [float(bound) for bound in np.nanpercentile(values, [2.5, 97.5])]
        if np.isfinite(values).any() else [math.nan, math.nan]
        for name, values in draws.items()
    }


def score_submission(
    submission: PathLike,
    reference: PathLike,
    split: Optional[str] = None,
    task: Optional[str] = None,
    bootstrap: int = 0,
    seed: int = 42,
    max_per_code: int = 10,
    inventory: Optional[Inventory] = None,
    class_map: Optional[ClassMap] = None,
) -> ScoreResult:
    """Validate ``submission`` against the reference's FileNames, then score it.

    ``inventory``: the classes to score over (default: the reference manifest's, the challenge's 8
    for a file without soft-label columns). Every reference FileName must have a row; rows whose
    reference label cannot be scored (EmoClass X/O/empty or outside the inventory for Task 1,
    empty attributes for Task 2) are counted in ``unscored``. ``class_map``: the submission uses
    another corpus's classes (its source), mapped onto the reference's (its target).
    Raises ``ToolkitError`` when the reference is unusable; an invalid submission is returned
    with its validation report and no scores.
    """
    labels = read_reference(reference, split=split)
    if class_map is not None:
        inventory = class_map.target
    elif inventory is None:
        inventory = read_inventory(reference) if str(reference).lower().endswith(".csv") else CHALLENGE
    report = validate_submission(submission, labels.ids, task=task, max_per_code=max_per_code,
                                 classes=class_map.source if class_map is not None else inventory)
    result = ScoreResult(
        submission=str(submission), reference=str(reference), split=split, validation=report, task=report.task,
        bootstrap=bootstrap, seed=seed, inventory=inventory,
    )
    if not report.valid:
        return result
    unscored: Counter = Counter()
    if report.task == CATEGORICAL:
        true, pred = categorical_arrays(labels, report.records, unscored, inventory, class_map)
    else:
        true, pred = attribute_arrays(labels, report.records, unscored)
    result.unscored = dict(sorted(unscored.items()))
    result.scored_rows = len(true)
    if not len(true):
        raise ToolkitError(
            f"{reference}: none of its {len(labels.ids)} rows has a {TASK_TITLES[report.task]} label to score "
            "(is this an unlabelled test manifest?)"
        )
    if report.task == CATEGORICAL:
        result.metrics, result.per_class, result.confusion = categorical_scores(true, pred, inventory)
    else:
        result.metrics = _resampled_attributes(true, pred)
    if bootstrap > 0:
        result.intervals = bootstrap_intervals(true, pred, report.task, bootstrap, seed, inventory.num_classes)
    return result


def format_scores(result: ScoreResult) -> str:
    """Human-readable score sheet (the validation report itself is printed separately)."""
    split = f" (Split_Set {result.split})" if result.split else ""
    lines = [f"{TASK_TITLES[result.task]}: {result.submission} vs {result.reference}{split}"]
    unscored = "; ".join(f"{count} with {reason}" for reason, count in result.unscored.items())
    lines.append(f"scored {result.scored_rows} rows" + (f"; not scored: {unscored}" if unscored else ""))
    interval_note = f"95% CI, {result.bootstrap} bootstrap resamples, seed {result.seed}"
    names = (
        [("macro_f1", "Macro-F1"), ("accuracy", "Accuracy"), ("uar", "UAR")]
        if result.task == CATEGORICAL
        else [(f"ccc_{name}", f"CCC {name}") for name in ATTRIBUTES] + [("ccc_mean", "CCC mean")]
    )
    for key, title in names:
        line = f"{title:<12}{result.metrics[key]:8.4f}"
        if key in result.intervals:
            low, high = result.intervals[key]
            line += f"   [{low:.4f}, {high:.4f}]"
        lines.append(line)
    if result.intervals:
        lines.append(f"(intervals: {interval_note})")
    if result.task == ATTRIBUTES_TASK:
        return "\n".join(lines)
    inventory = result.inventory
    label_width = max(14, max(len(f"{code} {name}") for code, name in zip(inventory.codes, inventory.names)) + 2)
    lines += ["", f"{'class':<{label_width}}{'precision':>10}{'recall':>8}{'F1':>8}{'support':>9}"]
    for code, name in zip(inventory.codes, inventory.names):
        row = result.per_class[code]
        lines.append(
            f"{code + ' ' + name:<{label_width}}{row['precision']:>10.4f}{row['recall']:>8.4f}"
            f"{row['f1']:>8.4f}{row['support']:>9d}"
        )
    lines += ["", "confusion matrix (rows: reference, columns: prediction)"]
    width = max(5, len(str(int(result.confusion.max()))) + 1, *(len(code) + 1 for code in inventory.codes))
    code_width = max(3, *(len(code) + 1 for code in inventory.codes))
    lines.append(" " * code_width + "".join(f"{code:>{width}}" for code in inventory.codes))
    for code, counts in zip(inventory.codes, result.confusion):
        lines.append(f"{code:<{code_width}}" + "".join(f"{int(count):>{width}d}" for count in counts))
    return "\n".join(lines)
