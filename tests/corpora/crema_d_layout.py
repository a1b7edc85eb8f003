"""Builders of tiny CREMA-D release trees for tests, in the GitHub repository's layout, with its traps.

Also the pieces the RAVDESS and Emo-DB layouts share: short wavs in new folders, the trap
files (AppleDouble, Git LFS pointer, unreadable "wav") and a reader of one fold's manifests.
"""

from pathlib import Path
from typing import Dict, Sequence

from tests.corpora.msp_layout import write_wav
from toolkit.data.manifest import read_manifest

EMOTIONS = ("ANG", "DIS", "FEA", "HAP", "NEU", "SAD")
#: Sentence codes in the order files are made; IEO is second so that levels appear from sentences=2 on.
SENTENCES = ("DFA", "IEO", "IOM", "ITH", "ITS", "IWL", "IWW", "MTI", "TAI", "TIE", "TSI", "WSI")
DEMOGRAPHICS_HEADER = '"ActorID","Age","Sex","Race","Ethnicity"'

# Trap files written by build_crema_d(traps=True), relative to ROOT.
APPLE_DOUBLE = "AudioWAV/._1001_DFA_ANG_XX.wav"
LFS_POINTER = "AudioWAV/1002_DFA_SAD_XX.wav"     # replaces a real file: a clone without git-lfs
UNREADABLE = "AudioWAV/1003_DFA_HAP_XX.wav"      # replaces a real file with broken bytes
MISNAMED = "AudioWAV/1040_ITH_SAD_X.wav"         # readable audio, name misses a letter
NON_WAV = "AudioWAV/notes.txt"


def actor_sex(actor: int) -> str:
    return "Male" if actor % 2 else "Female"


def write_audio(path: Path, sample_rate: int = 16000, seconds: float = 0.1) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_wav(path, seconds=seconds, sample_rate=sample_rate)
    return path


def write_apple_double(path: Path) -> None:
    """A macOS resource-fork file: AppleDouble magic number, then padding."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        " + bytes(64))


def write_lfs_pointer(path: Path) -> None:
    """What a clone without git-lfs holds in place of the audio."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("version https://git-lfs.github.com/spec/v1\n"
                    "oid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 52044\n")


def write_unreadable(path: Path) -> None:
    """A RIFF header cut short: named like audio, not decodable."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt broken")


def crema_d_names(actors: Sequence[int], sentences: int) -> Dict[str, int]:
    """File name -> actor of every wav ``build_crema_d`` writes (before traps replace some)."""
    names = {}
    for actor in actors:
        for sentence in SENTENCES[:sentences]:
            for emotion in EMOTIONS:
                # As in the release, only IEO has levels, and only for the non-neutral emotions.
                level = "HI" if sentence == "IEO" and emotion != "NEU" else "XX"
                names[f"{actor}_{sentence}_{emotion}_{level}.wav"] = actor
    return names


def build_crema_d(root: Path, actors: Sequence[int] = tuple(range(1001, 1011)), sentences: int = 1,
                  demographics: bool = True, traps: bool = True) -> Path:
    """A CREMA-D tree at ``root``: ``AudioWAV/`` with ``len(actors) * sentences * 6`` wavs (16 kHz,
    0.1 s), ``VideoDemographics.csv``, an ``AudioMP3/`` folder the adapter must not read, and with
    ``traps`` the trap files named above."""
    for name in crema_d_names(actors, sentences):
        write_audio(root / "AudioWAV" / name)
    (root / "AudioMP3").mkdir(parents=True, exist_ok=True)
    (root / "AudioMP3" / "1001_DFA_ANG_XX.mp3").write_bytes(b"ID3\x03\x00")
    if demographics:
        lines = [DEMOGRAPHICS_HEADER] + [f'{actor},30,"{actor_sex(actor)}","Caucasian","Not Hispanic"'
                                         for actor in actors]
        (root / "VideoDemographics.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    if traps:
        write_apple_double(root / APPLE_DOUBLE)
        write_lfs_pointer(root / LFS_POINTER)
        write_unreadable(root / UNREADABLE)
        write_audio(root / MISNAMED)
        (root / NON_WAV).write_text("not audio\n")
    return root


def read_fold(output_dir: Path, number: int) -> Dict[str, object]:
    """The train, development and test manifests of fold ``number``, by split name."""
    return {split: read_manifest(output_dir / f"fold{number}" / split / "manifest.csv")
            for split in ("train", "development", "test")}
