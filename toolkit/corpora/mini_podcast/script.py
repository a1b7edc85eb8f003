"""The script of the mini corpus: speakers, sentences, prosody and the utterance plan.

Reads and writes nothing: from a seeded ``numpy.random.Generator`` it decides, for every
utterance, who speaks, which split it belongs to, its file name, the intended emotion, which
channel carries that emotion (words, prosody or both), the sentence and the espeak-ng prosody.

Why three carriers: a corpus in which every emotional utterance also says an emotional
sentence could be solved from transcripts alone, and one with emotional prosody on every
utterance from audio alone. Here a third of the emotional utterances say a lexically neutral
sentence with emotional prosody (``prosody``), a third say an emotional sentence in a neutral
voice (``lexical``), the rest do both (``both``). A text-only model cannot tell a ``prosody``
utterance from a neutral one, an audio-only model cannot tell a ``lexical`` one, and prosody
alone confuses classes of similar arousal (anger/happiness, fear/surprise), which the words
separate. Only fusion recovers every class.
"""

from dataclasses import dataclass
from typing import Dict, List, Sequence, Tuple

import numpy as np

from toolkit.emotions import EMOTION_CODES

#: Development-set counts of the eight classes in MSP-Podcast 1.12 (DESIGN-NOTES §2).
MSP_CLASS_COUNTS: Dict[str, int] = {"N": 7423, "H": 6344, "A": 5836, "S": 2341, "C": 1459, "U": 987, "D": 542, "F": 326}
#: The real imbalance is flattened by this power so that a corpus of a few hundred utterances
#: still holds a dozen fear and disgust examples; the order of class frequencies is kept.
IMBALANCE_POWER = 0.6

SPLIT_FRACTIONS = {"Development": 0.2, "Test3": 0.15}
SPEAKERS_PER_SPLIT = {"Train": 12, "Development": 4, "Test3": 4}
CARRIER_PROBABILITIES = {"prosody": 0.35, "lexical": 0.35, "both": 0.30}
THIRD_PART_PROBABILITY = 0.08

#: espeak-ng voice variants by gender; each is used with a US and a British English voice.
VOICE_VARIANTS = {"Female": ("f1", "f2", "f3", "f4", "f5"), "Male": ("m1", "m2", "m3", "m4", "m5", "m6", "m7")}
ACCENTS = ("en-us", "en")


@dataclass(frozen=True)
class Speaker:
    speaker_id: int
    gender: str
    voice: str        # espeak-ng voice name, e.g. "en-us+f3"
    pitch: int        # baseline espeak pitch, 0-100
    rate: int         # baseline speaking rate, words per minute
    split: str


@dataclass(frozen=True)
class Prosody:
    """espeak-ng parameters of one utterance."""

    pitch: int        # 0-100
    pitch_range: int  # 0-100
    rate: int         # words per minute
    volume: int       # 0-200, 100 is normal
    word_gap: int     # extra pause between words, in units of 10 ms
    pause_ms: int     # one pause in the middle of the sentence


@dataclass(frozen=True)
class Utterance:
    file_name: str
    split: str
    speaker: Speaker
    emotion: str      # intended class code; what annotators perceive is decided in annotators.py
    carrier: str      # "prosody", "lexical", "both", or "neutral" for neutral utterances
    intensity: float  # 0-1, scales the prosody and the annotators' ratings
    text: str
    prosody: Prosody


@dataclass(frozen=True)
class ProsodyProfile:
    pitch_shift: float
    pitch_range: float
    rate_factor: float
    volume: float
    word_gap: float
    pause_ms: float


