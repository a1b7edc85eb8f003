"""Readers of MSP-Podcast's per-annotator labels, in the three formats seen in releases.

Reads ``Labels/labels_detailed.csv`` or ``.json``; writes nothing. Every format is turned into
chunks of one row per (file, annotator) with the columns ``ANNOTATION_COLUMNS`` plus ``line``
(``AnnotationSource.location`` turns a row into ``path:line``, or the JSON keys, for messages):

1. ``json``: ``{"<file>.wav": {"<worker>": {"EmoClass_Major": ..., "EmoClass_Second": ...}}}``
2. ``csv-rows``: one CSV row per annotator with ``FileName, WorkerID, EmoClass_Major, EmoClass_Second``
   (attribute columns may follow; they are not needed here)
3. ``csv-packed``: ``FileName, EmoDetail`` with ``EmoDetail`` like
   ``WORKER00012; Angry; Sad,Fear; A:4.0; V:2.0; D:5.0;``

Chunks are bounded (``chunk_rows``) so the CSV formats stream; the JSON format has to be parsed
whole by the standard library, then is handed out in chunks and released as it goes.
"""

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, List, Optional

import numpy as np

from toolkit.data.problems import ProblemLog
from toolkit.data.tables import read_csv_chunks, read_header
from toolkit.utils.errors import ToolkitError

ANNOTATION_COLUMNS: List[str] = ["FileName", "WorkerID", "EmoClass_Major", "EmoClass_Second"]
ANNOTATION_FILE_NAMES = ("labels_detailed.csv", "labels_detailed.json")
CHUNK_ROWS = 200_000


@dataclass(frozen=True)
class AnnotationSource:
    """A per-annotator label file and its detected format."""

    path: Path
    format: str

    def location(self, file_name: str, worker: str, line: int) -> str:
        """Where a row came from, for messages: ``path:line`` for CSV, the keys for JSON."""
        if self.format == "json":
            return f"{self.path}: key {file_name!r} / {worker!r}"
        return f"{self.path}:{line}"

    def chunks(self, problems: ProblemLog, chunk_rows: int = CHUNK_ROWS) -> Iterator["pandas.DataFrame"]:  # noqa: F821
        """DataFrames with ``ANNOTATION_COLUMNS`` and ``line`` (0 for JSON), at most ``chunk_rows`` rows each."""
        if self.format == "json":
            return _json_chunks(self.path, problems, chunk_rows)
        if self.format == "csv-rows":
            return read_csv_chunks(self.path, ANNOTATION_COLUMNS, problems, chunk_rows)
        return _packed_chunks(self.path, problems, chunk_rows)


def find_annotation_file(labels_dir: Path) -> Optional[Path]:
    """``labels_detailed.csv`` (preferred) or ``.json`` in ``labels_dir``, None when neither exists."""
    for name in ANNOTATION_FILE_NAMES:
        if (labels_dir / name).is_file():
            return labels_dir / name
    return None


def open_annotations(path: Path) -> AnnotationSource:
    """Detect the format of a per-annotator label file from its suffix and header."""
    path = Path(path)
    if not path.is_file():
        raise ToolkitError(f"{path}: per-annotator label file not found")
    if path.suffix.lower() == ".json":
        return AnnotationSource(path, "json")
    header = read_header(path)
    if "FileName" in header and "EmoDetail" in header:
        return AnnotationSource(path, "csv-packed")
    if all(column in header for column in ANNOTATION_COLUMNS):
        return AnnotationSource(path, "csv-rows")
    raise ToolkitError(
        f"{path}:1: unknown per-annotator format, header is {','.join(header)}; expected either "
        f"{','.join(ANNOTATION_COLUMNS)} (one row per annotator) or FileName,EmoDetail (packed)"
    )


def split_emo_detail(details):
    """``EmoDetail`` strings as a DataFrame of stripped ``worker, primary, secondary`` strings.

    The C CSV parser splits on ``;`` many times faster than ``str.split``; a value holding a line
    break would misalign its rows, so then the slower ``str.split`` is used instead.
    """
    import csv
    import io

    import pandas as pd

    from toolkit.data.tables import strip_strings

    text = "\n".join(details.tolist())
    parts = pd.read_csv(io.StringIO(text), sep=";", header=None, names=[0, 1, 2], usecols=[0, 1, 2], dtype=str,
                        keep_default_na=False, na_filter=False, quoting=csv.QUOTE_NONE, index_col=False,
                        skip_blank_lines=False) if len(details) else pd.DataFrame({0: [], 1: [], 2: []}, dtype=object)
    if len(parts) != len(details):
        parts = details.str.split(";", n=3, expand=True).reindex(columns=[0, 1, 2]).fillna("")
    parts.index = details.index
    return pd.DataFrame({name: strip_strings(parts[position])
                         for position, name in enumerate(("worker", "primary", "secondary"))})


