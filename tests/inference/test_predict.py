import numpy as np
import pytest

from toolkit.data.audio import load_audio
from toolkit.emotions import EMOTION_CODES
from toolkit.ensemble.members import softmax
from toolkit.features.encoders import load_encoder
from toolkit.inference.bundle import export_bundle, load_bundle, load_members
from toolkit.inference.predict import Predictor, find_audio
from toolkit.training.inference import predict_batch
from toolkit.utils.errors import ToolkitError

from .conftest import write_audio


@pytest.fixture
def bundle_dir(tmp_path, fbank_system):
    ensemble_dir, encoder_dir = fbank_system
    return export_bundle(ensemble_dir, tmp_path / "bundle", encoder_dir)


def reference_prediction(bundle_dir, path):
    """The pipeline by hand: encoder -> float16 store rounding -> each member -> the soup's linear layer."""
    import torch

    bundle = load_bundle(bundle_dir)
    encoder = load_encoder(bundle.encoder_spec("fbank"), torch.device("cpu"))
    features = encoder.encode([load_audio(path)])[0].astype(np.float16)
    blocks = []
    for model in load_members(bundle):
        logits, attributes = predict_batch(model, {"fbank": [features]})
        blocks.append(np.concatenate([softmax(logits.astype(np.float64)), attributes], axis=1))
    logits, attributes = bundle.combiner.weights.apply(np.concatenate(blocks, axis=1))
    return softmax(logits)[0], np.clip(attributes[0], 1, 7)


def test_predictions_equal_the_pipeline_run_by_hand_whatever_the_batch_size(tmp_path, bundle_dir):
    paths = write_audio(tmp_path / "audio", 3)
    predictor = Predictor(bundle_dir, device="cpu")
    batched = list(predictor.predict_files(paths, batch_size=3, progress=False))
    single = list(predictor.predict_files(paths, batch_size=1, progress=False))
    for path, one, other in zip(paths, batched, single):
        probabilities, attributes = reference_prediction(bundle_dir, path)
        np.testing.assert_allclose(one.probabilities, probabilities, atol=1e-5)
        np.testing.assert_allclose(one.attributes, attributes, atol=1e-4)
        np.testing.assert_allclose(one.probabilities, other.probabilities, atol=1e-5)
        assert one.emo_class == EMOTION_CODES[int(probabilities.argmax())] and one.error == ""
    times = predictor.times
    assert times.audio_seconds == pytest.approx(2 * (0.5 + 0.75 + 1.0))
    assert times.seconds["features"] > 0 and times.seconds["members"] > 0 and times.seconds["asr"] < 0.01


def test_an_unreadable_file_gets_an_error_row_and_the_others_are_predicted(tmp_path, bundle_dir):
    paths = write_audio(tmp_path / "audio", 2)
    broken = tmp_path / "audio" / "broken.wav"
    broken.write_bytes(b"RIFF not really a wav")
    rows = [r.as_row() for r in Predictor(bundle_dir, device="cpu").predict_files([paths[0], broken, paths[1]], progress=False)]
    assert [bool(r["error"]) for r in rows] == [False, True, False]
    assert "broken.wav" in rows[1]["error"] and rows[1]["EmoClass"] == "" and rows[1]["prob_A"] is None
    assert abs(sum(rows[0][f"prob_{c}"] for c in EMOTION_CODES) - 1) < 1e-4


def test_find_audio_walks_directories_and_rejects_missing_paths(tmp_path):
    paths = write_audio(tmp_path / "a" / "b", 2)
    (tmp_path / "a" / "notes.txt").write_text("x")
    assert find_audio([tmp_path / "a"]) == sorted(paths)
    with pytest.raises(ToolkitError, match="no such audio file"):
        find_audio([tmp_path / "missing.wav"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(ToolkitError, match="no audio files"):
        find_audio([tmp_path / "empty"])
