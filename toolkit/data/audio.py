"""Audio I/O through soundfile: headers without decoding, and 16 kHz mono float32 waveforms.

torchaudio's load/save need torchcodec and FFmpeg since 2.9, so reading is soundfile's job;
torchaudio is used only for resampling, and imported only when a file needs it.
"""

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from toolkit.utils.atomic import PathLike
from toolkit.utils.errors import ToolkitError

TARGET_SAMPLE_RATE = 16000
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class AudioInfo:
    sample_rate: int
    num_channels: int
    num_frames: int

    @property
    def duration(self) -> float:
        return self.num_frames / self.sample_rate if self.sample_rate else 0.0


def audio_info(path: PathLike) -> AudioInfo:
    """Read a file's header (no decoding); ToolkitError when the file is not readable audio."""
    import soundfile

    try:
        info = soundfile.info(str(path))
    except (RuntimeError, soundfile.LibsndfileError) as error:
        raise ToolkitError(f"{path}: not readable as audio ({error})") from None
    return AudioInfo(sample_rate=int(info.samplerate), num_channels=int(info.channels), num_frames=int(info.frames))


def load_audio(path: PathLike, target_sample_rate: int = TARGET_SAMPLE_RATE) -> np.ndarray:
    """Decode a file to mono float32 at ``target_sample_rate``, down-mixing and resampling as needed."""
    import soundfile

    try:
        waveform, sample_rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    except (RuntimeError, soundfile.LibsndfileError) as error:
        raise ToolkitError(f"{path}: not readable as audio ({error})") from None
    if waveform.shape[0] == 0:
        raise ToolkitError(f"{path}: audio file holds no samples")
    if waveform.shape[1] > 1:
        logger.debug("%s: down-mixing %d channels to mono", Path(path).name, waveform.shape[1])
    mono = waveform.mean(axis=1)
    if sample_rate != target_sample_rate:
        import torch
        import torchaudio.functional

        logger.debug("%s: resampling %d Hz to %d Hz", Path(path).name, sample_rate, target_sample_rate)
        mono = torchaudio.functional.resample(torch.from_numpy(mono), sample_rate, target_sample_rate).numpy()
    return np.ascontiguousarray(mono, dtype=np.float32)
