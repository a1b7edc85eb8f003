"""Combination methods: voting rules, the best member, serialisation, inner-CV weight decay, auto's choice."""

import numpy as np
import pytest

from toolkit.ensemble.choice import choose_method
from toolkit.ensemble.meta_classifier import choose_weight_decay
from toolkit.ensemble.methods import (
    SIMPLICITY, EnsembleConfig, HardVote, MemberOutputs, SoftVote, combiner_from_dict, fit_method,
)
from toolkit.ensemble.results import SystemPredictions
from toolkit.utils.errors import ToolkitError


def one_hot_posteriors(choices, confidence=0.9):
    """(members, rows, 8) posteriors putting ``confidence`` on each member's chosen class."""
    choices = np.asarray(choices)
    posteriors = np.full((*choices.shape, 8), (1 - confidence) / 7)
    np.put_along_axis(posteriors, choices[..., None], confidence, axis=2)
    return posteriors


def outputs(posteriors):
    return MemberOutputs(posteriors, np.ones((*posteriors.shape[:2], 3)))


def test_hard_vote_takes_the_majority_even_against_confident_minorities():
    posteriors = one_hot_posteriors([[0], [0], [3]])
    posteriors[2, 0] = np.eye(8)[3]
    probabilities, _ = HardVote().apply(outputs(posteriors))
    assert probabilities.argmax(axis=1).tolist() == [0]
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0)


def test_hard_vote_tie_goes_to_the_higher_summed_posterior():
    # Two members disagree on both rows; the more confident one wins each tie.
    posteriors = np.zeros((2, 2, 8))
    posteriors[0, 0, [1, 2]] = [0.9, 0.1]
    posteriors[1, 0, [2, 1]] = [0.6, 0.4]
    posteriors[0, 1, [1, 2]] = [0.6, 0.4]
    posteriors[1, 1, [2, 1]] = [0.9, 0.1]
    assert HardVote().apply(outputs(posteriors))[0].argmax(axis=1).tolist() == [1, 2]


def test_soft_vote_averages_posteriors_where_hard_vote_counts_and_attributes_are_the_mean():
    posteriors = np.zeros((3, 1, 8))
    posteriors[0, 0, [0, 5]] = [0.51, 0.49]
    posteriors[1, 0, [0, 5]] = [0.51, 0.49]
    posteriors[2, 0, [5, 0]] = [0.99, 0.01]
    assert HardVote().apply(outputs(posteriors))[0].argmax(axis=1).tolist() == [0]
    attributes = np.array([[[1.0, 2.0, 3.0]], [[3.0, 4.0, 5.0]], [[5.0, 6.0, 7.0]]])
    probabilities, mean = SoftVote().apply(MemberOutputs(posteriors, attributes))
    assert probabilities.argmax(axis=1).tolist() == [5] and mean.tolist() == [[3.0, 4.0, 5.0]]


def test_every_method_fits_applies_and_round_trips_through_its_dict():
    rng = np.random.default_rng(0)
    classes = rng.integers(0, 8, 90)
    choices = np.stack([np.where(rng.random(90) < accuracy, classes, rng.integers(0, 8, 90))
                        for accuracy in (0.8, 0.5, 0.3)])
    data = MemberOutputs(one_hot_posteriors(choices, 0.7), rng.uniform(1, 7, (3, 90, 3)))
    attributes = rng.uniform(1, 7, (90, 3))
    config = EnsembleConfig(folds=3, soup_runs=2, weight_decay_grid=(1e-3, 1.0))
    for method in SIMPLICITY:
        combiner = fit_method(method, data, classes, attributes, config, seed=0)
        probabilities, predicted = combiner.apply(data)
        assert probabilities.shape == (90, 8) and np.allclose(probabilities.sum(axis=1), 1.0)
        assert ((predicted >= 1) & (predicted <= 7)).all()
        again = combiner_from_dict(combiner.to_dict(), "test").apply(data)
        np.testing.assert_allclose(again[0], probabilities)
    assert fit_method("best-member", data, classes, attributes, config, seed=0).member == 0
    with pytest.raises(ToolkitError, match="unknown combination method 'median'"):
        fit_method("median", data, classes, attributes, config, seed=0)


