"""Stage 0 for CREMA-D: labels, speakers and sentences from the wav file names.

Reads ``ROOT/AudioWAV/AAAA_SSS_EEE_LL.wav`` (searched recursively; actor ``AAAA``, sentence
``SSS``, emotion ``EEE``, level ``LL``) and, when present, ``ROOT/VideoDemographics.csv``
(``"ActorID","Age","Sex","Race","Ethnicity"``) for each actor's gender. Nothing else of the
release is read (``AudioMP3/``, ``VideoFlash/`` and the vote tables are not needed). Writes, through
``toolkit.corpora.folds.write_folds``, ``OUTDIR/all/manifest.csv``,
``OUTDIR/fold<k>/{train,development,test}/manifest.csv`` and ``OUTDIR/prepare_summary.json``.

- Classes (6): ANG A Anger, SAD S Sadness, HAP H Happiness, FEA F Fear, DIS D Disgust,
  NEU N Neutral, in that (the toolkit's standard) order; soft labels are one-hot.
- ``SpkrID`` is the actor id (``1001``), ``Gender`` the demographics table's ``Sex`` verbatim
  (empty without the table), ``text`` the sentence the code stands for. The level (LO/MD/HI/XX)
  is checked but not stored: the manifest has no column for it.
- Protocol ``actor`` (default): speaker-independent cross-validation over ``folds`` folds. The
  actors are sorted by id and dealt round-robin: the i-th actor (counting from 0) is tested in fold
  ``i mod folds + 1``; for the full corpus (actors 1001-1091) that is fold ``(id - 1001) mod folds + 1``.
  Each fold's Development set is carved from its training actors (``write_folds``).
- Protocol ``emobox``: EmoBox's single CREMA-D fold, a speaker-dependent split. EmoBox's fold
  writer found CREMA-D's per-actor emotion counts unequal and fell back to drawing, per emotion,
  ``int(0.25 * n)`` of the emotion's ``n`` files as test with one ``random.Random(0)``, emotions
  taken in the order their first file appears (``per_emotion_test_sample``); all actors are in
  train and test. EmoBox took the files in its machine's directory-walk order, which no other
  copy reproduces; this adapter takes them sorted by FileName. The rule is the same but the file
  list is not EmoBox's (for the full corpus only about a quarter of the 1,856 test files coincide).
  Given EmoBox's own file order (that of its ``cremad.jsonl``), ``per_emotion_test_sample``
  returns EmoBox's exact list; use the EmoBox-metadata adapter for that.
- Skipped and counted (``skipped`` in the summary, fatal with ``strict``): AppleDouble ``._*``
  files, Git LFS pointer files (a clone without ``git lfs pull``), unreadable audio, names that do
  not parse (``bad_file_name``, e.g. the old misnamed ``1040_ITH_SAD_X.wav``), a FileName met
  twice. Actors missing from the demographics table keep their rows with an empty gender and are
  counted (``actor_not_in_demographics``); malformed table rows are counted and ignored
  (``bad_demographics_row``).
- Summary keys: ``corpus`` (``crema-d``), ``root``, ``demographics`` (the table's path, empty
  without it), ``other_files`` (non-wav files under AudioWAV/), ``skipped`` (reason -> count and
  examples), ``skipped_total``, and from ``write_folds`` ``classes``, ``protocol``, ``utterances``,
  ``folds``.
"""

import csv
import logging
import random
import re
from pathlib import Path
from typing import Dict, List, Sequence, Set

from toolkit.corpora.folds import FoldProtocol, FoldSpec, check_dev_fraction
from toolkit.corpora.named_files import ParsedName, SkippedFile, read_named_wavs, speaker_fold, write_corpus_folds
from toolkit.data.problems import ProblemLog
from toolkit.emotions import Inventory, canonical_order
from toolkit.utils.atomic import PathLike
from toolkit.utils.errors import ToolkitError

logger = logging.getLogger(__name__)

CORPUS = "crema-d"
PROTOCOLS = ("actor", "emobox")

