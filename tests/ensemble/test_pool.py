"""The weighted log-linear pool: equal weights as the starting point, weights towards reliable members,
biases towards a class-balanced decision rule, serialisation and its errors."""

import numpy as np
import pytest

from toolkit.ensemble.pool import PoolConfig, PoolWeights, fit_log_linear_pool
from toolkit.metrics import macro_f1
from toolkit.utils.errors import ToolkitError


def noisy_members(classes, accuracies, rng, confidence=0.7, num_classes=4):
    """(members, rows, classes) posteriors: each member right with its accuracy, else a random class."""
    posteriors = []
    for accuracy in accuracies:
        choice = np.where(rng.random(len(classes)) < accuracy, classes, rng.integers(0, num_classes, len(classes)))
        member = np.full((len(classes), num_classes), (1 - confidence) / (num_classes - 1))
        member[np.arange(len(classes)), choice] = confidence
        posteriors.append(member)
    return np.stack(posteriors)


def test_a_huge_penalty_keeps_equal_weights_no_bias_so_the_pool_is_the_geometric_mean():
    rng = np.random.default_rng(0)
    classes = rng.integers(0, 4, 200)
    posteriors = noisy_members(classes, (0.9, 0.4), rng)
    pool = fit_log_linear_pool(posteriors, classes, PoolConfig(penalty=1e6))
    np.testing.assert_allclose(pool.member_weights, [0.5, 0.5], atol=1e-3)
    np.testing.assert_allclose(pool.class_bias, 0.0, atol=1e-3)
    np.testing.assert_allclose(pool.logits(posteriors), np.log(posteriors).mean(axis=0), atol=1e-2)


def test_fitting_weighs_the_reliable_member_more_and_beats_equal_weights_on_new_rows():
    rng = np.random.default_rng(1)
    classes, new_classes = rng.integers(0, 4, 300), rng.integers(0, 4, 2000)
    accuracies = (0.85, 0.3, 0.3, 0.3)
    pool = fit_log_linear_pool(noisy_members(classes, accuracies, rng), classes)
    assert pool.member_weights[0] > 2 * pool.member_weights[1:].max()
    new = noisy_members(new_classes, accuracies, rng)
    fitted = macro_f1(new_classes, pool.logits(new).argmax(axis=1), 4)
    equal = macro_f1(new_classes, np.log(new).mean(axis=0).argmax(axis=1), 4)
    assert fitted > equal + 0.05


def test_the_class_bias_recovers_a_rare_class_its_members_underpredict():
    # Both members put a little more mass on class 0 than on class 3 for every class-3 row.
    rng = np.random.default_rng(2)
    classes = np.repeat([0, 1, 2, 3], [150, 150, 150, 60])
    posteriors = noisy_members(classes, (0.95, 0.95), rng)
    posteriors[:, classes == 3] = [0.45, 0.075, 0.075, 0.40]
    pool = fit_log_linear_pool(posteriors, classes)
    recall = lambda predicted: (predicted[classes == 3] == 3).mean()
    assert recall(np.log(posteriors).mean(axis=0).argmax(axis=1)) == 0.0
    assert recall(pool.logits(posteriors).argmax(axis=1)) == 1.0
    assert pool.class_bias[3] > pool.class_bias[0]


def test_rows_without_a_class_are_ignored_and_no_labelled_row_is_an_error():
    rng = np.random.default_rng(3)
    classes = rng.integers(0, 4, 100)
    posteriors = noisy_members(classes, (0.8, 0.5), rng)
    with_unlabelled = np.concatenate([classes[:50], np.full(20, -1)])
    extra = np.concatenate([posteriors[:, :50], posteriors[:, :20]], axis=1)
    np.testing.assert_allclose(fit_log_linear_pool(extra, with_unlabelled).member_weights,
                               fit_log_linear_pool(posteriors[:, :50], classes[:50]).member_weights)
    with pytest.raises(ToolkitError, match="no Development row carries one of the 4 consensus classes"):
        fit_log_linear_pool(posteriors, np.full(100, -1))


def test_weights_round_trip_and_other_members_are_a_clear_error():
    pool = PoolWeights(np.array([0.7, 0.3]), np.array([0.1, -0.1, 0.0]))
    again = PoolWeights.from_dict(pool.to_dict())
    np.testing.assert_array_equal(again.member_weights, pool.member_weights)
    np.testing.assert_array_equal(again.class_bias, pool.class_bias)
    with pytest.raises(ToolkitError, match="fitted on 2 members and 3 classes, got 3 members"):
        pool.logits(np.full((3, 5, 3), 1 / 3))
    with pytest.raises(ToolkitError, match="pool weights must be"):
        PoolWeights.from_dict({"member_weights": [[1.0]], "class_bias": [0.0, 0.0]})
