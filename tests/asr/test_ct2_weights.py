import numpy as np
import pytest

from tests.asr.speech import synthesize
from toolkit.asr.backends import OFFLINE_TINY_EN, AsrOptions, load_backend, resolve_model
from toolkit.asr.ct2_weights import load_ct2_as_openai_whisper, read_ct2_variables, save_checkpoint
from toolkit.asr.wer import word_error_rate
from toolkit.utils.errors import ToolkitError


@pytest.fixture(scope="module")
def tiny_en_dir():
    return resolve_model(OFFLINE_TINY_EN)


def test_reads_the_whisper_spec_of_the_offline_model(tiny_en_dir):
    spec, variables = read_ct2_variables(tiny_en_dir)
    assert spec == "WhisperSpec"
    assert variables["decoder/embeddings/weight"].shape == (51864, 384)
    # The output projection is stored as an alias of the token embedding.
    assert variables["decoder/projection/weight"] is variables["decoder/embeddings/weight"]


def test_converted_encoder_matches_ctranslate2_on_the_same_audio(tiny_en_dir):
    import torch
    import whisper
    from faster_whisper import WhisperModel

    audio = synthesize("Good morning everyone.")
    model = load_ct2_as_openai_whisper(tiny_en_dir)
    assert (model.dims.n_audio_layer, model.dims.n_text_layer, model.dims.n_audio_head) == (4, 4, 6)
    mel = whisper.log_mel_spectrogram(whisper.pad_or_trim(audio))
    with torch.inference_mode():
        ours = model.encoder(mel[None]).numpy()[0]

    # The same log-mel input to both encoders isolates the weights from the feature extractors.
    reference_model = WhisperModel(tiny_en_dir, device="cpu", compute_type="float32")
    reference = np.array(reference_model.encode(mel.numpy()))[0]
    assert reference.shape == ours.shape == (1500, 384)
    # Same float32 arithmetic up to summation order: measured max difference 2e-5 on values of mean size 0.5.
    np.testing.assert_allclose(ours, reference, atol=1e-3)


def test_openai_whisper_transcribes_with_the_converted_offline_model():
    recognizer = load_backend(AsrOptions(backend="openai-whisper", model=OFFLINE_TINY_EN, beam_size=1), device="cpu")
    text = recognizer(synthesize("Where is the train station?"))
    assert word_error_rate([("where is the train station", text)])["wer"] == 0.0, text


def test_saved_checkpoint_loads_with_whisper_load_model(tiny_en_dir, tmp_path):
    import whisper

    path = save_checkpoint(tiny_en_dir, tmp_path / "tiny.en.pt")
    model = whisper.load_model(str(path), device="cpu")
    assert model.dims.n_vocab == 51864 and not model.is_multilingual


def test_a_directory_without_model_bin_is_a_clear_error(tmp_path):
    with pytest.raises(ToolkitError, match="model.bin"):
        read_ct2_variables(tmp_path)
