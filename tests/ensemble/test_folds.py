import numpy as np
import pytest

from toolkit.ensemble.folds import stratified_folds, training_rows
from toolkit.utils.errors import ToolkitError


def test_folds_are_disjoint_cover_every_row_and_keep_class_shares():
    classes = np.repeat(np.arange(-1, 8), 10)
    folds = stratified_folds(classes, 5, seed=1)
    joined = np.concatenate(folds)
    assert sorted(joined.tolist()) == list(range(len(classes)))
    for held_out in folds:
        assert np.bincount(classes[held_out] + 1).tolist() == [2] * 9
        assert set(training_rows(len(classes), held_out)).isdisjoint(held_out)


def test_folds_depend_on_the_seed_only():
    classes = np.repeat(np.arange(8), 6)
    first = stratified_folds(classes, 3, seed=7)
    assert all((a == b).all() for a, b in zip(first, stratified_folds(classes, 3, seed=7)))
    assert any((a != b).any() for a, b in zip(first, stratified_folds(classes, 3, seed=8)))


@pytest.mark.parametrize("folds, rows", [(1, 10), (5, 3)])
def test_impossible_fold_counts_are_errors(folds, rows):
    with pytest.raises(ToolkitError, match="--folds"):
        stratified_folds(np.zeros(rows, dtype=np.int64), folds, seed=0)


def test_tiny_corpora_without_enough_rows_per_class_get_unstratified_folds():
    classes = np.arange(-1, 8)
    folds = stratified_folds(classes, 3, seed=0)
    assert sorted(np.concatenate(folds).tolist()) == list(range(9))
    assert [len(f) for f in folds] == [3, 3, 3]
