import numpy as np
import pytest

from toolkit.ensemble.meta_classifier import LinearWeights
from toolkit.ensemble.soup import average_weights, fit_soup, soup_run_rows
from toolkit.utils.errors import ToolkitError


def test_soup_of_linear_layers_outputs_the_mean_of_their_outputs():
    rng = np.random.default_rng(0)
    runs = [LinearWeights(rng.normal(size=(11, 22)), rng.normal(size=11)) for _ in range(4)]
    inputs = rng.normal(size=(5, 22))
    soup = average_weights(runs)
    expected = np.mean([np.concatenate(run.apply(inputs), axis=1) for run in runs], axis=0)
    np.testing.assert_allclose(np.concatenate(soup.apply(inputs), axis=1), expected)


def test_runs_are_seeds_times_folds_each_leaving_one_fold_out():
    classes = np.repeat(np.arange(8), 5)
    plan = soup_run_rows(classes, runs=5, folds=3, seed=10)
    assert [seed for seed, _ in plan] == [10, 11, 12, 13, 14]
    left_out = [set(range(len(classes))) - set(rows.tolist()) for _, rows in plan]
    # Runs 0-2 leave out the three disjoint folds of one split; runs 3-4 come from a second split.
    assert set.union(*left_out[:3]) == set(range(len(classes)))
    assert not (left_out[0] & left_out[1]) and not (left_out[1] & left_out[2])
    assert left_out[3] not in left_out[:3]


def test_fit_soup_averages_its_runs():
    rng = np.random.default_rng(1)
    classes = rng.integers(0, 8, 120)
    inputs = np.eye(8)[classes] + rng.normal(0, 0.3, (120, 8))
    attributes = rng.uniform(1, 7, (120, 3))
    soup, runs = fit_soup(inputs, classes, attributes, runs=3, folds=3, seed=0)
    assert len(runs) == 3
    assert not np.allclose(runs[0].weight, runs[1].weight)
    np.testing.assert_allclose(soup.weight, np.mean([run.weight for run in runs], axis=0))


def test_empty_soup_is_an_error():
    with pytest.raises(ToolkitError, match="--soup-runs"):
        average_weights([])