def _packed_chunks(path: Path, problems: ProblemLog, chunk_rows: int):
    """Split ``EmoDetail`` (``worker; primary; secondary; A:..; V:..; D:..;``) into the common columns."""
    for chunk in read_csv_chunks(path, ["FileName", "EmoDetail"], problems, chunk_rows):
        parts = split_emo_detail(chunk["EmoDetail"])
        malformed = ((parts["worker"] == "") | (parts["primary"] == "")).to_numpy()
        if malformed.any():
            bad = chunk[malformed]
            problems.report(
                "malformed_emo_detail", int(malformed.sum()),
                (f"{path}:{line}: EmoDetail {detail!r} is not 'WORKER; Primary; Secondary; A:x; V:x; D:x;'; row skipped"
                 for line, detail in zip(bad["line"], bad["EmoDetail"])),
            )
        parts, chunk = parts[~malformed], chunk[~malformed]
        # a release without the secondary field goes straight on to "A:4.0"
        secondary = parts["secondary"].where(~_contains_colon(parts["secondary"]), "")
        yield _annotation_frame(chunk["FileName"], parts["worker"], parts["primary"], secondary, chunk["line"])


def _contains_colon(values):
    """``values.str.contains(":")``, evaluated once per distinct value."""
    import pandas as pd

    codes, uniques = pd.factorize(values, sort=False)
    return pd.Series(np.array([":" in value for value in uniques], dtype=bool)[codes], index=values.index)


def _annotation_frame(file_names, workers, primary, secondary, lines):
    import pandas as pd

    return pd.DataFrame({"FileName": file_names.to_numpy(), "WorkerID": workers.to_numpy(),
                         "EmoClass_Major": primary.to_numpy(), "EmoClass_Second": secondary.to_numpy(),
                         "line": lines.to_numpy()})


def load_json_without_gc(path: Path):
    """``json.load`` with the cyclic garbage collector paused: parsing a million small objects
    otherwise triggers it over and over, for nothing (JSON objects hold no cycles)."""
    import gc

    enabled = gc.isenabled()
    gc.disable()
    try:
        with open(path, encoding="utf-8-sig") as handle:
            return json.load(handle)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ToolkitError(f"{path}: not readable as JSON ({error}); fix the file and re-run") from None
    finally:
        if enabled:
            gc.enable()


def _json_chunks(path: Path, problems: ProblemLog, chunk_rows: int):
    import pandas as pd

    document = load_json_without_gc(path)
    if not isinstance(document, dict):
        raise ToolkitError(f"{path}: expected a JSON object {{file: {{worker: {{EmoClass_Major: ...}}}}}}, "
                           f"found {type(document).__name__}")
    columns = {name: [] for name in ANNOTATION_COLUMNS}
    bad: List[str] = []
    while document:
        # popping releases each file's records as soon as they are copied out
        file_name, workers = document.popitem()
        if not isinstance(workers, dict):
            bad.append(f"{path}: key {file_name!r}: expected an object of annotators, found {type(workers).__name__}")
            continue
        for worker, record in workers.items():
            if not isinstance(record, dict):
                bad.append(f"{path}: key {file_name!r} / {worker!r}: expected an object with EmoClass_Major, "
                           f"found {type(record).__name__}")
                continue
            columns["FileName"].append(file_name.strip())
            columns["WorkerID"].append(str(worker).strip())
            columns["EmoClass_Major"].append(str(record.get("EmoClass_Major") or "").strip())
            columns["EmoClass_Second"].append(str(record.get("EmoClass_Second") or "").strip())
        if len(columns["FileName"]) >= chunk_rows:
            yield pd.DataFrame(columns).assign(line=0)
            columns = {name: [] for name in ANNOTATION_COLUMNS}
    if columns["FileName"]:
        yield pd.DataFrame(columns).assign(line=0)
    problems.report("malformed_annotation_record", len(bad), iter(bad))
