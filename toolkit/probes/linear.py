"""The linear probe: standardised pooled features, logistic regression for the classes, ridge for the attributes.

Reads and writes nothing itself (``toolkit.probes.run`` does the files). ``fit_probe`` fits scikit-
learn's ``LogisticRegression`` (class_weight="balanced", so every class counts as in Macro-F1)
for each C of a grid and ``Ridge`` for each alpha of a grid on the training rows, and keeps the
C with the best Development Macro-F1 and the alpha with the best Development mean CCC (ties go to
the stronger regularisation). When the best value is at an end of its grid, the grid is extended
past that end, a value at a time, until the best is inside it or a bound is reached
(``extended_grid_search``). The result, ``LinearProbe``, holds plain numpy arrays: it is saved
as ``probe.npz`` and applied without scikit-learn, so a probe can serve as an ensemble member and
inside an exported bundle.
"""

import logging
import warnings
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Sequence, Tuple

import numpy as np

from toolkit.emotions import ATTRIBUTE_MAX, ATTRIBUTE_MIN, ATTRIBUTES, Inventory
from toolkit.metrics import attribute_ccc, macro_f1
from toolkit.utils.errors import ToolkitError
from toolkit.utils.threads import scipy_own_blas_single_threaded

logger = logging.getLogger(__name__)

DEFAULT_C_GRID: Tuple[float, ...] = (1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0)
DEFAULT_ALPHA_GRID: Tuple[float, ...] = (1.0, 10.0, 100.0, 1e3, 1e4)
#: Logit of a class that had no training row: the probe never predicts it.
ABSENT_CLASS_LOGIT = -30.0
#: Attribute prediction of a probe trained without attributes: the middle of the 1-7 scale.
ATTRIBUTE_MIDPOINT = 4.0
#: L-BFGS stops when no gradient component exceeds this. scikit-learn's default, 1e-4, stops a fit
#: with more features than training rows (all streams pooled, small corpora) short of its optimum
#: (weights 0.3-0.8 % off in the unit test's case), at a point the warm start and the BLAS thread
#: count decide: the chosen C then changed with OMP_NUM_THREADS. At 1e-8 every run reaches the
#: same, unique optimum, up to rounding.
SOLVER_TOLERANCE = 1e-8
SOLVER_MAX_ITERATIONS = 100_000
#: How far the grids may be extended when their best value is at an end (on the quality benchmark's
#: corpora the default C grid's lowest value won in 11 of 48 probes and its highest in 5:
#: docs/probes.md). As C falls the weights tend to a fixed direction (the class-weighted mean
#: differences, scaled by C), so below 1e-5 the decisions hardly change; above 10 a fit is barely
#: regularised and the slowest of the grid to converge.
C_BOUNDS: Tuple[float, float] = (1e-5, 10.0)
ALPHA_BOUNDS: Tuple[float, float] = (1e-2, 1e6)


