"""The feature store: frame-level features of one encoder over one split, on disk as float16.

Layout of a store directory::

    meta.json                     encoder, model path or revision, layer spec, dim, frame rate, version
    shards/<K>of<N>.f16           raw float16 rows (frames x dim), utterances back to back
    shards/<K>of<N>.index.tsv     FileName, offset (rows), frames; one line per finished utterance
    shards/.<K>of<N>.done         the shard finished
    index.tsv, .done              written by ``merge_store`` once every shard is done

Job K of N (``--nj N --job K``) writes only its own shard, so jobs on different machines never
touch the same file. Each utterance's rows are flushed before its index line is written, so a
killed job loses at most the utterance in flight: ``FeatureShardWriter`` truncates the data file
to the last indexed row and skips utterances already indexed. Readers memory-map the shard
files and return views, so no split is ever loaded into RAM.
"""

import json
import os
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np

from toolkit import __version__
from toolkit.utils.atomic import PathLike, atomic_path, atomic_write_json, atomic_write_text, is_done, mark_done
from toolkit.utils.errors import ToolkitError

DTYPE = np.float16
META_FILE = "meta.json"
INDEX_FILE = "index.tsv"


def shard_name(num_jobs: int, job: int) -> str:
    return f"{job}of{num_jobs}"


class FeatureShardWriter:
    """Appends utterances to one shard; resumable after a crash, finished with ``close()``."""

    def __init__(self, store_dir: PathLike, num_jobs: int, job: int, dim: int, meta: Dict):
        self.store_dir = Path(store_dir)
        self.name = shard_name(num_jobs, job)
        self.dim = int(dim)
        shard_dir = self.store_dir / "shards"
        shard_dir.mkdir(parents=True, exist_ok=True)
        self.data_path = shard_dir / f"{self.name}.f16"
        self.index_path = shard_dir / f"{self.name}.index.tsv"
        _write_or_check_meta(self.store_dir, {**meta, "dim": self.dim})
        self.finished: Dict[str, Tuple[int, int]] = _read_index(self.index_path) if self.index_path.exists() else {}
        # Rewrite the index without a line a crash cut short, so the next append starts a fresh line.
        atomic_write_text(self.index_path, "".join(
            f"{file_name}\t{offset}\t{frames}\n" for file_name, (offset, frames) in self.finished.items()
        ))
        self.rows = max((offset + frames for offset, frames in self.finished.values()), default=0)
        # Drop rows of an utterance that was being written when a previous run died.
        with open(self.data_path, "ab") as handle:
            handle.truncate(self.rows * self.dim * np.dtype(DTYPE).itemsize)
        self._data = open(self.data_path, "ab")
        self._index = open(self.index_path, "a", encoding="utf-8")

    def __contains__(self, file_name: str) -> bool:
        return file_name in self.finished

    def add(self, file_name: str, features: np.ndarray) -> None:
        self.add_many([(file_name, features)])

    def add_many(self, items: Sequence[Tuple[str, np.ndarray]]) -> None:
        """Append utterances with one sync to disk: all their rows first, then their index lines."""
        items = [(file_name, features) for file_name, features in items if file_name not in self.finished]
        for file_name, features in items:
            if features.ndim != 2 or features.shape[1] != self.dim:
                raise ValueError(f"{file_name}: expected features of shape (frames, {self.dim}), got {features.shape}")
            if features.shape[0] == 0:
                raise ValueError(f"{file_name}: encoder returned no frames")
        if not items:
            return
        for _, features in items:
            self._data.write(np.ascontiguousarray(features, dtype=DTYPE).tobytes())
        self._data.flush()
        os.fsync(self._data.fileno())
        for file_name, features in items:
            self._index.write(f"{file_name}\t{self.rows}\t{features.shape[0]}\n")
            self.finished[file_name] = (self.rows, features.shape[0])
            self.rows += features.shape[0]
        self._index.flush()

    def close(self, complete: bool = True) -> None:
        """Close the files; mark the shard done when every utterance of the job was written."""
        self._data.close()
        self._index.close()
        if complete:
            mark_done(self.store_dir / "shards", self.name)


