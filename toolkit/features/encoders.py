"""Encoder configs (``conf/encoders/<stream>.yaml``) and the frozen encoders they describe.

Reads an encoder YAML file and the model it names (a hub name or a local directory, through
the same ``from_pretrained`` call; or a PyPI package shipping a model, ``package:<module>``).
Writes nothing. Every encoder turns a batch of inputs (16 kHz mono waveforms, or transcripts)
into one float32 ``(frames, dim)`` array per input, with padding removed, in two steps:
``prepare`` (CPU work: normalising, padding, mel spectra, tokenising; the extraction driver runs
it in a background thread for the next batch) and ``forward`` (the model, then trimming).

Kinds:

- ``hf_audio``: Hugging Face acoustic models (WavLM, HuBERT, wav2vec 2.0) and the encoder of a
  Whisper model; batches are padded and masked; Whisper's fixed 30 s window is padded, its
  output trimmed to the real length, and longer audio is cut into 30 s windows.
- ``ct2_whisper``: the CTranslate2 Whisper encoder of faster-whisper (final layer only); with
  ``window: utterance`` each window is padded only to the next whole second instead of to 30 s.
- ``fbank``: Kaldi log-Mel filterbanks from ``torchaudio.compliance.kaldi.fbank``.
- ``hf_text``: Hugging Face text encoders (RoBERTa, ModernBERT, BERT) over a transcript column,
  token level, special tokens dropped, over-long transcripts truncated. A transcript without
  words (empty, or special tokens alone once tokenised) gets ``empty_text_features``: one frame
  of zeros, so an utterance Whisper heard nothing in still has every stream.

``stack_frames: N`` (fbank and ct2_whisper, the kinds with a single output layer) concatenates
every N consecutive frames into one (the low frame rate of ESPnet/FunASR front ends), so a
model attends over N times fewer frames.
"""

import importlib
import logging
import math
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import numpy as np

from toolkit.features.batching import padded_cost
from toolkit.features.layers import DEFAULT_LAYERS, LayerSpec
from toolkit.utils.errors import ToolkitError

logger = logging.getLogger(__name__)

KINDS = ("hf_audio", "ct2_whisper", "fbank", "hf_text")
WHISPER_WINDOWS = ("30s", "utterance")
DTYPES = ("float32", "float16", "bfloat16")
SAMPLE_RATE = 16000
WHISPER_WINDOW_SAMPLES = 30 * SAMPLE_RATE
WHISPER_FRAME_SAMPLES = 320  # 10 ms mel hop x stride-2 convolution: 50 encoder frames per second


