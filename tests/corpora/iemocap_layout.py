"""Builder of a tiny ``IEMOCAP_full_release`` tree in the release's layout (short wavs written with soundfile).

Five sessions of two dialogs each, irregular dialog names included (``Ses03M_impro05a``,
``Ses05M_script01_1b``). Turns alternate F and M whatever the dialog's letter, so half the turns
are spoken by the actor whose letter is not in the dialog name. The consensus code of turn i is
``CODE_CYCLE[(i // 2) % 8]``, so with 8 or more turns per dialog every speaker has every class of
the 4-class protocol in every dialog, and with 16 (the default) every code of the cycle.

Planted for the adapter's tests (recorded on the returned ``IemocapLayout``):

- per-evaluator decoys under ``EmoEvaluation/{Categorical,Attribute,Self-evaluation}/``: .txt
  files that would add a turn with a wav (``decoy_turns``) and relabel a real turn if read;
- a block whose first line lacks the [V, A, D] triple (``malformed_line``, ``malformed_turn``);
- a labelled turn without its wav (``missing_wav_turn``);
- AppleDouble ``._*`` files, one among the label files, one among the wavs (``apple_double``);
- a ``;`` inside a vote comment, a transcript line for an unlabelled ``MXX0`` turn;
- ``xxx``, ``oth`` and ``fru`` blocks, and actor self-evaluations (``C-F1``/``C-M1``) that disagree
  with the evaluators.
"""

from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Tuple

import numpy as np
import soundfile

DIALOGS: Dict[int, Tuple[str, str]] = {
    1: ("Ses01F_impro01", "Ses01M_script01_1"),
    2: ("Ses02F_impro02", "Ses02M_script02_2"),
    3: ("Ses03M_impro05a", "Ses03F_script01_3"),
    4: ("Ses04F_impro03", "Ses04M_script03_1"),
    5: ("Ses05M_script01_1b", "Ses05F_impro04"),
}
CODE_CYCLE = ("neu", "ang", "sad", "hap", "exc", "fru", "xxx", "oth")
CATEGORY = {"neu": "Neutral", "ang": "Anger", "sad": "Sadness", "hap": "Happiness", "exc": "Excited",
            "fru": "Frustration", "oth": "Other"}
#: E3's and E4's (valence, activation, dominance) ratings per code; the block's triple is their mean.
#: ang gives the release's documented example: (2,4,4) and (1,4,5) -> [1.5000, 4.0000, 4.5000].
RATINGS = {
    "neu": ((3, 2, 2), (3, 3, 3)), "ang": ((2, 4, 4), (1, 4, 5)), "sad": ((1, 2, 2), (2, 1, 2)),
    "hap": ((4, 3, 3), (5, 3, 3)), "exc": ((5, 4, 3), (4, 5, 3)), "fru": ((2, 3, 3), (2, 4, 3)),
    "xxx": ((3, 3, 3), (2, 3, 3)), "oth": ((3, 3, 2), (3, 3, 3)),
}
APPLE_DOUBLE_BYTES = b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        \x00\x02\x00\x00\x00\x09"
MALFORMED_DIALOG = "Ses02F_impro02"
MISSING_WAV_DIALOG = "Ses04F_impro03"


@dataclass
class FixtureTurn:
    name: str
    session: int
    dialog: str
    letter: str
    code: str
    text: str


@dataclass
class IemocapLayout:
    root: Path
    turns: List[FixtureTurn] = field(default_factory=list)
    malformed_line: Tuple[Path, int] = (Path(), 0)
    malformed_turn: str = ""
    missing_wav_turn: str = ""
    decoy_turns: List[str] = field(default_factory=list)
    apple_double: List[Path] = field(default_factory=list)


def write_wav(path: Path, seconds: float = 0.2, sample_rate: int = 16000) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(len(path.name))
    soundfile.write(str(path), (0.05 * rng.standard_normal(int(seconds * sample_rate))).astype(np.float32),
                    sample_rate, subtype="PCM_16")


def evaluator_votes(code: str) -> List[List[str]]:
    """E1, E2, E3's categories: the consensus twice (E2 adds a second category), E3 a neighbour."""
    if code == "xxx":
        return [["Neutral"], ["Frustration", "Anger"], ["Sadness"]]
    name = CATEGORY[code]
    return [[name], [name, "Frustration" if name != "Frustration" else "Anger"],
            ["Excited" if name != "Excited" else "Happiness"]]


def self_vote(code: str) -> str:
    """The actor's own category: never the consensus, so reading it would show in the soft labels."""
    return "Anger" if code != "ang" else "Sadness"


def _times(index: int) -> Tuple[float, float]:
    start = 1.5 + 3.0 * index + 0.0123 * (index % 7)
    return start, start + 2.1234


