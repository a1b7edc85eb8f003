from pathlib import Path

import numpy as np
import pytest

from tests.asr.speech import build_tiny_openai_whisper, synthesize
from toolkit.asr.backends import OFFLINE_TINY_EN, AsrOptions, load_backend, resolve_model
from toolkit.asr.wer import word_error_rate
from toolkit.utils.errors import ToolkitError


@pytest.fixture(scope="module")
def tiny_en():
    return load_backend(AsrOptions(backend="faster-whisper", model=OFFLINE_TINY_EN), device="cpu")


def test_offline_tiny_en_transcribes_synthetic_speech(tiny_en):
    text = tiny_en(synthesize("Please call me tomorrow."))
    assert word_error_rate([("please call me tomorrow", text)])["wer"] == 0.0, text


@pytest.fixture(scope="module")
def tiny_en_utterance_window():
    return load_backend(AsrOptions(backend="faster-whisper", model=OFFLINE_TINY_EN, window="utterance"), device="cpu")


def test_utterance_window_transcribes_synthetic_speech(tiny_en_utterance_window):
    text = tiny_en_utterance_window(synthesize("Please call me tomorrow."))
    assert word_error_rate([("please call me tomorrow", text)])["wer"] == 0.0, text


def test_utterance_window_decodes_audio_longer_than_one_window_in_full(tiny_en_utterance_window):
    speech = synthesize("Please call me tomorrow.")
    long_audio = np.concatenate([speech, np.zeros(28 * 16000, dtype=np.float32), speech])
    assert len(long_audio) / 16000 > 30
    text = tiny_en_utterance_window(long_audio)
    # Past 28 s the 30 s long-form decoder takes over, so the words after the first window are kept.
    assert text.lower().count("tomorrow") >= 2, text


def test_faster_whisper_vad_returns_no_text_for_silence():
    recognizer = load_backend(AsrOptions(backend="faster-whisper", model=OFFLINE_TINY_EN, vad=True), device="cpu")
    assert recognizer(np.zeros(32000, dtype=np.float32)) == ""


def test_openai_whisper_loads_a_local_checkpoint(tmp_path):
    checkpoint = build_tiny_openai_whisper(tmp_path / "tiny-random.pt")
    recognizer = load_backend(AsrOptions(backend="openai-whisper", model=str(checkpoint), beam_size=1), device="cpu")
    assert recognizer.model.dims.n_text_state == 32
    assert np.isfinite(recognizer.model.decoder.positional_embedding.detach().numpy()).all()
    assert isinstance(recognizer(synthesize("Hello.")), str)


def test_openai_whisper_vad_skips_decoding_of_silence(tmp_path):
    checkpoint = build_tiny_openai_whisper(tmp_path / "tiny-random.pt")
    recognizer = load_backend(AsrOptions(backend="openai-whisper", model=str(checkpoint), vad=True), device="cpu")
    # A random model would emit tokens for any audio it is given; nothing comes out only if VAD removed it all.
    assert recognizer(np.zeros(32000, dtype=np.float32)) == ""


@pytest.mark.parametrize("backend", ["openai-whisper", "faster-whisper"])
def test_missing_model_path_is_a_clear_error(tmp_path, backend):
    with pytest.raises(ToolkitError, match="no such file or directory"):
        load_backend(AsrOptions(backend=backend, model=str(tmp_path / "missing" / "model.pt")), device="cpu")


def test_corrupt_checkpoint_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(ToolkitError, match="could not load model"):
        load_backend(AsrOptions(backend="openai-whisper", model=str(bad)), device="cpu")


def test_directory_that_is_not_a_ctranslate2_model_is_a_clear_error(tmp_path):
    with pytest.raises(ToolkitError, match="could not load model"):
        load_backend(AsrOptions(backend="faster-whisper", model=str(tmp_path)), device="cpu")


def test_offline_alias_names_the_packaged_ctranslate2_directory():
    assert (Path(resolve_model(OFFLINE_TINY_EN)) / "model.bin").is_file()


def test_hub_names_are_left_to_the_backend():
    assert resolve_model("large-v3") == "large-v3"


def test_english_only_model_refuses_another_language(tmp_path):
    checkpoint = build_tiny_openai_whisper(tmp_path / "tiny-random.pt")
    with pytest.raises(ToolkitError, match="English-only"):
        load_backend(AsrOptions(backend="openai-whisper", model=str(checkpoint), language="de"), device="cpu")
    with pytest.raises(ToolkitError, match="English-only"):
        load_backend(AsrOptions(backend="faster-whisper", model=OFFLINE_TINY_EN, language="de"), device="cpu")


def test_bad_options_fail_before_any_model_is_loaded():
    with pytest.raises(ToolkitError, match="beam-size"):
        AsrOptions(beam_size=0)
    with pytest.raises(ToolkitError, match="unknown ASR backend"):
        AsrOptions(backend="kaldi")
    with pytest.raises(ToolkitError, match="needs --backend faster-whisper"):
        AsrOptions(backend="openai-whisper", window="utterance")
    with pytest.raises(ToolkitError, match="--window-padding"):
        AsrOptions(window="utterance", window_padding=-1.0)
    with pytest.raises(ToolkitError, match="unknown --window"):
        AsrOptions(window="10s")
