"""Stratified k-fold splits of the Development rows, the basis of the held-out protocol.

Reads and writes nothing. Rows are stratified on their consensus class, rows without one of
the 8 classes (X, O, unlabelled) forming one more stratum, so every fold sees every class.
"""

import logging
import warnings
from typing import List

import numpy as np

from toolkit.utils.errors import ToolkitError

logger = logging.getLogger(__name__)


def stratified_folds(classes: np.ndarray, folds: int, seed: int) -> List[np.ndarray]:
    """Indices of the held-out rows of each of ``folds`` folds (disjoint, covering every row)."""
    from sklearn.model_selection import KFold, StratifiedKFold

    if folds < 2:
        raise ToolkitError(f"--folds must be at least 2 for held-out meta-classifier scores, got {folds}")
    if len(classes) < folds:
        raise ToolkitError(f"{len(classes)} Development rows cannot be split into --folds {folds}; lower --folds")
    counts = np.bincount(classes + 1)
    rare = [int(label) - 1 for label in np.flatnonzero((counts > 0) & (counts < folds))]
    if counts.max() < folds:
        # Stratification needs one class with at least ``folds`` rows (tiny corpora have none).
        logger.warning("every class has fewer than --folds %d rows: folds are drawn unstratified", folds)
        splitter = KFold(n_splits=folds, shuffle=True, random_state=seed)
    else:
        if rare:
            logger.warning("class index(es) %s have fewer rows than --folds %d: some folds will not contain them", rare, folds)
        splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    with warnings.catch_warnings():
        # The too-few-rows case is logged above, once, in the toolkit's words.
        warnings.simplefilter("ignore", UserWarning)
        return [held_out for _, held_out in splitter.split(np.zeros(len(classes)), classes)]


def training_rows(num_rows: int, held_out: np.ndarray) -> np.ndarray:
    mask = np.ones(num_rows, dtype=bool)
    mask[held_out] = False
    return np.flatnonzero(mask)