#: How each class is spoken, relative to the speaker's baseline; neutral is the reference.
#: Anger is loud and fast, sadness low, slow, flat and quiet, fear high, fast and flat,
#: surprise high with a wide range, disgust and contempt low and drawn out with pauses.
PROSODY_PROFILES: Dict[str, ProsodyProfile] = {
    "N": ProsodyProfile(0, 45, 1.00, 100, 0, 0),
    "A": ProsodyProfile(8, 85, 1.22, 165, 0, 0),
    "H": ProsodyProfile(18, 90, 1.12, 140, 0, 0),
    "U": ProsodyProfile(26, 100, 1.05, 135, 1, 150),
    "F": ProsodyProfile(22, 25, 1.30, 80, 2, 250),
    "S": ProsodyProfile(-14, 12, 0.72, 65, 4, 400),
    "D": ProsodyProfile(-8, 65, 0.82, 115, 3, 300),
    "C": ProsodyProfile(-6, 35, 0.85, 105, 2, 200),
}

SLOTS: Dict[str, Tuple[str, ...]] = {
    "noun": ("report", "package", "schedule", "budget", "car", "letter", "garden", "kitchen", "contract", "laptop",
             "ticket", "painting", "recipe", "bicycle", "camera", "house", "website", "project", "album", "jacket"),
    "place": ("station", "library", "office", "market", "airport", "museum", "hospital", "school", "harbor", "bakery"),
    "day": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "time": ("nine", "ten", "noon", "three", "four thirty", "six", "seven fifteen", "eight"),
    "number": ("two", "three", "four", "five", "six", "twelve", "twenty", "forty"),
    "name": ("Maria", "David", "Chen", "Amara", "Lucas", "Priya", "Omar", "Elena", "Tom", "Sofia"),
}

#: Lexically neutral sentences: they carry no emotion in their words.
NEUTRAL_TEMPLATES: Tuple[str, ...] = (
    "The {noun} is on the table next to the window.",
    "We moved the meeting about the {noun} to {day}.",
    "The train to the {place} leaves at {time}.",
    "{name} said the {noun} will arrive on {day}.",
    "There are {number} chairs in the room by the {place}.",
    "I put the {noun} in the blue box this morning.",
    "The {place} opens at {time} on weekdays.",
    "We need {number} more copies of the {noun} for {day}.",
    "{name} walked to the {place} after lunch.",
    "The {noun} was delivered to the {place} yesterday.",
    "My sister works near the {place} on the corner.",
    "The bus stops in front of the {place} every ten minutes.",
    "Please check the {noun} before {day}.",
    "{name} is going to call about the {noun} at {time}.",
    "The weather report says it will be cloudy on {day}.",
    "They painted the walls of the {place} white.",
    "The {noun} has {number} pages and a grey cover.",
    "We usually have dinner at {time} on {day}.",
    "The second door on the left leads to the {place}.",
    "{name} borrowed the {noun} last week.",
)