@dataclass
class EncoderSpec:
    """One encoder config file; every key is optional except ``kind`` (and ``model`` for hf/ct2 kinds)."""

    kind: str
    name: str = ""
    model: str = ""
    revision: Optional[str] = None
    layers: Optional[str] = None
    # Weights and activations of hf_* kinds: float16 or bfloat16 halve GPU time and memory.
    dtype: str = "float32"
    # Length batching: padded seconds of audio (or tokens of text) per batch, and a cap on its size.
    batch_seconds: float = 200.0
    batch_tokens: int = 8192
    max_batch: int = 32
    # hf_text
    text_column: str = "asr_text"
    max_tokens: Optional[int] = None
    # ct2_whisper
    compute_type: str = "default"
    window: str = "30s"
    # fbank: keyword arguments of torchaudio.compliance.kaldi.fbank, and frames stacked into one
    fbank: Dict = field(default_factory=dict)
    stack_frames: int = 1
    # Where the spec came from, for error messages (not a config key).
    where: str = field(default="encoder config", repr=False)

    @classmethod
    def from_yaml(cls, path) -> "EncoderSpec":
        import yaml

        path = Path(path)
        if not path.is_file():
            raise ToolkitError(f"{path}: encoder config not found; pass --encoder conf/encoders/<stream>.yaml")
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as error:
            raise ToolkitError(f"{path}: not valid YAML ({error})") from None
        if not isinstance(raw, dict):
            raise ToolkitError(f"{path}: expected a mapping of keys (kind, model, layers, ...)")
        raw.setdefault("name", path.stem)
        return cls.from_dict(raw, where=str(path))

    @classmethod
    def from_dict(cls, raw: Dict, where: str = "encoder config") -> "EncoderSpec":
        known = {f.name for f in fields(cls)} - {"where"}
        unknown = sorted(set(raw) - known)
        if unknown:
            raise ToolkitError(f"{where}: unknown key(s) {', '.join(unknown)}; known keys: {', '.join(sorted(known))}")
        if raw.get("kind") not in KINDS:
            raise ToolkitError(f"{where}: kind must be one of {', '.join(KINDS)}, got {raw.get('kind')!r}")
        spec = cls(**raw, where=where)
        if spec.kind != "fbank" and not spec.model:
            raise ToolkitError(f"{where}: kind {spec.kind} needs model: (a hub name or a local directory)")
        if spec.kind in ("ct2_whisper", "fbank") and spec.layers is not None:
            raise ToolkitError(f"{where}: layers: does not apply to kind {spec.kind} (it has one output); remove it")
        if spec.kind != "fbank" and spec.fbank:
            raise ToolkitError(f"{where}: fbank: options apply only to kind fbank; remove them")
        if spec.stack_frames < 1:
            raise ToolkitError(f"{where}: stack_frames must be a positive number of frames, got {spec.stack_frames}")
        if spec.stack_frames != 1 and spec.kind not in ("fbank", "ct2_whisper"):
            raise ToolkitError(f"{where}: stack_frames: applies only to kinds fbank and ct2_whisper; remove it")
        if spec.dtype not in DTYPES:
            raise ToolkitError(f"{where}: dtype must be one of {', '.join(DTYPES)}, got {spec.dtype!r}")
        if spec.kind in ("ct2_whisper", "fbank") and spec.dtype != "float32":
            raise ToolkitError(f"{where}: dtype: applies to hf_audio and hf_text (use compute_type: for ct2_whisper)")
        if spec.window not in WHISPER_WINDOWS:
            raise ToolkitError(f"{where}: window must be one of {', '.join(WHISPER_WINDOWS)}, got {spec.window!r}")
        if spec.window != "30s" and spec.kind != "ct2_whisper":
            raise ToolkitError(
                f"{where}: window: {spec.window} applies only to kind ct2_whisper "
                "(Hugging Face Whisper encoders accept nothing but 30 s windows); remove it"
            )
        if spec.batch_seconds <= 0 or spec.batch_tokens <= 0 or spec.max_batch < 1:
            raise ToolkitError(f"{where}: batch_seconds, batch_tokens and max_batch must be positive")
        spec.name = spec.name or spec.kind
        return spec

    @property
    def layer_spec(self) -> LayerSpec:
        return LayerSpec.parse(self.layers or DEFAULT_LAYERS, where=f"{self.where}: layers")


def resolve_model(model: str) -> str:
    """``package:<module>`` → ``<module>.get_model_path()`` (models shipped on PyPI); anything else unchanged."""
    if not model.startswith("package:"):
        return model
    module_name = model.split(":", 1)[1]
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        raise ToolkitError(
            f"model {model}: Python package {module_name} is not installed; pip install it "
            "(e.g. pip install -e '.[offline-models]') or point model: at a local directory"
        ) from None
    return str(module.get_model_path())


def _torch_dtype(spec: EncoderSpec):
    import torch

    return getattr(torch, spec.dtype)


def _load_failure(model: str, error: Exception) -> ToolkitError:
    return ToolkitError(
        f"cannot load model {model!r} ({type(error).__name__}: {error}); check the name or path, or on a "
        "machine without internet download it first and set model: to the local directory"
    )


