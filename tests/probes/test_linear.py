"""The linear probe's fit (toolkit/probes/linear.py)."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression, Ridge

from toolkit.emotions import Inventory
from toolkit.probes.linear import (ALPHA_BOUNDS, C_BOUNDS, DEFAULT_ALPHA_GRID, DEFAULT_C_GRID, extended_grid_search,
                                    fit_probe)


def test_absent_classes_are_never_predicted_and_two_classes_work():
    rng = np.random.default_rng(0)
    inventory = Inventory.parse("A,S,H,N")
    classes = np.repeat([0, 2], 20)
    features = rng.normal(size=(40, 5)) + classes[:, None]
    attributes = np.full((40, 3), np.nan)
    probe = fit_probe(features, classes, attributes, features, classes, attributes, inventory, ["s"])
    logits, predicted_attributes = probe.predict(features)
    assert set(logits.argmax(axis=1)) <= {0, 2} and (logits.argmax(axis=1) == classes).mean() > 0.9
    assert (predicted_attributes == 4.0).all(), "no attributes to learn from: the midpoint"


@pytest.mark.parametrize("c_grid", [(1.0,), DEFAULT_C_GRID], ids=["cold start", "warm start along the grid"])
def test_the_probe_is_the_optimum_at_its_c_whatever_the_path_to_it(c_grid):
    # More features than training rows, as all streams pooled on a small corpus: a loosely converged
    # fit stops where the start point and the BLAS thread count leave it, and so would the chosen C.
    rng = np.random.default_rng(2)
    inventory = Inventory.parse("A,S,H,N")
    directions = rng.normal(size=(4, 200))

    def sample(rows):
        features = rng.normal(size=(rows, 200)) * rng.uniform(0.5, 2, size=200)
        return features, (features @ directions.T + rng.normal(scale=3, size=(rows, 4))).argmax(axis=1)

    train, train_classes = sample(60)
    dev, dev_classes = sample(200)
    probe = fit_probe(train, train_classes, np.full((60, 3), np.nan), dev, dev_classes, np.full((200, 3), np.nan),
                      inventory, ["s"], c_grid=c_grid)
    optimum = LogisticRegression(C=probe.C, class_weight="balanced", tol=1e-12, max_iter=10**6).fit(
        (train - probe.mean) / probe.scale, train_classes)
    error = np.abs(probe.class_weight - optimum.coef_).max() / np.abs(optimum.coef_).max()
    assert error < 1e-5, f"probe weights {error:.1e} (relative) away from the optimum at C={probe.C}"


def peaked_at(peak):
    """A Development score that falls with the distance from ``peak`` in decades."""
    return lambda value: -abs(np.log10(value) - np.log10(peak))


def test_a_grid_whose_best_value_is_at_an_end_goes_on_past_it_until_the_best_is_inside():
    evaluated = []

    def score(value):
        evaluated.append(value)
        return peaked_at(1e-4)(value)

    best, scores = extended_grid_search(DEFAULT_C_GRID, score, C_BOUNDS, larger_regularises_more=False)
    assert best == 1e-4
    assert evaluated == [*DEFAULT_C_GRID, 3e-4, 1e-4, 3e-5], "the grid's own values first, then one at a time"
    assert set(scores) == set(evaluated)
    best, scores = extended_grid_search(DEFAULT_C_GRID, peaked_at(1e-4), C_BOUNDS, larger_regularises_more=False,
                                        extend=False)
    assert best == 1e-3 and sorted(scores) == sorted(DEFAULT_C_GRID)


def test_the_extension_stops_at_its_bounds_and_where_the_scores_level_off():
    best, scores = extended_grid_search(DEFAULT_C_GRID, peaked_at(1e-9), C_BOUNDS, larger_regularises_more=False)
    assert best == C_BOUNDS[0] and min(scores) == C_BOUNDS[0]
    # a flat curve: the strongest regularisation wins the tie, and nothing suggests going further
    best, scores = extended_grid_search(DEFAULT_C_GRID, lambda value: 0.5, C_BOUNDS, larger_regularises_more=False)
    assert best == min(DEFAULT_C_GRID) and sorted(scores) == sorted(DEFAULT_C_GRID)
    # a grid of one value has no step to go on with
    assert extended_grid_search((1.0,), peaked_at(1e-4), C_BOUNDS, larger_regularises_more=False)[1] == {1.0: -4.0}


def test_ridge_penalties_extend_upwards_by_decades_and_ties_go_to_the_larger_penalty():
    best, scores = extended_grid_search(DEFAULT_ALPHA_GRID, peaked_at(3e5), ALPHA_BOUNDS, larger_regularises_more=True)
    assert best == 1e5 and sorted(scores)[-2:] == [1e5, 1e6]
    best, _ = extended_grid_search(DEFAULT_ALPHA_GRID, lambda value: 0.5, ALPHA_BOUNDS, larger_regularises_more=True)
    assert best == max(DEFAULT_ALPHA_GRID)


def test_the_probe_finds_a_c_below_the_grid_it_was_given():
    # Few training rows, many uninformative features: the Development optimum needs far more
    # regularisation than the grid offers.
    rng = np.random.default_rng(0)
    inventory = Inventory.parse("A,S,H,N")

    def sample(rows):
        classes = rng.integers(0, 4, size=rows)
        features = rng.normal(size=(rows, 400))
        features[:, :4] += 1.5 * np.eye(4)[classes]
        return features, classes

    (train, train_classes), (dev, dev_classes) = sample(80), sample(400)
    no_attributes = np.full((80, 3), np.nan), np.full((400, 3), np.nan)

    def fitted(extend_grids):
        return fit_probe(train, train_classes, no_attributes[0], dev, dev_classes, no_attributes[1], inventory, ["s"],
                         c_grid=(0.01, 0.1), extend_grids=extend_grids)

    extended, fixed = fitted(True), fitted(False)
    assert fixed.C == 0.01 and extended.C < 0.01
    dev_f1 = {row["value"]: row["dev_macro_f1"] for row in extended.selection if row["parameter"] == "C"}
    assert len(dev_f1) > 2 and dev_f1[extended.C] > dev_f1[0.01] + 0.01


def test_rows_without_a_class_or_attributes_count_as_absent():
    # The probe keeps one copy of the training matrix: rows without a class get weight 0 in the
    # classifier and rows without attributes are left out of the ridge, which must be the same fits
    # as on the labelled rows alone.
    rng = np.random.default_rng(3)
    inventory = Inventory.parse("A,S,H,N")
    directions = rng.normal(size=(4, 30))
    train = rng.normal(size=(300, 30)) * rng.uniform(0.5, 3, size=30) + rng.normal(size=30)
    classes = (train @ directions.T + rng.normal(scale=2, size=(300, 4))).argmax(axis=1)
    attributes = 4 + train[:, :3] * 0.3 + rng.normal(scale=0.5, size=(300, 3))
    classes[rng.random(300) < 0.3] = -1
    attributes[rng.random(300) < 0.2] = np.nan
    dev = train[:100] + rng.normal(scale=0.1, size=(100, 30))
    probe = fit_probe(train, classes, attributes, dev, classes[:100], attributes[:100], inventory, ["s"],
                      c_grid=(0.1,), alpha_grid=(10.0,))

    standardised = (train - probe.mean) / probe.scale
    labelled, known = classes >= 0, np.isfinite(attributes).all(axis=1)
    classifier = LogisticRegression(C=0.1, class_weight="balanced", tol=1e-12, max_iter=10**6).fit(
        standardised[labelled], classes[labelled])
    ridge = Ridge(alpha=10.0).fit(standardised[known], attributes[known])
    assert np.abs(probe.class_weight - classifier.coef_).max() < 1e-6 * np.abs(classifier.coef_).max()
    logits, predicted_attributes = probe.predict(dev)
    expected = np.clip(ridge.predict((dev - probe.mean) / probe.scale), 1, 7)
    assert np.abs(predicted_attributes - expected).max() < 1e-8
    assert (logits.argmax(axis=1) == classifier.predict((dev - probe.mean) / probe.scale)).all()
