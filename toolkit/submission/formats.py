"""The two leaderboard file formats and the stable problem codes the validator reports.

Reads and writes nothing. The codes are part of the toolkit's interface (scripts grep for
them, docs/submission.md lists them): add new ones, never renumber or reuse old ones.
"""

from typing import Dict, List, Tuple

from toolkit.emotions import ATTRIBUTES

CATEGORICAL = "categorical"
ATTRIBUTES_TASK = "attributes"

#: Exact, case-sensitive header of each task's file.
TASK_COLUMNS: Dict[str, List[str]] = {
    CATEGORICAL: ["FileName", "EmoClass"],
    ATTRIBUTES_TASK: ["FileName", *ATTRIBUTES],
}
TASK_TITLES: Dict[str, str] = {
    CATEGORICAL: "Task 1 (categorical)",
    ATTRIBUTES_TASK: "Task 2 (attributes)",
}

NUM_TEST3_FILES = 3200


def challenge_test3_ids() -> List[str]:
    """The challenge's test3 file names, ``MSP-PODCAST_test3_0001.wav`` … ``_3200.wav``."""
    return [f"MSP-PODCAST_test3_{number:04d}.wav" for number in range(1, NUM_TEST3_FILES + 1)]


ERROR = "error"
WARNING = "warning"

#: code -> (severity, short title). Errors make a file invalid; warnings are reported only
#: (``--strict`` turns them into errors).
PROBLEM_CODES: Dict[str, Tuple[str, str]] = {
    "F101": (ERROR, "file name does not end in .csv"),
    "F102": (ERROR, "file is empty"),
    "F103": (ERROR, "not valid UTF-8"),
    "F104": (ERROR, "UTF-8 byte-order mark"),
    "F105": (WARNING, "Windows (CRLF) line endings"),
    "F106": (ERROR, "bare carriage return inside a line"),
    "F107": (ERROR, "not comma-delimited"),
    "H201": (ERROR, "header is not exactly the task's header"),
    "H202": (ERROR, "task cannot be told from the header"),
    "R301": (ERROR, "wrong number of fields"),
    "R302": (ERROR, "empty field"),
    "R303": (ERROR, "blank line"),
    "R304": (ERROR, "whitespace around a field"),
    "R305": (ERROR, "malformed CSV quoting"),
    "I401": (ERROR, "duplicate FileName"),
    "I402": (ERROR, "FileName not expected"),
    "I403": (ERROR, "expected FileNames missing"),
    "I404": (WARNING, "rows not sorted by FileName"),
    "C501": (ERROR, "EmoClass not one of ASHUFDCN"),
    "N601": (ERROR, "value is not a number"),
    "N602": (ERROR, "value is NaN or infinite"),
    "N603": (ERROR, "value outside [1, 7]"),
}
