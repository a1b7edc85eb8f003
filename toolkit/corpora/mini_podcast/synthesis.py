"""Speech synthesis with espeak-ng (the library shipped by the PyPI package ``espeakng-loader``).

Reads the espeak-ng shared library and its voice data; returns 16 kHz waveforms. espeak-ng is
driven through ctypes in synchronous mode: its callback hands over 22,050 Hz int16 chunks, which
are joined, resampled to 16 kHz with scipy's polyphase filter, padded with a little silence and
given a faint noise floor so that no two files are digitally clean in the same way.

espeak-ng keeps global state, and that state carries over from one utterance to the next (the
same sentence comes out a few samples different after another one); some voice variants also add
random noise. So each utterance seeds espeak-ng's generator from its own child seed, and audio is
made in fixed chunks of consecutive utterances, each in a fresh worker process: a chunk's bytes
then depend only on the seed, whether the run was interrupted, resumed or repeated in one process.
"""

import ctypes
from pathlib import Path
from typing import List, Optional, Sequence, Tuple
from xml.sax.saxutils import escape

import numpy as np

from toolkit.corpora.mini_podcast.channels import RecordingChannel, apply_channel
from toolkit.corpora.mini_podcast.script import Prosody, Utterance
from toolkit.utils.atomic import atomic_path
from toolkit.utils.errors import ToolkitError

TARGET_SAMPLE_RATE = 16000

# Values from espeak-ng's speak_lib.h.
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_DONT_EXIT = 0x8000
_POS_CHARACTER = 1
_CHARS_UTF8, _SSML, _ENDPAUSE = 0x1, 0x10, 0x1000
_RATE, _VOLUME, _PITCH, _RANGE, _WORDGAP = 1, 2, 3, 4, 7

_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)


class EspeakEngine:
    """One initialised espeak-ng library; ``synthesize`` returns int16 samples at ``sample_rate``."""

    def __init__(self) -> None:
        try:
            import espeakng_loader
        except ImportError:
            raise ToolkitError(
                "the mini corpus needs espeak-ng from the PyPI package espeakng-loader; "
                "install it with: pip install 'ser-toolkit[mini]' (or pip install espeakng-loader)"
            ) from None
        self._library = ctypes.CDLL(espeakng_loader.get_library_path())
        self._library.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        self._library.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        self._library.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        self._library.espeak_Synth.argtypes = [
            ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int, ctypes.c_uint, ctypes.c_uint,
            ctypes.c_void_p, ctypes.c_void_p,
        ]
        data_path = espeakng_loader.get_data_path().encode()
        self.sample_rate = self._library.espeak_Initialize(
            _AUDIO_OUTPUT_SYNCHRONOUS, 0, data_path, _INITIALIZE_DONT_EXIT
        )
        if self.sample_rate <= 0:
            raise ToolkitError(f"espeak-ng failed to initialise with its data at {data_path.decode()}")
        # espeak-ng >= 1.52; without it, voices with breath noise are not byte-reproducible.
        self._set_random_seed = getattr(self._library, "espeak_ng_SetRandSeed", None)
        if self._set_random_seed is not None:
            self._set_random_seed.argtypes = [ctypes.c_long]
        self._chunks: List[np.ndarray] = []
        # Kept on the instance: ctypes callbacks must outlive every call that may invoke them.
        self._callback = _CALLBACK(self._collect)
        self._library.espeak_SetSynthCallback(self._callback)

    def _collect(self, samples, count, events) -> int:
        if count > 0:
            self._chunks.append(np.ctypeslib.as_array(samples, shape=(count,)).copy())
        return 0

    def synthesize(self, text: str, voice: str, prosody: Prosody, random_seed: int = 0) -> np.ndarray:
        """int16 samples of ``text`` spoken by ``voice`` with ``prosody`` (SSML pause mid-sentence)."""
        if self._set_random_seed is not None:
            self._set_random_seed(random_seed)
        if self._library.espeak_SetVoiceByName(voice.encode()) != 0:
            raise ToolkitError(f"espeak-ng has no voice {voice!r}; check the espeakng-loader installation")
        for parameter, value in (
            (_RATE, prosody.rate), (_VOLUME, prosody.volume), (_PITCH, prosody.pitch),
            (_RANGE, prosody.pitch_range), (_WORDGAP, prosody.word_gap),
        ):
            self._library.espeak_SetParameter(parameter, int(value), 0)
        payload = _ssml(text, prosody.pause_ms).encode("utf-8") + b"\0"
        self._chunks = []
        status = self._library.espeak_Synth(
            payload, len(payload), 0, _POS_CHARACTER, 0, _CHARS_UTF8 | _SSML | _ENDPAUSE, None, None
        )
        self._library.espeak_Synchronize()
        if status != 0 or not self._chunks:
            raise ToolkitError(f"espeak-ng produced no audio for {text!r} (status {status})")
        return np.concatenate(self._chunks)


