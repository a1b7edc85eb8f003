"""The label space of the MSP-Podcast challenge: 8 target classes and 3 attributes.

Reads and writes nothing; every module that touches classes or attributes takes its
order from here so that column ``soft_A`` and logit index 0 always mean the same class.
"""

from typing import Dict, Tuple

#: The 8 challenge classes, in the order used for every vector in the toolkit.
EMOTION_CODES: str = "ASHUFDCN"
NUM_CLASSES: int = len(EMOTION_CODES)

EMOTION_NAMES: Dict[str, str] = {
    "A": "Anger",
    "S": "Sadness",
    "H": "Happiness",
    "U": "Surprise",
    "F": "Fear",
    "D": "Disgust",
    "C": "Contempt",
    "N": "Neutral",
}

#: Consensus codes that exist in EmoClass but are not test targets.
NON_TARGET_CODES: Tuple[str, ...] = ("O", "X")
ALL_CONSENSUS_CODES: str = EMOTION_CODES + "".join(NON_TARGET_CODES)

#: Full names used by annotators in the per-annotator label files.
ANNOTATOR_NAME_TO_CODE: Dict[str, str] = {
    "angry": "A",
    "anger": "A",
    "sad": "S",
    "sadness": "S",
    "happy": "H",
    "happiness": "H",
    "surprise": "U",
    "surprised": "U",
    "fear": "F",
    "fearful": "F",
    "disgust": "D",
    "disgusted": "D",
    "contempt": "C",
    "neutral": "N",
}

#: Attribute columns (annotator means on a 1-7 scale) in the order used everywhere.
ATTRIBUTES: Tuple[str, str, str] = ("EmoAct", "EmoVal", "EmoDom")
ATTRIBUTE_MIN: float = 1.0
ATTRIBUTE_MAX: float = 7.0

SOFT_COLUMNS: Tuple[str, ...] = tuple(f"soft_{code}" for code in EMOTION_CODES)
LOGIT_COLUMNS: Tuple[str, ...] = tuple(f"logit_{code}" for code in EMOTION_CODES)
PROB_COLUMNS: Tuple[str, ...] = tuple(f"prob_{code}" for code in EMOTION_CODES)


def class_index(code: str) -> int:
    """Index of a target class code, -1 for anything that is not one of the 8 targets."""
    position = EMOTION_CODES.find(code) if len(code) == 1 else -1
    return position
