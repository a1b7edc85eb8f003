"""Stage 0 for RAVDESS speech (audio-only): labels, actors and statements from the wav file names.

Reads every ``MM-VV-EE-II-SS-RR-AA.wav`` under ROOT, searched recursively, so both
``ROOT/Actor_01/...`` and a wrapping folder such as ``ROOT/Audio_Speech_Actors_01-24/Actor_01/...``
work. Fields: modality MM (03 audio-only), vocal channel VV (01 speech, 02 song), emotion EE,
intensity II (01 normal, 02 strong), statement SS, repetition RR, actor AA (01-24). Writes, through
``toolkit.corpora.folds.write_folds``, ``OUTDIR/all/manifest.csv``,
``OUTDIR/fold<k>/{train,development,test}/manifest.csv`` and ``OUTDIR/prepare_summary.json``.

- Classes (8, calm is a class of its own): 05 A Anger, 04 S Sadness, 03 H Happiness,
  08 U Surprise, 06 F Fear, 07 D Disgust, 01 N Neutral, 02 K Calm, in that (the toolkit's
  standard) order; soft labels are one-hot. Intensity and repetition are checked, not stored.
- ``SpkrID`` is the two-digit actor (``01``), ``Gender`` ``Male`` for odd actors and ``Female`` for
  even ones, ``text`` the statement (01 "Kids are talking by the door", 02 "Dogs are sitting by
  the door").
- Protocol ``emobox`` (the only one): EmoBox's 6 speaker-independent folds of 4 test actors each
  (``EMOBOX_TEST_ACTORS``, EmoBox's shipped lists: its fold writer shuffled actors without a seed,
  so only the lists reproduce its folds); each fold's Development set is carved from its 20
  training actors (EmoBox itself has none).
- Skipped and counted (``skipped`` in the summary, fatal with ``strict``): song recordings
  (``song``, VV=02: the song zip shares the naming scheme), other modalities (``not_audio_only``,
  MM 01/02), AppleDouble ``._*`` files, Git LFS pointer files, unreadable audio, names that do
  not parse (``bad_file_name``), a FileName met twice (``duplicate_file_name``). Non-wav files
  (video, readmes) are not read; their number is ``other_files`` in the summary.
- Summary keys: ``corpus`` (``ravdess``), ``root``, ``other_files``, ``skipped`` (reason -> count
  and examples), ``skipped_total``, and from ``write_folds`` ``classes``, ``protocol``,
  ``utterances``, ``folds``.
"""

import re
from pathlib import Path
from typing import Dict, List

from toolkit.corpora.folds import FoldProtocol, check_dev_fraction
from toolkit.corpora.named_files import ParsedName, SkippedFile, read_named_wavs, speaker_fold, write_corpus_folds
from toolkit.data.problems import ProblemLog
from toolkit.emotions import Inventory, canonical_order
from toolkit.utils.atomic import PathLike
from toolkit.utils.errors import ToolkitError

CORPUS = "ravdess"
PROTOCOLS = ("emobox",)

#: Emotion field of the file name -> standard class code.
EMOTION_CODES: Dict[str, str] = {"01": "N", "02": "K", "03": "H", "04": "S", "05": "A", "06": "F", "07": "D", "08": "U"}
STATEMENTS: Dict[str, str] = {"01": "Kids are talking by the door", "02": "Dogs are sitting by the door"}
AUDIO_ONLY = "03"
MODALITIES = ("01", "02", AUDIO_ONLY)  # full audio-video, video-only, audio-only
SPEECH, SONG = "01", "02"
ACTORS = tuple(f"{number:02d}" for number in range(1, 25))
INVENTORY = Inventory.from_codes(canonical_order(EMOTION_CODES.values()))

#: EmoBox's test actors of folds 1-6 (from its shipped fold lists).
EMOBOX_TEST_ACTORS = (
    ("01", "11", "20", "21"),
    ("04", "10", "12", "14"),
    ("08", "09", "19", "23"),
    ("03", "05", "07", "24"),
    ("02", "15", "16", "18"),
    ("06", "13", "17", "22"),
)

