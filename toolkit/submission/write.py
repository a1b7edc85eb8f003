"""Write the two leaderboard files of a system and prove them valid before they land.

Writes ``<out_dir>/<tag>_categorical.csv`` (``FileName,EmoClass``) and
``<out_dir>/<tag>_attributes.csv`` (``FileName,EmoAct,EmoVal,EmoDom``), rows sorted by FileName.
Both are written to temporary files and checked with ``validate_submission`` first; only when
both are valid are they renamed into place, so a submission directory never holds a bad file.
"""

import csv
import logging
from pathlib import Path
from typing import Iterable, Optional, Sequence, Tuple

import numpy as np

from toolkit.emotions import ATTRIBUTE_MAX, ATTRIBUTE_MIN, CHALLENGE, Inventory
from toolkit.submission.formats import ATTRIBUTES_TASK, CATEGORICAL, TASK_COLUMNS
from toolkit.submission.validate import validate_submission
from toolkit.utils.atomic import PathLike, atomic_path
from toolkit.utils.errors import ToolkitError

logger = logging.getLogger(__name__)


def _write_rows(path: Path, header: Sequence[str], rows: Iterable[Sequence[str]]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def _check_inputs(tag: str, file_names: Sequence[str], class_codes: Sequence[str], attributes: np.ndarray) -> None:
    if not tag or "/" in tag or "\\" in tag:
        raise ToolkitError(f"submission tag {tag!r} must be a non-empty name without path separators")
    if len(class_codes) != len(file_names) or attributes.shape != (len(file_names), 3):
        raise ToolkitError(
            f"submission {tag}: {len(file_names)} FileNames need {len(file_names)} class codes and "
            f"({len(file_names)}, 3) attributes, got {len(class_codes)} and {attributes.shape}"
        )
    bad = np.flatnonzero(~np.isfinite(attributes).all(axis=1))
    if bad.size:
        examples = ", ".join(file_names[index] for index in bad[:5])
        raise ToolkitError(
            f"submission {tag}: {bad.size} row(s) have NaN or infinite attributes (e.g. {examples}); "
            "fix the model's predictions before writing a submission"
        )


def write_submissions(
    out_dir: PathLike,
    tag: str,
    file_names: Sequence[str],
    class_codes: Sequence[str],
    attributes,
    expected_ids: Optional[Iterable[str]] = None,
    classes: Sequence[str] = CHALLENGE.codes,
) -> Tuple[Path, Path]:
    """Write and validate both leaderboard files; return (categorical_path, attributes_path).

    ``class_codes`` are codes of ``classes`` (default: the challenge's ``ASHUFDCN``, and a
    corpus's own inventory for other corpora); ``attributes`` is an (n, 3) array of EmoAct,
    EmoVal, EmoDom, clipped here to [1, 7]. ``expected_ids`` defaults to ``file_names``.
    Raises ``ToolkitError`` with the validator's report if either file would be invalid.
    """
    file_names = [str(name) for name in file_names]
    class_codes = [str(code) for code in class_codes]
    values = np.asarray(attributes, dtype=np.float64)
    _check_inputs(tag, file_names, class_codes, values)
    clipped = int(((values < ATTRIBUTE_MIN) | (values > ATTRIBUTE_MAX)).sum())
    if clipped:
        logger.info("%s: clipped %d of %d attribute values to [1, 7]", tag, clipped, values.size)
    values = np.clip(values, ATTRIBUTE_MIN, ATTRIBUTE_MAX)
    order = sorted(range(len(file_names)), key=file_names.__getitem__)
    expected = file_names if expected_ids is None else list(expected_ids)

    out_dir = Path(out_dir)
    categorical_path = out_dir / f"{tag}_categorical.csv"
    attributes_path = out_dir / f"{tag}_attributes.csv"
    with atomic_path(categorical_path) as categorical_tmp, atomic_path(attributes_path) as attributes_tmp:
        _write_rows(categorical_tmp, TASK_COLUMNS[CATEGORICAL], ([file_names[i], class_codes[i]] for i in order))
        _write_rows(
            attributes_tmp,
            TASK_COLUMNS[ATTRIBUTES_TASK],
            ([file_names[i], *(f"{value:.6f}" for value in values[i])] for i in order),
        )
        reports = [
            validate_submission(temporary, expected, task=task, display_name=str(final), max_per_code=5,
                                classes=Inventory.from_codes(classes))
            for temporary, final, task in (
                (categorical_tmp, categorical_path, CATEGORICAL),
                (attributes_tmp, attributes_path, ATTRIBUTES_TASK),
            )
        ]
        invalid = [report for report in reports if not report.valid]
        if invalid:
            details = "\n".join(report.format_text() for report in invalid)
            raise ToolkitError(f"submission {tag} would be invalid, nothing written:\n{details}")
    logger.info("wrote %s and %s (%d rows each, validated)", categorical_path, attributes_path, len(file_names))
    return categorical_path, attributes_path
