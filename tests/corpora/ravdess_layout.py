"""Builders of tiny RAVDESS speech trees for tests, in the Zenodo zip's layout, with its traps."""

from itertools import product
from pathlib import Path
from typing import Dict, Sequence

from tests.corpora.crema_d_layout import write_apple_double, write_audio

WRAPPER = "Audio_Speech_Actors_01-24"
SAMPLE_RATE = 48000
EMOTIONS = ("01", "02", "03", "04", "05", "06", "07", "08")
#: (intensity, statement, repetition) in the order files are made (the statement changes first);
#: neutral has no strong intensity.
TAKES = tuple((intensity, statement, repetition)
              for intensity, repetition, statement in product(("01", "02"), repeat=3))

# Trap files written by build_ravdess(traps=True), relative to ROOT.
SONGS = (f"{WRAPPER}/Actor_01/03-02-01-01-01-01-01.wav",                 # song zip unpacked into the same tree
         "Audio_Song_Actors_01-24/Actor_02/03-02-03-01-01-01-02.wav")
AUDIO_VIDEO_WAV = f"{WRAPPER}/Actor_05/01-01-03-01-01-01-05.wav"          # modality 01 (audio-video)
APPLE_DOUBLE = f"{WRAPPER}/Actor_03/._03-01-01-01-01-01-03.wav"
MISNAMED = f"{WRAPPER}/Actor_04/03-01-09-01-01-01-04.wav"                 # emotion 09 does not exist
DUPLICATE = "Actor_06/03-01-01-01-01-01-06.wav"                           # a second copy outside the wrapper
NON_WAV = (f"{WRAPPER}/Actor_05/01-01-03-01-01-01-05.mp4", "README.txt")


def ravdess_names(actors: Sequence[int], takes: int) -> Dict[str, int]:
    """File name -> actor of every speech wav ``build_ravdess`` writes: ``takes`` per emotion and actor."""
    names = {}
    for actor in actors:
        for emotion in EMOTIONS:
            allowed = [take for take in TAKES if emotion != "01" or take[0] == "01"]
            for intensity, statement, repetition in allowed[:takes]:
                names[f"03-01-{emotion}-{intensity}-{statement}-{repetition}-{actor:02d}.wav"] = actor
    return names


def build_ravdess(root: Path, actors: Sequence[int] = tuple(range(1, 25)), takes: int = 1, wrapped: bool = True,
                  traps: bool = True) -> Path:
    """A RAVDESS speech tree at ``root``: ``[Audio_Speech_Actors_01-24/]Actor_NN/`` holding
    ``takes`` 48 kHz wavs (0.1 s) per emotion and actor (at most 4, neutral's limit), and with
    ``traps`` the trap files named above."""
    base = root / WRAPPER if wrapped else root
    for name, actor in ravdess_names(actors, takes).items():
        write_audio(base / f"Actor_{actor:02d}" / name, sample_rate=SAMPLE_RATE)
    if traps:
        for name in (*SONGS, AUDIO_VIDEO_WAV, MISNAMED, DUPLICATE):
            write_audio(root / name, sample_rate=SAMPLE_RATE)
        write_apple_double(root / APPLE_DOUBLE)
        for name in NON_WAV:
            (root / name).write_bytes(b"not audio")
    return root
