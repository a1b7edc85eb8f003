"""Utterance vectors for probes: per-stream mean and standard deviation over frames, concatenated.

Reads feature stores (``toolkit.features.store.FeatureStore``) one utterance at a time and writes
nothing: the result is one float32 matrix of ``rows x sum(2 x dim)``, the only thing held in
memory (for MSP-Podcast's 116k utterances and one 1024-d stream: 0.95 GB). The same function
pools arrays in memory for ``toolkit predict``, so a probe sees the same vectors at training and
inference.
"""

from typing import List, Sequence

import numpy as np
from tqdm import tqdm

from toolkit.features.store import FeatureStore


def pool_mean_std(frames: np.ndarray) -> np.ndarray:
    """(2 x dim,) mean then standard deviation of a (frames, dim) array, accumulated in float64."""
    values = np.asarray(frames, dtype=np.float64)
    return np.concatenate([values.mean(axis=0), values.std(axis=0)]).astype(np.float32)


def pool_utterances(arrays_by_stream: Sequence[Sequence[np.ndarray]]) -> np.ndarray:
    """(n, sum 2 x dim) pooled vectors of n utterances given as per-stream lists of (frames, dim) arrays."""
    return np.stack([np.concatenate([pool_mean_std(stream[row]) for stream in arrays_by_stream])
                     for row in range(len(arrays_by_stream[0]))])


def pool_split(store_dirs: Sequence, file_names: Sequence[str], description: str = "pooling") -> np.ndarray:
    """Pooled vectors of ``file_names`` from the stores ``store_dirs`` (one per stream, in order)."""
    stores: List[FeatureStore] = [FeatureStore(directory) for directory in store_dirs]
    width = sum(2 * store.dim for store in stores)
    pooled = np.empty((len(file_names), width), dtype=np.float32)
    for row, name in enumerate(tqdm(file_names, desc=description, unit="utt", leave=False)):
        pooled[row] = np.concatenate([pool_mean_std(store[name]) for store in stores])
    return pooled
