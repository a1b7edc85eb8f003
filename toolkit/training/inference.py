"""Run a trained DeepSER member on a batch of utterances given as in-memory feature arrays.

Used by the trainer's evaluation, by the ensemble stage and by ``toolkit predict``. Reads and
writes nothing.
"""

from typing import Mapping, Sequence, Tuple

import numpy as np

from toolkit.utils.errors import ToolkitError


def pad_batch(arrays: Sequence[np.ndarray]):
    """(batch, frames, dim) float32 tensor and key-padding mask (True = padding) from (frames, dim) arrays."""
    import torch

    longest = max(array.shape[0] for array in arrays)
    padded = torch.zeros(len(arrays), longest, arrays[0].shape[1])
    mask = torch.ones(len(arrays), longest, dtype=torch.bool)
    for row, array in enumerate(arrays):
        padded[row, : array.shape[0]] = torch.from_numpy(np.asarray(array, dtype=np.float32))
        mask[row, : array.shape[0]] = False
    return padded, mask


def predict_batch(model, features_by_stream: Mapping[str, Sequence[np.ndarray]]) -> Tuple[np.ndarray, np.ndarray]:
    """Logits (n, classes, in the order of the member's inventory) and attributes (n, 3, ``EmoAct,
    EmoVal, EmoDom`` on 1-7).

    ``model``: a DeepSER, e.g. from ``toolkit.training.checkpoint.load_member``.
    ``features_by_stream``: stream name → list of n arrays (frames, dim), one per utterance, same
    utterance order in every stream (float16 store views are fine). Utterances of different
    lengths are padded and masked, so each result equals the utterance run alone.
    """
    import torch

    names = [spec.name for spec in model.streams]
    missing = [name for name in names if name not in features_by_stream]
    if missing:
        raise ToolkitError(f"this model needs feature stream(s) {', '.join(missing)}; it was trained on {', '.join(names)}")
    counts = {len(features_by_stream[name]) for name in names}
    if len(counts) != 1 or 0 in counts:
        raise ToolkitError(f"every stream needs the same non-zero number of utterances, got {sorted(counts)}")
    device = next(model.parameters()).device
    features, masks = [], []
    for spec in model.streams:
        arrays = features_by_stream[spec.name]
        for array in arrays:
            if array.ndim != 2 or array.shape[1] != spec.store_dim or array.shape[0] == 0:
                raise ToolkitError(
                    f"stream {spec.name}: expected arrays of shape (frames>0, {spec.store_dim}), got {array.shape}"
                )
        padded, mask = pad_batch(arrays)
        features.append(padded.to(device))
        masks.append(mask.to(device))
    was_training = model.training
    model.eval()
    with torch.no_grad():
        logits, attributes = model(features, masks)
    model.train(was_training)
    return logits.float().cpu().numpy(), attributes.float().cpu().numpy()
