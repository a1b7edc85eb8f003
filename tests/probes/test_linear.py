"""The linear probe's fit (toolkit/probes/linear.py)."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from toolkit.emotions import Inventory
from toolkit.probes.linear import DEFAULT_C_GRID, fit_probe


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
