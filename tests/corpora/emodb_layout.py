"""Builders of tiny Emo-DB trees for tests, in the layout of the unzipped ``download.zip``, with traps."""

from pathlib import Path
from typing import Dict, Sequence

from tests.corpora.crema_d_layout import write_apple_double, write_audio

SPEAKERS = ("03", "08", "09", "10", "11", "12", "13", "14", "15", "16")
LETTERS = ("W", "L", "E", "A", "F", "T", "N")
TEXT_CODES = ("a01", "a02", "a04", "a05", "a07", "b01", "b02", "b03", "b09", "b10")

# Trap files written by build_emodb(traps=True), relative to ROOT.
APPLE_DOUBLE = "wav/._03a01Wa.wav"
MISNAMED = ("wav/03a01Xa.wav",   # X is no emotion letter
            "wav/17a01Wa.wav")   # 17 is no Emo-DB speaker
NON_WAV = "wav/Thumbs.db"


def emodb_names(speakers: Sequence[str], takes: int) -> Dict[str, str]:
    """File name -> speaker of every wav ``build_emodb`` writes: ``takes`` texts per emotion and speaker."""
    return {f"{speaker}{text}{letter}a.wav": speaker
            for speaker in speakers for letter in LETTERS for text in TEXT_CODES[:takes]}


def build_emodb(root: Path, speakers: Sequence[str] = SPEAKERS, takes: int = 1, traps: bool = True) -> Path:
    """An Emo-DB tree at ``root``: ``wav/`` with ``len(speakers) * 7 * takes`` 16 kHz wavs (0.1 s),
    the top-level files the adapter must leave alone, and with ``traps`` the trap files named above."""
    for name in emodb_names(speakers, takes):
        write_audio(root / "wav" / name)
    # erkennung.txt is Latin-1, tab-separated, with decimal commas.
    (root / "erkennung.txt").write_bytes("Satz\terkannt\tNatürlichkeit\n03a01Fa\t90,5\t4,2\n".encode("latin-1"))
    (root / "erklaerung.txt").write_bytes("Erklärung der Dateinamen\n".encode("latin-1"))
    for folder, suffix in (("lablaut", "lablaut"), ("labsilb", "labsilb"), ("silb", "silb")):
        (root / folder).mkdir(exist_ok=True)
        (root / folder / f"03a01Fa.{suffix}").write_text("0.0 #\n")
    if traps:
        write_apple_double(root / APPLE_DOUBLE)
        for name in MISNAMED:
            write_audio(root / name)
        (root / NON_WAV).write_bytes(b"\x00\x01")
    return root
