"""Simulated crowd annotators: per-annotator votes and ratings, and the consensus built from them.

Reads and writes nothing. Each utterance is labelled by 5 to 8 workers from a fixed pool. A
worker perceives the intended class with a probability that depends on how clearly the
utterance carries it (both channels > words only > prosody only, scaled by intensity) and
otherwise picks a class that real annotators confuse it with (contempt with anger, fear with
surprise and sadness, ...). Every worker has a personal pull toward neutral; a few vote
``Other-<word>``, and most do on the few utterances whose emotion lies outside the 8 classes.
Secondary labels come from the same confusions. Ratings of activation, valence and dominance
(integers 1-7) follow the utterance's intended emotion and the class the worker perceived. The consensus class is the plurality of primary votes, ``X`` on a tie
and ``O`` when ``Other`` wins, as in MSP-Podcast.
"""

from collections import Counter
from dataclasses import dataclass
from typing import Dict, List, Sequence, Tuple

import numpy as np

from toolkit.corpora.mini_podcast.script import Utterance
from toolkit.emotions import EMOTION_CODES

#: Full names used in the per-annotator files (DESIGN-NOTES §2).
CODE_TO_ANNOTATOR_NAME: Dict[str, str] = {
    "A": "Angry", "S": "Sad", "H": "Happy", "U": "Surprise",
    "F": "Fear", "D": "Disgust", "C": "Contempt", "N": "Neutral",
}
OTHER_WORDS: Tuple[str, ...] = ("Frustrated", "Concerned", "Amused", "Bored", "Confused", "Annoyed", "Disappointed")

#: Where a worker's vote goes when they do not perceive the intended class (rows sum to 1).
CONFUSIONS: Dict[str, Dict[str, float]] = {
    "A": {"C": 0.30, "D": 0.20, "N": 0.30, "H": 0.10, "U": 0.10},
    "S": {"N": 0.40, "F": 0.30, "C": 0.10, "D": 0.20},
    "H": {"N": 0.40, "U": 0.40, "A": 0.10, "C": 0.10},
    "U": {"H": 0.30, "F": 0.30, "N": 0.30, "A": 0.10},
    "F": {"U": 0.35, "S": 0.35, "N": 0.30},
    "D": {"C": 0.40, "A": 0.30, "N": 0.30},
    "C": {"A": 0.40, "D": 0.30, "N": 0.30},
    "N": {"S": 0.20, "H": 0.20, "C": 0.20, "A": 0.10, "U": 0.10, "D": 0.10, "F": 0.10},
}
#: Prosody alone tells arousal better than the category: within these groups it is confused more.
AROUSAL_GROUPS: Tuple[str, ...] = ("AHUF", "SDCN")

#: Probability that a worker perceives the intended class, by carrier, at full intensity.
CLARITY: Dict[str, float] = {"both": 0.80, "lexical": 0.64, "prosody": 0.58, "neutral": 0.70}
#: Share of utterances whose emotion lies outside the 8 classes (frustration, boredom, ...):
#: on those, most workers vote Other-<word>, which gives the O consensus rows.
OFF_CATEGORY_PROBABILITY = 0.04
OFF_CATEGORY_OTHER_RATE = 0.6

#: Mean (activation, valence, dominance) of each class on the 1-7 scale.
ATTRIBUTE_MEANS: Dict[str, Tuple[float, float, float]] = {
    "A": (5.6, 2.2, 5.5), "S": (2.6, 2.4, 2.9), "H": (5.0, 5.9, 4.8), "U": (5.3, 4.5, 4.2),
    "F": (5.1, 2.3, 2.7), "D": (4.2, 2.3, 4.7), "C": (3.8, 2.8, 5.3), "N": (3.8, 4.0, 4.2),
}
MIN_ANNOTATORS, MAX_ANNOTATORS = 5, 8
POOL_SIZE = 48


@dataclass(frozen=True)
class Worker:
    worker_id: str
    neutral_pull: float   # extra probability mass moved to Neutral
    other_rate: float     # probability of an Other-<word> primary vote
    rating_noise: float   # standard deviation of the 1-7 ratings


@dataclass(frozen=True)
class Vote:
    worker_id: str
    primary: str                  # full name, e.g. "Angry" or "Other-Bored"
    secondary: Tuple[str, ...]    # full names, possibly empty
    activation: float
    valence: float
    dominance: float


@dataclass(frozen=True)
class Consensus:
    code: str                     # one of ASHUFDCN, O or X
    activation: float
    valence: float
    dominance: float


def make_worker_pool(rng: np.random.Generator, size: int = POOL_SIZE) -> List[Worker]:
    ids = sorted(rng.choice(np.arange(1, 100000), size=size, replace=False).tolist())
    return [
        Worker(
            worker_id=f"WORKER{number:05d}",
            neutral_pull=float(rng.uniform(0.0, 0.25)),
            other_rate=float(rng.choice([0.0, 0.02, 0.06], p=[0.5, 0.35, 0.15])),
            rating_noise=float(rng.uniform(0.4, 1.0)),
        )
        for number in ids
    ]


