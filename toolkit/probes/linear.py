"""The linear probe: standardised pooled features, logistic regression for the classes, ridge for the attributes.

Reads and writes nothing itself (``toolkit.probes.run`` does the files). ``fit_probe`` fits scikit-
learn's ``LogisticRegression`` (class_weight="balanced", so every class counts as in Macro-F1)
for each C of a grid and ``Ridge`` for each alpha of a grid on the training rows, and keeps the
C with the best Development Macro-F1 and the alpha with the best Development mean CCC (ties go to
the stronger regularisation). The result, ``LinearProbe``, holds plain numpy arrays: it is saved
as ``probe.npz`` and applied without scikit-learn, so a probe can serve as an ensemble member and
inside an exported bundle.
"""

import logging
import warnings
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from toolkit.emotions import ATTRIBUTE_MAX, ATTRIBUTE_MIN, ATTRIBUTES, Inventory
from toolkit.metrics import attribute_ccc, macro_f1
from toolkit.utils.errors import ToolkitError

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


def fit_probe(train: np.ndarray, train_classes: np.ndarray, train_attributes: np.ndarray,
              dev: np.ndarray, dev_classes: np.ndarray, dev_attributes: np.ndarray, inventory: Inventory,
              streams: Sequence[str], c_grid: Sequence[float] = DEFAULT_C_GRID,
              alpha_grid: Sequence[float] = DEFAULT_ALPHA_GRID, seed: int = 0) -> LinearProbe:
    """Fit and select a probe. ``*_classes``: indices into ``inventory``, -1 for rows without one
    (left out of the classifier); ``*_attributes``: (n, 3), NaN where unknown."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression, Ridge

    labelled = train_classes >= 0
    dev_labelled = dev_classes >= 0
    if len(np.unique(train_classes[labelled])) < 2:
        raise ToolkitError("the probe needs training rows of at least 2 classes")
    if not dev_labelled.any():
        raise ToolkitError("the probe selects C on Development Macro-F1, but no Development row has a class")
    mean = train.mean(axis=0, dtype=np.float64)
    scale = np.maximum(train.std(axis=0, dtype=np.float64), 1e-6)
    train_z = (train - mean) / scale
    dev_z = (dev - mean) / scale
    width = train.shape[1]

    selection: List[Dict[str, float]] = []
    best: Optional[Tuple[float, float, np.ndarray, np.ndarray]] = None
    # Ascending C with warm starts, for speed: each fit starts from the more regularised solution before it.
    model = LogisticRegression(class_weight="balanced", tol=SOLVER_TOLERANCE, max_iter=SOLVER_MAX_ITERATIONS,
                               warm_start=True, random_state=seed)
    for c in sorted(c_grid):
        model.set_params(C=c)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            model.fit(train_z[labelled], train_classes[labelled])
        if any(issubclass(w.category, ConvergenceWarning) for w in caught):
            logger.warning("probe C=%g: logistic regression did not converge in %d iterations", c, model.max_iter)
        weight, bias = _class_logits(model, inventory.num_classes, width)
        predicted = (dev_z[dev_labelled] @ weight.T + bias).argmax(axis=1)
        score = macro_f1(dev_classes[dev_labelled], predicted, inventory.num_classes)
        selection.append({"parameter": "C", "value": c, "dev_macro_f1": score})
        if best is None or score > best[1]:
            best = (c, score, weight, bias)
    c_chosen, _, class_weight, class_bias = best

    known = np.isfinite(train_attributes).all(axis=1)
    dev_known = np.isfinite(dev_attributes).all(axis=1)
    attribute_weight = np.zeros((len(ATTRIBUTES), width))
    attribute_bias = np.full(len(ATTRIBUTES), ATTRIBUTE_MIDPOINT)
    alpha_chosen = 0.0
    if known.sum() >= 2 and dev_known.sum() >= 2:
        best_ccc = -np.inf
        for alpha in sorted(alpha_grid, reverse=True):
            ridge = Ridge(alpha=alpha).fit(train_z[known], train_attributes[known])
            predicted = np.clip(ridge.predict(dev_z[dev_known]), ATTRIBUTE_MIN, ATTRIBUTE_MAX)
            score = attribute_ccc(dev_attributes[dev_known], predicted)["mean"]
            selection.append({"parameter": "alpha", "value": alpha, "dev_ccc_mean": score})
            if score > best_ccc:
                best_ccc, alpha_chosen = score, alpha
                attribute_weight, attribute_bias = ridge.coef_.copy(), ridge.intercept_.copy()
    else:
        logger.warning("no attributes to fit on (train %d, Development %d rows with all three): the probe predicts "
                       "%.0f for every attribute", int(known.sum()), int(dev_known.sum()), ATTRIBUTE_MIDPOINT)
    logger.info("probe over %s: C=%g (Development Macro-F1 %.4f), alpha=%g", "+".join(streams), c_chosen,
                max(row["dev_macro_f1"] for row in selection if row["parameter"] == "C"), alpha_chosen)
    return LinearProbe(list(streams), inventory, mean, scale, class_weight, class_bias, attribute_weight,
                       attribute_bias, c_chosen, alpha_chosen, selection)
