"""Training and evaluation data: a manifest split joined with its feature stores, read lazily.

Reads ``<manifest_dir>/<split>/manifest.csv`` and ``<features_dir>/<stream>/<split>/`` for every
stream (``toolkit.features.store.FeatureStore``), or ``<features_dir>/<stream>/<store_split>/``
when every split reads one store extracted over all utterances (the fold recipes). Targets and
class indices are over the training manifest's inventory (``toolkit.data.inventory``). Only ids, frame counts and labels are held in
memory; features are read from the memory-mapped stores one utterance at a time, inside the
DataLoader workers. Batches are formed by length bucketing: utterances are shuffled, cut into
pools of ``bucket_pool_batches`` batches, sorted by length inside each pool and batched, and
the batch order is shuffled, so padding stays small while every epoch sees a new order.
Writes nothing.
"""

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import numpy as np

from toolkit.data.inventory import read_inventory
from toolkit.data.manifest import attribute_matrix, consensus_class_indices, read_manifest, soft_label_matrix
from toolkit.emotions import CHALLENGE, Inventory
from toolkit.features.store import FeatureStore
from toolkit.models.deepser import StreamSpec
from toolkit.utils.errors import ToolkitError

logger = logging.getLogger(__name__)


@dataclass
class SplitData:
    """What one split contributes: ids, per-stream lengths and (for labelled splits) targets."""

    split: str
    file_names: List[str]
    store_dirs: List[Path]
    lengths: np.ndarray                     # (n, streams) frames per utterance and stream
    class_indices: np.ndarray               # (n,) consensus class index, -1 for X/O/unlabelled
    attributes: np.ndarray                  # (n, 3), NaN where unknown
    targets: Optional[np.ndarray] = None    # (n, classes) training distributions; None outside training
    skipped: Dict[str, int] = field(default_factory=dict)
    inventory: Inventory = CHALLENGE        # the classes of ``class_indices`` and ``targets``

    def __len__(self) -> int:
        return len(self.file_names)

    @property
    def total_lengths(self) -> np.ndarray:
        return self.lengths.sum(axis=1)


def manifest_path(manifest_dir, split: str) -> Path:
    return Path(manifest_dir) / split / "manifest.csv"


def store_dir(features_dir, stream: str, split: str) -> Path:
    return Path(features_dir) / stream / split


