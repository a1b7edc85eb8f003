"""A tiny exported system built here: two DeepSER members over the fbank stream, a soup, audio files."""

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile

from toolkit.emotions import CHALLENGE
from toolkit.ensemble.meta_classifier import LinearWeights
from toolkit.ensemble.methods import Linear
from toolkit.models.deepser import StreamSpec, build_model
from toolkit.training.checkpoint import model_payload, save_checkpoint
from toolkit.training.config import TrainingConfig

FBANK_YAML = "kind: fbank\nfbank:\n  num_mel_bins: 24\n"


def tiny_member(directory: Path, streams, seed: int) -> None:
    import torch

    torch.manual_seed(seed)
    config = TrainingConfig()
    config.data.streams = [spec.name for spec in streams]
    config.model.hidden_dim, config.model.ff_dim, config.model.num_layers = 16, 32, 1
    model = build_model(streams, config.model)
    save_checkpoint(directory / "best.pt", model_payload(model, config, streams, stage=1, epoch=1, dev_macro_f1=0.2))


def write_system(root: Path, member_streams, seed: int = 0) -> Path:
    """Members under root/members, an ensemble dir whose system.json holds a soup over them; returns the ensemble dir."""
    rng = np.random.default_rng(seed)
    member_dirs = []
    for index, streams in enumerate(member_streams):
        member_dirs.append(root / "members" / f"m{index}")
        tiny_member(member_dirs[-1], streams, seed=seed + index)
    soup = LinearWeights(rng.normal(0, 1, (11, 11 * len(member_dirs))), rng.normal(0, 0.1, 11))
    soup.bias[8:] += 4.0
    ensemble_dir = root / "ensemble"
    ensemble_dir.mkdir(parents=True)
    (ensemble_dir / "system.json").write_text(json.dumps({
        "classes": CHALLENGE.to_list(), "members": [d.name for d in member_dirs],
        "member_dirs": [str(d) for d in member_dirs], "combiner": Linear(soup, "soup").to_dict(), "config": {},
    }))
    return ensemble_dir


def write_audio(directory: Path, count: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for index in range(count):
        seconds = 0.5 + 0.25 * index
        t = np.arange(int(16000 * seconds)) / 16000
        signal = 0.3 * np.sin(2 * np.pi * (150 + 40 * index) * t) + 0.05 * rng.normal(size=t.size)
        paths.append(directory / f"utt{index}.wav")
        soundfile.write(paths[-1], signal.astype(np.float32), 16000)
    return paths


@pytest.fixture
def fbank_system(tmp_path):
    encoder_dir = tmp_path / "conf" / "encoders"
    encoder_dir.mkdir(parents=True)
    (encoder_dir / "fbank.yaml").write_text(FBANK_YAML)
    spec = StreamSpec("fbank", 24, 1)
    ensemble_dir = write_system(tmp_path, [[spec], [spec]])
    return ensemble_dir, encoder_dir


def speech(path: Path, text: str, seed: int = 0) -> Path:
    """Real synthetic speech (espeak-ng through the mini corpus' renderer) written as a 16 kHz wav."""
    from toolkit.corpora.mini_podcast.script import Prosody
    from toolkit.corpora.mini_podcast.synthesis import render

    prosody = Prosody(pitch=50, pitch_range=50, rate=160, volume=100, word_gap=0, pause_ms=0)
    path.parent.mkdir(parents=True, exist_ok=True)
    soundfile.write(path, render(text, "en-us", prosody, np.random.default_rng(seed)), 16000)
    return path
