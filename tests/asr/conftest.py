"""A small real-speech corpus (espeak-ng) with a manifest, plus broken audio, shared by the ASR tests."""

from pathlib import Path

import pandas as pd
import pytest
import soundfile

from tests.asr.speech import write_speech

SENTENCES = {
    "utt_hello.wav": "Hello world.",
    "utt_station.wav": "Where is the train station?",
    "utt_morning.wav": "Good morning everyone.",
}


def write_manifest_csv(path: Path, rows) -> Path:
    pd.DataFrame(rows, columns=["FileName", "path", "text"]).to_csv(path, index=False)
    return path


@pytest.fixture(scope="session")
def speech_dir(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("speech")
    for name, sentence in SENTENCES.items():
        write_speech(directory / name, sentence)
    (directory / "utt_garbage.wav").write_bytes(b"this is not a wav file")
    soundfile.write(str(directory / "utt_empty.wav"), [], 16000)
    return directory


@pytest.fixture()
def speech_manifest(speech_dir, tmp_path) -> Path:
    """Three spoken utterances with human transcripts; no broken audio."""
    rows = [(name, str(speech_dir / name), text) for name, text in SENTENCES.items()]
    return write_manifest_csv(tmp_path / "manifest.csv", rows)


@pytest.fixture()
def mixed_manifest(speech_dir, tmp_path) -> Path:
    """Spoken utterances, one without a human transcript, one unreadable file, one empty file."""
    rows = [
        ("utt_hello.wav", str(speech_dir / "utt_hello.wav"), "Hello world."),
        ("utt_garbage.wav", str(speech_dir / "utt_garbage.wav"), "Never heard."),
        ("utt_station.wav", str(speech_dir / "utt_station.wav"), ""),
        ("utt_empty.wav", str(speech_dir / "utt_empty.wav"), ""),
    ]
    return write_manifest_csv(tmp_path / "mixed.csv", rows)
