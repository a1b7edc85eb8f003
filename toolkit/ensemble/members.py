"""Ensemble members' prediction files, read and aligned into the meta-classifier's input matrix.

Reads ``<member>/predictions/<split>.csv`` (format of :mod:`toolkit.predictions`) for each member
directory; writes nothing. Every member must cover exactly the same FileNames: a member that
predicted a different manifest is an error, never a silent intersection.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import List, Sequence, Tuple

import numpy as np

from toolkit.emotions import ATTRIBUTES
from toolkit.predictions import LOGIT_PREFIX, prediction_codes, read_predictions
from toolkit.utils.atomic import PathLike
from toolkit.utils.errors import ToolkitError


def inputs_per_member(num_classes: int) -> int:
    """Inputs per member to the meta-classifier: one posterior per class, then 3 attributes."""
    return num_classes + len(ATTRIBUTES)


@dataclass
class MemberPredictions:
    """One member's predictions on one split, rows sorted by FileName."""

    name: str
    file_names: List[str]
    logits: np.ndarray      # (rows, classes)
    attributes: np.ndarray  # (rows, 3)
    codes: Tuple[str, ...]  # the class of each logit column

    @property
    def posteriors(self) -> np.ndarray:
        return softmax(self.logits)


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    exponentials = np.exp(shifted)
    return exponentials / exponentials.sum(axis=1, keepdims=True)


def prediction_path(member_dir: PathLike, split: str) -> Path:
    return Path(member_dir) / "predictions" / f"{split}.csv"


def member_name(member_dir: PathLike) -> str:
    return Path(member_dir).resolve().name


def load_member(member_dir: PathLike, split: str) -> MemberPredictions:
    path = prediction_path(member_dir, split)
    if not path.is_file():
        raise ToolkitError(
            f"{path}: member {member_dir} has no {split} predictions; run its prediction step "
            f"(toolkit train ... writes predictions/{split}.csv) or drop it from --member"
        )
    frame = read_predictions(path).sort_values("FileName", kind="stable")
    codes = tuple(prediction_codes(frame))
    return MemberPredictions(
        name=member_name(member_dir),
        file_names=frame["FileName"].tolist(),
        logits=frame[[f"{LOGIT_PREFIX}{code}" for code in codes]].to_numpy(dtype=np.float64),
        attributes=frame[list(ATTRIBUTES)].to_numpy(dtype=np.float64),
        codes=codes,
    )


def load_members(member_dirs: Sequence[PathLike], split: str) -> List[MemberPredictions]:
    """Load every member's predictions on ``split`` and check they cover the same FileNames."""
    if not member_dirs:
        raise ToolkitError("no ensemble members given; pass --member DIR (repeatable) or --members-file")
    names = [member_name(directory) for directory in member_dirs]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ToolkitError(f"member directory name(s) {', '.join(repeated)} given more than once; each member must be distinct")
    members = [load_member(directory, split) for directory in member_dirs]
    reference = members[0]
    for directory, member in zip(member_dirs, members):
        if member.codes != reference.codes:
            raise ToolkitError(
                f"{prediction_path(directory, split)}: predicts classes {','.join(member.codes)}, but "
                f"{prediction_path(member_dirs[0], split)} predicts {','.join(reference.codes)}; every member must be "
                "trained on the same class inventory"
            )
        if member.file_names != reference.file_names:
            ensure_same_files(
                reference.file_names, member.file_names,
                f"{prediction_path(member_dirs[0], split)}", f"{prediction_path(directory, split)}",
            )
    return members


def ensure_same_files(expected: Sequence[str], found: Sequence[str], expected_source: str, found_source: str) -> None:
    """Raise a ToolkitError naming a few FileNames present on one side only."""
    expected_set, found_set = set(expected), set(found)
    only_expected = sorted(expected_set - found_set)
    only_found = sorted(found_set - expected_set)
    if not only_expected and not only_found:
        return
    details = []
    if only_expected:
        details.append(f"{len(only_expected)} FileName(s) of {expected_source} missing, e.g. {', '.join(only_expected[:3])}")
    if only_found:
        details.append(f"{len(only_found)} extra FileName(s), e.g. {', '.join(only_found[:3])}")
    raise ToolkitError(
        f"{found_source}: FileNames differ from {expected_source}: {'; '.join(details)}. "
        "All members must predict the same manifest; re-run prediction of this member on it"
    )
