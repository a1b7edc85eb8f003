"""The cross-validation table of a fold protocol: every system's test scores per fold, and their mean ± std.

Reads ``<exp>/fold<k>/ensemble/summary.json`` (written by ``toolkit ensemble`` with a test key: the
``test_table`` of every member, probe and combination method on the fold's test split, and which
method was submitted) for each fold, and ``<exp>/fold<k>/cross/test_scores.json`` when a system of
another corpus was scored there (``toolkit score --format json``); writes ``<exp>/folds.md`` and
``<exp>/folds.json``. The
numbers are those EmoBox and SUPERB report: UA (unweighted accuracy, mean per-class recall), WA
(accuracy) and Macro-F1, per fold and as mean ± standard deviation (population) over folds.
"""

import json
from pathlib import Path
from typing import Dict, List, Sequence

import numpy as np

from toolkit.ensemble.methods import TITLES
from toolkit.utils.atomic import PathLike, atomic_write_json, atomic_write_text
from toolkit.utils.errors import ToolkitError

METRICS = ("ua", "wa", "macro_f1")
SUBMITTED = "submitted system"
CROSS_CORPUS = "cross-corpus system"


def fold_rows(exp_root: PathLike, folds: Sequence[int]) -> Dict[str, Dict[int, Dict[str, float]]]:
    """System -> fold -> {ua, wa, macro_f1}; the submitted method also appears as ``submitted system``."""
    exp_root = Path(exp_root)
    table: Dict[str, Dict[int, Dict[str, float]]] = {}
    for fold in folds:
        path = exp_root / f"fold{fold}" / "ensemble" / "summary.json"
        if not path.is_file():
            raise ToolkitError(f"{path}: not found; run stage 5 of fold {fold} (toolkit ensemble) first")
        summary = json.loads(path.read_text(encoding="utf-8"))
        if not summary.get("test_table"):
            raise ToolkitError(f"{path}: no test scores; toolkit ensemble needs --test-key (the fold's test manifest)")
        for row in summary["test_table"]:
            scores = {metric: float(row[metric]) for metric in METRICS}
            table.setdefault(row["system"], {})[fold] = scores
            if row["system"] == TITLES.get(summary["submitted"]):
                table.setdefault(SUBMITTED, {})[fold] = scores
        cross = exp_root / f"fold{fold}" / "cross" / "test_scores.json"
        if cross.is_file():
            metrics = json.loads(cross.read_text(encoding="utf-8"))["metrics"]
            table.setdefault(CROSS_CORPUS, {})[fold] = {"ua": float(metrics["uar"]), "wa": float(metrics["accuracy"]),
                                                        "macro_f1": float(metrics["macro_f1"])}
    return table


def _ordered(table: Dict[str, Dict[int, Dict[str, float]]]) -> List[str]:
    """The submitted and cross-corpus systems first, then the others as the folds listed them."""
    first = [name for name in (SUBMITTED, CROSS_CORPUS) if name in table]
    return first + [name for name in table if name not in first]


def format_fold_table(table: Dict[str, Dict[int, Dict[str, float]]], folds: Sequence[int]) -> str:
    lines = ["| system | " + " | ".join(f"{metric.upper() if metric != 'macro_f1' else 'Macro-F1'} mean ± std"
                                       for metric in METRICS)
             + " | " + " | ".join(f"fold {fold} UA / WA / F1" for fold in folds) + " |",
             "|---|" + "---|" * (len(METRICS) + len(folds))]
    for system in _ordered(table):
        per_fold = table[system]
        means = []
        for metric in METRICS:
            values = [per_fold[fold][metric] for fold in folds if fold in per_fold]
            means.append(f"{np.mean(values):.4f} ± {np.std(values):.4f}")
        cells = [" / ".join(f"{per_fold[fold][m]:.3f}" for m in METRICS) if fold in per_fold else "-" for fold in folds]
        lines.append(f"| {system} | " + " | ".join(means + cells) + " |")
    return "\n".join(lines) + "\n"


def write_fold_table(exp_root: PathLike, folds: Sequence[int]) -> Path:
    """Write ``folds.md`` and ``folds.json`` under ``exp_root``; returns the markdown path."""
    exp_root = Path(exp_root)
    table = fold_rows(exp_root, folds)
    summary: Dict[str, Dict[str, object]] = {}
    for system in _ordered(table):
        per_fold = table[system]
        summary[system] = {"folds": {str(fold): scores for fold, scores in per_fold.items()}}
        for metric in METRICS:
            values: List[float] = [scores[metric] for scores in per_fold.values()]
            summary[system][metric] = {"mean": float(np.mean(values)), "std": float(np.std(values))}
    text = (f"# Cross-validation over folds {', '.join(map(str, folds))}\n\nTest split of each fold; UA = unweighted "
            f"accuracy (mean per-class recall), WA = accuracy; mean ± std over folds.\n\n"
            + format_fold_table(table, folds))
    atomic_write_json(exp_root / "folds.json", {"folds": list(folds), "systems": summary})
    atomic_write_text(exp_root / "folds.md", text)
    return exp_root / "folds.md"
