"""Per-stream input normalisation: global mean and standard deviation of each feature dimension.

Reads a seeded random sample of a training split's utterances from its feature stores (one
utterance at a time, so memory stays bounded by one utterance and the running sums) and returns
one ``(mean, std)`` pair of float32 vectors per stream. Writes nothing: the trainer stores the
statistics as buffers of the model (``DeepSER.set_input_statistics``), so every checkpoint, the
soup and ``toolkit predict`` apply exactly the normalisation the member was trained with.

Why: Kaldi filterbanks sit around 15 with a spread of a few units, SSL features around 0; a
DeepSER fed raw filterbanks did not learn at all on the mini corpus (flat training loss over
6 epochs); with the global mean-variance normalisation of ESPnet's ``global_mvn`` it learns.
"""

import logging
from typing import List, Tuple

import numpy as np

from toolkit.features.store import FeatureStore
from toolkit.training.dataset import SplitData

logger = logging.getLogger(__name__)

#: A floor on the standard deviation, so a constant dimension is centred rather than blown up.
MIN_STD = 1e-5


def feature_statistics(data: SplitData, max_utterances: int, seed: int = 0) -> List[Tuple[np.ndarray, np.ndarray]]:
    """(mean, std) per stream over at most ``max_utterances`` utterances of ``data`` (0: all)."""
    count = len(data)
    chosen = np.arange(count)
    if 0 < max_utterances < count:
        chosen = np.sort(np.random.default_rng(seed).choice(count, size=max_utterances, replace=False))
    statistics = []
    for store_dir in data.store_dirs:
        store = FeatureStore(store_dir)
        total = np.zeros(store.dim, dtype=np.float64)
        squares = np.zeros(store.dim, dtype=np.float64)
        frames = 0
        for index in chosen:
            array = np.asarray(store[data.file_names[index]], dtype=np.float64)
            total += array.sum(axis=0)
            squares += np.square(array).sum(axis=0)
            frames += len(array)
        mean = total / max(frames, 1)
        std = np.sqrt(np.maximum(squares / max(frames, 1) - np.square(mean), 0.0))
        statistics.append((mean.astype(np.float32), np.maximum(std, MIN_STD).astype(np.float32)))
        logger.info("%s: input normalisation from %d utterance(s), %d frame(s): mean of means %.3f, mean std %.3f",
                    store_dir, len(chosen), frames, float(mean.mean()), float(std.mean()))
    return statistics
