"""Emotion inventories: the ordered classes a corpus is labelled with; and the 3 attributes.

Reads and writes nothing (``toolkit.data.inventory`` finds a corpus's inventory on disk). An
``Inventory`` is an ordered tuple of class codes with names, and its order fixes the meaning of
every class vector in the toolkit: column ``soft_<code>`` of a manifest, logit index i of a
model, column ``logit_<code>`` of a prediction file. Stage 0 records a corpus's inventory (the
manifests' soft-label columns and ``"classes"`` in ``prepare_summary.json``); every later stage
reads it from there. ``CHALLENGE``, the 8 classes of the MSP-Podcast challenge, is the default.

One emotion has one code in every corpus (``STANDARD_NAMES``: IEMOCAP's and MSP-Podcast's
anger are both ``A``), so a system trained on one corpus can be scored on another by code.
``O`` (other) and ``X`` (no agreement) are consensus codes that are never targets. No numpy
here: ``toolkit validate`` imports this module and must start fast.
"""

import re
from dataclasses import dataclass
from typing import Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

#: The code and name of every emotion the toolkit knows by name; a corpus uses a subset, in this
#: order unless it says otherwise. The first 8 are the challenge's, in its order ``ASHUFDCN``.
STANDARD_NAMES: Dict[str, str] = {
    "A": "Anger",
    "S": "Sadness",
    "H": "Happiness",
    "U": "Surprise",
    "F": "Fear",
    "D": "Disgust",
    "C": "Contempt",
    "N": "Neutral",
    "K": "Calm",
    "B": "Boredom",
    "R": "Frustration",
    "E": "Excitement",
}

#: Corpus label words (lower case) that name a standard emotion, for label maps and EmoBox's
#: class names. ``boredem`` is EmoBox's spelling for Emo-DB; ``superised`` its old RAVDESS key.
CLASS_NAME_ALIASES: Dict[str, str] = {
    **{name.lower(): code for code, name in STANDARD_NAMES.items()},
    "angry": "A", "sad": "S", "happy": "H", "joy": "H", "surprised": "U", "superised": "U",
    "fearful": "F", "disgusted": "D", "calmness": "K", "bored": "B", "boredem": "B",
    "frustrated": "R", "excited": "E",
}

#: Consensus codes that exist in EmoClass but are never targets: O other, X no agreement.
NON_TARGET_CODES: Tuple[str, ...] = ("O", "X")

#: A class code: an upper-case letter, then up to 7 upper-case letters or digits.
_CODE = re.compile(r"[A-Z][A-Z0-9]{0,7}\Z")


def check_code(code: str, where: str) -> str:
    """``code`` if it is a valid target code, else a ToolkitError naming ``where``."""
    from toolkit.utils.errors import ToolkitError

    if code in NON_TARGET_CODES:
        raise ToolkitError(f"{where}: {code!r} (other / no agreement) is never a target class; "
                           "leave it out of the class list")
    if not _CODE.match(code):
        raise ToolkitError(f"{where}: class code {code!r} must be an upper-case letter followed by at most 7 "
                           "upper-case letters or digits, e.g. A or K")
    return code


