"""Where the expected FileNames and the reference labels come from.

Reads an id list (one FileName per line), a toolkit manifest (``data/<split>/manifest.csv``)
or a ``labels_consensus``-style CSV (``FileName,EmoClass,EmoAct,EmoVal,EmoDom,…,Split_Set``).
Uses the csv module rather than pandas so that ``toolkit validate`` stays quick to start.
"""

import csv
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from toolkit.emotions import ATTRIBUTES
from toolkit.utils.atomic import PathLike
from toolkit.utils.errors import ToolkitError


@dataclass
class Reference:
    """Reference rows in file order: EmoClass as written and the three attributes (None when empty)."""

    path: Path
    ids: List[str] = field(default_factory=list)
    classes: Dict[str, str] = field(default_factory=dict)
    attributes: Dict[str, Optional[Tuple[float, float, float]]] = field(default_factory=dict)
    has_classes: bool = False
    has_attributes: bool = False


def _check_readable(path: Path, what: str) -> None:
    if not path.exists():
        raise ToolkitError(f"{path}: {what} not found; check the path")
    if not path.is_file():
        raise ToolkitError(f"{path}: {what} is not a regular file")


def read_id_list(path: PathLike) -> List[str]:
    """FileNames from a text file, one per line; blank lines and a ``FileName`` header are skipped."""
    path = Path(path)
    _check_readable(path, "id list")
    ids: List[str] = []
    seen: Dict[str, int] = {}
    try:
        with open(path, encoding="utf-8-sig") as handle:
            for line_number, line in enumerate(handle, start=1):
                name = line.strip()
                if not name or (line_number == 1 and name == "FileName"):
                    continue
                if name in seen:
                    raise ToolkitError(
                        f"{path}:{line_number}: {name} already listed on line {seen[name]}; list each FileName once"
                    )
                seen[name] = line_number
                ids.append(name)
    except UnicodeDecodeError as error:
        raise ToolkitError(f"{path}: id list is not UTF-8 text ({error.reason} at byte {error.start})") from None
    except OSError as error:
        raise ToolkitError(f"{path}: cannot read id list ({error.strerror})") from None
    if not ids:
        raise ToolkitError(f"{path}: id list holds no FileName; write one FileName per line")
    return ids


def _parse_attribute(text: str, path: Path, line: int, column: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ToolkitError(f"{path}:{line}: {column} {text!r} is not a number") from None
    if not math.isfinite(value):
        raise ToolkitError(f"{path}:{line}: {column} is {text!r}; a reference value must be finite")
    return value


def read_reference(path: PathLike, split: Optional[str] = None) -> Reference:
    """Read a manifest or labels_consensus CSV; keep the rows whose ``Split_Set`` is ``split`` if given."""
    path = Path(path)
    _check_readable(path, "reference file")
    reference = Reference(path=path)
    first_line: Dict[str, int] = {}
    splits_seen: Dict[str, int] = {}
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            columns = reader.fieldnames or []
            if "FileName" not in columns:
                raise ToolkitError(
                    f"{path}:1: no FileName column (header: {','.join(columns) or 'empty'}); expected a toolkit "
                    "manifest or a labels_consensus-style CSV"
                )
            if split is not None and "Split_Set" not in columns:
                raise ToolkitError(f"{path}:1: --split {split} was given but the file has no Split_Set column")
            reference.has_classes = "EmoClass" in columns
            reference.has_attributes = all(name in columns for name in ATTRIBUTES)
            for row in reader:
                line = reader.line_num
                if split is not None:
                    row_split = (row.get("Split_Set") or "").strip()
                    splits_seen[row_split] = splits_seen.get(row_split, 0) + 1
                    if row_split.lower() != split.lower():
                        continue
                name = (row.get("FileName") or "").strip()
                if not name:
                    raise ToolkitError(f"{path}:{line}: empty FileName")
                if name in first_line:
                    raise ToolkitError(f"{path}:{line}: FileName {name} already on line {first_line[name]}")
                first_line[name] = line
                reference.ids.append(name)
                if reference.has_classes:
                    reference.classes[name] = (row.get("EmoClass") or "").strip()
                if reference.has_attributes:
                    texts = [(row.get(column) or "").strip() for column in ATTRIBUTES]
                    if all(texts):
                        reference.attributes[name] = tuple(  # type: ignore[assignment]
                            _parse_attribute(text, path, line, column) for text, column in zip(texts, ATTRIBUTES)
                        )
                    else:
                        reference.attributes[name] = None
    except UnicodeDecodeError as error:
        raise ToolkitError(f"{path}: not UTF-8 text ({error.reason} at byte {error.start})") from None
    except csv.Error as error:
        raise ToolkitError(f"{path}: malformed CSV ({error})") from None
    except OSError as error:
        raise ToolkitError(f"{path}: cannot read reference file ({error.strerror})") from None
    if not reference.ids:
        if split is not None:
            present = ", ".join(f"{name or '(empty)'} ({count})" for name, count in sorted(splits_seen.items()))
            raise ToolkitError(f"{path}: no row has Split_Set {split}; splits present: {present or 'none'}")
        raise ToolkitError(f"{path}: no data rows")
    return reference
