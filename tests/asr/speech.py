"""Test fixtures made by code: real synthetic speech (espeak-ng) and a tiny random openai-whisper checkpoint.

Speech comes from the libespeak-ng that the PyPI package espeakng-loader ships, driven through
ctypes (22,050 Hz int16), resampled to 16 kHz and written as wav with soundfile.
"""

import ctypes
import functools
from pathlib import Path

import numpy as np

ESPEAK_OUTPUT_SYNCHRONOUS = 2
ESPEAK_CHARS_UTF8 = 1
SYNTH_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)


@functools.lru_cache(maxsize=1)
def _espeak():
    import espeakng_loader

    library = ctypes.CDLL(espeakng_loader.get_library_path())
    library.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
    library.espeak_Synth.argtypes = [
        ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int, ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p,
    ]
    sample_rate = library.espeak_Initialize(ESPEAK_OUTPUT_SYNCHRONOUS, 0, espeakng_loader.get_data_path().encode(), 0)
    chunks = []

    def collect(samples, count, events):
        if count > 0:
            chunks.append(np.ctypeslib.as_array(samples, shape=(count,)).copy())
        return 0

    callback = SYNTH_CALLBACK(collect)
    library.espeak_SetSynthCallback(callback)
    library.espeak_SetVoiceByName(b"en-us")
    # The callback object must outlive every synthesis call, so it is cached with the library.
    return library, sample_rate, chunks, callback


def synthesize(text: str) -> np.ndarray:
    """16 kHz mono float32 speech of ``text``."""
    import torch
    import torchaudio.functional

    library, sample_rate, chunks, _ = _espeak()
    chunks.clear()
    encoded = text.encode("utf-8")
    library.espeak_Synth(encoded, len(encoded) + 1, 0, 0, 0, ESPEAK_CHARS_UTF8, None, None)
    library.espeak_Synchronize()
    audio = np.concatenate(chunks).astype(np.float32) / 32768.0
    return torchaudio.functional.resample(torch.from_numpy(audio), sample_rate, 16000).numpy()


def write_speech(path: Path, text: str) -> Path:
    import soundfile

    soundfile.write(str(path), synthesize(text), 16000)
    return path


#: What the test corpus says; each is transcribed word for word by the offline tiny.en.
SENTENCES = {
    "utt_hello.wav": "Hello world.",
    "utt_station.wav": "Where is the train station?",
    "utt_morning.wav": "Good morning everyone.",
}


def write_speech_corpus(directory: Path) -> Path:
    """The spoken ``SENTENCES`` plus ``utt_garbage.wav`` (not audio) and ``utt_empty.wav`` (no samples)."""
    import soundfile

    for name, sentence in SENTENCES.items():
        write_speech(directory / name, sentence)
    (directory / "utt_garbage.wav").write_bytes(b"this is not a wav file")
    soundfile.write(str(directory / "utt_empty.wav"), np.zeros(0, dtype=np.float32), 16000)
    return directory


def write_manifest_csv(path: Path, rows) -> Path:
    """A minimal manifest (FileName, path, text) from ``rows`` of those three values."""
    import pandas as pd

    pd.DataFrame(rows, columns=["FileName", "path", "text"]).to_csv(path, index=False)
    return path


def build_tiny_openai_whisper(path: Path, seed: int = 0) -> Path:
    """A random English-only openai-whisper checkpoint (``{"dims", "model_state_dict"}``) of about 2 M parameters."""
    import torch
    from whisper.model import ModelDimensions, Whisper

    torch.manual_seed(seed)
    # n_audio_ctx must stay 1500: Whisper pads every input to 30 s (3000 mel frames, halved by the conv stride).
    # n_vocab 51864 is what the English-only tokenizer expects.
    dims = ModelDimensions(
        n_mels=80, n_audio_ctx=1500, n_audio_state=32, n_audio_head=2, n_audio_layer=1,
        n_vocab=51864, n_text_ctx=16, n_text_state=32, n_text_head=2, n_text_layer=1,
    )
    model = Whisper(dims)
    # Created with torch.empty: uninitialised memory can hold NaN or huge values.
    torch.nn.init.normal_(model.decoder.positional_embedding, std=0.02)
    torch.save({"dims": dims.__dict__, "model_state_dict": model.state_dict()}, path)
    return path