@dataclass(frozen=True)
class Inventory:
    """An ordered set of target classes: ``codes[i]`` is the class of index i, ``names[i]`` its name."""

    codes: Tuple[str, ...]
    names: Tuple[str, ...]

    def __post_init__(self):
        from toolkit.utils.errors import ToolkitError

        if len(self.codes) != len(self.names):
            raise ToolkitError(f"class inventory: {len(self.codes)} codes but {len(self.names)} names")
        if len(self.codes) < 2:
            raise ToolkitError(f"class inventory {','.join(self.codes) or '(empty)'}: a classifier needs at "
                               "least 2 classes")
        repeated = sorted({code for code in self.codes if self.codes.count(code) > 1})
        if repeated:
            raise ToolkitError(f"class inventory: code(s) {', '.join(repeated)} listed more than once")
        for code in self.codes:
            check_code(code, "class inventory")

    @classmethod
    def from_codes(cls, codes: Iterable[str], names: Optional[Mapping[str, str]] = None) -> "Inventory":
        """Codes in the given order; names from ``names``, else the standard name, else the code."""
        codes = tuple(codes)
        names = names or {}
        return cls(codes, tuple(names.get(code) or STANDARD_NAMES.get(code, code) for code in codes))

    @classmethod
    def from_list(cls, items: Sequence[Mapping[str, str]], where: str) -> "Inventory":
        """From ``[{"code": "A", "name": "Anger"}, ...]`` as ``prepare_summary.json`` stores it."""
        from toolkit.utils.errors import ToolkitError

        if not isinstance(items, (list, tuple)) or not all(isinstance(item, Mapping) and "code" in item for item in items):
            raise ToolkitError(f"{where}: 'classes' must be a list of {{\"code\": ..., \"name\": ...}} objects")
        return cls.from_codes((str(item["code"]) for item in items),
                              {str(item["code"]): str(item.get("name") or "") for item in items})

    @classmethod
    def parse(cls, spec: str, where: str = "--classes") -> "Inventory":
        """From ``"A,S,H,N"``, ``"A Anger, S Sadness, K Calm"`` or ``"A:Anger,K:Calm"``.

        A bare code takes its standard name; a bare standard name (``anger``) its standard code.
        """
        from toolkit.utils.errors import ToolkitError

        codes: List[str] = []
        names: Dict[str, str] = {}
        for item in (part.strip() for part in spec.split(",")):
            if not item:
                continue
            code, _, name = item.replace(":", " ", 1).partition(" ")
            code, name = code.strip(), name.strip()
            if not name and code.lower() in CLASS_NAME_ALIASES and code.upper() not in STANDARD_NAMES:
                code = CLASS_NAME_ALIASES[code.lower()]
            codes.append(check_code(code, f"{where} {spec!r}"))
            if name:
                names[code] = name
        if not codes:
            raise ToolkitError(f"{where}: no classes in {spec!r}; give codes like 'A,S,H,N' or 'A Anger,S Sadness'")
        return cls.from_codes(codes, names)

    @property
    def num_classes(self) -> int:
        return len(self.codes)

    def index(self, code: str) -> int:
        """Index of ``code``, -1 for a code outside the inventory (O, X, empty, other corpora's)."""
        try:
            return self.codes.index(code)
        except ValueError:
            return -1

    def name_of(self, code: str) -> str:
        return self.names[self.codes.index(code)]

    @property
    def soft_columns(self) -> Tuple[str, ...]:
        return tuple(f"soft_{code}" for code in self.codes)

    @property
    def logit_columns(self) -> Tuple[str, ...]:
        return tuple(f"logit_{code}" for code in self.codes)

    @property
    def prob_columns(self) -> Tuple[str, ...]:
        return tuple(f"prob_{code}" for code in self.codes)

    def to_list(self) -> List[Dict[str, str]]:
        return [{"code": code, "name": name} for code, name in zip(self.codes, self.names)]

    def describe(self) -> str:
        """``A Anger, S Sadness, ...``: the form ``--classes`` accepts."""
        return ", ".join(f"{code} {name}" for code, name in zip(self.codes, self.names))

    def __str__(self) -> str:
        return self.describe()


def canonical_order(codes: Iterable[str]) -> List[str]:
    """Distinct codes, standard ones in ``STANDARD_NAMES`` order first, then the others as first seen."""
    distinct = list(dict.fromkeys(codes))
    standard = [code for code in STANDARD_NAMES if code in distinct]
    return standard + [code for code in distinct if code not in STANDARD_NAMES]


#: The MSP-Podcast challenge's 8 classes, the default inventory.
CHALLENGE = Inventory.from_codes("ASHUFDCN")

# The challenge inventory's pieces, for the MSP-Podcast-specific code (its adapter, annotator
# votes, the mini corpus generator) and the validator's defaults.
EMOTION_CODES: str = "".join(CHALLENGE.codes)
NUM_CLASSES: int = CHALLENGE.num_classes
EMOTION_NAMES: Dict[str, str] = dict(zip(CHALLENGE.codes, CHALLENGE.names))
SOFT_COLUMNS: Tuple[str, ...] = CHALLENGE.soft_columns
ALL_CONSENSUS_CODES: str = EMOTION_CODES + "".join(NON_TARGET_CODES)

#: Full names used by MSP-Podcast's annotators in the per-annotator label files. Only the 8
#: challenge classes: its secondary labels Frustrated, Bored, ... lie outside its label space.
ANNOTATOR_NAME_TO_CODE: Dict[str, str] = {
    "angry": "A", "anger": "A", "sad": "S", "sadness": "S", "happy": "H", "happiness": "H",
    "surprise": "U", "surprised": "U", "fear": "F", "fearful": "F", "disgust": "D", "disgusted": "D",
    "contempt": "C", "neutral": "N",
}

#: Attribute columns (annotator means on a 1-7 scale) in the order used everywhere.
ATTRIBUTES: Tuple[str, str, str] = ("EmoAct", "EmoVal", "EmoDom")
ATTRIBUTE_MIN: float = 1.0
ATTRIBUTE_MAX: float = 7.0