class Encoder:
    """Common interface; subclasses fill in ``dim``, ``frame_rate``, ``meta`` and ``encode``."""

    modality = "audio"
    dim: int
    frame_rate: Optional[float]
    num_layers = 1

    def __init__(self, spec: EncoderSpec, device):
        self.spec = spec
        self.device = device
        self.model_path = resolve_model(spec.model) if spec.model else ""

    @property
    def batch_budget(self) -> float:
        return float(self.spec.batch_seconds)

    @property
    def max_batch(self) -> int:
        return self.spec.max_batch

    def batch_cost(self, lengths: Sequence[float]) -> float:
        return padded_cost(lengths)

    @property
    def layers(self) -> str:
        return "final"

    def meta(self) -> Dict:
        return {
            "encoder": self.spec.name,
            "kind": self.spec.kind,
            "model": self.spec.model,
            "model_path": self.model_path,
            "revision": self.spec.revision,
            "layers": self.layers,
            "dtype": self.spec.dtype,
            "num_layers": self.num_layers,
            "layer_dim": self.dim // self.num_layers,
            "frame_rate": self.frame_rate,
            "unit": "frame" if self.modality == "audio" else "token",
        }

    def prepare(self, inputs: Sequence):
        return list(inputs)

    def forward(self, prepared) -> List[np.ndarray]:
        raise NotImplementedError

    def encode(self, inputs: Sequence) -> List[np.ndarray]:
        return self.forward(self.prepare(inputs))


class FbankEncoder(Encoder):
    """Kaldi log-Mel filterbanks, one utterance at a time (no padding, so nothing to mask)."""

    def __init__(self, spec: EncoderSpec, device):
        super().__init__(spec, device)
        # Dither off: the same audio must give the same features on every run.
        self.options = {"num_mel_bins": 80, "dither": 0.0, **spec.fbank, "sample_frequency": SAMPLE_RATE}
        self.stack = spec.stack_frames
        self.dim = int(self.options["num_mel_bins"]) * self.stack
        self.frame_rate = 1000.0 / float(self.options.get("frame_shift", 10.0)) / self.stack
        self.model_path = "torchaudio.compliance.kaldi.fbank"

    @property
    def layers(self) -> str:
        options = " ".join(f"{key}={value}" for key, value in sorted(self.options.items()))
        return f"fbank {options}" + (f" stack_frames={self.stack}" if self.stack > 1 else "")

    def batch_cost(self, lengths: Sequence[float]) -> float:
        return float(sum(lengths))

    def forward(self, inputs: Sequence[np.ndarray]) -> List[np.ndarray]:
        import torch
        import torchaudio.compliance.kaldi as kaldi

        outputs = []
        with torch.inference_mode():
            for waveform in inputs:
                # Kaldi works on 16-bit sample values.
                samples = torch.from_numpy(waveform).unsqueeze(0) * 32768.0
                outputs.append(stack_frames(kaldi.fbank(samples, **self.options).numpy(), self.stack))
        return outputs


def stack_frames(frames: np.ndarray, stack: int) -> np.ndarray:
    """``(T, D)`` → ``(ceil(T / stack), D * stack)``: consecutive frames side by side.

    A last, incomplete group repeats its final frame, so no audio at the end is dropped.
    """
    count, dim = frames.shape
    if stack == 1:
        return frames
    if count == 0:
        return frames.reshape(0, dim * stack)
    groups = math.ceil(count / stack)
    padded = np.concatenate([frames, np.repeat(frames[-1:], groups * stack - count, axis=0)])
    return np.ascontiguousarray(padded.reshape(groups, stack * dim))


def whisper_windows(waveform: np.ndarray) -> List[np.ndarray]:
    """Cut audio into Whisper's 30 s windows (the last one shorter)."""
    starts = range(0, len(waveform), WHISPER_WINDOW_SAMPLES)
    return [waveform[start : start + WHISPER_WINDOW_SAMPLES] for start in starts]


def whisper_frames(num_samples: int) -> int:
    """Encoder frames that cover ``num_samples`` of real audio (the rest of the window is padding)."""
    return max(1, math.ceil(num_samples / WHISPER_FRAME_SAMPLES))


def whisper_cost(lengths: Sequence[float]) -> float:
    """Every window is computed at its full 30 s, whatever the audio length."""
    return 30.0 * sum(max(1, math.ceil(length / 30.0)) for length in lengths)


def utterance_window_samples(num_samples: int) -> int:
    """Length of an utterance window: the audio padded to the next whole second.

    Padding to a length set by the window alone (not by the longest in its batch) keeps an
    utterance's features the same whatever it is batched with, so ``--nj`` cannot change them.
    """
    return max(1, math.ceil(num_samples / SAMPLE_RATE)) * SAMPLE_RATE


