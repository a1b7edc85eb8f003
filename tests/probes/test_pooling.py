import numpy as np

from tests.training.corpus import write_corpus
from toolkit.features.store import FeatureStore
from toolkit.probes.pooling import pool_mean_std, pool_split, pool_utterances


def test_pooled_vector_is_mean_then_std_per_stream_concatenated(tmp_path):
    frames = np.array([[1.0, 2.0], [3.0, 6.0]], dtype=np.float16)
    np.testing.assert_allclose(pool_mean_std(frames), [2.0, 4.0, 1.0, 2.0])
    root = write_corpus(tmp_path, per_class=1, ambiguous=0)
    stores = [root / "features" / name / "train" for name in ("acoustic", "text")]
    names = FeatureStore(stores[0]).ids[:3]
    pooled = pool_split(stores, names)
    assert pooled.shape == (3, 2 * 6 + 2 * 4) and pooled.dtype == np.float32
    in_memory = pool_utterances([[FeatureStore(s)[n] for n in names] for s in stores])
    np.testing.assert_array_equal(pooled, in_memory)
