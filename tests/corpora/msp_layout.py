"""Builders of tiny MSP-Podcast release directories for tests (short wavs written with soundfile)."""

import json
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence

import numpy as np
import soundfile

CONSENSUS_HEADER = "FileName,EmoClass,EmoAct,EmoVal,EmoDom,SpkrID,Gender,Split_Set"

#: (FileName, EmoClass, act, val, dom, speaker, gender, split)
DEFAULT_ROWS = [
    ("MSP-PODCAST_0001_0001.wav", "A", "5.2", "2.0", "5.6", "11", "Male", "Train"),
    ("MSP-PODCAST_0001_0002.wav", "N", "4.0", "4.0", "4.0", "11", "Male", "Train"),
    ("MSP-PODCAST_0002_0001.wav", "X", "3.5", "3.0", "4.2", "Unknown", "Female", "Train"),
    ("MSP-PODCAST_0003_0001_0002.wav", "H", "5.0", "6.1", "4.8", "27", "Female", "Development"),
    ("MSP-PODCAST_0003_0002.wav", "O", "3.0", "3.5", "3.5", "27", "Other", "Development"),
]
#: FileName -> list of (worker, primary, secondary)
DEFAULT_VOTES = {
    "MSP-PODCAST_0001_0001.wav": [("W1", "Angry", "Disgust"), ("W2", "Angry", ""), ("W3", "Contempt", "Angry,Frustrated")],
    "MSP-PODCAST_0001_0002.wav": [("W1", "Neutral", ""), ("W4", "Neutral", ""), ("W5", "Happy", "Neutral")],
    "MSP-PODCAST_0002_0001.wav": [("W2", "Sad", ""), ("W3", "Fear", "Sad"), ("W6", "Other-bored", "")],
    "MSP-PODCAST_0003_0001_0002.wav": [("W1", "Happy", "Surprise"), ("W7", "Happy", "")],
    "MSP-PODCAST_0003_0002.wav": [("W2", "Other-confused", ""), ("W4", "Other-annoyed", "Frustrated")],
}
TEST3_NAMES = ["MSP-PODCAST_test3_0001.wav", "MSP-PODCAST_test3_0002.wav"]


def write_wav(path: Path, seconds: float = 0.25, sample_rate: int = 16000, channels: int = 1) -> None:
    rng = np.random.default_rng(len(path.name))
    samples = (0.1 * rng.standard_normal((int(seconds * sample_rate), channels))).astype(np.float32)
    soundfile.write(str(path), samples, sample_rate, subtype="PCM_16")


def write_votes(labels_dir: Path, votes: Dict[str, List[Sequence[str]]], fmt: str) -> Path:
    """Per-annotator labels in one of the three formats: ``json``, ``csv-rows``, ``csv-packed``."""
    if fmt == "json":
        document = {
            name: {worker: {"EmoClass_Major": major, "EmoClass_Second": second, "EmoAct": 4.0, "EmoVal": 4.0,
                            "EmoDom": 4.0} for worker, major, second in entries}
            for name, entries in votes.items()
        }
        path = labels_dir / "labels_detailed.json"
        path.write_text(json.dumps(document), encoding="utf-8")
        return path
    path = labels_dir / "labels_detailed.csv"
    if fmt == "csv-rows":
        lines = ["FileName,WorkerID,EmoClass_Major,EmoClass_Second,EmoAct,EmoVal,EmoDom"]
        lines += [f'{name},{worker},{major},"{second}",4.0,4.0,4.0'
                  for name, entries in votes.items() for worker, major, second in entries]
    else:
        lines = ["FileName,EmoDetail"]
        lines += [f'{name},"{worker}; {major}; {second}; A:4.0; V:4.0; D:4.0;"'
                  for name, entries in votes.items() for worker, major, second in entries]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def build_release(root: Path, rows: Iterable[Sequence[str]] = DEFAULT_ROWS,
                  votes: Optional[Dict[str, List[Sequence[str]]]] = None, annotation_format: Optional[str] = "csv-rows",
                  test3: Sequence[str] = TEST3_NAMES, consensus_lines: Optional[List[str]] = None,
                  transcripts: bool = True) -> Path:
    """A release at ``root``: wavs for every row and test3 name, labels, and a transcript for all but the last row."""
    rows = list(rows)
    votes = DEFAULT_VOTES if votes is None else votes
    for directory in ("Audios", "Labels", "Transcripts"):
        (root / directory).mkdir(parents=True, exist_ok=True)
    for name in [row[0] for row in rows] + list(test3):
        write_wav(root / "Audios" / name)
    lines = consensus_lines if consensus_lines is not None else [CONSENSUS_HEADER] + [",".join(row) for row in rows]
    (root / "Labels" / "labels_consensus.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    if annotation_format:
        write_votes(root / "Labels", votes, annotation_format)
    if transcripts:
        for row in rows[:-1]:
            (root / "Transcripts" / row[0].replace(".wav", ".txt")).write_text(f"words of {row[0]},\n\"quoted\"\n")
    return root