def utterance_window_cost(lengths: Sequence[float]) -> float:
    """Seconds the encoder computes: every window rounded up to the next second."""
    total = 0.0
    for length in lengths:
        full_windows, rest = divmod(length, 30.0)
        total += 30.0 * full_windows + (max(1, math.ceil(rest)) if rest or not full_windows else 0)
    return total


class _WhisperWindows:
    """Shared by both Whisper encoders: pad each 30 s window, encode, trim, join windows again."""

    batch_cost = staticmethod(whisper_cost)

    def prepare(self, inputs: Sequence[np.ndarray]):
        windows, owners = [], []
        for index, waveform in enumerate(inputs):
            for window in whisper_windows(waveform):
                windows.append(window)
                owners.append(index)
        return len(inputs), owners, [len(window) for window in windows], self.prepare_windows(windows)

    def forward(self, prepared) -> List[np.ndarray]:
        count, owners, lengths, mels = prepared
        outputs = self.forward_windows(mels)
        pieces: List[List[np.ndarray]] = [[] for _ in range(count)]
        for owner, length, output in zip(owners, lengths, outputs):
            pieces[owner].append(output[: whisper_frames(length)])
        return [stack_frames(np.concatenate(parts, axis=0), self.spec.stack_frames) for parts in pieces]

    def prepare_windows(self, windows: List[np.ndarray]):
        """Log-Mel spectra of the windows, each padded with silence to 30 s."""
        raise NotImplementedError

    def forward_windows(self, mels) -> List[np.ndarray]:
        raise NotImplementedError


class HFAudioEncoder(Encoder):
    """WavLM / HuBERT / wav2vec 2.0: whole utterances, padded batches with attention masks."""

    def __init__(self, spec: EncoderSpec, device, model=None):
        super().__init__(spec, device)
        from transformers import AutoFeatureExtractor, AutoModel

        self.layer_spec = spec.layer_spec
        try:
            self.model = model or AutoModel.from_pretrained(self.model_path, revision=spec.revision,
                                                            dtype=_torch_dtype(spec))
            self.extractor = AutoFeatureExtractor.from_pretrained(self.model_path, revision=spec.revision)
        except (OSError, ValueError) as error:
            raise _load_failure(spec.model, error) from None
        self.model.eval().to(device)
        self.config = self.model.config
        num_hidden_states = self.config.num_hidden_layers + 1
        self.layer_spec.check(num_hidden_states, spec.where)
        self.num_layers = self.layer_spec.num_layers(num_hidden_states)
        self.dim = self.config.hidden_size * self.num_layers
        self.frame_rate = SAMPLE_RATE / float(np.prod(getattr(self.config, "conv_stride", [WHISPER_FRAME_SAMPLES])))
        # Group-norm front ends (wav2vec2-base style) normalise over time including padding, so their
        # output depends on the padding: run them one utterance at a time to keep features exact.
        self.unbatched = getattr(self.config, "feat_extract_norm", "layer") == "group"
        if self.unbatched:
            logger.info("%s: group-norm feature encoder, so utterances are encoded one at a time", spec.model)
        self.revision = spec.revision or getattr(self.config, "_commit_hash", None)

    @property
    def layers(self) -> str:
        return str(self.layer_spec)

    @property
    def max_batch(self) -> int:
        return 1 if self.unbatched else self.spec.max_batch

    def meta(self) -> Dict:
        return {**super().meta(), "revision": self.revision}

    def prepare(self, inputs: Sequence[np.ndarray]):
        return self.extractor(
            list(inputs), sampling_rate=SAMPLE_RATE, padding=True, return_attention_mask=True, return_tensors="pt"
        )

    def forward(self, batch) -> List[np.ndarray]:
        import torch

        values = batch["input_values"].to(self.device, self.model.dtype)
        mask = batch["attention_mask"].to(self.device)
        with torch.inference_mode():
            output = self.model(values, attention_mask=mask, output_hidden_states=True)
            features = self.layer_spec.apply(output.hidden_states).float().cpu().numpy()
            lengths = self.model._get_feat_extract_output_lengths(mask.sum(dim=1)).cpu().tolist()
        return [features[i, : int(length)] for i, length in enumerate(lengths)]