def test_inner_cross_validation_picks_the_penalty_with_the_best_held_out_macro_f1():
    from toolkit.ensemble.folds import stratified_folds, training_rows
    from toolkit.ensemble.meta_classifier import MetaConfig, fit_meta_classifier
    from toolkit.metrics import macro_f1

    rng = np.random.default_rng(1)
    classes = rng.integers(0, 4, 120)
    attributes = np.full((120, 3), np.nan)
    inputs = np.concatenate([np.eye(4)[classes] + rng.normal(0, 1.2, (120, 4)), rng.normal(0, 1, (120, 30))], axis=1)
    grid = (1e-4, 1e-2, 1.0)
    scores = {}
    for decay in grid:
        predicted = np.zeros(120, dtype=int)
        for held_out in stratified_folds(classes, 3, 0):
            rows = training_rows(120, held_out)
            weights = fit_meta_classifier(inputs[rows], classes[rows], attributes[rows],
                                          config=MetaConfig(weight_decay=decay), seed=0, num_classes=4)
            predicted[held_out] = weights.apply(inputs[held_out])[0].argmax(axis=1)
        scores[decay] = macro_f1(classes, predicted, 4)
    assert len(set(scores.values())) > 1, "the grid must matter for this test to mean anything"
    chosen = choose_weight_decay(inputs, classes, attributes, grid, 3, 0, num_classes=4)
    assert scores[chosen] == max(scores.values())


def test_auto_keeps_the_best_unless_a_simpler_method_is_within_one_standard_error():
    rng = np.random.default_rng(2)
    classes = rng.integers(0, 8, 400)
    base = np.where(rng.random(400) < 0.6, classes, (classes + 1) % 8)

    def system(predicted):
        return SystemPredictions(predicted, np.zeros((400, 3)), np.eye(8)[predicted])

    def fixed(predicted, better, worse):
        """``predicted`` made right on ``better`` rows it gets wrong and wrong on ``worse`` rows it gets right."""
        predicted = predicted.copy()
        wrong, right = np.flatnonzero(predicted != classes), np.flatnonzero(predicted == classes)
        predicted[wrong[:better]] = classes[wrong[:better]]
        predicted[right[:worse]] = (classes[right[:worse]] + 1) % 8
        return predicted

    clear = {"soft-vote": system(base), "soup": system(fixed(base, 80, 0))}
    assert choose_method(clear, classes, 8, ["soft-vote", "soup"], 200).method == "soup"
    # soup wins on 20 rows and loses on 16: better by 4 rows, inside the paired noise
    close = {"soft-vote": system(base), "soup": system(fixed(base, 20, 16))}
    choice = choose_method(close, classes, 8, ["soft-vote", "soup"], 200)
    assert choice.scores["soup"]["dev_oof_macro_f1"] > choice.scores["soft-vote"]["dev_oof_macro_f1"]
    assert choice.method == "soft-vote" and "one-standard-error rule" in choice.reason


def test_auto_keeps_its_default_unless_another_method_beats_it_by_more_than_the_margin():
    rng = np.random.default_rng(3)
    classes = rng.integers(0, 8, 400)
    base = np.where(rng.random(400) < 0.6, classes, (classes + 1) % 8)

    def changed(better, worse):
        """``base`` made right on ``better`` of its wrong rows and wrong on ``worse`` of its right rows."""
        predicted = base.copy()
        wrong, right = np.flatnonzero(base != classes), np.flatnonzero(base == classes)
        predicted[wrong[:better]] = classes[wrong[:better]]
        spoiled = right[len(right) - worse:]
        predicted[spoiled] = (classes[spoiled] + 1) % 8
        return SystemPredictions(predicted, np.zeros((400, 3)), np.eye(8)[predicted])

    candidates = ["soft-vote", "pool", "meta"]
    # meta wins 30 rows and loses 24 against the pool: better by 6 rows, inside the paired noise
    near = {"soft-vote": changed(0, 0), "pool": changed(4, 0), "meta": changed(34, 24)}
    choice = choose_method(near, classes, 8, candidates, 200, default="pool", margin=1)
    assert choice.scores["meta"]["dev_oof_macro_f1"] > choice.scores["pool"]["dev_oof_macro_f1"]
    assert choice.method == "pool" and "the default, weighted pool" in choice.reason
    # meta wins 80 rows: it beats the default, and nothing simpler is within one standard error
    clear = {"soft-vote": changed(0, 0), "pool": changed(4, 0), "meta": changed(84, 0)}
    choice = choose_method(clear, classes, 8, candidates, 200, default="pool")
    assert choice.method == "meta" and "beats the default" in choice.reason
    # meta right on 8 more rows, wrong on none: more than one standard error of lead, less than three
    between = {"soft-vote": changed(0, 0), "pool": changed(4, 0), "meta": changed(12, 0)}
    lead = choose_method(between, classes, 8, candidates, 200, default="pool", margin=1).scores["pool"]
    assert lead["standard_error"] < lead["difference_to_best"] < 3 * lead["standard_error"]
    assert choose_method(between, classes, 8, candidates, 200, default="pool", margin=1).method == "meta"
    choice = choose_method(between, classes, 8, candidates, 200, default="pool")
    assert choice.method == "pool" and "within 3 standard errors" in choice.reason