def perception_distribution(utterance: Utterance, worker: Worker, clarity_boost: float = 0.0) -> np.ndarray:
    """Probability over ``EMOTION_CODES`` of the class this worker perceives in this utterance."""
    emotion, carrier = utterance.emotion, utterance.carrier
    clarity = CLARITY[carrier] * (0.75 + 0.25 * utterance.intensity)
    clarity += clarity_boost * (1.0 - clarity)
    confusion = np.array([CONFUSIONS[emotion].get(code, 0.0) for code in EMOTION_CODES])
    if carrier == "prosody":
        group = next(group for group in AROUSAL_GROUPS if emotion in group)
        same_arousal = np.array([code in group and code != emotion for code in EMOTION_CODES], dtype=float)
        confusion = confusion + same_arousal / same_arousal.sum()
        confusion /= confusion.sum()
    distribution = (1.0 - clarity) * confusion
    distribution[EMOTION_CODES.index(emotion)] += clarity
    # A single channel leaves more room for "it sounded neutral to me".
    pull = worker.neutral_pull * (1.0 - clarity_boost) * (0.5 if carrier == "both" else 1.0)
    distribution = (1.0 - pull) * distribution
    distribution[EMOTION_CODES.index("N")] += pull
    return distribution / distribution.sum()


def annotate(
    utterance: Utterance, workers: Sequence[Worker], rng: np.random.Generator, clarity_boost: float = 0.0
) -> List[Vote]:
    """The votes of 5-8 distinct workers on one utterance."""
    count = int(rng.integers(MIN_ANNOTATORS, MAX_ANNOTATORS + 1))
    chosen = sorted(rng.permutation(len(workers))[:count].tolist())
    neutral = np.array(ATTRIBUTE_MEANS["N"])
    intended = neutral + utterance.intensity * (np.array(ATTRIBUTE_MEANS[utterance.emotion]) - neutral)
    if utterance.carrier == "lexical":
        # A flat voice halves the heard activation even when the words are emotional.
        intended[0] = neutral[0] + 0.5 * (intended[0] - neutral[0])
    off_category = rng.random() < OFF_CATEGORY_PROBABILITY
    votes = []
    for index in chosen:
        worker = workers[index]
        distribution = perception_distribution(utterance, worker, clarity_boost)
        perceived = EMOTION_CODES[int(rng.choice(len(EMOTION_CODES), p=distribution))]
        other_rate = OFF_CATEGORY_OTHER_RATE if off_category else worker.other_rate
        if rng.random() < other_rate * (1.0 - clarity_boost):
            primary = "Other-" + OTHER_WORDS[int(rng.integers(len(OTHER_WORDS)))]
            heard = intended
        else:
            primary = CODE_TO_ANNOTATOR_NAME[perceived]
            heard = 0.55 * intended + 0.45 * np.array(ATTRIBUTE_MEANS[perceived])
        secondary: Tuple[str, ...] = ()
        if rng.random() < 0.5:
            others = distribution.copy()
            others[EMOTION_CODES.index(perceived)] = 0.0
            size = min(int(rng.integers(1, 3)), int(np.count_nonzero(others)))
            picks = rng.choice(len(EMOTION_CODES), size=size, replace=False, p=others / others.sum())
            secondary = tuple(CODE_TO_ANNOTATOR_NAME[EMOTION_CODES[pick]] for pick in sorted(picks.tolist()))
        ratings = np.clip(np.rint(heard + rng.normal(0.0, worker.rating_noise, 3)), 1, 7)
        activation, valence, dominance = ratings.tolist()
        votes.append(Vote(worker.worker_id, primary, secondary, activation, valence, dominance))
    return votes


def consensus(votes: Sequence[Vote]) -> Consensus:
    """Plurality of primary votes (X on a tie, O when Other wins) and the mean ratings."""
    name_to_code = {name: code for code, name in CODE_TO_ANNOTATOR_NAME.items()}
    counts = Counter(name_to_code.get(vote.primary, "O") for vote in votes).most_common()
    tied = len(counts) > 1 and counts[0][1] == counts[1][1]
    return Consensus(
        code="X" if tied else counts[0][0],
        activation=float(np.mean([vote.activation for vote in votes])),
        valence=float(np.mean([vote.valence for vote in votes])),
        dominance=float(np.mean([vote.dominance for vote in votes])),
    )


def annotate_test_utterance(
    utterance: Utterance, workers: Sequence[Worker], rng: np.random.Generator
) -> Tuple[List[Vote], Consensus]:
    """Votes whose consensus is the intended class, as the organisers kept only such test3 files.

    Re-draws the crowd with growing clarity; at full clarity every worker votes the intended class.
    """
    for attempt in range(10):
        votes = annotate(utterance, workers, rng, clarity_boost=attempt / 10)
        result = consensus(votes)
        if result.code == utterance.emotion:
            return votes, result
    votes = annotate(utterance, workers, rng, clarity_boost=1.0)
    return votes, consensus(votes)
