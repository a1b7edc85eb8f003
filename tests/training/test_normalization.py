import numpy as np
import pytest
import torch

from tests.training.corpus import write_corpus
from toolkit.features.store import FeatureStore
from toolkit.models.deepser import DeepSER, StreamSpec
from toolkit.training.dataset import load_split
from toolkit.training.normalization import feature_statistics


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return write_corpus(tmp_path_factory.mktemp("corpus"), per_class=2)


def _split(corpus):
    return load_split(corpus / "data", corpus / "features", ["acoustic", "text"], "train")


def test_statistics_are_the_mean_and_std_of_every_frame_of_each_stream(corpus):
    data = _split(corpus)
    statistics = feature_statistics(data, max_utterances=0)
    assert len(statistics) == 2
    for store_dir, (mean, std) in zip(data.store_dirs, statistics):
        store = FeatureStore(store_dir)
        frames = np.concatenate([np.asarray(store[name], dtype=np.float64) for name in data.file_names])
        np.testing.assert_allclose(mean, frames.mean(axis=0), rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(std, frames.std(axis=0), rtol=1e-4, atol=1e-5)
        assert mean.dtype == np.float32 and mean.shape == (store.dim,)


def test_a_sample_of_utterances_is_seeded_and_bounded(corpus):
    data = _split(corpus)
    first = feature_statistics(data, max_utterances=3, seed=5)
    again = feature_statistics(data, max_utterances=3, seed=5)
    everything = feature_statistics(data, max_utterances=0)
    np.testing.assert_array_equal(first[0][0], again[0][0])
    assert not np.allclose(first[0][0], everything[0][0])


def test_a_model_with_statistics_sees_normalised_features():
    streams = [StreamSpec("a", 3), StreamSpec("b", 2)]
    torch.manual_seed(0)
    normalising = DeepSER(streams, hidden_dim=8, ff_dim=16).eval()
    plain = DeepSER(streams, hidden_dim=8, ff_dim=16).eval()
    plain.load_state_dict(normalising.state_dict())
    means = [np.array([15.0, -2.0, 0.5], np.float32), np.array([1.0, 3.0], np.float32)]
    stds = [np.array([4.0, 0.5, 2.0], np.float32), np.array([1.5, 0.1], np.float32)]
    normalising.set_input_statistics(list(zip(means, stds)))
    features = [torch.randn(2, 5, 3) * 4 + 15, torch.randn(2, 4, 2)]
    masks = [torch.zeros(2, 5, dtype=torch.bool), torch.zeros(2, 4, dtype=torch.bool)]
    normalised = [(x - torch.from_numpy(m)) / torch.from_numpy(s) for x, m, s in zip(features, means, stds)]
    with torch.no_grad():
        torch.testing.assert_close(normalising(features, masks)[0], plain(normalised, masks)[0])
    # The statistics are buffers: a checkpoint's state dict carries them to stage 2 and inference.
    assert torch.equal(normalising.state_dict()["legs.0.input_mean"], torch.from_numpy(means[0]))
