"""Challenge metrics: Macro-F1 over the 8 classes and the concordance correlation coefficient.

Pure numpy/scikit-learn; used by `toolkit score`, by training-time model selection and by
the ensemble stage, so that every number in the toolkit is computed the same way.
"""

from typing import Dict, Sequence

import numpy as np

from toolkit.emotions import ATTRIBUTES, NUM_CLASSES


def macro_f1(y_true: Sequence[int], y_pred: Sequence[int]) -> float:
    """Macro-F1 over the 8 target classes (labels fixed so absent classes count as 0)."""
    from sklearn.metrics import f1_score

    return float(
        f1_score(y_true, y_pred, labels=list(range(NUM_CLASSES)), average="macro", zero_division=0)
    )


def per_class_f1(y_true: Sequence[int], y_pred: Sequence[int]) -> np.ndarray:
    from sklearn.metrics import f1_score

    return f1_score(y_true, y_pred, labels=list(range(NUM_CLASSES)), average=None, zero_division=0)


def ccc(y_true: Sequence[float], y_pred: Sequence[float]) -> float:
    """Concordance correlation coefficient with population variances (the challenge's CCC)."""
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