#: Sentences whose words carry the emotion, per class.
EMOTIONAL_TEMPLATES: Dict[str, Tuple[str, ...]] = {
    "A": (
        "I am absolutely furious that they broke the {noun} again.",
        "How dare {name} throw my {noun} away without asking.",
        "This is outrageous, stop touching my {noun} right now.",
        "I am sick and tired of waiting at the {place} for nothing.",
        "Get out of my {place}, I have had enough of your lies.",
        "They ruined the {noun} and I am so angry I could scream.",
    ),
    "S": (
        "I miss {name} so much, everything feels empty without her.",
        "It breaks my heart that the old {place} is gone forever.",
        "I cried all night after we lost the {noun}.",
        "Nobody came to the {place}, and I felt so alone.",
        "I am so sorry, I wish I could have said goodbye to {name}.",
        "Since {day} I just feel hopeless and tired of everything.",
    ),
    "H": (
        "This is wonderful, I love the new {noun} so much.",
        "I am so happy we finally finished the {noun}.",
        "What a fantastic day, {name} got the job at the {place}.",
        "We won, this is the best news I have heard all year.",
        "I am thrilled that you are coming on {day}, it will be great fun.",
        "Thank you so much, the {noun} is perfect and I adore it.",
    ),
    "U": (
        "Wait, the {noun} is already here? I did not expect that at all.",
        "Wow, I never imagined {name} would show up at the {place}.",
        "No way, they moved everything to {day} without telling us.",
        "Really, there were {number} of them? That is unbelievable.",
        "Oh my goodness, I had no idea the {place} was closed.",
        "What a surprise, I cannot believe you found my {noun}.",
    ),
    "F": (
        "I am scared something terrible will happen at the {place}.",
        "Please do not leave me, I am afraid of the dark {place}.",
        "Someone is following me and I am terrified.",
        "I am so nervous, what if they find the {noun}.",
        "I heard a noise in the {place} and my hands are shaking.",
        "Help me, I am frightened they will come back on {day}.",
    ),
    "D": (
        "That {noun} smells revolting, it makes me sick.",
        "Ugh, the {place} is filthy and disgusting.",
        "There was mold all over the {noun}, it was gross.",
        "I cannot even look at that slimy mess in the {place}.",
        "Yuck, someone left rotten food on the {noun}.",
        "That is nauseating, the whole {place} stinks.",
    ),
    "C": (
        "Oh please, only an amateur would believe that {noun} story.",
        "They call that a {noun}? How pathetic.",
        "{name} thinks she is clever, but she is a joke.",
        "Honestly, that {place} is beneath me, I would never go there.",
        "Sure, because your opinion about the {noun} matters so much.",
        "What a ridiculous little plan, typical of {name}.",
    ),
}


def allocate(total: int, weights: Sequence[float]) -> List[int]:
    """Split ``total`` into integer counts proportional to ``weights`` (largest remainder)."""
    weights = np.asarray(weights, dtype=np.float64)
    exact = total * weights / weights.sum()
    counts = np.floor(exact).astype(int)
    for index in np.argsort(-(exact - counts), kind="stable")[: total - counts.sum()]:
        counts[index] += 1
    return counts.tolist()


def split_sizes(num_utts: int) -> Dict[str, int]:
    """Utterances per split: Test3 a multiple of 8 (balanced), about 20% Development, the rest Train."""
    test = 8 * max(1, round(num_utts * SPLIT_FRACTIONS["Test3"] / 8))
    development = max(2, round(num_utts * SPLIT_FRACTIONS["Development"]))
    return {"Train": num_utts - test - development, "Development": development, "Test3": test}


def class_counts(split: str, size: int) -> Dict[str, int]:
    """Intended classes per split: MSP-shaped imbalance in Train/Development, balanced in Test3."""
    if split == "Test3":
        return dict(zip(EMOTION_CODES, allocate(size, [1.0] * len(EMOTION_CODES))))
    weights = [MSP_CLASS_COUNTS[code] ** IMBALANCE_POWER for code in EMOTION_CODES]
    return dict(zip(EMOTION_CODES, allocate(size, weights)))


def make_speakers(rng: np.random.Generator) -> List[Speaker]:
    """Speakers of every split, half female and half male in each, none shared between splits."""
    voices = {
        gender: [f"{accent}+{variant}" for accent in ACCENTS for variant in variants]
        for gender, variants in VOICE_VARIANTS.items()
    }
    for gender in voices:
        rng.shuffle(voices[gender])
    total = sum(SPEAKERS_PER_SPLIT.values())
    speaker_ids = rng.choice(np.arange(1, 1500), size=total, replace=False)
    speakers = []
    for split, count in SPEAKERS_PER_SPLIT.items():
        for position in range(count):
            gender = ("Female", "Male")[position % 2]
            speakers.append(Speaker(
                speaker_id=int(speaker_ids[len(speakers)]),
                gender=gender,
                voice=voices[gender].pop(),
                pitch=int(rng.integers(35, 66)),
                rate=int(rng.integers(150, 186)),
                split=split,
            ))
    return speakers