def _write_or_check_meta(store_dir: Path, meta: Dict) -> None:
    meta = {**meta, "toolkit_version": __version__}
    path = store_dir / META_FILE
    if path.exists():
        existing = json.loads(path.read_text(encoding="utf-8"))
        keys = ("encoder", "model", "layers", "dim")
        if any(existing.get(key) != meta.get(key) for key in keys):
            raise ToolkitError(
                f"{path}: this store was written with a different encoder set-up "
                f"({ {k: existing.get(k) for k in keys} } vs { {k: meta.get(k) for k in keys} }); "
                "delete the directory or write to a new one"
            )
        return
    atomic_write_json(path, meta)


def _read_index(path: Path) -> Dict[str, Tuple[int, int]]:
    entries: Dict[str, Tuple[int, int]] = {}
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            parts = line.rstrip("\n").split("\t")
            if len(parts) != 3 or not line.endswith("\n"):
                # A line cut short by a crash: everything after it was never confirmed.
                break
            entries[parts[0]] = (int(parts[1]), int(parts[2]))
    return entries


def unfinished_shards(store_dir: PathLike, num_jobs: int) -> List[int]:
    shard_dir = Path(store_dir) / "shards"
    return [job for job in range(1, num_jobs + 1) if not is_done(shard_dir, shard_name(num_jobs, job))]


def merge_store(store_dir: PathLike, num_jobs: int) -> None:
    """Write the store's combined index once all ``num_jobs`` shards are done."""
    store_dir = Path(store_dir)
    missing = unfinished_shards(store_dir, num_jobs)
    if missing:
        raise ToolkitError(
            f"{store_dir}: shard(s) {', '.join(map(str, missing))} of {num_jobs} are unfinished; "
            f"re-run the extraction for those jobs (--nj {num_jobs} --job K) before merging"
        )
    with atomic_path(store_dir / INDEX_FILE) as temporary, open(temporary, "w", encoding="utf-8") as out:
        for job in range(1, num_jobs + 1):
            name = shard_name(num_jobs, job)
            for file_name, (offset, frames) in _read_index(store_dir / "shards" / f"{name}.index.tsv").items():
                out.write(f"{file_name}\t{name}\t{offset}\t{frames}\n")
    mark_done(store_dir)


class FeatureStore:
    """Read-only, memory-mapped access to a merged store: ``store[file_name]`` → (frames, dim)."""

    def __init__(self, store_dir: PathLike):
        self.store_dir = Path(store_dir)
        if not is_done(self.store_dir) or not (self.store_dir / INDEX_FILE).exists():
            raise ToolkitError(
                f"{self.store_dir}: not a finished feature store (no .done marker); run toolkit extract "
                "for every job and then merge it"
            )
        self.meta: Dict = json.loads((self.store_dir / META_FILE).read_text(encoding="utf-8"))
        self.dim: int = int(self.meta["dim"])
        self._entries: Dict[str, Tuple[str, int, int]] = {}
        with open(self.store_dir / INDEX_FILE, encoding="utf-8") as handle:
            for line in handle:
                file_name, name, offset, frames = line.rstrip("\n").split("\t")
                self._entries[file_name] = (name, int(offset), int(frames))
        self._maps: Dict[str, np.memmap] = {}

    @property
    def ids(self) -> List[str]:
        return list(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, file_name: str) -> bool:
        return file_name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def num_frames(self, file_name: str) -> int:
        return self._entries[self._key(file_name)][2]

    def __getitem__(self, file_name: str) -> np.ndarray:
        name, offset, frames = self._entries[self._key(file_name)]
        return self._map(name)[offset : offset + frames]

    def _key(self, file_name: str) -> str:
        if file_name not in self._entries:
            raise KeyError(f"{file_name} is not in the feature store {self.store_dir}")
        return file_name

    def _map(self, name: str) -> np.ndarray:
        if name not in self._maps:
            path = self.store_dir / "shards" / f"{name}.f16"
            rows = path.stat().st_size // (self.dim * np.dtype(DTYPE).itemsize)
            self._maps[name] = np.memmap(path, dtype=DTYPE, mode="r", shape=(rows, self.dim))
        return self._maps[name]


def open_store(store_dir: PathLike, expected_ids: Optional[List[str]] = None) -> FeatureStore:
    """Open a store and check that it covers ``expected_ids``, naming the first missing ones."""
    store = FeatureStore(store_dir)
    if expected_ids is not None:
        missing = [file_name for file_name in expected_ids if file_name not in store]
        if missing:
            raise ToolkitError(
                f"{store_dir}: {len(missing)} utterance(s) of the manifest have no features "
                f"(first: {', '.join(missing[:3])}); re-run extraction or check its failure report"
            )
    return store
