"""Check a leaderboard CSV the way a strict submission server would, reporting every problem at once.

Reads one submission file (streamed line by line, so any size and any bytes are safe) and a
list of expected FileNames; writes nothing. Returns a ``ValidationReport`` of problems with
stable codes (``toolkit.submission.formats.PROBLEM_CODES``), capped per code, plus the parsed
values of the clean rows for the scorer. No numpy, pandas or torch here: it must start fast.
"""

import codecs
import csv
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Tuple, Union

from toolkit.emotions import ATTRIBUTE_MAX, ATTRIBUTE_MIN, CHALLENGE, CLASS_NAME_ALIASES, Inventory
from toolkit.submission.formats import (
    ATTRIBUTES_TASK,
    CATEGORICAL,
    ERROR,
    PROBLEM_CODES,
    TASK_COLUMNS,
    TASK_TITLES,
    WARNING,
    challenge_test3_ids,
)
from toolkit.utils.atomic import PathLike
from toolkit.utils.errors import ToolkitError

#: A plain decimal number; stricter than float(), which also takes "nan", "1_000" and " 4 ".
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\Z")
_NON_FINITE = {"nan", "inf", "infinity"}
#: How many missing FileNames the I403 message shows.
_MISSING_EXAMPLES = 5

Value = Union[str, Tuple[float, float, float]]


@dataclass
class Problem:
    code: str
    line: int  # 1-based line of the file; 0 for a problem with the whole file
    message: str

    @property
    def severity(self) -> str:
        return PROBLEM_CODES[self.code][0]


@dataclass
class ValidationReport:
    path: str
    task: Optional[str] = None
    strict: bool = False
    data_rows: int = 0
    expected_ids: int = 0
    missing_ids: int = 0
    max_per_code: int = 10
    #: The classes an EmoClass may take (Task 1).
    classes: Inventory = CHALLENGE
    problems: List[Problem] = field(default_factory=list)
    counts: Dict[str, int] = field(default_factory=dict)
    #: FileName -> EmoClass letter or (EmoAct, EmoVal, EmoDom), for rows without any problem.
    records: Dict[str, Value] = field(default_factory=dict)

    def add(self, code: str, line: int, message: str) -> None:
        self.counts[code] = self.counts.get(code, 0) + 1
        if self.max_per_code <= 0 or self.counts[code] <= self.max_per_code:
            self.problems.append(Problem(code, line, message))

    def severity(self, code: str) -> str:
        return ERROR if self.strict else PROBLEM_CODES[code][0]

    def title(self, code: str) -> str:
        """The code's short title; C501's names this file's class inventory."""
        if code == "C501":
            return f"EmoClass not one of {_order(self.classes)}"
        return PROBLEM_CODES[code][1]

    @property
    def error_count(self) -> int:
        return sum(count for code, count in self.counts.items() if self.severity(code) == ERROR)

    @property
    def warning_count(self) -> int:
        return sum(count for code, count in self.counts.items() if self.severity(code) == WARNING)

    @property
    def valid(self) -> bool:
        return self.error_count == 0

    def omitted(self) -> Dict[str, int]:
        """Problems per code left out of ``problems`` by the per-code cap."""
        if self.max_per_code <= 0:
            return {}
        return {code: count - self.max_per_code for code, count in self.counts.items() if count > self.max_per_code}

    def summary(self) -> str:
        title = TASK_TITLES.get(self.task or "", "task unknown")
        scope = f"{title}, {self.data_rows} data rows, {self.expected_ids} expected FileNames"
        if self.valid:
            warnings = f"; {self.warning_count} warning(s)" if self.warning_count else ""
            return f"{self.path}: valid: {scope}{warnings}"
        by_code = ", ".join(f"{code} x{count}" for code, count in sorted(self.counts.items()))
        return (
            f"{self.path}: INVALID: {self.error_count} error(s), {self.warning_count} warning(s) "
            f"({by_code}); {scope}"
        )

    def format_text(self) -> str:
        """``PATH:LINE: CODE message`` lines, then ``and N more`` per capped code, then the summary."""
        lines = []
        for problem in self.problems:
            where = f"{self.path}:{problem.line}:" if problem.line else f"{self.path}:"
            label = problem.code if self.severity(problem.code) == ERROR else f"{problem.code} (warning)"
            lines.append(f"{where} {label} {problem.message}")
        for code, count in self.omitted().items():
            lines.append(f"{self.path}: {code} and {count} more ({self.title(code)})")
        lines.append(self.summary())
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {
            "path": self.path,
            "task": self.task,
            "valid": self.valid,
            "strict": self.strict,
            "data_rows": self.data_rows,
            "expected_ids": self.expected_ids,
            "missing_ids": self.missing_ids,
            "error_count": self.error_count,
            "warning_count": self.warning_count,
            "counts": dict(sorted(self.counts.items())),
            "omitted": self.omitted(),
            "problems": [
                {"code": p.code, "severity": self.severity(p.code), "line": p.line, "message": p.message}
                for p in self.problems
            ],
            "summary": self.summary(),
        }


