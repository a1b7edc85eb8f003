"""Stage 0 for Emo-DB (Berlin Database of Emotional Speech): labels and speakers from the wav file names.

Reads ``ROOT/wav/SSTTTEV.wav`` (searched recursively), e.g. ``03a01Wa.wav``: speaker ``SS``,
text code ``TTT``, German emotion letter ``E``, version letter ``V``. The release's other files
(``erkennung.txt``, ``erklaerung.txt``, ``lablaut/``, ``labsilb/``, ``silb/``) are not needed and
not read. Writes, through ``toolkit.corpora.folds.write_folds``, ``OUTDIR/all/manifest.csv``,
``OUTDIR/fold<k>/{train,development,test}/manifest.csv`` and ``OUTDIR/prepare_summary.json``.

- Classes (7): W Wut A Anger, T Trauer S Sadness, F Freude H Happiness, A Angst F Fear,
  E Ekel D Disgust, N N Neutral, L Langeweile B Boredom, in the toolkit's standard order. The
  letters are German initials: ``A`` is fear (Angst), anger is ``W``. Soft labels are one-hot.
- ``SpkrID`` is the two-digit speaker (``03``), ``Gender`` ``Male``/``Female`` from the corpus
  documentation (``SPEAKER_GENDERS``). ``text`` stays empty: the file name only carries a code
  for the German sentence.
- Protocol ``loso`` (the only one): leave one speaker out, one fold per speaker with usable
  files; fold k tests the k-th speaker in sorted order (10 folds, 03 ... 16, for the full
  corpus); each fold's Development set is carved from its training speakers. This is not
  EmoBox's Emo-DB split, which is speaker-dependent and comes from list files outside the
  release.
- Skipped and counted (``skipped`` in the summary, fatal with ``strict``): AppleDouble ``._*``
  files, Git LFS pointer files, unreadable audio, names that do not parse or name an unknown
  speaker (``bad_file_name``), a FileName met twice (``duplicate_file_name``). Non-wav files
  under ``wav/`` are not read; their number is ``other_files`` in the summary.
- Summary keys: ``corpus`` (``emodb``), ``root``, ``other_files``, ``skipped`` (reason -> count
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

CORPUS = "emodb"
PROTOCOLS = ("loso",)

#: German emotion letter of the file name -> standard class code.
EMOTION_CODES: Dict[str, str] = {"W": "A", "L": "B", "E": "D", "A": "F", "F": "H", "T": "S", "N": "N"}
SPEAKER_GENDERS: Dict[str, str] = {
    "03": "Male", "08": "Female", "09": "Female", "10": "Male", "11": "Male",
    "12": "Male", "13": "Female", "14": "Female", "15": "Male", "16": "Female",
}
INVENTORY = Inventory.from_codes(canonical_order(EMOTION_CODES.values()))

NAME_PATTERN = re.compile(r"(?P<speaker>\d\d)(?P<text>[a-z]\d\d)(?P<emotion>[A-Z])(?P<version>[a-z])\Z")
EXPECTED_NAME = (f"SSTTTEV.wav (speaker {'/'.join(SPEAKER_GENDERS)}, text code like a01, emotion letter "
                 f"{'/'.join(EMOTION_CODES)}, version letter), e.g. 03a01Wa.wav")


def prepare_emodb(root: PathLike, output_dir: PathLike, protocol: str = "loso", dev_fraction: float = 0.2,
                  strict: bool = False) -> Dict[str, object]:
    """Write the Emo-DB manifests of every fold of ``protocol`` and ``prepare_summary.json``; return the summary."""
    root = Path(root)
    if protocol not in PROTOCOLS:
        raise ToolkitError(f"unknown Emo-DB protocol {protocol!r}; choose one of {', '.join(PROTOCOLS)}")
    check_dev_fraction(dev_fraction)
    audio_dir = root / "wav"
    if not audio_dir.is_dir():
        raise ToolkitError(f"{root}: no wav/ folder; give the top folder of the unzipped Emo-DB download (the one "
                           "holding wav/ and erkennung.txt), not wav/ itself")
    problems = ProblemLog(strict=strict)
    rows, other_files = read_named_wavs(audio_dir, parse_emodb_name, problems, CORPUS)
    return write_corpus_folds(CORPUS, root, rows, INVENTORY, _loso_protocol(rows, dev_fraction), output_dir,
                              problems, {"other_files": other_files})


def parse_emodb_name(path: Path) -> ParsedName:
    """Class, speaker and gender of an Emo-DB wav; ``SkippedFile("bad_file_name")`` for a name that
    does not follow the release's pattern or names a speaker the corpus does not have."""
    match = NAME_PATTERN.match(path.stem)
    problem = None
    if match is None:
        problem = "it is not 2 digits, a lower-case letter and 2 digits, a capital letter, a lower-case letter"
    elif match["speaker"] not in SPEAKER_GENDERS:
        problem = f"speaker {match['speaker']} is not one of Emo-DB's ten speakers"
    elif match["emotion"] not in EMOTION_CODES:
        problem = f"unknown emotion letter {match['emotion']}"
    if problem:
        raise SkippedFile("bad_file_name", f"{path}: file name is not {EXPECTED_NAME}: {problem}; rename the file to "
                                           "that pattern or move it out of wav/; skipped")
    speaker = match["speaker"]
    return ParsedName(EMOTION_CODES[match["emotion"]], speaker, SPEAKER_GENDERS[speaker])


def _loso_protocol(rows: List[Dict[str, str]], dev_fraction: float) -> FoldProtocol:
    speakers = sorted({row["SpkrID"] for row in rows})
    if len(speakers) < 3:
        # A fold keeps one speaker for test and needs two more: one to train on, one for Development.
        raise ToolkitError(f"leave-one-speaker-out needs at least 3 speakers with usable files, found "
                           f"{len(speakers)} ({', '.join(speakers)}); check the skipped files")
    specs = [speaker_fold(number, rows, [speaker], f"test speaker {speaker}")
             for number, speaker in enumerate(speakers, start=1)]
    rule = "leave one speaker out: fold k tests the k-th speaker in sorted order; Development carved from the rest"
    return FoldProtocol("loso", specs, dev_fraction, notes={"rule": rule})
