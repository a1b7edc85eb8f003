"""Writers of the MSP-Podcast release files: consensus labels, per-annotator labels, key, transcripts.

Writes, under the corpus root (all atomically):
``Labels/labels_consensus.csv`` (Train and Development rows),
``Labels/labels_detailed.csv`` (formats ``csv`` and ``emodetail``) or ``Labels/labels_detailed.json``,
``Key/test3_labels.csv`` (the test3 answers, same header as the consensus file),
``Key/utterance_design.csv`` (how each utterance was made: intended class, carrier, prosody),
``Transcripts/<utt>.txt``. Rows are sorted by FileName so that the bytes depend only on the seed.
"""

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, List, Sequence

from toolkit.corpora.mini_podcast.annotators import Consensus, Vote
from toolkit.corpora.mini_podcast.script import Utterance
from toolkit.data.manifest import CONSENSUS_COLUMNS
from toolkit.utils.atomic import atomic_path, atomic_write_text

DETAILED_FORMATS = ("csv", "json", "emodetail")
DETAILED_CSV_COLUMNS = ["FileName", "WorkerID", "EmoClass_Major", "EmoClass_Second", "EmoAct", "EmoVal", "EmoDom"]
DESIGN_COLUMNS = [
    "FileName", "Split_Set", "IntendedClass", "Carrier", "Intensity", "Voice",
    "Pitch", "PitchRange", "Rate", "Volume", "WordGap", "PauseMs",
]


@dataclass(frozen=True)
class LabelledUtterance:
    utterance: Utterance
    votes: List[Vote]
    consensus: Consensus
    speaker_label: str    # the SpkrID column: the speaker's number, or "Unknown"


def detailed_labels_path(root: Path, detailed_format: str) -> Path:
    return root / "Labels" / ("labels_detailed.json" if detailed_format == "json" else "labels_detailed.csv")


def _write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[str]]) -> None:
    with atomic_path(path) as temporary:
        with open(temporary, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(header)
            writer.writerows(rows)


def _rating(value: float) -> str:
    return f"{value:.1f}"


def _consensus_row(item: LabelledUtterance) -> List[str]:
    utterance, result = item.utterance, item.consensus
    return [
        utterance.file_name, result.code, _rating(result.activation), _rating(result.valence),
        _rating(result.dominance), item.speaker_label, utterance.speaker.gender, utterance.split,
    ]


def write_consensus(path: Path, items: Sequence[LabelledUtterance]) -> None:
    """``labels_consensus.csv`` or the test3 key: the exact MSP-Podcast header, one row per file."""
    ordered = sorted(items, key=lambda item: item.utterance.file_name)
    _write_csv(path, CONSENSUS_COLUMNS, (_consensus_row(item) for item in ordered))


def write_detailed(path: Path, items: Sequence[LabelledUtterance], detailed_format: str) -> None:
    """Per-annotator labels in one of the three schemas of DESIGN-NOTES §2."""
    ordered = sorted(items, key=lambda item: item.utterance.file_name)
    if detailed_format == "json":
        payload = {
            item.utterance.file_name: {
                vote.worker_id: {
                    "EmoClass_Major": vote.primary,
                    "EmoClass_Second": ",".join(vote.secondary),
                    "EmoAct": vote.activation,
                    "EmoVal": vote.valence,
                    "EmoDom": vote.dominance,
                }
                for vote in item.votes
            }
            for item in ordered
        }
        atomic_write_text(path, json.dumps(payload, indent=1) + "\n")
    elif detailed_format == "csv":
        _write_csv(path, DETAILED_CSV_COLUMNS, (
            [item.utterance.file_name, vote.worker_id, vote.primary, ",".join(vote.secondary),
             _rating(vote.activation), _rating(vote.valence), _rating(vote.dominance)]
            for item in ordered for vote in item.votes
        ))
    elif detailed_format == "emodetail":
        _write_csv(path, ["FileName", "EmoDetail"], (
            [item.utterance.file_name,
             f"{vote.worker_id}; {vote.primary}; {','.join(vote.secondary)}; "
             f"A:{_rating(vote.activation)}; V:{_rating(vote.valence)}; D:{_rating(vote.dominance)};"]
            for item in ordered for vote in item.votes
        ))
    else:
        raise ValueError(f"unknown detailed format {detailed_format!r}; expected one of {DETAILED_FORMATS}")


def write_design(path: Path, utterances: Sequence[Utterance]) -> None:
    """How every utterance was made, for analysis (which channel carried the emotion)."""
    _write_csv(path, DESIGN_COLUMNS, (
        [u.file_name, u.split, u.emotion, u.carrier, f"{u.intensity:.3f}", u.speaker.voice,
         str(u.prosody.pitch), str(u.prosody.pitch_range), str(u.prosody.rate), str(u.prosody.volume),
         str(u.prosody.word_gap), str(u.prosody.pause_ms)]
        for u in sorted(utterances, key=lambda u: u.file_name)
    ))


def write_transcripts(directory: Path, utterances: Sequence[Utterance], missing: Iterable[str]) -> None:
    """One ``<utt>.txt`` per utterance holding the synthesised sentence, except the ``missing`` ones."""
    missing = set(missing)
    for utterance in utterances:
        if utterance.file_name not in missing:
            atomic_write_text(directory / (Path(utterance.file_name).stem + ".txt"), utterance.text + "\n")