#: Emotion field of the file name -> standard class code.
EMOTION_CODES: Dict[str, str] = {"ANG": "A", "DIS": "D", "FEA": "F", "HAP": "H", "NEU": "N", "SAD": "S"}
#: Sentence field of the file name -> the sentence spoken.
SENTENCES: Dict[str, str] = {
    "IEO": "It's eleven o'clock",
    "TIE": "That is exactly what happened",
    "IOM": "I'm on my way to the meeting",
    "IWW": "I wonder what this is about",
    "TAI": "The airplane is almost full",
    "MTI": "Maybe tomorrow it will be cold",
    "IWL": "I would like a new alarm clock",
    "ITH": "I think I have a doctor's appointment",
    "DFA": "Don't forget a jacket",
    "ITS": "I think I've seen this before",
    "TSI": "The surface is slick",
    "WSI": "We'll stop in a couple of minutes",
}
#: Level field: low, medium, high, unspecified.
LEVELS = ("LO", "MD", "HI", "XX")
INVENTORY = Inventory.from_codes(canonical_order(EMOTION_CODES.values()))

NAME_PATTERN = re.compile(r"(?P<actor>\d{4})_(?P<sentence>[A-Z]{3})_(?P<emotion>[A-Z]{3})_(?P<level>[A-Z]{2})\Z")
EXPECTED_NAME = ("AAAA_SSS_EEE_LL.wav (4-digit actor, sentence code, emotion ANG/DIS/FEA/HAP/NEU/SAD, "
                 "level LO/MD/HI/XX), e.g. 1001_DFA_ANG_XX.wav")
EMOBOX_TEST_FRACTION = 0.25
EMOBOX_SEED = 0


def prepare_crema_d(root: PathLike, output_dir: PathLike, protocol: str = "actor", folds: int = 5,
                    dev_fraction: float = 0.2, strict: bool = False) -> Dict[str, object]:
    """Write the CREMA-D manifests of every fold of ``protocol`` and ``prepare_summary.json``; return the summary.

    ``folds`` is the number of folds of the ``actor`` protocol (the ``emobox`` protocol has one).
    """
    root = Path(root)
    if protocol not in PROTOCOLS:
        raise ToolkitError(f"unknown CREMA-D protocol {protocol!r}; choose one of {', '.join(PROTOCOLS)}")
    if protocol == "actor" and folds < 2:
        raise ToolkitError(f"the actor protocol needs at least 2 folds, got {folds}")
    check_dev_fraction(dev_fraction)
    audio_dir = root / "AudioWAV"
    if not audio_dir.is_dir():
        raise ToolkitError(f"{root}: no AudioWAV/ folder; give the top folder of the CREMA-D release (the one holding "
                           "AudioWAV/ and VideoDemographics.csv), not AudioWAV/ itself")
    problems = ProblemLog(strict=strict)
    demographics = root / "VideoDemographics.csv"
    genders = read_demographics(demographics, problems) if demographics.is_file() else None
    if genders is None:
        logger.warning("%s not found: Gender stays empty", demographics)

    def parse(path: Path) -> ParsedName:
        return parse_crema_d_name(path, genders or {})

    rows, other_files = read_named_wavs(audio_dir, parse, problems, CORPUS)
    if genders is not None:
        _report_actors_without_gender(rows, genders, demographics, problems)
    fold_protocol = (_actor_protocol(rows, folds, dev_fraction) if protocol == "actor"
                     else _emobox_protocol(rows, dev_fraction))
    extra = {"demographics": str(demographics) if genders is not None else "", "other_files": other_files}
    return write_corpus_folds(CORPUS, root, rows, INVENTORY, fold_protocol, output_dir, problems, extra)


def parse_crema_d_name(path: Path, genders: Dict[str, str]) -> ParsedName:
    """Class, actor, gender (from ``genders``, actor id -> Sex) and sentence of a CREMA-D wav;
    ``SkippedFile("bad_file_name")`` when the name does not follow the release's pattern."""
    match = NAME_PATTERN.match(path.stem)
    problem = None
    if match is None:
        problem = "its fields are not 4 digits, 3, 3 and 2 capital letters"
    elif match["sentence"] not in SENTENCES:
        problem = f"unknown sentence code {match['sentence']} (known: {', '.join(SENTENCES)})"
    elif match["emotion"] not in EMOTION_CODES:
        problem = f"unknown emotion {match['emotion']}"
    elif match["level"] not in LEVELS:
        problem = f"unknown level {match['level']}"
    if problem:
        raise SkippedFile("bad_file_name", f"{path}: file name is not {EXPECTED_NAME}: {problem}; rename the file to "
                                           "that pattern or move it out of AudioWAV/; skipped")
    actor = match["actor"]
    return ParsedName(EMOTION_CODES[match["emotion"]], actor, genders.get(actor, ""), SENTENCES[match["sentence"]])