def _block(name: str, code: str, letter: str, index: int) -> List[str]:
    start, end = _times(index)
    e3, e4 = RATINGS[code]
    vad = ", ".join(f"{(a + b) / 2:.4f}" for a, b in zip(e3, e4))
    lines = [f"[{start:.4f} - {end:.4f}]\t{name}\t{code}\t[{vad}]"]
    for number, categories in enumerate(evaluator_votes(code), start=1):
        comment = "(sounds tired; maybe bored)" if number == 2 else "()"
        lines.append(f"C-E{number}:\t{'; '.join(categories)};\t{comment}")
    lines.append(f"C-{letter}1:\t{self_vote(code)};\t()")
    for rater, (val, act, dom) in (("E3", e3), ("E4", e4), (f"{letter}1", (5, 5, 1))):
        lines.append(f"A-{rater}:\tval {val}; act {act}; dom  {dom};\t()")
    return lines


def _write_decoys(evaluation_dir: Path, dialog: str, turn_names: List[str], wav_dir: Path) -> str:
    """Per-evaluator files as the release has them, plus consensus-looking blocks that must not be read."""
    decoy = f"{dialog}_F900"
    write_wav(wav_dir / f"{decoy}.wav")
    fake_blocks = [f"[1.0000 - 2.0000]\t{decoy}\tang\t[1.0000, 5.0000, 5.0000]", "C-E1:\tAnger;\t()", "",
                   f"[1.5000 - 3.6234]\t{turn_names[0]}\tsad\t[1.0000, 1.0000, 1.0000]", "C-E1:\tSadness;\t()", ""]
    for folder, name, line in (
            ("Categorical", f"{dialog}_e2_cat.txt", f"{turn_names[0]} :Anger; ()"),
            ("Attribute", f"{dialog}_e3_atr.txt", f"{turn_names[0]} :act 5; val 1; dom  5; ()"),
            ("Self-evaluation", f"{dialog}_F.txt", f"{turn_names[0]} :Fear; ()")):
        (evaluation_dir / folder).mkdir(parents=True, exist_ok=True)
        (evaluation_dir / folder / name).write_text("\n".join([line, "", *fake_blocks]), encoding="utf-8")
    (evaluation_dir / "Self-evaluation" / f"{dialog}.anvil").write_text("<annotation/>\n", encoding="utf-8")
    return decoy


def build_iemocap(base: Path, utterances_per_dialog: int = 16, seconds: float = 0.2) -> IemocapLayout:
    """Write ``base/IEMOCAP_full_release`` and return what was planted in it."""
    if utterances_per_dialog < 8:
        raise ValueError("utterances_per_dialog must be at least 8 for every speaker to have every 4-class class")
    layout = IemocapLayout(root=base / "IEMOCAP_full_release")
    for session, dialogs in DIALOGS.items():
        session_dir = layout.root / f"Session{session}"
        evaluation_dir = session_dir / "dialog" / "EmoEvaluation"
        evaluation_dir.mkdir(parents=True)
        (session_dir / "dialog" / "transcriptions").mkdir()
        for dialog_number, dialog in enumerate(dialogs):
            wav_dir = session_dir / "sentences" / "wav" / dialog
            lines = ["% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]", ""]
            transcript = []
            names = []
            for index in range(utterances_per_dialog):
                letter = "FM"[index % 2]
                name = f"{dialog}_{letter}{index // 2:03d}"
                code = CODE_CYCLE[(index // 2) % len(CODE_CYCLE)]
                text = f"words of turn {index} in {dialog}."
                names.append(name)
                block = _block(name, code, letter, index)
                if dialog == MALFORMED_DIALOG and index == 0:
                    block[0] = block[0].rsplit("\t", 1)[0]
                    layout.malformed_line = (evaluation_dir / f"{dialog}.txt", len(lines) + 1)
                    layout.malformed_turn = name
                lines += block + [""]
                start, end = _times(index)
                transcript.append(f"{name} [{start:08.4f}-{end:08.4f}]: {text}")
                layout.turns.append(FixtureTurn(name, session, dialog, letter, code, text))
                if dialog == MISSING_WAV_DIALOG and index == 1:
                    layout.missing_wav_turn = name
                else:
                    write_wav(wav_dir / f"{name}.wav", seconds)
            transcript.insert(1, f"{dialog}_MXX0 [000.5000-001.0000]: Hmm.")
            (evaluation_dir / f"{dialog}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
            (session_dir / "dialog" / "transcriptions" / f"{dialog}.txt").write_text("\n".join(transcript) + "\n",
                                                                                      encoding="utf-8")
            if dialog_number == 0:
                layout.decoy_turns.append(_write_decoys(evaluation_dir, dialog, names, wav_dir))
    first_dialog = DIALOGS[1][0]
    for path in (layout.root / "Session1" / "dialog" / "EmoEvaluation" / f"._{first_dialog}.txt",
                 layout.root / "Session1" / "sentences" / "wav" / first_dialog / f"._{first_dialog}_F000.wav"):
        path.write_bytes(APPLE_DOUBLE_BYTES)
        layout.apple_double.append(path)
    return layout
