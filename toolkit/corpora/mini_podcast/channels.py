"""Recording conditions that differ by speaker, as they do between podcasts.

Reads and writes nothing. In MSP-Podcast every speaker is recorded through their own chain:
microphone response, the host's filtering, level, background noise and room. A model that reads
low-level acoustics (filterbanks) can learn a training speaker's channel instead of their
emotion, and that does not carry over to unseen speakers. The clean mini corpus cannot show
this, so ``make-mini --channels per-speaker`` gives every speaker one ``RecordingChannel``,
drawn from the corpus seed, and applies it to all their utterances after synthesis:

- microphone response: a spectral tilt (first-order pre-emphasis or low-pass) and one resonance
  (a peaking filter between 0.8 and 5 kHz, ±9 dB);
- high-pass filtering (second-order Butterworth, 40-300 Hz);
- gain (-12 to +3 dB; the loudest are clipped, as an overdriven recording is);
- a noise floor (-65 to -45 dBFS white noise: 13 dB or more below the quietest speech), with
  mains hum (50 or 60 Hz and harmonics) for some;
- room reverberation for about half of them (an exponentially decaying noise tail, RT60 0.1-0.45 s).
"""

from dataclasses import asdict, dataclass
from typing import Dict, Iterable

import numpy as np

SAMPLE_RATE = 16000
CHANNEL_MODES = ("clean", "per-speaker")


@dataclass(frozen=True)
class RecordingChannel:
    gain_db: float
    highpass_hz: float
    tilt: float           # > 0 brightens (pre-emphasis coefficient), < 0 darkens (one-pole low-pass pole)
    resonance_hz: float
    resonance_db: float
    resonance_q: float
    noise_dbfs: float
    hum_hz: float         # 0: no hum
    hum_dbfs: float
    rt60_s: float         # 0: no reverberation
    reverb_wet: float

    def to_dict(self) -> Dict[str, float]:
        return {name: round(value, 4) for name, value in asdict(self).items()}


def draw_channel(rng: np.random.Generator) -> RecordingChannel:
    hum = rng.random() < 0.3
    reverberant = rng.random() < 0.5
    return RecordingChannel(
        gain_db=float(rng.uniform(-12.0, 3.0)),
        highpass_hz=float(rng.uniform(40.0, 300.0)),
        tilt=float(rng.uniform(-0.8, 0.8)),
        resonance_hz=float(np.exp(rng.uniform(np.log(800.0), np.log(5000.0)))),
        resonance_db=float(rng.uniform(-9.0, 9.0)),
        resonance_q=float(rng.uniform(0.7, 2.0)),
        noise_dbfs=float(rng.uniform(-65.0, -45.0)),
        hum_hz=float(rng.choice([50.0, 60.0])) if hum else 0.0,
        hum_dbfs=float(rng.uniform(-58.0, -45.0)) if hum else 0.0,
        rt60_s=float(rng.uniform(0.1, 0.45)) if reverberant else 0.0,
        reverb_wet=float(rng.uniform(0.15, 0.35)) if reverberant else 0.0,
    )


def draw_channels(speaker_ids: Iterable[int], rng: np.random.Generator) -> Dict[int, RecordingChannel]:
    """One channel per speaker, in the order of ``speaker_ids``."""
    return {speaker_id: draw_channel(rng) for speaker_id in speaker_ids}


def _peaking(frequency: float, gain_db: float, q: float):
    """Biquad coefficients (b, a) of a peaking equaliser (Audio EQ Cookbook)."""
    amplitude = 10.0 ** (gain_db / 40.0)
    omega = 2.0 * np.pi * frequency / SAMPLE_RATE
    alpha = np.sin(omega) / (2.0 * q)
    b = np.array([1.0 + alpha * amplitude, -2.0 * np.cos(omega), 1.0 - alpha * amplitude])
    a = np.array([1.0 + alpha / amplitude, -2.0 * np.cos(omega), 1.0 - alpha / amplitude])
    return b / a[0], a / a[0]


def apply_channel(waveform: np.ndarray, channel: RecordingChannel, rng: np.random.Generator) -> np.ndarray:
    """``waveform`` (16 kHz float32 in [-1, 1]) as recorded through ``channel``; same length."""
    from scipy.signal import butter, fftconvolve, lfilter, sosfilt

    signal = waveform.astype(np.float64)
    if channel.rt60_s > 0:
        length = int(channel.rt60_s * SAMPLE_RATE)
        time = np.arange(length) / SAMPLE_RATE
        # 60 dB of decay over RT60: exp(-6.91 t / RT60) in amplitude.
        tail = rng.standard_normal(length) * np.exp(-6.91 * time / channel.rt60_s) * channel.reverb_wet
        tail[0] = 1.0
        signal = fftconvolve(signal, tail)[: len(signal)]
    if channel.tilt >= 0:
        signal = lfilter([1.0, -channel.tilt], [1.0], signal)
    else:
        pole = -channel.tilt
        signal = lfilter([1.0 - pole], [1.0, -pole], signal)
    b, a = _peaking(channel.resonance_hz, channel.resonance_db, channel.resonance_q)
    signal = lfilter(b, a, signal)
    signal = sosfilt(butter(2, channel.highpass_hz, btype="highpass", fs=SAMPLE_RATE, output="sos"), signal)
    signal = signal * 10.0 ** (channel.gain_db / 20.0)
    signal = signal + rng.standard_normal(len(signal)) * 10.0 ** (channel.noise_dbfs / 20.0)
    if channel.hum_hz:
        time = np.arange(len(signal)) / SAMPLE_RATE
        level = 10.0 ** (channel.hum_dbfs / 20.0)
        signal = signal + level * sum(np.sin(2 * np.pi * channel.hum_hz * k * time) / k for k in (1, 2, 3))
    return np.clip(signal, -1.0, 32767.0 / 32768.0).astype(np.float32)
