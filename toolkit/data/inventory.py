"""Finding a corpus's emotion inventory on disk, where stage 0 recorded it.

Reads the header of a manifest (its ``soft_<code>`` columns give the codes, in order) and the
``prepare_summary.json`` beside it (``"classes": [{"code": ..., "name": ...}]`` gives the names):
``<dir>/prepare_summary.json`` for ``<dir>/<split>/manifest.csv``, or one level higher for the
fold layout ``OUTDIR/fold<k>/<split>/manifest.csv``. Writes nothing. Standard library only, so
``toolkit validate --manifest`` stays quick to start.
"""

import csv
import json
from pathlib import Path
from typing import List, Optional

from toolkit.emotions import CHALLENGE, Inventory
from toolkit.utils.atomic import PathLike
from toolkit.utils.errors import ToolkitError

SUMMARY_NAME = "prepare_summary.json"
SOFT_PREFIX = "soft_"


def soft_codes(columns: List[str]) -> List[str]:
    """The class codes of a manifest header's ``soft_<code>`` columns, in order."""
    return [column[len(SOFT_PREFIX):] for column in columns if column.startswith(SOFT_PREFIX)]


def find_summary(manifest_path: PathLike) -> Optional[Path]:
    """The stage-0 summary that describes ``manifest_path``, or None."""
    split_dir = Path(manifest_path).resolve().parent
    for directory in (split_dir.parent, split_dir.parent.parent):
        candidate = directory / SUMMARY_NAME
        if candidate.is_file():
            return candidate
    return None


def summary_inventory(summary_path: Path) -> Optional[Inventory]:
    """The ``"classes"`` a stage-0 summary records, None when it records none (older summaries)."""
    try:
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ToolkitError(f"{summary_path}: unreadable stage-0 summary ({error}); re-run stage 0") from None
    if not isinstance(summary, dict) or "classes" not in summary:
        return None
    return Inventory.from_list(summary["classes"], str(summary_path))


def read_inventory(manifest_path: PathLike, default: Inventory = CHALLENGE) -> Inventory:
    """The inventory of a manifest: codes from its soft-label columns, names from its stage-0 summary.

    A file without soft-label columns (a ``labels_consensus``-style CSV, an id list) gets the
    summary's inventory if there is one, else ``default``. Codes that disagree with the
    summary are an error: the manifest and the summary come from different stage-0 runs.
    """
    path = Path(manifest_path)
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            header = [field.strip() for field in next(csv.reader(handle), [])]
    except (OSError, UnicodeDecodeError) as error:
        raise ToolkitError(f"{path}: cannot read its header ({error}); expected a manifest CSV") from None
    codes = soft_codes(header)
    summary_path = find_summary(path)
    recorded = summary_inventory(summary_path) if summary_path is not None else None
    if not codes:
        return recorded or default
    if recorded is not None:
        if list(recorded.codes) != codes:
            raise ToolkitError(
                f"{path}: soft-label columns are for classes {','.join(codes)} but {summary_path} records "
                f"{','.join(recorded.codes)}; the two come from different stage-0 runs, re-run stage 0"
            )
        return recorded
    return Inventory.from_codes(codes)
