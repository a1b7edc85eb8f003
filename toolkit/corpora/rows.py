"""Building manifest rows for corpus adapters: audio checks, header fields, soft-label columns.

Reads audio headers (``toolkit.data.audio.audio_info``) and the first bytes of suspicious files;
writes nothing. Shared by the generic adapter and the per-corpus adapters (IEMOCAP, CREMA-D,
RAVDESS, Emo-DB, EmoBox) so that every one of them writes the same columns and reports bad audio
with the same reason codes:

- ``apple_double``: a macOS ``._name.wav`` resource-fork file copied along with the corpus;
- ``git_lfs_pointer``: a Git LFS pointer text file in place of the audio (a clone without
  ``git lfs pull``, as happens with CREMA-D's GitHub repository);
- ``unreadable_audio``: anything soundfile cannot read.
"""

import math
from pathlib import Path
from typing import Dict, Iterable, List, Mapping, Optional, Tuple

import numpy as np

from toolkit.data.audio import audio_info
from toolkit.data.manifest import manifest_columns
from toolkit.emotions import CHALLENGE, Inventory
from toolkit.utils.errors import ToolkitError

LFS_SIGNATURE = b"version https://git-lfs.github.com/spec/"


def is_apple_double(path: Path) -> bool:
    """True for a macOS AppleDouble file (``._<name>``), which holds metadata, not audio."""
    return path.name.startswith("._")


def audio_problem(path: Path) -> Optional[Tuple[str, str]]:
    """(reason, message) when ``path`` is not usable audio, else None (no decoding, header only)."""
    if is_apple_double(path):
        return "apple_double", f"{path}: macOS AppleDouble metadata file, not audio; skipped"
    if not path.is_file():
        return "missing_audio", f"{path}: audio file not found; skipped"
    with open(path, "rb") as handle:
        start = handle.read(len(LFS_SIGNATURE))
    if start == LFS_SIGNATURE:
        return "git_lfs_pointer", (f"{path}: a Git LFS pointer file, not audio; run 'git lfs pull' in the corpus "
                                   "clone to fetch the audio; skipped")
    try:
        audio_info(path)
    except ToolkitError as error:
        return "unreadable_audio", f"{error}; skipped"
    return None


def utterance_row(file_name: str, wav: Path, code: str, speaker: str = "", gender: str = "",
                  attributes: Optional[Mapping[str, str]] = None, text: str = "", split_set: str = "") -> Dict[str, str]:
    """A manifest row (no soft-label columns yet: ``add_soft_labels`` fills them once the inventory is
    known). Raises ``ToolkitError`` when the audio header cannot be read."""
    info = audio_info(wav)
    row = {column: "" for column in manifest_columns(CHALLENGE) if not column.startswith("soft_")}
    row.update({
        "FileName": file_name, "EmoClass": code, "SpkrID": speaker or "Unknown", "Gender": gender,
        "Split_Set": split_set, "path": str(wav.resolve()), "duration": f"{info.duration:.3f}",
        "sample_rate": str(info.sample_rate), "num_channels": str(info.num_channels), "n_annotators": "0",
        "text": text,
    })
    row.update(attributes or {})
    return row


def add_soft_labels(rows: Iterable[Dict[str, str]], inventory: Inventory,
                    votes: Optional[Mapping[str, np.ndarray]] = None) -> List[Dict[str, str]]:
    """Fill each row's ``soft_<code>`` columns: the normalised ``votes[FileName]`` (one weight per class
    of ``inventory``) where it has mass, else one-hot on a target ``EmoClass``, else empty."""
    filled = []
    for row in rows:
        vector = None if votes is None else votes.get(row["FileName"])
        if vector is not None and float(np.sum(vector)) > 0:
            values = [f"{value:.6g}" for value in np.asarray(vector, dtype=np.float64) / float(np.sum(vector))]
        elif row["EmoClass"] in inventory.codes:
            values = ["1" if code == row["EmoClass"] else "0" for code in inventory.codes]
        else:
            values = [""] * inventory.num_classes
        filled.append({**row, **dict(zip(inventory.soft_columns, values))})
    return filled


def rescale_attribute(value: float, low: float, high: float) -> str:
    """A rating on ``[low, high]`` mapped linearly onto the toolkit's 1-7 scale, as manifest text;
    ValueError for a value that is not finite or lies outside the range."""
    if not math.isfinite(value):
        raise ValueError(f"attribute {value!r} is not a finite number")
    if not low <= value <= high:
        raise ValueError(f"{value} outside the attribute range [{low:g}, {high:g}]")
    return f"{1.0 + 6.0 * (value - low) / (high - low):.4f}"