NAME_PATTERN = re.compile(r"(?P<modality>\d\d)-(?P<channel>\d\d)-(?P<emotion>\d\d)-(?P<intensity>\d\d)-"
                          r"(?P<statement>\d\d)-(?P<repetition>\d\d)-(?P<actor>\d\d)\Z")
EXPECTED_NAME = ("MM-VV-EE-II-SS-RR-AA.wav (modality 01-03, vocal channel 01/02, emotion 01-08, intensity 01/02, "
                 "statement 01/02, repetition 01/02, actor 01-24), e.g. 03-01-05-01-02-01-18.wav")


def prepare_ravdess(root: PathLike, output_dir: PathLike, protocol: str = "emobox", dev_fraction: float = 0.2,
                    strict: bool = False) -> Dict[str, object]:
    """Write the RAVDESS speech manifests of every fold of ``protocol`` and ``prepare_summary.json``;
    return the summary."""
    root = Path(root)
    if protocol not in PROTOCOLS:
        raise ToolkitError(f"unknown RAVDESS protocol {protocol!r}; choose one of {', '.join(PROTOCOLS)}")
    check_dev_fraction(dev_fraction)
    if not root.is_dir():
        raise ToolkitError(f"{root}: not a folder; give the folder holding Actor_01 ... Actor_24 (or the unzipped "
                           "Audio_Speech_Actors_01-24 folder above them)")
    problems = ProblemLog(strict=strict)
    rows, other_files = read_named_wavs(root, parse_ravdess_name, problems, CORPUS)
    return write_corpus_folds(CORPUS, root, rows, INVENTORY, _emobox_protocol(rows, dev_fraction), output_dir,
                              problems, {"other_files": other_files})


def parse_ravdess_name(path: Path) -> ParsedName:
    """Class, actor, gender and statement of a RAVDESS speech wav; ``SkippedFile`` for song and
    non-audio-only recordings and for names that do not follow the release's pattern."""
    match = NAME_PATTERN.match(path.stem)
    problem = None
    if match is None:
        problem = "it is not seven two-digit fields joined by hyphens"
    elif match["modality"] not in MODALITIES or match["channel"] not in (SPEECH, SONG):
        problem = f"unknown modality {match['modality']} or vocal channel {match['channel']}"
    elif match["emotion"] not in EMOTION_CODES:
        problem = f"unknown emotion {match['emotion']}"
    elif match["intensity"] not in ("01", "02") or match["repetition"] not in ("01", "02"):
        problem = f"intensity {match['intensity']} and repetition {match['repetition']} must be 01 or 02"
    elif match["statement"] not in STATEMENTS:
        problem = f"unknown statement {match['statement']}"
    elif match["actor"] not in ACTORS:
        problem = f"actor {match['actor']} outside 01-24"
    if problem:
        raise SkippedFile("bad_file_name", f"{path}: file name is not {EXPECTED_NAME}: {problem}; rename the file to "
                                           "that pattern or move it out of ROOT; skipped")
    if match["channel"] == SONG:
        raise SkippedFile("song", f"{path}: a song recording (vocal channel 02); the speech corpus is prepared, move "
                                  "the song files out of ROOT to silence this; skipped")
    if match["modality"] != AUDIO_ONLY:
        raise SkippedFile("not_audio_only", f"{path}: modality {match['modality']} is not 03 (audio-only); the "
                                            "audio-only release is prepared; skipped")
    actor = match["actor"]
    # RAVDESS numbers its male actors odd and its female actors even.
    gender = "Male" if int(actor) % 2 else "Female"
    return ParsedName(EMOTION_CODES[match["emotion"]], actor, gender, STATEMENTS[match["statement"]])


def _emobox_protocol(rows: List[Dict[str, str]], dev_fraction: float) -> FoldProtocol:
    specs = [speaker_fold(number, rows, actors, f"EmoBox fold {number}: test actors {', '.join(actors)}")
             for number, actors in enumerate(EMOBOX_TEST_ACTORS, start=1)]
    rule = "EmoBox's 6 fixed lists of 4 test actors; Development carved from each fold's training actors"
    return FoldProtocol("emobox", specs, dev_fraction, notes={"rule": rule})