def read_demographics(path: Path, problems: ProblemLog) -> Dict[str, str]:
    """Actor id (as in the file names, ``1001``) -> ``Sex`` from ``VideoDemographics.csv``."""
    genders: Dict[str, str] = {}
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        missing = [column for column in ("ActorID", "Sex") if column not in (reader.fieldnames or [])]
        if missing:
            raise ToolkitError(f"{path}: no {' or '.join(missing)} column; expected the header "
                               '"ActorID","Age","Sex","Race","Ethnicity" of the CREMA-D release')
        for line, record in enumerate(reader, start=2):
            actor, sex = (record["ActorID"] or "").strip(), (record["Sex"] or "").strip()
            if not actor.isdigit() or not sex:
                problems.report("bad_demographics_row", 1, [
                    f"{path}:{line}: expected a numeric ActorID and a Sex, got {actor!r} and {sex!r}; row ignored"],
                    action="ignored")
                continue
            genders[actor] = sex
    return genders


def _report_actors_without_gender(rows: List[Dict[str, str]], genders: Dict[str, str], demographics: Path,
                                  problems: ProblemLog) -> None:
    files_per_actor: Dict[str, int] = {}
    for row in rows:
        if row["SpkrID"] not in genders:
            files_per_actor[row["SpkrID"]] = files_per_actor.get(row["SpkrID"], 0) + 1
    for actor, count in sorted(files_per_actor.items()):
        problems.report("actor_not_in_demographics", count, [
            f"{demographics}: no row for actor {actor}, whose {count} file(s) keep an empty Gender; add the actor's "
            "row to fix it"], action="kept without gender")


def _actor_protocol(rows: List[Dict[str, str]], folds: int, dev_fraction: float) -> FoldProtocol:
    actors = sorted({row["SpkrID"] for row in rows}, key=int)
    # Every fold needs a test actor, and 2 training actors left to carve Development from: with
    # 2 folds the larger test group of n actors is ceil(n / 2), hence 4.
    needed = folds if folds >= 3 else 4
    if len(actors) < needed:
        raise ToolkitError(f"the actor protocol with {folds} folds needs at least {needed} actors with usable "
                           f"files, found {len(actors)}; lower folds or check the skipped files")
    specs = []
    for number in range(1, folds + 1):
        tested = actors[number - 1::folds]
        specs.append(speaker_fold(number, rows, tested, f"test actors {', '.join(tested)}"))
    rule = (f"actors sorted by id, the i-th (from 0) tested in fold i mod {folds} + 1; Development carved from the "
            "training actors")
    return FoldProtocol("actor", specs, dev_fraction, notes={"rule": rule})


def _emobox_protocol(rows: List[Dict[str, str]], dev_fraction: float) -> FoldProtocol:
    ordered = sorted(rows, key=lambda row: row["FileName"])
    test = per_emotion_test_sample([row["FileName"] for row in ordered], [row["EmoClass"] for row in ordered])
    rule = (f"EmoBox's fallback: per emotion int({EMOBOX_TEST_FRACTION} * n) test files drawn with one "
            f"random.Random({EMOBOX_SEED}) over the FileNames in sorted order; actors in train and test")
    caveat = ("EmoBox drew over its own directory-walk order, so its file list differs from this one; use the "
              "EmoBox-metadata adapter for EmoBox's exact list")
    spec = FoldSpec(1, test, description="EmoBox split: 25 % of each emotion, speaker-dependent")
    return FoldProtocol("emobox", [spec], dev_fraction, notes={"rule": rule, "emobox_file_list": caveat})


def per_emotion_test_sample(file_names: Sequence[str], codes: Sequence[str],
                            fraction: float = EMOBOX_TEST_FRACTION, seed: int = EMOBOX_SEED) -> Set[str]:
    """EmoBox's stratified test draw: for each class, in the order its first file appears in
    ``file_names``, ``int(fraction * n)`` of its ``n`` files drawn by ``random.Random(seed).sample``
    over the class's files in their given order, one generator for all classes (so the order of
    the names and of the classes both matter)."""
    by_class: Dict[str, List[str]] = {}
    for name, code in zip(file_names, codes, strict=True):
        by_class.setdefault(code, []).append(name)
    generator = random.Random(seed)
    chosen: Set[str] = set()
    for names in by_class.values():
        chosen.update(generator.sample(names, int(len(names) * fraction)))
    return chosen
