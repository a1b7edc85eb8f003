"""Per-utterance prediction files: the hand-over between a trained model and the ensemble.

A prediction file is a CSV with one row per FileName, sorted by FileName, with columns
``FileName``, one ``logit_<code>`` per class of the model's inventory in inventory order
(``logit_A … logit_N`` for the challenge's ``ASHUFDCN``) and ``EmoAct, EmoVal, EmoDom``
(attribute predictions on the 1-7 scale). Trained members and probes write
``<exp_dir>/predictions/<split>.csv``; the ensemble stage reads them.
"""

from pathlib import Path
from typing import List, Sequence

import numpy as np

from toolkit.emotions import ATTRIBUTES, CHALLENGE
from toolkit.utils.atomic import PathLike, atomic_path
from toolkit.utils.errors import ToolkitError

LOGIT_PREFIX = "logit_"


def write_predictions(path: PathLike, file_names: Sequence[str], logits: np.ndarray, attributes: np.ndarray,
                      codes: Sequence[str] = CHALLENGE.codes) -> None:
    """Write one row per file: ``logits`` (n, classes) in the order of ``codes``, ``attributes`` (n, 3)."""
    import pandas as pd

    codes = list(codes)
    if logits.shape != (len(file_names), len(codes)) or attributes.shape != (len(file_names), len(ATTRIBUTES)):
        raise ValueError(
            f"predictions for {len(file_names)} files over {len(codes)} classes need logits (n, {len(codes)}) and "
            f"attributes (n, 3), got {logits.shape} and {attributes.shape}"
        )
    columns = [f"{LOGIT_PREFIX}{code}" for code in codes] + list(ATTRIBUTES)
    frame = pd.DataFrame(np.concatenate([logits, attributes], axis=1), columns=columns)
    frame.insert(0, "FileName", list(file_names))
    frame = frame.sort_values("FileName", kind="stable")
    with atomic_path(path) as temporary:
        frame.to_csv(temporary, index=False, float_format="%.6g")


def prediction_codes(frame) -> List[str]:
    """The class codes of a prediction file, from its ``logit_<code>`` columns in order."""
    return [column[len(LOGIT_PREFIX):] for column in frame.columns if column.startswith(LOGIT_PREFIX)]


def read_predictions(path: PathLike):
    """Read a prediction file, checking its columns and that it holds no NaN or duplicate ids."""
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise ToolkitError(f"{path}: prediction file not found; did this member finish training and prediction?")
    frame = pd.read_csv(path, dtype={"FileName": str})
    codes = prediction_codes(frame)
    missing = [column for column in ("FileName", *ATTRIBUTES) if column not in frame.columns]
    if missing or len(codes) < 2:
        raise ToolkitError(f"{path}: missing column(s) {', '.join(missing) or 'logit_<code> (two or more)'}; expected "
                           f"FileName, a logit_<code> column per class, {', '.join(ATTRIBUTES)}")
    duplicated = frame["FileName"][frame["FileName"].duplicated()]
    if len(duplicated):
        raise ToolkitError(f"{path}: FileName {duplicated.iloc[0]} appears more than once")
    numeric = frame[[f"{LOGIT_PREFIX}{code}" for code in codes] + list(ATTRIBUTES)].to_numpy(dtype=np.float64)
    if not np.isfinite(numeric).all():
        row = int(np.where(~np.isfinite(numeric).all(axis=1))[0][0])
        raise ToolkitError(f"{path}:{row + 2}: NaN or infinite value for {frame['FileName'].iloc[row]}")
    return frame
