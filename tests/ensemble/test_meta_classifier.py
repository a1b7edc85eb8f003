import numpy as np
import pytest

from toolkit.ensemble.meta_classifier import LinearWeights, MetaConfig, class_weights, fit_meta_classifier
from toolkit.utils.errors import ToolkitError


def shifted_member_data(rows, seed):
    """Inputs of one member that reliably predicts class (true + 3) mod 8, and attributes 2x - 1."""
    rng = np.random.default_rng(seed)
    classes = rng.integers(0, 8, rows)
    posteriors = np.full((rows, 8), 0.02)
    posteriors[np.arange(rows), (classes + 3) % 8] = 0.86
    attributes = rng.uniform(1, 7, (rows, 3))
    member_attributes = (attributes + 1) / 2 + rng.normal(0, 0.05, (rows, 3))
    return np.concatenate([posteriors, member_attributes], axis=1), classes, attributes


def test_learns_a_member_s_systematic_confusion_and_attribute_scale_on_unseen_rows():
    inputs, classes, attributes = shifted_member_data(400, seed=0)
    weights = fit_meta_classifier(inputs[:300], classes[:300], attributes[:300], seed=0)
    logits, predicted = weights.apply(inputs[300:])
    assert (logits.argmax(axis=1) == classes[300:]).mean() == 1.0
    assert np.abs(predicted - attributes[300:]).mean() < 0.2


def test_unlabelled_rows_train_attributes_only_and_nan_attributes_train_classes_only():
    inputs, classes, attributes = shifted_member_data(300, seed=1)
    classes[::2] = -1
    attributes[1::2] = np.nan
    weights = fit_meta_classifier(inputs, classes, attributes, seed=0)
    logits, predicted = weights.apply(inputs)
    assert (logits.argmax(axis=1)[1::2] == classes[1::2]).all()
    assert np.isfinite(predicted).all()


def test_fitting_is_deterministic_and_invariant_to_input_scale():
    inputs, classes, attributes = shifted_member_data(200, seed=2)
    first = fit_meta_classifier(inputs, classes, attributes, seed=5)
    again = fit_meta_classifier(inputs, classes, attributes, seed=5)
    np.testing.assert_array_equal(first.weight, again.weight)
    # Inputs are standardised while fitting and the scaling is folded into the weights.
    rescaled = fit_meta_classifier(inputs * 10 + 3, classes, attributes, seed=5)
    np.testing.assert_allclose(rescaled.apply(inputs * 10 + 3)[1], first.apply(inputs)[1], atol=1e-3)


def test_weights_round_trip_and_reject_a_different_member_count():
    inputs, classes, attributes = shifted_member_data(100, seed=3)
    weights = fit_meta_classifier(inputs, classes, attributes, config=MetaConfig(max_iterations=20))
    restored = LinearWeights.from_dict(weights.to_dict())
    np.testing.assert_array_equal(restored.apply(inputs)[0], weights.apply(inputs)[0])
    with pytest.raises(ToolkitError, match="expects 11 inputs per row, got 22"):
        weights.apply(np.concatenate([inputs, inputs], axis=1))


def test_class_weights_favour_rare_classes_and_skip_absent_ones():
    weights = class_weights(np.array([0] * 90 + [1] * 10 + [-1] * 50), alpha=0.5)
    assert weights[1] > weights[0] > 0
    assert weights[2:].tolist() == [0.0] * 6


def test_no_labelled_row_is_an_error():
    inputs, _, attributes = shifted_member_data(20, seed=4)
    with pytest.raises(ToolkitError, match="8 consensus classes"):
        fit_meta_classifier(inputs, np.full(20, -1), attributes)