class HFWhisperEncoder(_WhisperWindows, HFAudioEncoder):
    """The encoder of a Hugging Face Whisper model (the decoder is dropped after loading)."""

    def __init__(self, spec: EncoderSpec, device, model=None):
        HFAudioEncoder.__init__(self, spec, device, model=model.get_encoder())
        self.unbatched = False

    @property
    def batch_budget(self) -> float:
        return max(30.0, float(self.spec.batch_seconds))

    def prepare_windows(self, windows: List[np.ndarray]):
        # The feature extractor pads every window with silence to the full 30 s, as Whisper was trained.
        return self.extractor(windows, sampling_rate=SAMPLE_RATE, return_tensors="pt")["input_features"]

    def forward_windows(self, mels) -> List[np.ndarray]:
        import torch

        with torch.inference_mode():
            output = self.model(mels.to(self.device, self.model.dtype), output_hidden_states=True)
            features = self.layer_spec.apply(output.hidden_states).float().cpu().numpy()
        return list(features)


class CT2WhisperEncoder(_WhisperWindows, Encoder):
    """The CTranslate2 Whisper encoder of faster-whisper: final layer, 50 frames per second."""

    def __init__(self, spec: EncoderSpec, device):
        super().__init__(spec, device)
        from faster_whisper import WhisperModel

        if spec.window == "utterance":
            self.batch_cost = utterance_window_cost

        device_name = "cuda" if device.type == "cuda" else "cpu"
        try:
            self.whisper = WhisperModel(
                self.model_path, device=device_name, device_index=device.index or 0, compute_type=spec.compute_type
            )
        except (RuntimeError, ValueError, OSError) as error:
            raise _load_failure(spec.model, error) from None
        # The converted model does not state its width: encode a few frames of silence to learn it.
        probe = self._encode_mels(np.zeros((1, self.whisper.model.n_mels, 20), dtype=np.float32))
        self.dim = int(probe.shape[-1]) * spec.stack_frames
        self.frame_rate = 50.0 / spec.stack_frames

    @property
    def batch_budget(self) -> float:
        return max(30.0, float(self.spec.batch_seconds))

    def _encode_mels(self, mels: np.ndarray) -> np.ndarray:
        import ctranslate2

        storage = ctranslate2.StorageView.from_array(np.ascontiguousarray(mels, dtype=np.float32))
        return np.array(self.whisper.model.encode(storage, to_cpu=True))

    @property
    def layers(self) -> str:
        described = "final" if self.spec.window == "30s" else "final, utterance windows"
        return described + (f", stack_frames={self.spec.stack_frames}" if self.spec.stack_frames > 1 else "")

    def prepare_windows(self, windows: List[np.ndarray]):
        """Groups of windows padded to one length: ``[(positions, mels)]``, one encoder call each."""
        extractor = self.whisper.feature_extractor
        groups: Dict[int, List] = {}
        for position, window in enumerate(windows):
            size = WHISPER_WINDOW_SAMPLES if self.spec.window == "30s" else utterance_window_samples(len(window))
            padded = np.zeros(size, dtype=np.float32)
            padded[: len(window)] = window
            # 100 mel frames per second, an even number: the stride-2 convolution maps them exactly.
            mels = extractor(padded, padding=0)[:, : size // extractor.hop_length]
            groups.setdefault(size, []).append((position, mels))
        return [([position for position, _ in members], np.stack([mels for _, mels in members]))
                for members in groups.values()]

    def forward_windows(self, groups) -> List[np.ndarray]:
        outputs: Dict[int, np.ndarray] = {}
        for positions, mels in groups:
            outputs.update(zip(positions, self._encode_mels(mels)))
        return [outputs[position] for position in sorted(outputs)]


def empty_text_features(dim: int) -> np.ndarray:
    """The features of a transcript without words: one frame of zeros, ``(1, dim)`` float32.

    Extraction stores it and ``toolkit predict`` computes it through the same ``HFTextEncoder``,
    so training and inference see one representation. Zeros are exact in float16, so the store
    and predict hold the identical array whatever the device, batch or thread count (the
    encoder's own output for its special tokens alone would differ in the last float16 bit
    between batch shapes and machines); it needs no model call, whatever the tokenizer; and no
    real token's hidden state is all zeros, so a member can learn "no words" as a case of its own.
    """
    return np.zeros((1, dim), dtype=np.float32)


class HFTextEncoder(Encoder):
    """Token-level features of a text encoder; special tokens are dropped, long text truncated,
    text without words gets ``empty_text_features``."""

    modality = "text"
    frame_rate = None

    def __init__(self, spec: EncoderSpec, device):
        super().__init__(spec, device)
        from transformers import AutoModel, AutoTokenizer

        self.layer_spec = spec.layer_spec
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(self.model_path, revision=spec.revision)
            self.model = AutoModel.from_pretrained(self.model_path, revision=spec.revision, dtype=_torch_dtype(spec))
        except (OSError, ValueError) as error:
            raise _load_failure(spec.model, error) from None
        self.model.eval().to(device)
        config = self.model.config
        num_hidden_states = config.num_hidden_layers + 1
        self.layer_spec.check(num_hidden_states, spec.where)
        self.num_layers = self.layer_spec.num_layers(num_hidden_states)
        self.dim = config.hidden_size * self.num_layers
        self.max_tokens = spec.max_tokens or self._model_max_tokens(config)
        # Tokens of a text without words: the special tokens alone ([CLS] [SEP], <s> </s>, or none).
        self.empty_tokens = len(self.tokenizer("", add_special_tokens=True)["input_ids"])
        self.revision = spec.revision or getattr(config, "_commit_hash", None)

    def _model_max_tokens(self, config) -> int:
        limit = self.tokenizer.model_max_length
        # Tokenizers without a saved limit report a huge sentinel; fall back to the model's positions.
        if not limit or limit > 100_000:
            limit = getattr(config, "max_position_embeddings", 512)
        return int(limit)

    @property
    def layers(self) -> str:
        return str(self.layer_spec)

    @property
    def batch_budget(self) -> float:
        return float(self.spec.batch_tokens)

    def meta(self) -> Dict:
        return {**super().meta(), "revision": self.revision, "text_column": self.spec.text_column,
                "max_tokens": self.max_tokens}

    def token_counts(self, texts: Sequence[str]) -> List[int]:
        """Tokens of each text including special tokens, before truncation."""
        return [len(ids) for ids in self.tokenizer(list(texts), add_special_tokens=True)["input_ids"]]

    def prepare(self, inputs: Sequence[str]):
        batch = self.tokenizer(
            list(inputs), padding=True, truncation=True, max_length=self.max_tokens,
            return_special_tokens_mask=True, return_tensors="pt",
        )
        keep = (batch.pop("special_tokens_mask") == 0) & (batch["attention_mask"] == 1)
        return dict(batch), keep

    def forward(self, prepared) -> List[np.ndarray]:
        import torch

        batch, keep = prepared
        batch = {key: value.to(self.device) for key, value in batch.items()}
        with torch.inference_mode():
            output = self.model(**batch, output_hidden_states=True)
            features = self.layer_spec.apply(output.hidden_states).float().cpu().numpy()
        keep = keep.numpy()
        return [features[i][keep[i]] if keep[i].any() else empty_text_features(self.dim) for i in range(len(keep))]


def load_encoder(spec: EncoderSpec, device) -> Encoder:
    """Load the encoder a spec describes onto ``device`` (a torch.device)."""
    if spec.kind == "fbank":
        return FbankEncoder(spec, device)
    if spec.kind == "ct2_whisper":
        return CT2WhisperEncoder(spec, device)
    if spec.kind == "hf_text":
        return HFTextEncoder(spec, device)
    from transformers import AutoConfig

    model_path = resolve_model(spec.model)
    try:
        config = AutoConfig.from_pretrained(model_path, revision=spec.revision)
    except (OSError, ValueError) as error:
        raise _load_failure(spec.model, error) from None
    if config.model_type == "whisper":
        from transformers import WhisperModel

        try:
            whisper = WhisperModel.from_pretrained(model_path, revision=spec.revision, dtype=_torch_dtype(spec))
        except (OSError, ValueError) as error:
            raise _load_failure(spec.model, error) from None
        return HFWhisperEncoder(spec, device, model=whisper)
    return HFAudioEncoder(spec, device)