@dataclass
class LinearProbe:
    """Applies ``logits = z @ class_weight.T + class_bias`` and ``attributes = z @ attribute_weight.T +
    attribute_bias`` to the standardised pooled vector ``z = (x - mean) / scale``."""

    streams: List[str]
    inventory: Inventory
    mean: np.ndarray
    scale: np.ndarray
    class_weight: np.ndarray       # (classes, features)
    class_bias: np.ndarray         # (classes,)
    attribute_weight: np.ndarray   # (3, features)
    attribute_bias: np.ndarray     # (3,)
    C: float = 0.0
    alpha: float = 0.0
    selection: List[Dict[str, float]] = field(default_factory=list)

    def predict(self, pooled: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """(logits (n, classes), attributes (n, 3) clipped to 1-7) for pooled vectors (n, features)."""
        if pooled.ndim != 2 or pooled.shape[1] != self.mean.shape[0]:
            raise ToolkitError(f"probe over {', '.join(self.streams)} expects pooled vectors of width "
                               f"{self.mean.shape[0]}, got {pooled.shape}")
        standardised = (pooled.astype(np.float64) - self.mean) / self.scale
        logits = standardised @ self.class_weight.T + self.class_bias
        attributes = np.clip(standardised @ self.attribute_weight.T + self.attribute_bias, ATTRIBUTE_MIN, ATTRIBUTE_MAX)
        return logits, attributes

    def arrays(self) -> Dict[str, np.ndarray]:
        return {"mean": self.mean, "scale": self.scale, "class_weight": self.class_weight,
                "class_bias": self.class_bias, "attribute_weight": self.attribute_weight,
                "attribute_bias": self.attribute_bias}


def _class_logits(model, num_classes: int, width: int) -> Tuple[np.ndarray, np.ndarray]:
    """A fitted LogisticRegression's weights over every class of the inventory (absent ones never win)."""
    weight = np.zeros((num_classes, width))
    bias = np.full(num_classes, ABSENT_CLASS_LOGIT)
    present = model.classes_.astype(int)
    if len(present) == 2:
        # Binary models keep one weight vector, for the second class: softmax([0, z]) = sigmoid(z).
        weight[present[1]], bias[present[1]] = model.coef_[0], model.intercept_[0]
        bias[present[0]] = 0.0
    else:
        weight[present], bias[present] = model.coef_, model.intercept_
    return weight, bias


def _rounded_beyond(value: float, end: float) -> float:
    """``value`` to one significant digit, so that a half-decade or decade grid goes on with the values
    it has (1e-3 -> 3e-4 -> 1e-4), unless rounding would not take it past the grid's current ``end``."""
    rounded = float(f"{value:.0e}")
    return rounded if (rounded - end) * (value - end) > 0 else value


def extended_grid_search(grid: Sequence[float], evaluate: Callable[[float], float], bounds: Tuple[float, float],
                         larger_regularises_more: bool, extend: bool = True,
                         name: str = "value") -> Tuple[float, Dict[float, float]]:
    """The value with the best ``evaluate`` score, and the score of every value evaluated.

    The grid is evaluated from the strongest regularisation to the weakest, and a tie goes to the
    stronger. With ``extend``, while the best value is the smallest or the largest evaluated, the
    grid goes on past it at its mean ratio between neighbours (``_rounded_beyond``), a value at a
    time, as long as the best scores strictly more than its neighbour and the next value lies within
    ``bounds``: a best value on the edge of its grid says the optimum may lie outside it. A grid of
    one value has no ratio and is kept as given."""
    scores: Dict[float, float] = {}
    for value in sorted(set(grid), reverse=larger_regularises_more):
        scores[value] = evaluate(value)

    def rank(value: float) -> float:
        # NaN (e.g. the CCC of constant predictions) ranks below every real score
        return -np.inf if np.isnan(scores[value]) else scores[value]

    def best_so_far() -> float:
        return max(sorted(scores, reverse=larger_regularises_more), key=rank)

    low, high = min(scores), max(scores)
    ratio = (high / low) ** (1 / (len(scores) - 1)) if len(scores) > 1 else 1.0
    steps_below = steps_above = 0
    while extend and ratio > 1:
        ascending = sorted(scores)
        best = best_so_far()
        # An end that only ties its neighbour says the scores have levelled off there, not that they still rise.
        if best == ascending[0] and rank(best) > rank(ascending[1]):
            steps_below += 1
            following = _rounded_beyond(low / ratio ** steps_below, best)
        elif best == ascending[-1] and rank(best) > rank(ascending[-2]):
            steps_above += 1
            following = _rounded_beyond(high * ratio ** steps_above, best)
        else:
            break
        if not bounds[0] <= following <= bounds[1]:
            logger.warning("the best %s, %g, is at the end of its grid; the next value, %g, is outside the search's "
                           "bounds [%g, %g]", name, best, following, *bounds)
            break
        logger.info("the best %s, %g, is at the end of its grid: trying %g", name, best, following)
        scores[following] = evaluate(following)
    return best_so_far(), scores


def fit_probe(train: np.ndarray, train_classes: np.ndarray, train_attributes: np.ndarray,
              dev: np.ndarray, dev_classes: np.ndarray, dev_attributes: np.ndarray, inventory: Inventory,
              streams: Sequence[str], c_grid: Sequence[float] = DEFAULT_C_GRID,
              alpha_grid: Sequence[float] = DEFAULT_ALPHA_GRID, seed: int = 0,
              extend_grids: bool = True) -> LinearProbe:
    """Fit and select a probe. ``*_classes``: indices into ``inventory``, -1 for rows without one
    (weighing nothing in the classifier); ``*_attributes``: (n, 3), NaN where unknown (such rows are left
    out of the ridge). ``extend_grids=False`` keeps C and alpha within the grids given
    (``extended_grid_search``)."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.utils.class_weight import compute_sample_weight

    labelled = train_classes >= 0
    dev_labelled = dev_classes >= 0
    if len(np.unique(train_classes[labelled])) < 2:
        raise ToolkitError("the probe needs training rows of at least 2 classes")
    if not dev_labelled.any():
        raise ToolkitError("the probe selects C on Development Macro-F1, but no Development row has a class")
    # The training matrix exists once in float64, standardised in place: at MSP-Podcast's scale (84k rows by
    # 10,752 pooled features for all streams) each copy is 7 GB.
    train_z = train.astype(np.float64)
    mean = train_z.mean(axis=0)
    train_z -= mean
    scale = np.maximum(np.sqrt(np.einsum("ij,ij->j", train_z, train_z) / len(train_z)), 1e-6)
    train_z /= scale
    dev_z = dev.astype(np.float64)
    dev_z -= mean
    dev_z /= scale
    width = train.shape[1]

    # Rows without a class weigh 0 (their target is any class present) rather than being copied out, and
    # the others weigh as class_weight="balanced" would weigh them among the rows with a class.
    row_weight = np.zeros(len(train_classes))
    row_weight[labelled] = compute_sample_weight("balanced", train_classes[labelled])
    targets = np.where(labelled, train_classes, train_classes[labelled][0])
    # Strongest regularisation first, with warm starts, for speed: each fit starts from the solution before it.
    model = LogisticRegression(tol=SOLVER_TOLERANCE, max_iter=SOLVER_MAX_ITERATIONS, warm_start=True,
                               random_state=seed)
    classifiers: Dict[float, Tuple[np.ndarray, np.ndarray]] = {}

    def classifier_dev_macro_f1(c: float) -> float:
        model.set_params(C=c)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            model.fit(train_z, targets, sample_weight=row_weight)
        if any(issubclass(w.category, ConvergenceWarning) for w in caught):
            logger.warning("probe C=%g: logistic regression did not converge in %d iterations", c, model.max_iter)
        weight, bias = classifiers[c] = _class_logits(model, inventory.num_classes, width)
        # Scored on every Development row, then the labelled ones kept: no copy of the Development matrix.
        predicted = (dev_z @ weight.T + bias).argmax(axis=1)[dev_labelled]
        return macro_f1(dev_classes[dev_labelled], predicted, inventory.num_classes)

    # L-BFGS-B's vector updates in scipy's bundled BLAS, one thread; the gradient's products in numpy's, every
    # thread (scipy_own_blas_single_threaded says why: two spinning thread pools made the fits 3.7-8x slower).
    with scipy_own_blas_single_threaded():
        c_chosen, c_scores = extended_grid_search(c_grid, classifier_dev_macro_f1, C_BOUNDS,
                                                  larger_regularises_more=False, extend=extend_grids, name="C")
    class_weight, class_bias = classifiers[c_chosen]
    selection: List[Dict[str, float]] = [{"parameter": "C", "value": c, "dev_macro_f1": score}
                                         for c, score in sorted(c_scores.items())]

    known = np.isfinite(train_attributes).all(axis=1)
    dev_known = np.isfinite(dev_attributes).all(axis=1)
    attribute_weight = np.zeros((len(ATTRIBUTES), width))
    attribute_bias = np.full(len(ATTRIBUTES), ATTRIBUTE_MIDPOINT)
    alpha_chosen = 0.0
    if known.sum() >= 2 and dev_known.sum() >= 2:
        regressors: Dict[float, Tuple[np.ndarray, np.ndarray]] = {}
        # Centred here, in place, so that Ridge (copy_X=False) finds nothing to centre and makes no copy of
        # its own. The last use of train_z: with every row known, these are its rows (their offset is ~0).
        rows = train_z if known.all() else train_z[known]
        offset = rows.mean(axis=0)
        rows -= offset
        known_attributes = train_attributes[known]

        def regressor_dev_ccc(alpha: float) -> float:
            ridge = Ridge(alpha=alpha, copy_X=False).fit(rows, known_attributes)
            weight, bias = regressors[alpha] = ridge.coef_.copy(), ridge.intercept_ - ridge.coef_ @ offset
            predicted = np.clip(dev_z @ weight.T + bias, ATTRIBUTE_MIN, ATTRIBUTE_MAX)[dev_known]
            return attribute_ccc(dev_attributes[dev_known], predicted)["mean"]

        alpha_chosen, alpha_scores = extended_grid_search(alpha_grid, regressor_dev_ccc, ALPHA_BOUNDS,
                                                          larger_regularises_more=True, extend=extend_grids,
                                                          name="alpha")
        attribute_weight, attribute_bias = regressors[alpha_chosen]
        selection += [{"parameter": "alpha", "value": alpha, "dev_ccc_mean": score}
                      for alpha, score in sorted(alpha_scores.items())]
    else:
        logger.warning("no attributes to fit on (train %d, Development %d rows with all three): the probe predicts "
                       "%.0f for every attribute", int(known.sum()), int(dev_known.sum()), ATTRIBUTE_MIDPOINT)
    logger.info("probe over %s: C=%g (Development Macro-F1 %.4f), alpha=%g", "+".join(streams), c_chosen,
                max(row["dev_macro_f1"] for row in selection if row["parameter"] == "C"), alpha_chosen)
    return LinearProbe(list(streams), inventory, mean, scale, class_weight, class_bias, attribute_weight,
                       attribute_bias, c_chosen, alpha_chosen, selection)
