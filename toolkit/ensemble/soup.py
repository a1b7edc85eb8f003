"""MEDUSA stage 4: a model soup, R meta-classifier runs averaged weight by weight into one.

Reads and writes nothing. Run ``r`` of a soup is fitted with seed ``seed + r`` on all given
rows except one fold: fold ``r mod folds`` of the stratified split drawn with seed
``seed + r // folds`` ("seeds x folds"), so runs differ by their data and the average is
smoother than any one of them. Because the meta-classifier is linear, the soup's outputs are
the mean of its runs' outputs.
"""

from typing import List, Optional, Sequence, Tuple

import numpy as np
from tqdm import tqdm

from toolkit.emotions import CHALLENGE
from toolkit.ensemble.folds import stratified_folds, training_rows
from toolkit.ensemble.meta_classifier import LinearWeights, MetaConfig, fit_meta_classifier
from toolkit.utils.errors import ToolkitError


def average_weights(runs: Sequence[LinearWeights]) -> LinearWeights:
    """Uniform soup: the element-wise mean of every run's weight and bias."""
    if not runs:
        raise ToolkitError("a soup needs at least one meta-classifier run; --soup-runs must be >= 1")
    shapes = {run.weight.shape for run in runs}
    if len(shapes) > 1:
        raise ToolkitError(f"cannot average meta-classifiers of different shapes {sorted(shapes)}")
    return LinearWeights(
        weight=np.mean([run.weight for run in runs], axis=0),
        bias=np.mean([run.bias for run in runs], axis=0),
    )


def soup_run_rows(classes: np.ndarray, runs: int, folds: int, seed: int) -> List[Tuple[int, np.ndarray]]:
    """(seed, training row indices) of each run, following the seeds x folds plan above."""
    plan = []
    splits = {}
    for run in range(runs):
        repetition = run // folds
        if repetition not in splits:
            splits[repetition] = stratified_folds(classes, folds, seed + repetition)
        held_out = splits[repetition][run % folds]
        plan.append((seed + run, training_rows(len(classes), held_out)))
    return plan


def fit_soup(
    inputs: np.ndarray,
    classes: np.ndarray,
    attributes: np.ndarray,
    runs: int = 6,
    folds: int = 5,
    seed: int = 42,
    config: Optional[MetaConfig] = None,
    device=None,
    progress: bool = False,
    num_classes: int = CHALLENGE.num_classes,
) -> Tuple[LinearWeights, List[LinearWeights]]:
    """Fit ``runs`` meta-classifiers on the given rows and return (soup, the runs)."""
    if runs < 1:
        raise ToolkitError(f"--soup-runs must be at least 1, got {runs}")
    fitted = []
    plan = soup_run_rows(classes, runs, folds, seed)
    for run_seed, rows in tqdm(plan, desc="soup runs", disable=not progress, leave=False):
        fitted.append(
            fit_meta_classifier(inputs[rows], classes[rows], attributes[rows], config=config, seed=run_seed, device=device,
                                num_classes=num_classes)
        )
    return average_weights(fitted), fitted