def stream_specs(features_dir, streams: Sequence[str], split: str) -> List[StreamSpec]:
    """Input widths of each stream from its store's meta (``num_layers`` > 1: stacked layers)."""
    specs = []
    for stream in streams:
        store = FeatureStore(store_dir(features_dir, stream, split))
        num_layers = int(store.meta.get("num_layers", 1) or 1)
        if store.dim % num_layers:
            raise ToolkitError(
                f"{store.store_dir}/meta.json: dim {store.dim} is not a multiple of num_layers {num_layers}; "
                "re-extract the store"
            )
        specs.append(StreamSpec(stream, store.dim // num_layers, num_layers))
    return specs


def _open_stores(features_dir, streams: Sequence[str], split: str) -> List[FeatureStore]:
    stores = []
    for stream in streams:
        path = store_dir(features_dir, stream, split)
        if not path.is_dir():
            raise ToolkitError(
                f"{path}: no feature store for stream {stream!r}, split {split!r}; run toolkit extract for it "
                "or fix data.features_dir / data.streams"
            )
        stores.append(FeatureStore(path))
    reference = set(stores[0].ids)
    for stream, store in zip(streams[1:], stores[1:]):
        other = set(store.ids)
        if other != reference:
            only_first = sorted(reference - other)[:3]
            only_other = sorted(other - reference)[:3]
            raise ToolkitError(
                f"feature streams disagree on the utterances of split {split!r}: {stores[0].store_dir} has "
                f"{len(reference - other)} id(s) missing from {store.store_dir} (first: {', '.join(only_first) or '-'}), "
                f"which has {len(other - reference)} id(s) the other lacks (first: {', '.join(only_other) or '-'}); "
                "re-extract the streams over the same manifest"
            )
    return stores


def _training_targets(frame, class_indices: np.ndarray, attributes: np.ndarray, kind: str, ambiguous_rows: str,
                      source: Path, inventory: Inventory):
    """(targets, keep mask, skipped counts) for the training split under the configured target rule."""
    count = len(frame)
    one_hot = np.zeros((count, inventory.num_classes), dtype=np.float32)
    has_class = class_indices >= 0
    one_hot[np.flatnonzero(has_class), class_indices[has_class]] = 1.0
    skipped: Dict[str, int] = {}
    if kind == "onehot":
        if ambiguous_rows == "attributes":
            # An all-zero class target adds nothing to the cross-entropy; the row still trains the attributes.
            attribute_only = ~has_class & np.isfinite(attributes).any(axis=1)
            if attribute_only.any():
                logger.info("%s: %d row(s) without a consensus class train the attribute head only",
                            source, int(attribute_only.sum()))
            keep = has_class | attribute_only
            skipped["neither a consensus class nor a known attribute"] = int((~keep).sum())
        else:
            keep = has_class
            skipped["no consensus class (X/O/empty) under one-hot targets"] = int((~keep).sum())
        return one_hot, keep, skipped
    has_columns = all(column in frame.columns for column in inventory.soft_columns)
    soft = soft_label_matrix(frame, inventory) if has_columns else np.full((count, inventory.num_classes), np.nan)
    if np.any(soft < 0):
        row = int(np.flatnonzero((soft < 0).any(axis=1))[0])
        raise ToolkitError(f"{source}:{row + 2}: negative soft label for {frame['FileName'].iloc[row]}")
    mass = np.nansum(soft, axis=1)
    has_soft = np.isfinite(soft).all(axis=1) & (mass > 0)
    targets = np.where(has_soft[:, None], soft / np.where(mass > 0, mass, 1.0)[:, None], one_hot).astype(np.float32)
    keep = has_soft | has_class
    fallback = int((~has_soft & has_class).sum())
    if fallback:
        logger.info("%s: %d row(s) without soft labels use their consensus class as a one-hot target", source, fallback)
    skipped["neither soft labels nor a consensus class"] = int((~keep).sum())
    return targets, keep, skipped


def load_split(manifest_dir, features_dir, streams: Sequence[str], split: str,
               targets: Optional[str] = None, inventory: Optional[Inventory] = None,
               store_split: str = "", ambiguous_rows: str = "skip") -> SplitData:
    """Join a split's manifest with its stores; ``targets`` ("soft"/"onehot") builds training targets.

    ``inventory``: the classes to index (default: the split's own, from its manifest); a
    Development split is read with the training split's. ``store_split``: read the features of
    every split from ``<features_dir>/<stream>/<store_split>/`` (default: the split's own store).
    ``ambiguous_rows``: under one-hot targets, "skip" rows without a consensus class or keep them
    for the "attributes" loss (``loss.ambiguous_rows``).
    Raises ``ToolkitError`` for a missing or empty split, streams that disagree on the utterance
    set, and manifest rows without features. Rows unusable for training are counted and logged.
    """
    path = manifest_path(manifest_dir, split)
    frame = read_manifest(path)
    if len(frame) == 0:
        raise ToolkitError(f"{path}: split {split!r} is empty; re-run stage 0 or fix data.manifest_dir")
    inventory = inventory or read_inventory(path)
    stores = _open_stores(features_dir, streams, store_split or split)
    missing = [name for name in frame["FileName"] if name not in stores[0]]
    if missing:
        raise ToolkitError(
            f"{path}: {len(missing)} utterance(s) have no features in {stores[0].store_dir} "
            f"(first: {', '.join(missing[:3])}); re-run extraction or check its failure report"
        )
    class_indices = (consensus_class_indices(frame, inventory) if "EmoClass" in frame.columns
                     else np.full(len(frame), -1))
    attributes = attribute_matrix(frame) if "EmoAct" in frame.columns else np.full((len(frame), 3), np.nan)
    keep = np.ones(len(frame), dtype=bool)
    target_matrix, skipped = None, {}
    if targets is not None:
        target_matrix, keep, skipped = _training_targets(frame, class_indices, attributes, targets, ambiguous_rows,
                                                         path, inventory)
        for reason, number in skipped.items():
            if number:
                logger.warning("%s: skipped %d of %d row(s) for training: %s", path, number, len(frame), reason)
        if not keep.any():
            raise ToolkitError(f"{path}: no row of split {split!r} has a usable training target")
        target_matrix = target_matrix[keep]
    file_names = list(frame["FileName"][keep])
    lengths = np.array([[store.num_frames(name) for store in stores] for name in file_names], dtype=np.int64)
    return SplitData(split, file_names, [store.store_dir for store in stores], lengths.reshape(len(file_names), -1),
                     class_indices[keep], attributes[keep].astype(np.float32), target_matrix, skipped, inventory)


def check_classes_present(data: SplitData) -> None:
    """Warn, with counts, about classes without training mass (their logits cannot be learned); fail
    when fewer than 2 classes can be learned."""
    mass = data.targets.sum(axis=0)
    inventory = data.inventory
    counts = np.bincount(data.class_indices[data.class_indices >= 0], minlength=inventory.num_classes)
    absent = [code for code, value in zip(inventory.codes, mass) if value <= 0]
    trainable = inventory.num_classes - len(absent)
    described = ", ".join(f"{code} ({inventory.name_of(code)})" for code in absent)
    if trainable < 2:
        raise ToolkitError(
            f"split {data.split!r}: only {trainable} of the {inventory.num_classes} classes ({inventory.describe()}) "
            f"have training examples; a classifier needs 2. Check the manifest's EmoClass/soft_* columns"
        )
    if absent:
        present = ", ".join(f"{code} {int(count)}" for code, count in zip(inventory.codes, counts) if count)
        logger.warning(
            "split %r: class(es) %s have no training examples, so the model never predicts them; training on the "
            "other %d (consensus rows per class: %s). Check the manifest or the corpus subset if this is unexpected",
            data.split, described, trainable, present,
        )


class FeatureDataset:
    """Map-style dataset: index → (index, [float32 (frames, dim) per stream]). Opens stores lazily."""

    def __init__(self, data: SplitData, max_frames: int = 0):
        self.data = data
        self.max_frames = max_frames
        self._stores: Optional[List[FeatureStore]] = None

    def __len__(self) -> int:
        return len(self.data)

    def __getstate__(self):
        # Workers open their own memory maps instead of receiving pickled copies of the data.
        return {**self.__dict__, "_stores": None}

    def __getitem__(self, index: int):
        if self._stores is None:
            self._stores = [FeatureStore(path) for path in self.data.store_dirs]
        name = self.data.file_names[index]
        arrays = []
        for store in self._stores:
            array = store[name]
            if self.max_frames:
                array = array[: self.max_frames]
            array = np.asarray(array, dtype=np.float32)
            if not np.isfinite(array).all():
                raise ToolkitError(
                    f"{store.store_dir}: features of {name} contain NaN or infinite values; "
                    "re-extract this utterance (delete the store's shard and re-run toolkit extract)"
                )
            arrays.append(array)
        return index, arrays


def collate(batch):
    """Pad a list of dataset items into per-stream tensors and key-padding masks (True = padding)."""
    import torch

    from toolkit.training.inference import pad_batch

    indices = torch.tensor([index for index, _ in batch], dtype=torch.long)
    padded = [pad_batch([arrays[stream] for _, arrays in batch]) for stream in range(len(batch[0][1]))]
    return {"indices": indices, "features": [x for x, _ in padded], "masks": [m for _, m in padded]}


def bucket_batches(indices: np.ndarray, lengths: np.ndarray, batch_size: int, pool_batches: int,
                   rng: np.random.Generator) -> List[List[int]]:
    """Shuffled batches of similar-length utterances (``pool_batches=1`` gives plain random batches)."""
    order = np.asarray(indices)[rng.permutation(len(indices))]
    pool = batch_size * pool_batches
    batches = []
    for start in range(0, len(order), pool):
        chunk = order[start : start + pool]
        if pool_batches > 1:
            chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
        batches.extend(chunk[i : i + batch_size].tolist() for i in range(0, len(chunk), batch_size))
    return [batches[i] for i in rng.permutation(len(batches))]


def eval_batches(lengths: np.ndarray, batch_size: int) -> List[List[int]]:
    """Deterministic length-sorted batches covering every utterance once."""
    order = np.argsort(lengths, kind="stable")
    return [order[i : i + batch_size].tolist() for i in range(0, len(order), batch_size)]


def balanced_subset(class_indices: np.ndarray, num_classes: int, rng: np.random.Generator) -> np.ndarray:
    """MEDUSA stage 2: every consensus class undersampled to the smallest, plus as many X/O rows.

    ``class_indices`` is -1 for rows without a consensus class of the inventory (the ambiguous
    rows). Classes without consensus rows are left out (``check_classes_present`` warned of them).
    """
    per_class = [rows for rows in (np.flatnonzero(class_indices == c) for c in range(num_classes)) if len(rows)]
    if len(per_class) < 2:
        raise ToolkitError(
            f"stage 2 balances consensus classes, and only {len(per_class)} class(es) have consensus rows; "
            "skip stage 2 for this corpus or add data"
        )
    smallest = min(len(rows) for rows in per_class)
    ambiguous = np.flatnonzero(class_indices < 0)
    chosen = [rng.choice(rows, size=smallest, replace=False) for rows in per_class]
    if len(ambiguous):
        chosen.append(rng.choice(ambiguous, size=min(smallest, len(ambiguous)), replace=False))
    return np.sort(np.concatenate(chosen))