def _show(value: str, limit: int = 60) -> str:
    """A value quoted with control characters visible, shortened so one bad row cannot flood the report."""
    shown = repr(value[:limit])
    return shown + "…" if len(value) > limit else shown


def _order(classes: Inventory) -> str:
    """``ASHUFDCN`` for single-letter codes, ``A,S,K9`` otherwise."""
    letters = all(len(code) == 1 for code in classes.codes)
    return ("" if letters else ",").join(classes.codes)


def _class_problem(value: str, classes: Inventory) -> Optional[str]:
    codes = classes.codes
    if value in codes:
        return None
    listed = ", ".join(codes)
    letters = all(len(code) == 1 for code in codes)
    if value.upper() in codes:
        return f"EmoClass {_show(value)} is lowercase; write {value.upper()!r}"
    if value.upper() in ("O", "X"):
        return (
            f"EmoClass {_show(value)} is not a test class (O other and X no agreement are never scored); "
            f"predict one of {listed}"
        )
    names = {**CLASS_NAME_ALIASES, **{name.lower(): code for code, name in zip(codes, classes.names)}}
    code = names.get(value.lower())
    if code in codes:
        return f"EmoClass {_show(value)} is a class name; write the {'letter' if letters else 'code'} {code!r}"
    if value.isdigit() and int(value) < len(codes):
        return (
            f"EmoClass {_show(value)} is a class index; write the {'letter' if letters else 'code'} (in the toolkit's "
            f"{_order(classes)} order index {int(value)} is {codes[int(value)]!r}; check which order your model uses)"
        )
    shape = "one uppercase letter" if letters else "a class code"
    return f"EmoClass {_show(value)} is not one of {listed} ({shape})"


def _number_problem(value: str, column: str) -> Tuple[Optional[float], Optional[Tuple[str, str]]]:
    """The parsed value, or the (code, message) of what is wrong with it."""
    if _NUMBER.match(value):
        number = float(value)
        if not ATTRIBUTE_MIN <= number <= ATTRIBUTE_MAX:
            return None, ("N603", f"{column} {_show(value)} is outside [1, 7]; clip predictions to the 1-7 scale")
        return number, None
    if value.lower().lstrip("+-") in _NON_FINITE:
        return None, ("N602", f"{column} is {_show(value)}; every value must be a finite number in [1, 7]")
    if "," in value and _NUMBER.match(value.replace(",", ".")):
        return None, ("N601", f"{column} {_show(value)} uses a decimal comma; write a decimal point")
    return None, ("N601", f"{column} {_show(value)} is not a number")


def _parse_fields(text: str, delimiter: str) -> List[str]:
    if '"' not in text:
        # Without quotes the csv module splits exactly like str.split, at a fraction of the cost.
        return text.split(delimiter)
    return next(csv.reader([text], delimiter=delimiter, strict=True), [])


