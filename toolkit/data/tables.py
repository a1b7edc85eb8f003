"""Streaming a label CSV in chunks of strings, with the file line of every row and no silent loss.

Reads one CSV; writes nothing. Rows with too many fields are skipped and reported (reason
``wrong_field_count``) through a ``ProblemLog``; every chunk carries a ``line`` column (1-based
line in the file, header = line 1) so later checks can name the line of a bad row.
"""

import re
import warnings
from pathlib import Path
from typing import Iterator, List, Sequence

import numpy as np

from toolkit.data.problems import ProblemLog
from toolkit.utils.errors import ToolkitError

_SKIPPED_LINE = re.compile(r"Skipping line (\d+): (.*)")
_EXTRA = "\x00extra"


def read_header(path: Path) -> List[str]:
    """The header fields of a CSV (BOM and surrounding spaces removed); ToolkitError when unreadable."""
    import csv

    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            header = next(csv.reader(handle), None)
    except (OSError, UnicodeDecodeError) as error:
        raise ToolkitError(f"{path}: cannot read ({error}); expected a UTF-8 CSV file") from None
    if not header:
        raise ToolkitError(f"{path}: empty file; expected a CSV header line")
    return [field.strip() for field in header]


def strip_strings(values):
    """``values.str.strip()``, computed once per distinct value (label columns repeat a lot)."""
    import pandas as pd

    codes, uniques = pd.factorize(values, sort=False)
    stripped = pd.Index(uniques).str.strip().to_numpy(dtype=object)
    return pd.Series(stripped.take(codes), index=values.index, dtype=object)


def _file_lines(row_numbers: np.ndarray, skipped: np.ndarray) -> np.ndarray:
    """Map 0-based data-row numbers to file lines, stepping over the (sorted) skipped lines."""
    lines = row_numbers + 2
    while True:
        shifted = row_numbers + 2 + np.searchsorted(skipped, lines, side="right")
        if np.array_equal(shifted, lines):
            return lines
        lines = shifted


def read_csv_chunks(path: Path, columns: Sequence[str], problems: ProblemLog,
                    chunk_rows: int = 200_000) -> Iterator["pandas.DataFrame"]:  # noqa: F821
    """Yield DataFrames of ``columns`` (strings, stripped) plus ``line``; the header must hold ``columns``."""
    import pandas as pd

    header = read_header(path)
    missing = [column for column in columns if column not in header]
    if missing:
        raise ToolkitError(
            f"{path}:1: header lacks column(s) {', '.join(missing)}; found {','.join(header)}; "
            f"expected at least {','.join(columns)}"
        )
    if len(set(header)) != len(header):
        raise ToolkitError(f"{path}:1: header repeats a column name ({','.join(header)}); give each column once")
    # one spare column catches rows with one field too many (pandas would silently drop the
    # extra field otherwise); rows with even more fields come back as "Skipping line" warnings
    names = header + [_EXTRA]
    skipped: List[int] = []
    rows_seen = 0
    try:
        reader = pd.read_csv(
            path, dtype=str, keep_default_na=False, na_filter=False, encoding="utf-8-sig", header=None, skiprows=1,
            names=names, index_col=False, chunksize=chunk_rows, on_bad_lines="warn",
        )
    except (pd.errors.ParserError, UnicodeDecodeError) as error:
        raise ToolkitError(f"{path}: not a readable CSV ({error}); fix the file and re-run") from None
    with reader:
        while True:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", pd.errors.ParserWarning)
                try:
                    chunk = next(reader)
                except StopIteration:
                    return
                except (pd.errors.ParserError, UnicodeDecodeError) as error:
                    raise ToolkitError(f"{path}: not a readable CSV ({error}); fix the file and re-run") from None
            dropped = sorted(int(line) for warning in caught for line, _ in _SKIPPED_LINE.findall(str(warning.message)))
            if dropped:
                skipped = sorted(skipped + dropped)
            chunk["line"] = _file_lines(np.arange(rows_seen, rows_seen + len(chunk)), np.array(skipped, dtype=np.int64))
            rows_seen += len(chunk)
            extra = (chunk[_EXTRA] != "").to_numpy()
            bad_lines = sorted(dropped + chunk["line"][extra].tolist())
            problems.report("wrong_field_count", len(bad_lines),
                            (f"{path}:{line}: expected {len(header)} fields, found more; row skipped" for line in bad_lines))
            chunk = chunk[~extra]
            chunk = chunk[[*columns, "line"]]
            for column in columns:
                chunk[column] = strip_strings(chunk[column])
            yield chunk
