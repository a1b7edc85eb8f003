"""Builders of tiny random Hugging Face models, saved to a directory and reloadable offline.

Each ``build_tiny_*`` writes a model (and its feature extractor or tokenizer) with
``save_pretrained`` into ``directory`` and returns the directory, so tests load it through the
same ``from_pretrained`` call that a hub name goes through. Weights are random (seeded): the
models exercise code paths, not accuracy. Each builds in well under a second on CPU.

Other test packages import these: ``from tests.tiny_models import build_tiny_wavlm``.
"""

from pathlib import Path
from typing import Union

PathLike = Union[str, Path]

# Small enough to be fast, large enough to have several layers for the layer specs.
HIDDEN = 32
LAYERS = 4
HEADS = 2
# Keep the real 320-sample stride of the convolutional front end (50 frames/s at 16 kHz).
CONV_DIM = (16,) * 7


def _acoustic_kwargs() -> dict:
    return dict(
        hidden_size=HIDDEN,
        num_hidden_layers=LAYERS,
        num_attention_heads=HEADS,
        intermediate_size=2 * HIDDEN,
        conv_dim=CONV_DIM,
        num_conv_pos_embeddings=16,
        num_conv_pos_embedding_groups=2,
        # The large checkpoints (wavlm-large, hubert-large) use layer norm in the front end.
        feat_extract_norm="layer",
        do_stable_layer_norm=True,
        vocab_size=8,
    )


def _save_audio_extractor(directory: Path) -> None:
    from transformers import Wav2Vec2FeatureExtractor

    Wav2Vec2FeatureExtractor(
        feature_size=1, sampling_rate=16000, padding_value=0.0, do_normalize=True, return_attention_mask=True
    ).save_pretrained(directory)


def _build(model_class, config, directory: PathLike) -> Path:
    import torch

    torch.manual_seed(0)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    model_class(config).eval().save_pretrained(directory)
    return directory


def build_tiny_wavlm(directory: PathLike) -> Path:
    from transformers import WavLMConfig, WavLMModel

    directory = _build(WavLMModel, WavLMConfig(**_acoustic_kwargs()), directory)
    _save_audio_extractor(directory)
    return directory


def build_tiny_hubert(directory: PathLike) -> Path:
    from transformers import HubertConfig, HubertModel

    directory = _build(HubertModel, HubertConfig(**_acoustic_kwargs()), directory)
    _save_audio_extractor(directory)
    return directory


def build_tiny_wav2vec2(directory: PathLike) -> Path:
    from transformers import Wav2Vec2Config, Wav2Vec2Model

    directory = _build(Wav2Vec2Model, Wav2Vec2Config(**_acoustic_kwargs()), directory)
    _save_audio_extractor(directory)
    return directory


def build_tiny_whisper(directory: PathLike) -> Path:
    """A tiny WhisperModel (encoder + decoder) with its 80-mel feature extractor."""
    from transformers import WhisperConfig, WhisperFeatureExtractor, WhisperModel

    config = WhisperConfig(
        vocab_size=64,
        num_mel_bins=80,
        d_model=HIDDEN,
        encoder_layers=LAYERS,
        decoder_layers=2,
        encoder_attention_heads=HEADS,
        decoder_attention_heads=HEADS,
        encoder_ffn_dim=2 * HIDDEN,
        decoder_ffn_dim=2 * HIDDEN,
        max_source_positions=1500,
        max_target_positions=64,
        # Special ids must lie inside the small vocabulary.
        pad_token_id=0,
        bos_token_id=1,
        eos_token_id=2,
        decoder_start_token_id=1,
        suppress_tokens=[],
        begin_suppress_tokens=[],
    )
    directory = _build(WhisperModel, config, directory)
    WhisperFeatureExtractor(feature_size=80).save_pretrained(directory)
    return directory


def _train_byte_level_bpe(directory: Path):
    """Train a small byte-level BPE vocabulary offline; return (vocab dict, merges list)."""
    import json

    from tokenizers import ByteLevelBPETokenizer

    corpus = [
        "the quick brown fox jumps over the lazy dog",
        "i am so happy to see you today",
        "this is terrible and i am angry about it",
        "she was sad and quiet for a long time",
        "what a surprise that was, really unexpected",
        "speech emotion recognition on podcasts",
    ] * 20
    trainer = ByteLevelBPETokenizer()
    trainer.train_from_iterator(
        corpus, vocab_size=300, min_frequency=1, special_tokens=["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
    )
    trainer.save_model(str(directory))
    vocab = json.loads((directory / "vocab.json").read_text(encoding="utf-8"))
    merges = [
        tuple(line.split(" ")) for line in (directory / "merges.txt").read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")
    ]
    return vocab, merges


def build_tiny_roberta(directory: PathLike, max_position_embeddings: int = 66) -> Path:
    """A tiny RobertaModel and a BPE tokenizer trained here; ``max_position_embeddings - 2`` tokens fit."""
    from transformers import RobertaConfig, RobertaModel, RobertaTokenizer

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    vocab, merges = _train_byte_level_bpe(directory)
    tokenizer = RobertaTokenizer(vocab=vocab, merges=merges)
    tokenizer.model_max_length = max_position_embeddings - 2
    config = RobertaConfig(
        vocab_size=len(vocab),
        hidden_size=HIDDEN,
        num_hidden_layers=LAYERS,
        num_attention_heads=HEADS,
        intermediate_size=2 * HIDDEN,
        max_position_embeddings=max_position_embeddings,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    _build(RobertaModel, config, directory)
    tokenizer.save_pretrained(directory)
    return directory


def build_tiny_modernbert(directory: PathLike) -> Path:
    """A tiny ModernBertModel sharing the tiny BPE tokenizer of ``build_tiny_roberta``."""
    from transformers import ModernBertConfig, ModernBertModel, RobertaTokenizer

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    vocab, merges = _train_byte_level_bpe(directory)
    tokenizer = RobertaTokenizer(vocab=vocab, merges=merges)
    tokenizer.model_max_length = 128
    config = ModernBertConfig(
        vocab_size=len(vocab),
        hidden_size=HIDDEN,
        num_hidden_layers=LAYERS,
        num_attention_heads=HEADS,
        intermediate_size=2 * HIDDEN,
        max_position_embeddings=128,
        global_attn_every_n_layers=2,
        local_attention=16,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        cls_token_id=tokenizer.cls_token_id,
        sep_token_id=tokenizer.sep_token_id,
    )
    _build(ModernBertModel, config, directory)
    tokenizer.save_pretrained(directory)
    return directory