def _ssml(text: str, pause_ms: int) -> str:
    """The sentence as SSML, with a pause after the middle word when the emotion calls for one."""
    words = [escape(word) for word in text.split()]
    if pause_ms > 0 and len(words) > 3:
        middle = len(words) // 2
        words.insert(middle, f'<break time="{pause_ms}ms"/>')
    return "<speak>" + " ".join(words) + "</speak>"


_ENGINE: Optional[EspeakEngine] = None


def engine() -> EspeakEngine:
    global _ENGINE
    if _ENGINE is None:
        _ENGINE = EspeakEngine()
    return _ENGINE


def render(text: str, voice: str, prosody: Prosody, rng: np.random.Generator) -> np.ndarray:
    """A 16 kHz float32 waveform in [-1, 1]: synthesis, resampling, silence padding and noise floor."""
    from scipy.signal import resample_poly

    speech_engine = engine()
    samples = speech_engine.synthesize(text, voice, prosody, int(rng.integers(2**31))) / np.float32(32768.0)
    divisor = np.gcd(TARGET_SAMPLE_RATE, speech_engine.sample_rate)
    speech = resample_poly(samples, TARGET_SAMPLE_RATE // divisor, speech_engine.sample_rate // divisor)
    lead = np.zeros(int(rng.uniform(0.1, 0.35) * TARGET_SAMPLE_RATE), dtype=np.float32)
    tail = np.zeros(int(rng.uniform(0.1, 0.3) * TARGET_SAMPLE_RATE), dtype=np.float32)
    waveform = np.concatenate([lead, speech.astype(np.float32), tail])
    noise_level = 10.0 ** (rng.uniform(-66.0, -54.0) / 20.0)
    waveform += rng.normal(0.0, noise_level, size=waveform.shape).astype(np.float32)
    return np.clip(waveform, -1.0, 32767.0 / 32768.0)


def write_chunk(audio_dir: Path,
                jobs: Sequence[Tuple[Utterance, np.random.SeedSequence, Optional[RecordingChannel]]]) -> List[float]:
    """Render and write the wavs of one chunk (run in a fresh process); return their durations in seconds.

    A job's channel, when given, is applied with a generator of its own (a child of the
    utterance's seed), so the clean synthesis draws exactly what it draws without channels.
    """
    import soundfile

    durations = []
    for utterance, seed, channel in jobs:
        waveform = render(utterance.text, utterance.speaker.voice, utterance.prosody, np.random.default_rng(seed))
        if channel is not None:
            channel_seed = np.random.SeedSequence(seed.entropy, spawn_key=(*seed.spawn_key, 1))
            waveform = apply_channel(waveform, channel, np.random.default_rng(channel_seed))
        with atomic_path(audio_dir / utterance.file_name) as temporary:
            soundfile.write(str(temporary), waveform, TARGET_SAMPLE_RATE, subtype="PCM_16", format="WAV")
        durations.append(len(waveform) / TARGET_SAMPLE_RATE)
    return durations
