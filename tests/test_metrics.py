"""toolkit.metrics: CCC at its edges, and the class metrics against scikit-learn.

What ``ccc`` returns at the edges (the contract these tests pin down):
- one side constant, the other not: 0 (no covariance, a positive denominator);
- both constant and equal: NaN (0/0, undefined; ``toolkit score`` shows NaN / JSON null);
- both constant and different: 0 (the denominator is the squared mean difference);
- empty input: NaN;
- NaN or an infinite value anywhere in the input: NaN, never a number computed from the other rows.
  ``toolkit score`` never gets there: the validator rejects such a submission value (N602; an
  overflowing ``1e400`` is N603) and the reference reader rejects such a label
  (tests/submission/test_score.py::test_toolkit_score_never_sees_non_finite_values).
"""

import warnings

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, balanced_accuracy_score, f1_score

from toolkit.metrics import (
    attribute_ccc,
    ccc,
    class_scores,
    confusion_scores,
    unweighted_accuracy,
    weighted_accuracy,
)


def numpy_ccc(x, y):
    x, y = np.asarray(x, float), np.asarray(y, float)
    rho = np.corrcoef(x, y)[0, 1]
    return 2 * rho * x.std() * y.std() / (x.var() + y.var() + (x.mean() - y.mean()) ** 2)


def test_ccc_equals_the_textbook_formula():
    rng = np.random.default_rng(0)
    for _ in range(10):
        x = rng.uniform(1, 7, size=50)
        y = 0.6 * x + rng.normal(0, 1, size=50) + rng.uniform(-1, 1)
        assert ccc(x, y) == pytest.approx(numpy_ccc(x, y), rel=1e-12)
    assert ccc([1, 2, 3], [1, 2, 3]) == pytest.approx(1.0)
    assert ccc([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)
    # CCC, unlike Pearson's r, punishes a shift: the same shape 1 higher.
    assert ccc([1, 2, 3], [2, 3, 4]) == pytest.approx(2 * (2 / 3) / (2 / 3 + 2 / 3 + 1))


@pytest.mark.parametrize("true, pred", [([1, 2, 3, 4], [4, 4, 4, 4]), ([4, 4, 4, 4], [1, 2, 3, 4])])
def test_ccc_one_side_constant_is_zero(true, pred):
    assert ccc(true, pred) == 0.0


def test_ccc_both_constant():
    assert np.isnan(ccc([4, 4, 4], [4, 4, 4]))  # equal: 0/0, undefined
    assert np.isnan(ccc([5.5], [5.5]))
    assert ccc([4, 4, 4], [6, 6, 6]) == 0.0  # different: the denominator is (4 - 6)^2
    assert ccc([2.0], [3.0]) == 0.0


def test_ccc_of_empty_input_is_nan():
    assert np.isnan(ccc([], []))
    assert np.isnan(ccc(np.empty(0), np.empty(0)))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("side", ["true", "pred"])
def test_ccc_with_a_non_finite_value_is_nan(bad, side):
    good = [1.0, 2.0, 3.0, 4.0, 5.0]
    spoilt = [1.0, 2.0, bad, 4.0, 5.0]
    with warnings.catch_warnings():
        # numpy warns about inf - inf on the way; the returned value is the contract.
        warnings.simplefilter("ignore", RuntimeWarning)
        value = ccc(good, spoilt) if side == "pred" else ccc(spoilt, good)
    assert np.isnan(value)


def test_attribute_ccc_keeps_an_undefined_column_visible_in_the_mean():
    true = np.array([[1, 2, 4], [2, 3, 4], [3, 5, 4]], dtype=float)
    pred = np.array([[1, 2, 4], [2, 3, 4], [3, 4, 4]], dtype=float)
    scores = attribute_ccc(true, pred)
    assert scores["EmoAct"] == pytest.approx(1.0)
    assert scores["EmoVal"] == pytest.approx(numpy_ccc(true[:, 1], pred[:, 1]))
    assert np.isnan(scores["EmoDom"]) and np.isnan(scores["mean"])


# --- class metrics against scikit-learn -----------------------------------------------------------

def random_predictions(seed, size=60, num_classes=6, predicted_classes=None):
    rng = np.random.default_rng(seed)
    true = rng.integers(0, num_classes, size=size)
    pred = rng.integers(0, predicted_classes or num_classes, size=size)
    return true, pred


@pytest.mark.parametrize("seed", range(8))
def test_unweighted_and_weighted_accuracy_equal_sklearn(seed):
    true, pred = random_predictions(seed)
    assert unweighted_accuracy(true, pred) == pytest.approx(balanced_accuracy_score(true, pred))
    assert weighted_accuracy(true, pred) == pytest.approx(accuracy_score(true, pred))


def test_unweighted_accuracy_averages_only_the_classes_in_the_truth():
    # Class 2 is never true, only predicted: it has no recall and must not dilute UA.
    true, pred = [0, 0, 1, 1], [0, 2, 1, 1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # sklearn: "y_pred contains classes not in y_true"
        expected = balanced_accuracy_score(true, pred)
    assert unweighted_accuracy(true, pred) == pytest.approx(expected) == pytest.approx(0.75)
    assert weighted_accuracy(true, pred) == pytest.approx(0.75)


def test_accuracies_of_empty_input_are_nan():
    assert np.isnan(unweighted_accuracy([], [])) and np.isnan(weighted_accuracy([], []))


@pytest.mark.parametrize("seed", range(8))
def test_class_scores_equal_sklearn(seed):
    true, pred = random_predictions(seed, num_classes=8, predicted_classes=6)  # classes 6, 7 never predicted
    scores = class_scores(true, pred, 8)
    assert scores["macro_f1"] == pytest.approx(f1_score(true, pred, labels=list(range(8)), average="macro",
                                                        zero_division=0))
    assert scores["ua"] == pytest.approx(balanced_accuracy_score(true, pred))
    assert scores["wa"] == pytest.approx(accuracy_score(true, pred))


def test_macro_f1_counts_a_class_absent_from_truth_and_prediction_as_zero():
    true, pred = np.array([0, 1, 1, 0]), np.array([0, 1, 1, 0])
    assert class_scores(true, pred, 4)["macro_f1"] == pytest.approx(0.5)  # classes 2 and 3 score 0
    assert confusion_scores(true, pred, 4)["macro_f1"] == pytest.approx(0.5)


@pytest.mark.parametrize("seed", range(8))
def test_confusion_scores_equal_sklearn(seed):
    true, pred = random_predictions(seed, size=int(5 + 10 * seed), num_classes=8, predicted_classes=5)
    fast = confusion_scores(true, pred, 8)
    assert fast["macro_f1"] == pytest.approx(f1_score(true, pred, labels=list(range(8)), average="macro",
                                                      zero_division=0))
    assert fast["accuracy"] == pytest.approx(accuracy_score(true, pred))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # a predicted class may be absent from the truth
        assert fast["uar"] == pytest.approx(balanced_accuracy_score(true, pred))


def test_confusion_scores_of_a_single_row():
    assert confusion_scores(np.array([3]), np.array([3]), 4) == {"macro_f1": 0.25, "accuracy": 1.0, "uar": 1.0}
    assert confusion_scores(np.array([3]), np.array([1]), 4) == {"macro_f1": 0.0, "accuracy": 0.0, "uar": 0.0}
