"""Metrics over an inventory's classes, and the concordance correlation coefficient.

Pure numpy/scikit-learn; used by `toolkit score`, by training-time model selection, by the
ensemble stage and the probes, so that every number in the toolkit is computed the same way.
Class metrics take class indices into an inventory and its size: Macro-F1 and per-class F1 are
over exactly the inventory's classes (a class absent from both truth and prediction scores 0, as
the challenge's 8-class Macro-F1 counts it); UA is the mean recall over the classes present in
the truth (scikit-learn's balanced accuracy, as EmoBox reports it) and WA the plain accuracy.
"""

from typing import Dict, Sequence

import numpy as np

from toolkit.emotions import ATTRIBUTES


def macro_f1(y_true: Sequence[int], y_pred: Sequence[int], num_classes: int) -> float:
    """Macro-F1 over classes ``0 .. num_classes-1``."""
    from sklearn.metrics import f1_score

    return float(
        f1_score(y_true, y_pred, labels=list(range(num_classes)), average="macro", zero_division=0)
    )


def per_class_f1(y_true: Sequence[int], y_pred: Sequence[int], num_classes: int) -> np.ndarray:
    from sklearn.metrics import f1_score

    return f1_score(y_true, y_pred, labels=list(range(num_classes)), average=None, zero_division=0)


def unweighted_accuracy(y_true: Sequence[int], y_pred: Sequence[int]) -> float:
    """UA: mean per-class recall over the classes present in ``y_true`` (balanced accuracy)."""
    true = np.asarray(y_true)
    pred = np.asarray(y_pred)
    if true.size == 0:
        return float("nan")
    return float(np.mean([(pred[true == label] == label).mean() for label in np.unique(true)]))


def weighted_accuracy(y_true: Sequence[int], y_pred: Sequence[int]) -> float:
    """WA: the share of rows classified correctly (plain accuracy)."""
    true = np.asarray(y_true)
    return float((true == np.asarray(y_pred)).mean()) if true.size else float("nan")


def class_scores(y_true: Sequence[int], y_pred: Sequence[int], num_classes: int) -> Dict[str, float]:
    """Macro-F1, UA and WA of one set of predictions, the three numbers EmoBox and SUPERB report."""
    return {
        "macro_f1": macro_f1(y_true, y_pred, num_classes),
        "ua": unweighted_accuracy(y_true, y_pred),
        "wa": weighted_accuracy(y_true, y_pred),
    }


def confusion_scores(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int) -> Dict[str, float]:
    """Macro-F1, accuracy and UAR from the confusion counts, exactly as scikit-learn defines them
    (zero_division=0) but without its per-call input checks, which would dominate thousands of
    bootstrap resamples. ``y_true``/``y_pred``: int arrays of class indices in ``0 .. num_classes-1``."""
    counts = np.bincount(y_true * num_classes + y_pred, minlength=num_classes**2).reshape(num_classes, num_classes)
    hits = np.diag(counts).astype(np.float64)
    true_totals, pred_totals = counts.sum(axis=1), counts.sum(axis=0)
    denominator = true_totals + pred_totals
    f1 = np.divide(2 * hits, denominator, out=np.zeros(num_classes), where=denominator > 0)
    present = true_totals > 0
    return {
        "macro_f1": float(f1.mean()),
        "accuracy": float(hits.sum() / len(y_true)),
        "uar": float((hits[present] / true_totals[present]).mean()),
    }


def ccc(y_true: Sequence[float], y_pred: Sequence[float]) -> float:
    """Concordance correlation coefficient with population variances (the challenge's CCC).

    NaN for an empty input, for NaN or infinite values, and when both sides are constant and equal
    (0/0); 0 when one side is constant and the other not. The validator keeps NaN out of scoring.
    """
    true = np.asarray(y_true, dtype=np.float64)
    pred = np.asarray(y_pred, dtype=np.float64)
    if true.size == 0:
        return float("nan")
    mean_true, mean_pred = true.mean(), pred.mean()
    var_true, var_pred = true.var(), pred.var()
    covariance = ((true - mean_true) * (pred - mean_pred)).mean()
    denominator = var_true + var_pred + (mean_true - mean_pred) ** 2
    if denominator == 0:
        return float("nan")
    return float(2.0 * covariance / denominator)


def attribute_ccc(y_true: np.ndarray, y_pred: np.ndarray) -> Dict[str, float]:
    """CCC per attribute column (rows x 3) and their mean under key ``mean``."""
    scores = {name: ccc(y_true[:, i], y_pred[:, i]) for i, name in enumerate(ATTRIBUTES)}
    scores["mean"] = float(np.mean([scores[name] for name in ATTRIBUTES]))
    return scores
