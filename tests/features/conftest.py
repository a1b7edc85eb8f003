"""Fixtures for the feature tests: a few wav files with a manifest, and tiny models built once."""

import os

import numpy as np
import pandas as pd
import pytest
import soundfile

from tests.tiny_models import (
    build_tiny_hubert, build_tiny_modernbert, build_tiny_roberta, build_tiny_wav2vec2, build_tiny_wavlm,
    build_tiny_whisper,
)

# Seconds of audio per test utterance: different lengths, so batches need padding.
DURATIONS = [1.3, 0.6, 2.2, 0.9, 1.7, 0.4]
TEXTS = ["i am so happy to see you", "this is terrible", "she was sad", "what a surprise that was",
         "the quick brown fox", "speech emotion"]


@pytest.fixture(autouse=True, scope="session")
def _quiet_offline_torch():
    import torch

    # One thread: the test machines are small and shared, and contention makes torch much slower.
    torch.set_num_threads(1)
    os.environ["HF_HUB_OFFLINE"] = "1"


def write_wav(path, seconds, seed, sample_rate=16000, channels=1):
    rng = np.random.default_rng(seed)
    # Noise under a slow envelope, so frames differ from one another.
    samples = int(seconds * sample_rate)
    envelope = 0.05 + 0.2 * np.abs(np.sin(np.linspace(0, 7 * seconds, samples)))
    waveform = (rng.standard_normal((samples, channels)) * envelope[:, None]).astype(np.float32)
    soundfile.write(str(path), waveform, sample_rate)
    return path


def write_manifest(directory, durations=DURATIONS, texts=TEXTS):
    rows = []
    for index, seconds in enumerate(durations):
        path = write_wav(directory / f"utt{index}.wav", seconds, seed=index)
        rows.append({"FileName": path.name, "path": str(path), "duration": f"{seconds:.3f}",
                     "text": texts[index % len(texts)], "asr_text": texts[index % len(texts)].upper()})
    manifest = directory / "manifest.csv"
    pd.DataFrame(rows).to_csv(manifest, index=False)
    return manifest


@pytest.fixture
def corpus(tmp_path):
    """A manifest over six short wav files (and transcripts), in a fresh directory."""
    return write_manifest(tmp_path)


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory):
    """Directories of tiny random models, built once per session."""
    root = tmp_path_factory.mktemp("tiny_models")
    return {
        "wavlm": build_tiny_wavlm(root / "wavlm"),
        "hubert": build_tiny_hubert(root / "hubert"),
        "wav2vec2": build_tiny_wav2vec2(root / "wav2vec2"),
        "whisper": build_tiny_whisper(root / "whisper"),
        "roberta": build_tiny_roberta(root / "roberta"),
        "modernbert": build_tiny_modernbert(root / "modernbert"),
    }

