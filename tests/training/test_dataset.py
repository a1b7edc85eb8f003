import logging
import re

import numpy as np
import pandas as pd
import pytest

from tests.training.corpus import write_corpus
from toolkit.features.store import FeatureShardWriter, merge_store
from toolkit.training.dataset import (
    FeatureDataset,
    balanced_subset,
    bucket_batches,
    check_classes_present,
    collate,
    eval_batches,
    load_split,
    stream_specs,
)
from toolkit.utils.errors import ToolkitError


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return write_corpus(tmp_path_factory.mktemp("corpus"), num_layers={"text": 2})


def _load(root, split="train", targets="soft", streams=("acoustic", "text")):
    return load_split(root / "data", root / "features", list(streams), split, targets=targets)


def test_soft_targets_keep_ambiguous_rows_and_onehot_counts_what_it_skips(corpus, caplog):
    soft = _load(corpus)
    assert len(soft) == 36 and (soft.class_indices < 0).sum() == 4
    np.testing.assert_allclose(soft.targets.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(soft.targets[soft.class_indices < 0][:, [0, 7]], 0.5)
    with caplog.at_level(logging.WARNING):
        onehot = _load(corpus, targets="onehot")
    assert len(onehot) == 32 and onehot.skipped["no consensus class (X/O/empty) under one-hot targets"] == 4
    assert "skipped 4 of 36" in caplog.text
    np.testing.assert_array_equal(onehot.targets.argmax(axis=1), onehot.class_indices)


def test_onehot_targets_can_keep_ambiguous_rows_for_their_attributes(corpus):
    data = load_split(corpus / "data", corpus / "features", ["acoustic", "text"], "train", targets="onehot",
                      ambiguous_rows="attributes")
    ambiguous = data.class_indices < 0
    assert len(data) == 36 and ambiguous.sum() == 4
    assert data.skipped == {"neither a consensus class nor a known attribute": 0}
    np.testing.assert_array_equal(data.targets[ambiguous], 0.0)
    assert np.isfinite(data.attributes[ambiguous]).all()
    np.testing.assert_array_equal(data.targets[~ambiguous].argmax(axis=1), data.class_indices[~ambiguous])


def test_items_are_float32_views_of_the_store_and_collate_masks_padding(corpus):
    data = _load(corpus)
    dataset = FeatureDataset(data, max_frames=5)
    index, arrays = dataset[0]
    assert index == 0 and [a.dtype for a in arrays] == [np.float32, np.float32]
    assert arrays[1].shape[1] == 8 and all(a.shape[0] <= 5 for a in arrays)
    batch = collate([dataset[i] for i in range(4)])
    for stream, mask in enumerate(batch["masks"]):
        lengths = [min(int(data.lengths[i, stream]), 5) for i in range(4)]
        assert (~mask).sum(dim=1).tolist() == lengths


def test_stream_specs_read_stacked_layers_from_store_meta(corpus):
    acoustic, text = stream_specs(corpus / "features", ["acoustic", "text"], "train")
    assert (acoustic.dim, acoustic.num_layers) == (6, 1)
    assert (text.dim, text.num_layers, text.store_dim) == (4, 2, 8)


def test_bucketing_covers_every_index_once_and_cuts_padding():
    rng = np.random.default_rng(0)
    lengths = rng.integers(10, 1000, size=500)
    indices = np.arange(500)
    bucketed = bucket_batches(indices, lengths, 16, 10, np.random.default_rng(1))
    plain = bucket_batches(indices, lengths, 16, 1, np.random.default_rng(1))
    for batches in (bucketed, plain):
        assert sorted(i for batch in batches for i in batch) == list(range(500))

    def padding(batches):
        return sum(max(lengths[b]) * len(b) - lengths[b].sum() for b in batches)

    assert padding(bucketed) < 0.3 * padding(plain)
    assert bucket_batches(indices, lengths, 16, 10, np.random.default_rng(1)) == bucketed
    assert sorted(i for b in eval_batches(lengths, 7) for i in b) == list(range(500))


def test_balanced_subset_undersamples_to_smallest_class_plus_ambiguous_draw():
    classes = np.array([c for c in range(8) for _ in range(3 + 2 * c)] + [-1] * 20)
    first = balanced_subset(classes, 8, np.random.default_rng(0))
    counts = np.bincount(classes[first] + 1, minlength=9)
    assert counts.tolist() == [3] * 9
    second = balanced_subset(classes, 8, np.random.default_rng(1))
    assert not np.array_equal(first, second)


def test_balanced_subset_leaves_out_classes_without_rows_and_needs_two():
    classes = np.array([0] * 5 + [1] * 2 + [3] * 4 + [-1] * 3)
    chosen = balanced_subset(classes, 4, np.random.default_rng(0))
    assert np.bincount(classes[chosen] + 1, minlength=5).tolist() == [2, 2, 2, 0, 2]
    with pytest.raises(ToolkitError, match="only 1 class"):
        balanced_subset(np.array([2, 2, -1]), 4, np.random.default_rng(0))


def _copy_manifest(root, dst, split, keep_rows=None, edit=None):
    frame = pd.read_csv(root / "data" / split / "manifest.csv", dtype=str, keep_default_na=False)
    if keep_rows is not None:
        frame = frame.iloc[keep_rows]
    if edit is not None:
        frame = edit(frame)
    path = dst / "data" / split / "manifest.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)
    return frame


def _store(path, items, dim=3):
    writer = FeatureShardWriter(path, 1, 1, dim, {"encoder": "synthetic", "model": "x", "layers": "last"})
    for name, array in items.items():
        writer.add(name, array)
    writer.close()
    merge_store(path, 1)


def test_streams_that_disagree_on_utterances_are_an_error(corpus, tmp_path):
    frame = _copy_manifest(corpus, tmp_path, "train")
    names = list(frame["FileName"])
    _store(tmp_path / "features" / "a" / "train", {n: np.ones((2, 3)) for n in names})
    _store(tmp_path / "features" / "b" / "train", {n: np.ones((2, 3)) for n in names[:-1]})
    with pytest.raises(ToolkitError, match=r"disagree.*1 id\(s\) missing.*" + names[-1]):
        _load(tmp_path, streams=("a", "b"))


def test_nan_features_name_the_utterance_and_store(corpus, tmp_path):
    frame = _copy_manifest(corpus, tmp_path, "train")
    names = list(frame["FileName"])
    items = {n: np.ones((2, 3)) for n in names}
    items[names[3]] = np.array([[1.0, np.nan, 0.0]])
    _store(tmp_path / "features" / "a" / "train", items)
    dataset = FeatureDataset(_load(tmp_path, streams=("a",)))
    dataset[0]
    with pytest.raises(ToolkitError, match=f"features of {names[3]} contain NaN"):
        dataset[3]


def test_empty_split_is_an_error(corpus, tmp_path):
    _copy_manifest(corpus, tmp_path, "train", keep_rows=[])
    with pytest.raises(ToolkitError, match="split 'train' is empty"):
        _load(tmp_path)


def test_missing_store_names_the_stream_and_the_fix(corpus):
    with pytest.raises(ToolkitError, match="no feature store for stream 'nope'.*toolkit extract"):
        _load(corpus, streams=("acoustic", "nope"))


def test_a_class_absent_from_training_is_a_warning_with_counts_and_one_class_an_error(corpus, tmp_path, caplog):
    def drop_fear(frame):
        frame = frame[frame["EmoClass"] != "F"].copy()
        frame["soft_F"] = "0"
        return frame

    frame = _copy_manifest(corpus, tmp_path, "train", edit=drop_fear)
    _store(tmp_path / "features" / "a" / "train", {n: np.ones((2, 3)) for n in frame["FileName"]})
    data = _load(tmp_path, streams=("a",))
    with caplog.at_level(logging.WARNING):
        check_classes_present(data)
    assert re.search(r"F \(Fear\) have no training examples.*other 7 \(consensus rows per class: A 4, S 4, H 4, U 4, "
                     r"D 4, C 4, N 4\)", caplog.text)

    def only_anger(frame):
        frame = frame[frame["EmoClass"] == "A"].copy()
        for code in "SHUFDCN":
            frame[f"soft_{code}"] = "0"
        frame["soft_A"] = "1"
        return frame

    frame = _copy_manifest(corpus, tmp_path, "train", edit=only_anger)
    _store(tmp_path / "features" / "b" / "train", {n: np.ones((2, 3)) for n in frame["FileName"]})
    with pytest.raises(ToolkitError, match=r"only 1 of the 8 classes .* have training examples; a classifier needs 2"):
        check_classes_present(_load(tmp_path, streams=("b",)))
