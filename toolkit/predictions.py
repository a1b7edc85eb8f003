"""Per-utterance prediction files: the hand-over between a trained model and the ensemble.

A prediction file is a CSV with one row per FileName, sorted by FileName, with columns
``FileName, logit_A … logit_N`` (8 class logits, order ASHUFDCN) and ``EmoAct, EmoVal, EmoDom``
(attribute predictions on the 1-7 scale). Trained members write
``<exp_dir>/predictions/<split>.csv``; the ensemble stage reads them.
"""

from pathlib import Path
from typing import Sequence

import numpy as np

from toolkit.emotions import ATTRIBUTES, LOGIT_COLUMNS
from toolkit.utils.atomic import PathLike, atomic_path
from toolkit.utils.errors import ToolkitError

PREDICTION_COLUMNS = ["FileName", *LOGIT_COLUMNS, *ATTRIBUTES]


def write_predictions(path: PathLike, file_names: Sequence[str], logits: np.ndarray, attributes: np.ndarray) -> None:
    import pandas as pd

    if logits.shape != (len(file_names), len(LOGIT_COLUMNS)) or attributes.shape != (len(file_names), len(ATTRIBUTES)):
        raise ValueError(
            f"predictions for {len(file_names)} files need logits (n, 8) and attributes (n, 3), "
            f"got {logits.shape} and {attributes.shape}"
        )
    frame = pd.DataFrame(np.concatenate([logits, attributes], axis=1), columns=PREDICTION_COLUMNS[1:])
    frame.insert(0, "FileName", list(file_names))
    frame = frame.sort_values("FileName", kind="stable")
    with atomic_path(path) as temporary:
        frame.to_csv(temporary, index=False, float_format="%.6g")


def read_predictions(path: PathLike):
    """Read a prediction file, checking its columns and that it holds no NaN or duplicate ids."""
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise ToolkitError(f"{path}: prediction file not found; did this member finish training and prediction?")
    frame = pd.read_csv(path, dtype={"FileName": str})
    missing = [column for column in PREDICTION_COLUMNS if column not in frame.columns]
    if missing:
        raise ToolkitError(f"{path}: missing column(s) {', '.join(missing)}; expected {','.join(PREDICTION_COLUMNS)}")
    duplicated = frame["FileName"][frame["FileName"].duplicated()]
    if len(duplicated):
        raise ToolkitError(f"{path}: FileName {duplicated.iloc[0]} appears more than once")
    numeric = frame[PREDICTION_COLUMNS[1:]].to_numpy(dtype=np.float64)
    if not np.isfinite(numeric).all():
        row = int(np.where(~np.isfinite(numeric).all(axis=1))[0][0])
        raise ToolkitError(f"{path}:{row + 2}: NaN or infinite value for {frame['FileName'].iloc[row]}")
    return frame