def make_sentence(emotion: str, carrier: str, rng: np.random.Generator) -> str:
    """A sentence whose words carry ``emotion`` for the lexical carriers, a neutral one otherwise."""
    lexical = carrier in ("lexical", "both")
    templates = EMOTIONAL_TEMPLATES[emotion] if lexical else NEUTRAL_TEMPLATES
    template = templates[int(rng.integers(len(templates)))]
    fillers = {slot: values[int(rng.integers(len(values)))] for slot, values in SLOTS.items()}
    return template.format(**fillers)


def make_prosody(speaker: Speaker, emotion: str, carrier: str, intensity: float, rng: np.random.Generator) -> Prosody:
    """espeak-ng parameters: the class profile scaled by intensity when prosody carries the emotion."""
    neutral = PROSODY_PROFILES["N"]
    target = PROSODY_PROFILES[emotion] if carrier in ("prosody", "both") else neutral

    def blend(field: str) -> float:
        return getattr(neutral, field) + intensity * (getattr(target, field) - getattr(neutral, field))

    # Per-utterance jitter so that no two utterances of a class share exact parameters.
    return Prosody(
        pitch=int(np.clip(speaker.pitch + blend("pitch_shift") + rng.normal(0, 3), 0, 100)),
        pitch_range=int(np.clip(blend("pitch_range") + rng.normal(0, 6), 0, 100)),
        rate=int(np.clip(speaker.rate * blend("rate_factor") * rng.uniform(0.95, 1.05), 80, 400)),
        volume=int(np.clip(blend("volume") + rng.normal(0, 6), 30, 170)),
        word_gap=int(round(max(0.0, blend("word_gap")))),
        pause_ms=int(round(blend("pause_ms"))),
    )


def _choose_carrier(emotion: str, rng: np.random.Generator) -> str:
    if emotion == "N":
        return "neutral"
    names = list(CARRIER_PROBABILITIES)
    return names[int(rng.choice(len(names), p=list(CARRIER_PROBABILITIES.values())))]


def plan_utterances(num_utts: int, rng: np.random.Generator) -> List[Utterance]:
    """Every utterance of the corpus, in generation order (Train, Development, Test3)."""
    speakers = make_speakers(rng)
    podcast_ids = iter(rng.choice(np.arange(1, 10000), size=2 * len(speakers), replace=False).tolist())
    # Each Train/Development speaker talks in two podcasts of their own, as in MSP-Podcast where
    # a speaker rarely crosses podcasts; segments are numbered within a podcast.
    podcasts = {speaker.speaker_id: [next(podcast_ids), next(podcast_ids)] for speaker in speakers}
    next_segment: Dict[int, int] = {}
    utterances: List[Utterance] = []
    for split, size in split_sizes(num_utts).items():
        split_speakers = [speaker for speaker in speakers if speaker.split == split]
        emotions = [code for code, count in class_counts(split, size).items() for _ in range(count)]
        rng.shuffle(emotions)
        for position, emotion in enumerate(emotions):
            speaker = split_speakers[int(rng.integers(len(split_speakers)))]
            carrier = _choose_carrier(emotion, rng)
            intensity = float(rng.uniform(0.55, 1.0))
            if split == "Test3":
                file_name = f"MSP-PODCAST_test3_{position + 1:04d}.wav"
            else:
                podcast = podcasts[speaker.speaker_id][int(rng.integers(2))]
                next_segment[podcast] = next_segment.get(podcast, 0) + 1
                stem = f"MSP-PODCAST_{podcast:04d}_{next_segment[podcast]:04d}"
                if rng.random() < THIRD_PART_PROBABILITY:
                    stem += f"_{int(rng.integers(1, 6)):04d}"
                file_name = stem + ".wav"
            utterances.append(Utterance(
                file_name=file_name,
                split=split,
                speaker=speaker,
                emotion=emotion,
                carrier=carrier,
                intensity=intensity,
                text=make_sentence(emotion, carrier, rng),
                prosody=make_prosody(speaker, emotion, carrier, intensity, rng),
            ))
    return utterances
