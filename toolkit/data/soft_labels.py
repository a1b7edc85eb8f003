"""Soft labels: per-annotator votes turned into a distribution over the 8 classes ``ASHUFDCN``.

Reads and writes nothing: ``SoftLabelRule`` states the rule, ``vote_vector`` applies it to one
annotator, ``annotator_votes`` applies it to a column of annotators (vectorised through the few
distinct label combinations), and ``SoftLabelAccumulator`` sums votes per file without ever
holding more than a few compact numpy arrays, so a million annotator rows stay cheap.

The rule (documented in docs/manifest.md, default ``SoftLabelRule()``):

- An annotator's primary vote for one of the 8 classes adds 1 to that class.
- A primary ``Other-<free text>`` vote follows ``other_policy``: ``drop`` adds nothing,
  ``uniform`` adds 1/8 to every class, ``neutral`` adds 1 to N.
- With ``secondary_weight`` w > 0, the annotator's secondary choices add w in total, shared
  equally among the distinct secondary choices that carry mass under the rule: one of the 8
  classes other than the annotator's primary, or ``Other`` unless the policy is ``drop``.
  Secondary emotions outside the label space (Frustrated, Amused, ...) carry no mass.
- Per file, the votes of every usable annotator are summed and normalised to sum to 1. A file
  whose votes give no mass to the 8 classes gets no soft label (it still serves the attribute head).
"""

import math
from dataclasses import asdict, dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from toolkit.emotions import ANNOTATOR_NAME_TO_CODE, EMOTION_CODES, NUM_CLASSES

OTHER_POLICIES: Tuple[str, ...] = ("drop", "uniform", "neutral")
OTHER = "O"
_NEUTRAL_INDEX = EMOTION_CODES.index("N")


@dataclass(frozen=True)
class SoftLabelRule:
    """How annotator votes become a soft label; the default counts primary votes only, drops ``Other``."""

    secondary_weight: float = 0.0
    other_policy: str = "drop"

    def __post_init__(self):
        from toolkit.utils.errors import ToolkitError

        if not (isinstance(self.secondary_weight, (int, float)) and math.isfinite(self.secondary_weight)
                and self.secondary_weight >= 0):
            raise ToolkitError(f"soft-label secondary_weight must be a finite number >= 0, got {self.secondary_weight!r}")
        if self.other_policy not in OTHER_POLICIES:
            raise ToolkitError(
                f"soft-label other_policy must be one of {', '.join(OTHER_POLICIES)}, got {self.other_policy!r}"
            )

    def to_dict(self) -> Dict[str, object]:
        return asdict(self)


def parse_class_name(name: str) -> Optional[str]:
    """An annotator's class name as a code: one of ``ASHUFDCN``, ``"O"`` for Other, ``""`` when empty.

    Full names (``Angry``, ``Sad`` ...), case-insensitive, and the letters themselves are accepted;
    ``Other`` and ``Other-<free text>`` give ``"O"``. Anything else gives ``None``.
    """
    cleaned = name.strip()
    if not cleaned:
        return ""
    lowered = cleaned.lower()
    if lowered in ANNOTATOR_NAME_TO_CODE:
        return ANNOTATOR_NAME_TO_CODE[lowered]
    if cleaned.upper() in EMOTION_CODES + OTHER and len(cleaned) == 1:
        return cleaned.upper()
    if lowered == "other" or lowered.startswith(("other-", "other -", "other:", "other ")):
        return OTHER
    return None


def _mass(code: str, rule: SoftLabelRule) -> Optional[np.ndarray]:
    """The 8-vector one unit of vote for ``code`` adds under ``rule``; None when it adds nothing."""
    vector = np.zeros(NUM_CLASSES)
    if code == OTHER:
        if rule.other_policy == "drop":
            return None
        if rule.other_policy == "uniform":
            vector[:] = 1.0 / NUM_CLASSES
        else:
            vector[_NEUTRAL_INDEX] = 1.0
        return vector
    vector[EMOTION_CODES.index(code)] = 1.0
    return vector


def vote_vector(primary: str, secondary: str, rule: SoftLabelRule) -> Optional[np.ndarray]:
    """One annotator's contribution (an unnormalised 8-vector); None when the primary vote is unusable.

    A usable annotator may contribute all zeros (an ``Other`` vote under ``drop``).
    """
    primary_code = parse_class_name(primary)
    if not primary_code:
        return None
    vector = np.zeros(NUM_CLASSES)
    primary_mass = _mass(primary_code, rule)
    if primary_mass is not None:
        vector += primary_mass
    if rule.secondary_weight > 0 and secondary:
        shares: List[np.ndarray] = []
        seen = {primary_code}
        for token in secondary.split(","):
            code = parse_class_name(token)
            if not code or code in seen:
                continue
            seen.add(code)
            mass = _mass(code, rule)
            if mass is not None:
                shares.append(mass)
        for mass in shares:
            vector += rule.secondary_weight / len(shares) * mass
    return vector


