"""Where the expected FileNames and the reference labels come from.

Reads an id list (one FileName per line), a toolkit manifest (``data/<split>/manifest.csv``)
or a ``labels_consensus``-style CSV (``FileName,EmoClass,EmoAct,EmoVal,EmoDom,…,Split_Set``)
or its ``.json`` twin (``{"<file>.wav": {"EmoClass": ..., ...}}``).
Uses the csv module rather than pandas so that ``toolkit validate`` stays quick to start.
"""

import csv
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Tuple

from toolkit.emotions import ATTRIBUTES
from toolkit.utils.atomic import PathLike
from toolkit.utils.errors import ToolkitError

#: Fields read from each record of a ``labels_consensus.json`` (the others are not needed here).
JSON_COLUMNS = ("FileName", "EmoClass", *ATTRIBUTES, "Split_Set")


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


def _parse_attribute(text: str, where: str, column: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ToolkitError(f"{where}: {column} {text!r} is not a number") from None
    if not math.isfinite(value):
        raise ToolkitError(f"{where}: {column} is {text!r}; a reference value must be finite")
    return value


def _csv_rows(path: Path) -> Iterator[Tuple[str, List[str]]]:
    """(location, cells) per line, the header first."""
    with open(path, encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        for row in reader:
            if row:
                yield f"{path}:{reader.line_num}", [cell.strip() for cell in row]


def _json_rows(path: Path) -> Iterator[Tuple[str, List[str]]]:
    """``labels_consensus.json`` (``{"<file>.wav": {"EmoClass": ..., ...}}``) as rows like the CSV's."""
    try:
        document = json.loads(path.read_text(encoding="utf-8-sig"))
    except json.JSONDecodeError as error:
        raise ToolkitError(f"{path}:{error.lineno}: not valid JSON ({error.msg})") from None
    if not isinstance(document, dict):
        raise ToolkitError(f"{path}: expected a JSON object {{FileName: {{EmoClass: ..., ...}}}}")
    yield f"{path}:1", list(JSON_COLUMNS)
    for name, record in document.items():
        if not isinstance(record, dict):
            raise ToolkitError(f"{path}: key {name!r}: expected an object with {', '.join(JSON_COLUMNS[1:])}")
        yield f"{path}: key {name!r}", [str(name).strip()] + [
            "" if record.get(column) is None else str(record[column]).strip() for column in JSON_COLUMNS[1:]
        ]


def read_reference(path: PathLike, split: Optional[str] = None, labels: bool = True) -> Reference:
    """Read a manifest or labels_consensus CSV (or its ``.json`` twin); keep rows of Split_Set ``split`` if given.

    ``labels=False`` reads the FileNames only (what ``toolkit validate --manifest`` needs).
    """
    path = Path(path)
    _check_readable(path, "reference file")
    reference = Reference(path=path)
    first_seen: Dict[str, str] = {}
    splits_seen: Dict[str, int] = {}
    rows = _json_rows(path) if path.suffix.lower() == ".json" else _csv_rows(path)
    try:
        _, columns = next(rows, ("", []))
        if "FileName" not in columns:
            raise ToolkitError(
                f"{path}:1: no FileName column (header: {','.join(columns) or 'empty'}); expected a toolkit "
                "manifest or a labels_consensus-style CSV"
            )
        if split is not None and "Split_Set" not in columns:
            raise ToolkitError(f"{path}:1: --split {split} was given but the file has no Split_Set column")
        name_at = columns.index("FileName")
        split_at = columns.index("Split_Set") if split is not None else None
        reference.has_classes = labels and "EmoClass" in columns
        reference.has_attributes = labels and all(name in columns for name in ATTRIBUTES)
        class_at = columns.index("EmoClass") if reference.has_classes else None
        attribute_at = [columns.index(name) for name in ATTRIBUTES] if reference.has_attributes else []
        wanted = split.lower() if split is not None else None
        for where, row in rows:
            row = row + [""] * (len(columns) - len(row))
            if split_at is not None:
                splits_seen[row[split_at]] = splits_seen.get(row[split_at], 0) + 1
                if row[split_at].lower() != wanted:
                    continue
            name = row[name_at]
            if not name:
                raise ToolkitError(f"{where}: empty FileName")
            if name in first_seen:
                raise ToolkitError(f"{where}: FileName {name} already at {first_seen[name]}")
            first_seen[name] = where
            reference.ids.append(name)
            if class_at is not None:
                reference.classes[name] = row[class_at]
            if attribute_at:
                texts = [row[index] for index in attribute_at]
                reference.attributes[name] = (
                    tuple(_parse_attribute(text, where, column) for text, column in zip(texts, ATTRIBUTES))  # type: ignore
                    if all(texts) else None
                )
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
