"""The manifest: one CSV per split, ``<data_dir>/<split>/manifest.csv``, one row per utterance.

Every corpus adapter writes it and every later stage reads it. The first eight columns are
MSP-Podcast's ``labels_consensus.csv`` columns kept verbatim (strings, empty when unknown);
the rest are added by stage 0. Readers keep every value as a string (no NaN guessing) and
convert on demand through the helpers below.
"""

from pathlib import Path
from typing import List, Sequence

import numpy as np

from toolkit.emotions import ATTRIBUTES, EMOTION_CODES, SOFT_COLUMNS
from toolkit.utils.atomic import PathLike, atomic_path
from toolkit.utils.errors import ToolkitError

CONSENSUS_COLUMNS: List[str] = [
    "FileName", "EmoClass", "EmoAct", "EmoVal", "EmoDom", "SpkrID", "Gender", "Split_Set",
]
MANIFEST_COLUMNS: List[str] = CONSENSUS_COLUMNS + [
    "path",          # absolute path to the wav
    "duration",      # seconds
    "sample_rate",   # Hz as found on disk (converted to 16 kHz when read)
    "num_channels",  # as found on disk (down-mixed when read)
    "n_annotators",  # annotators with a usable vote, 0 when no per-annotator labels
    *SOFT_COLUMNS,   # soft label distribution over ASHUFDCN, empty for unlabelled rows
    "text",          # human transcript, empty when absent
]

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
    """Write a manifest atomically, columns in the documented order, extra columns kept at the end."""
    ordered = [column for column in MANIFEST_COLUMNS if column in frame.columns]
    extra = [column for column in frame.columns if column not in MANIFEST_COLUMNS]
    with atomic_path(path) as temporary:
        frame[ordered + extra].to_csv(temporary, index=False)


def _floats(frame, columns: Sequence[str]) -> np.ndarray:
    """Columns as float64, NaN where empty."""
    # "nan" rather than np.nan: replacing with NaN makes pandas downcast (a FutureWarning)
    values = frame[list(columns)].replace("", "nan") if len(frame) else frame[list(columns)]
    return values.astype(np.float64).to_numpy()


def soft_label_matrix(frame) -> np.ndarray:
    """(rows, 8) soft labels; rows without soft labels are all-NaN."""
    return _floats(frame, SOFT_COLUMNS)


def attribute_matrix(frame) -> np.ndarray:
    """(rows, 3) EmoAct, EmoVal, EmoDom; NaN where unknown."""
    return _floats(frame, ATTRIBUTES)


def consensus_class_indices(frame) -> np.ndarray:
    """Index into ``EMOTION_CODES`` of each row's EmoClass, -1 for X, O, empty or unknown."""
    lookup = {code: index for index, code in enumerate(EMOTION_CODES)}
    return np.array([lookup.get(code, -1) for code in frame["EmoClass"]], dtype=np.int64)
