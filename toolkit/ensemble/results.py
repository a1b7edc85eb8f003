"""What the ensemble stage computes, shared by the driver (combine.py) and the report (report.py).

Reads and writes nothing: the result types, the scoring of one system's predictions against
labels, and the markdown form of a table.
"""

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence

import numpy as np

from toolkit.emotions import ATTRIBUTES, Inventory
from toolkit.metrics import attribute_ccc, class_scores


@dataclass
class SystemPredictions:
    """Class indices, attributes and class probabilities of one system (a member, a probe, a method) on some rows."""

    classes: np.ndarray
    attributes: np.ndarray
    probabilities: np.ndarray


def score_rows(true_classes: np.ndarray, true_attributes: np.ndarray, predicted: SystemPredictions,
               num_classes: int) -> Dict[str, float]:
    """Macro-F1, UA and WA on rows with a consensus class of the inventory; CCC on rows with all three attributes."""
    labelled = true_classes >= 0
    with_attributes = np.isfinite(true_attributes).all(axis=1)
    if labelled.any():
        scores: Dict[str, float] = class_scores(true_classes[labelled], predicted.classes[labelled], num_classes)
    else:
        scores = {"macro_f1": float("nan"), "ua": float("nan"), "wa": float("nan")}
    if with_attributes.sum() >= 2:
        ccc = attribute_ccc(true_attributes[with_attributes], predicted.attributes[with_attributes])
    else:
        ccc = {name: float("nan") for name in (*ATTRIBUTES, "mean")}
    scores.update({f"ccc_{name}": value for name, value in ccc.items()})
    scores["rows_f1"] = int(labelled.sum())
    scores["rows_ccc"] = int(with_attributes.sum())
    return scores


TABLE_COLUMNS = ["system", "macro_f1", "ua", "wa", *[f"ccc_{name}" for name in (*ATTRIBUTES, "mean")], "protocol"]


def format_table(table: Sequence[Dict[str, object]]) -> str:
    """A table of systems as GitHub markdown (also readable on a terminal)."""
    lines = ["| " + " | ".join(TABLE_COLUMNS) + " |", "|" + "|".join("---" for _ in TABLE_COLUMNS) + "|"]
    for row in table:
        cells = [f"{row[c]:.4f}" if isinstance(row.get(c), float) else str(row.get(c, "")) for c in TABLE_COLUMNS]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


@dataclass
class EnsembleResult:
    inventory: Inventory
    member_names: List[str]
    member_dirs: List[str]
    probe_names: List[str]
    dev_file_names: List[str]
    dev_classes: np.ndarray
    dev_attributes: np.ndarray
    #: Each member's and probe's predictions on all of Development (they were selected on it).
    reference_predictions: Dict[str, SystemPredictions]
    #: Each combination method's out-of-fold predictions on Development.
    held_out: Dict[str, SystemPredictions]
    table: List[Dict[str, object]]
    chosen: str
    choice_reason: str
    test_file_names: List[str]
    test_classes: np.ndarray
    test_attributes: np.ndarray
    submission_paths: List[str]
    #: Every system's scores on the test split, when its labels were given.
    test_table: Optional[List[Dict[str, object]]] = None
    test_scores: Optional[Dict[str, float]] = field(default=None)
