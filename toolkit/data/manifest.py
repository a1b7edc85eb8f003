"""The manifest: one CSV per split, ``<data_dir>/<split>/manifest.csv``, one row per utterance.

Every corpus adapter writes it and every later stage reads it. The first eight columns are
MSP-Podcast's ``labels_consensus.csv`` columns kept verbatim (strings, empty when unknown);
the rest are added by stage 0. Readers keep every value as a string (no NaN guessing) and
convert on demand through the helpers below.
"""

from pathlib import Path
from typing import List, Optional, Sequence

import numpy as np

from toolkit.data.inventory import SOFT_PREFIX
from toolkit.emotions import ATTRIBUTES, CHALLENGE, Inventory
from toolkit.utils.atomic import PathLike, atomic_path
from toolkit.utils.errors import ToolkitError

CONSENSUS_COLUMNS: List[str] = [
    "FileName", "EmoClass", "EmoAct", "EmoVal", "EmoDom", "SpkrID", "Gender", "Split_Set",
]
AUDIO_COLUMNS: List[str] = [
    "path",          # absolute path to the wav
    "duration",      # seconds
    "sample_rate",   # Hz as found on disk (converted to 16 kHz when read)
    "num_channels",  # as found on disk (down-mixed when read)
    "n_annotators",  # annotators with a usable vote, 0 when no per-annotator labels
]


def manifest_columns(inventory: Inventory) -> List[str]:
    """The documented columns of a manifest over ``inventory``: soft labels are ``soft_<code>``
    in inventory order (a distribution over its classes, empty for unlabelled rows)."""
    return CONSENSUS_COLUMNS + AUDIO_COLUMNS + list(inventory.soft_columns) + ["text"]


#: The columns of an MSP-Podcast (challenge inventory) manifest.
MANIFEST_COLUMNS: List[str] = manifest_columns(CHALLENGE)

#: Split names used as directory names under the data directory.
SPLIT_NAMES = {"Train": "train", "Development": "development", "Test1": "test1", "Test2": "test2", "Test3": "test3"}


def read_manifest(path: PathLike):
    """Read a manifest as a pandas DataFrame of strings; fail with a hint when it is not one."""
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise ToolkitError(f"{path}: manifest not found; run stage 0 (toolkit prepare ...) first")
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_filter=False)
    missing = [column for column in ("FileName", "path") if column not in frame.columns]
    if missing:
        raise ToolkitError(f"{path}: not a manifest, missing column(s) {', '.join(missing)}")
    return frame


def write_manifest(frame, path: PathLike) -> None:
    """Write a manifest atomically, columns in the documented order, extra columns kept at the end.

    The soft-label columns keep their order in ``frame``: it is the inventory's order.
    """
    soft = [column for column in frame.columns if column.startswith(SOFT_PREFIX)]
    documented = CONSENSUS_COLUMNS + AUDIO_COLUMNS + soft + ["text"]
    ordered = [column for column in documented if column in frame.columns]
    extra = [column for column in frame.columns if column not in documented]
    with atomic_path(path) as temporary:
        frame[ordered + extra].to_csv(temporary, index=False)


def _floats(frame, columns: Sequence[str]) -> np.ndarray:
    """Columns as float64, NaN where empty."""
    # "nan" rather than np.nan: replacing with NaN makes pandas downcast (a FutureWarning)
    values = frame[list(columns)].replace("", "nan") if len(frame) else frame[list(columns)]
    return values.astype(np.float64).to_numpy()


def soft_label_matrix(frame, inventory: Optional[Inventory] = None) -> np.ndarray:
    """(rows, classes) soft labels over ``inventory`` (default: the frame's own soft-label columns,
    in order); rows without soft labels are all-NaN."""
    columns = list(inventory.soft_columns) if inventory is not None else \
        [column for column in frame.columns if column.startswith(SOFT_PREFIX)]
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise ToolkitError(f"manifest has no soft-label column(s) {', '.join(missing)}; it was prepared for "
                           "another class inventory, re-run stage 0")
    return _floats(frame, columns)


def attribute_matrix(frame) -> np.ndarray:
    """(rows, 3) EmoAct, EmoVal, EmoDom; NaN where unknown."""
    return _floats(frame, ATTRIBUTES)


def consensus_class_indices(frame, inventory: Inventory) -> np.ndarray:
    """Index into ``inventory`` of each row's EmoClass, -1 for X, O, empty or a class outside it."""
    lookup = {code: index for index, code in enumerate(inventory.codes)}
    return np.array([lookup.get(code, -1) for code in frame["EmoClass"]], dtype=np.int64)