def _detect_delimiter(header: str) -> str:
    if "," in header:
        return ","
    counts = {candidate: header.count(candidate) for candidate in (";", "\t", "|")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def _looks_like_data(fields: Sequence[str]) -> bool:
    return bool(fields) and fields[0].strip().strip('"').lower().endswith(".wav")


def _header_task(fields: List[str], forced: Optional[str]) -> Tuple[Optional[str], bool, Optional[str]]:
    """(task, first line is a data row, H201/H202 message or None) for the header's fields."""
    for task, columns in TASK_COLUMNS.items():
        if fields == columns and forced in (None, task):
            return task, False, None
    if _looks_like_data(fields):
        task = forced or {2: CATEGORICAL, 4: ATTRIBUTES_TASK}.get(len(fields))
        if task is None:
            return None, True, "line 1 is a data row and the header is missing; cannot tell the task, pass --task"
        return task, True, f"line 1 is a data row: the header line {','.join(TASK_COLUMNS[task])} is missing"
    normalised = [name.strip().strip('"').lower() for name in fields]
    index_column = len(normalised) > 1 and normalised[0] in ("", "unnamed: 0", "index")
    if index_column:
        normalised = normalised[1:]
    task = forced
    if task is None:
        if "emoclass" in normalised:
            task = CATEGORICAL
        elif any(column.lower() in normalised for column in TASK_COLUMNS[ATTRIBUTES_TASK][1:]):
            task = ATTRIBUTES_TASK
        else:
            return None, False, (
                f"cannot tell the task from the header {_show(','.join(fields))}; Task 1 needs "
                f"{','.join(TASK_COLUMNS[CATEGORICAL])}, Task 2 {','.join(TASK_COLUMNS[ATTRIBUTES_TASK])} "
                "(or pass --task)"
            )
    expected = TASK_COLUMNS[task]
    message = f"header is {_show(','.join(fields))}; {TASK_TITLES[task]} needs exactly {','.join(expected)}"
    if index_column:
        message += " (the first column is an unnamed index: write the CSV with pandas index=False)"
    elif normalised == [column.lower() for column in expected]:
        message += " (names are case-sensitive and take no spaces or quotes)"
    else:
        other = [t for t, columns in TASK_COLUMNS.items() if t != task and fields == columns]
        if other:
            message += f" (this is the {TASK_TITLES[other[0]]} header: check --task or the file)"
    return task, False, message


class _Checker:
    """One pass over a submission's lines; collects problems into a ValidationReport."""

    def __init__(self, report: ValidationReport, expected: Sequence[str], forced_task: Optional[str]):
        self.report = report
        self.expected_list = list(expected)
        self.expected = set(self.expected_list)
        self.forced_task = forced_task
        self.delimiter = ","
        self.first_line: Dict[str, int] = {}
        self.previous_name: Optional[str] = None
        self.previous_line = 0
        self.unsorted_reported = False
        self.lowercase_expected: Optional[Dict[str, str]] = None

    def header(self, text: str) -> bool:
        """Check line 1; True when it is a data row that must be checked as such."""
        self.delimiter = _detect_delimiter(text)
        if self.delimiter != ",":
            self.report.add(
                "F107", 1,
                f"fields are separated by {self.delimiter!r}, not commas; export as 'CSV (comma delimited)'",
            )
        try:
            fields = _parse_fields(text, self.delimiter)
        except csv.Error:
            fields = text.split(self.delimiter)
        task, is_data, message = _header_task(fields, self.forced_task)
        self.report.task = task
        if message:
            self.report.add("H202" if task is None else "H201", 1, message)
        return is_data

    def unexpected_hint(self, name: str) -> str:
        if name + ".wav" in self.expected:
            return "; add the .wav extension"
        base = name.replace("\\", "/").rsplit("/", 1)[-1]
        if base != name and base in self.expected:
            return "; write the bare file name, not a path"
        if self.lowercase_expected is None:
            self.lowercase_expected = {expected.lower(): expected for expected in self.expected_list}
        match = self.lowercase_expected.get(name.lower())
        if match:
            return f"; FileNames are case-sensitive, expected {match}"
        return ""

    def file_name(self, name: str, line: int) -> bool:
        """Check one row's FileName; True when it is a first occurrence of an expected id."""
        report = self.report
        if name in self.first_line:
            report.add("I401", line, f"FileName {_show(name)} duplicates line {self.first_line[name]}")
            return False
        self.first_line[name] = line
        if self.previous_name is not None and name < self.previous_name and not self.unsorted_reported:
            self.unsorted_reported = True
            report.add(
                "I404", line,
                f"{_show(name)} comes after {_show(self.previous_name)} (line {self.previous_line}); "
                "rows are customarily sorted by FileName",
            )
        self.previous_name, self.previous_line = name, line
        if name not in self.expected:
            report.add("I402", line, f"FileName {_show(name)} is not an expected FileName{self.unexpected_hint(name)}")
            return False
        return True

    def row(self, text: str, line: int) -> None:
        report = self.report
        if not text.strip():
            report.add("R303", line, "blank line; delete it")
            return
        report.data_rows += 1
        try:
            raw_fields = _parse_fields(text, self.delimiter)
        except csv.Error as error:
            report.add("R305", line, f"malformed CSV ({error}); check the quotes on this line")
            return
        fields = [value.strip() for value in raw_fields]
        task = report.task
        names = TASK_COLUMNS[task] if task else ["FileName"]
        padded = [] if fields == raw_fields else [
            names[index] if index < len(names) else f"field {index + 1}"
            for index, (value, stripped) in enumerate(zip(raw_fields, fields))
            if value != stripped
        ]
        if padded:
            report.add("R304", line, f"whitespace around {', '.join(padded)}; remove it")
        clean = not padded
        if task and len(fields) != len(names):
            report.add(
                "R301", line, f"{len(fields)} field(s), expected {len(names)} ({','.join(names)})",
            )
            clean = False
        if not fields or not fields[0]:
            report.add("R302", line, "FileName is empty")
            return
        clean = self.file_name(fields[0], line) and clean
        if not task:
            return
        values: List[Union[str, float]] = []
        for column, value in zip(names[1:], fields[1:]):
            if not value:
                report.add("R302", line, f"{column} is empty")
                clean = False
            elif task == CATEGORICAL:
                message = _class_problem(value, report.classes)
                if message:
                    report.add("C501", line, message)
                    clean = False
                values.append(value)
            else:
                number, problem = _number_problem(value, column)
                if problem:
                    report.add(problem[0], line, problem[1])
                    clean = False
                values.append(number)  # type: ignore[arg-type]
        if clean:
            report.records[fields[0]] = values[0] if task == CATEGORICAL else tuple(values)  # type: ignore

    def finish(self, crlf_lines: int) -> None:
        report = self.report
        if crlf_lines:
            report.add(
                "F105", 0,
                f"{crlf_lines} line(s) end in CRLF (Windows); most servers accept this, a strict one may not",
            )
        missing = [name for name in self.expected_list if name not in self.first_line]
        report.missing_ids = len(missing)
        if missing:
            examples = ", ".join(missing[:_MISSING_EXAMPLES])
            more = ", …" if len(missing) > _MISSING_EXAMPLES else ""
            report.add(
                "I403", 0,
                f"{len(missing)} of {len(self.expected_list)} expected FileNames have no row: {examples}{more}",
            )


def _open_lines(path: Path) -> Iterable[bytes]:
    if not path.exists():
        raise ToolkitError(f"{path}: submission file not found; check the path")
    if path.is_dir():
        raise ToolkitError(f"{path}: is a directory; give the submission CSV file")
    try:
        handle = open(path, "rb")
    except OSError as error:
        raise ToolkitError(f"{path}: cannot open the submission ({error.strerror})") from None
    with handle:
        try:
            yield from handle
        except OSError as error:
            raise ToolkitError(f"{path}: cannot read the submission ({error.strerror})") from None


def validate_submission(
    path: PathLike,
    expected_ids: Optional[Iterable[str]] = None,
    task: Optional[str] = None,
    max_per_code: int = 10,
    strict: bool = False,
    display_name: Optional[str] = None,
    classes: Inventory = CHALLENGE,
) -> ValidationReport:
    """Check ``path`` against ``expected_ids`` (default: the 3,200 test3 names).

    ``classes``: the codes an EmoClass may take (default: the challenge's ``ASHUFDCN``);
    ``task`` (``categorical`` or ``attributes``) overrides detection from the header;
    ``max_per_code`` caps the problems kept per code (0 keeps all); ``strict`` counts warnings
    as errors; ``display_name`` is the name used in messages and for the ``.csv`` check (the
    writer validates a temporary file under its final name). Raises ``ToolkitError`` only when
    the file cannot be read at all; everything about its content is a ``Problem``.
    """
    if task is not None and task not in TASK_COLUMNS:
        raise ToolkitError(f"unknown task {task!r}; use one of {', '.join(TASK_COLUMNS)}")
    path = Path(path)
    name = display_name or str(path)
    expected = challenge_test3_ids() if expected_ids is None else list(expected_ids)
    report = ValidationReport(path=name, strict=strict, max_per_code=max_per_code, expected_ids=len(set(expected)),
                              classes=classes)
    if not name.endswith(".csv"):
        report.add("F101", 0, f"file name {Path(name).name!r} does not end in .csv; rename it")
    checker = _Checker(report, expected, task)
    crlf_lines = 0
    header_is_data = False
    empty = True
    for number, raw in enumerate(_open_lines(path), start=1):
        empty = False
        if number == 1:
            if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or b"\x00" in raw:
                report.add("F103", 1, "file looks like UTF-16 (e.g. Excel 'Unicode text'); save it as CSV UTF-8")
                return report
            if raw.startswith(codecs.BOM_UTF8):
                report.add("F104", 1, "file starts with a UTF-8 byte-order mark; save it as UTF-8 without BOM")
                raw = raw[len(codecs.BOM_UTF8):]
        if raw.endswith(b"\r\n"):
            crlf_lines += 1
            raw = raw[:-2]
        elif raw.endswith(b"\n"):
            raw = raw[:-1]
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            report.add(
                "F103", number,
                f"byte 0x{raw[error.start]:02x} at column {error.start + 1} is not UTF-8; save the file as UTF-8",
            )
            text = raw.decode("utf-8", errors="replace")
        if "\r" in text:
            report.add(
                "F106", number,
                "carriage return (\\r) not followed by a newline; save the file with \\n line endings",
            )
            if number != 1:
                continue
            text = text.split("\r", 1)[0]
        if number == 1:
            header_is_data = checker.header(text)
            if not header_is_data:
                continue
        checker.row(text, number)
    if empty:
        headers = " or ".join(",".join(columns) for columns in TASK_COLUMNS.values())
        report.add("F102", 0, f"file is empty; it needs the header {headers} and one row per test file")
        report.task = task
        return report
    checker.finish(crlf_lines)
    return report
