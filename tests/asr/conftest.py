"""A small real-speech corpus (espeak-ng) with a manifest, plus broken audio, shared by the ASR tests."""

from pathlib import Path

import pytest

from tests.asr.speech import SENTENCES, write_manifest_csv, write_speech_corpus


@pytest.fixture(scope="session")
def speech_dir(tmp_path_factory) -> Path:
    return write_speech_corpus(tmp_path_factory.mktemp("speech"))


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