def annotator_votes(primary, secondary, rule: SoftLabelRule) -> Tuple[np.ndarray, np.ndarray]:
    """Votes of many annotators: ``(n, 8)`` float32 contributions and an ``(n,)`` usable mask.

    ``primary`` and ``secondary`` are equal-length sequences of strings. Each distinct
    (primary, secondary) pair is evaluated once; real data holds a few thousand of them.
    """
    import pandas as pd

    primary_codes, primary_names = pd.factorize(pd.Series(primary, dtype=object), sort=False)
    secondary_codes, secondary_names = pd.factorize(pd.Series(secondary, dtype=object), sort=False)
    pairs = primary_codes.astype(np.int64) * max(len(secondary_names), 1) + secondary_codes
    unique_pairs, codes = np.unique(pairs, return_inverse=True)
    table = np.zeros((len(unique_pairs), NUM_CLASSES), dtype=np.float32)
    usable = np.zeros(len(unique_pairs), dtype=bool)
    for index, pair in enumerate(unique_pairs):
        first, second = divmod(int(pair), max(len(secondary_names), 1))
        vector = vote_vector(primary_names[first], secondary_names[second], rule)
        if vector is not None:
            table[index] = vector
            usable[index] = True
    return table[codes.reshape(-1)], usable[codes.reshape(-1)]


def normalise(sums: np.ndarray) -> np.ndarray:
    """Rows divided by their sum; rows without mass become all-NaN (no soft label)."""
    sums = np.asarray(sums, dtype=np.float64)
    totals = sums.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals > 0, sums / np.where(totals > 0, totals, 1.0), np.nan)


class SoftLabelAccumulator:
    """Collects annotator votes chunk by chunk; ``result()`` sums them per file, one vote per annotator.

    Per annotator row it keeps a file index, a 64-bit (file, annotator) key and the float32
    vote vector: about 45 bytes a row, so a million rows need well under 100 MB.
    """

    def __init__(self):
        self.file_index: Dict[str, int] = {}
        self._files: List[np.ndarray] = []
        self._keys: List[np.ndarray] = []
        self._votes: List[np.ndarray] = []
        self._usable: List[np.ndarray] = []
        self._lines: List[np.ndarray] = []
        self._worker_index: Dict[str, int] = {}

    @staticmethod
    def _global_codes(values, index: Dict[str, int]) -> np.ndarray:
        """Stable integer codes of ``values`` across chunks (a Python loop over distinct values only)."""
        import pandas as pd

        codes, uniques = pd.factorize(values, sort=False)
        lookup = np.array([index.setdefault(value, len(index)) for value in uniques], dtype=np.int64)
        return lookup[codes]

    def add(self, file_names, annotator_ids, votes: np.ndarray, usable: np.ndarray, lines=None) -> None:
        """Add one chunk of annotator rows; ``lines`` (source line numbers) serve later messages."""
        import pandas as pd

        names = pd.Series(file_names, dtype=object)
        files = self._global_codes(names, self.file_index)
        workers = self._global_codes(pd.Series(annotator_ids, dtype=object), self._worker_index)
        self._files.append(files.astype(np.int32))
        self._keys.append((files << 32) | workers)
        self._votes.append(np.asarray(votes, dtype=np.float32))
        self._usable.append(np.asarray(usable, dtype=bool))
        self._lines.append(np.zeros(len(names), dtype=np.int64) if lines is None else np.asarray(lines, dtype=np.int64))

    def describe(self, positions: Sequence[int]) -> List[Tuple[str, int]]:
        """(FileName, source line) of rows given by position in the order they were added."""
        names = {index: name for name, index in self.file_index.items()}
        files = np.concatenate(self._files)
        lines = np.concatenate(self._lines)
        return [(names[int(files[position])], int(lines[position])) for position in positions]

    def result(self) -> Tuple[Dict[str, int], np.ndarray, np.ndarray, np.ndarray]:
        """``(file_index, vote_sums (files, 8), n_annotators (files,), duplicate_rows)``.

        ``duplicate_rows`` are positions (in the order rows were added) of a repeated
        (file, annotator) pair; only its first row counts.
        """
        files = np.concatenate(self._files) if self._files else np.zeros(0, dtype=np.int32)
        keys = np.concatenate(self._keys) if self._keys else np.zeros(0, dtype=np.int64)
        votes = np.concatenate(self._votes) if self._votes else np.zeros((0, NUM_CLASSES), dtype=np.float32)
        usable = np.concatenate(self._usable) if self._usable else np.zeros(0, dtype=bool)
        _, first = np.unique(keys, return_index=True)
        keep = np.zeros(len(keys), dtype=bool)
        keep[first] = True
        duplicates = np.flatnonzero(~keep)
        counted = keep & usable
        sums = np.stack(
            [np.bincount(files[counted], weights=votes[counted, column], minlength=len(self.file_index))
             for column in range(NUM_CLASSES)],
            axis=1,
        ).reshape(len(self.file_index), NUM_CLASSES)
        n_annotators = np.bincount(files[counted], minlength=len(self.file_index))
        return self.file_index, sums, n_annotators, duplicates
