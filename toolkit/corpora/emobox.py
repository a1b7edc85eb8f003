"""Stage 0 from EmoBox's metadata: its standard folds of 32 corpora -> the toolkit's fold manifests.

EmoBox (github.com/emo-box/EmoBox) ships, in its ``data/`` folder, one folder per corpus ``<c>``.
For the corpus asked for this module reads:

- ``data/<c>/label_map.json`` (EMOVO's is named ``label_dict.json``): raw label -> EmoBox class name;
- ``data/<c>/fold_<k>/<c>_train_fold_<k>.jsonl`` and ``<c>_test_fold_<k>.jsonl`` for every
  ``fold_<k>`` folder (k from 1), and ``<c>_valid_fold_<k>.jsonl`` where EmoBox has an official
  development set (MELD, MSP-Podcast, M3ED);
- ``data/<c>/data.seg.wrd.stm`` when present, for speakers (below);
- the header of every audio file a record's ``wav`` names, under ``audio_root``.

It does not read the ``.json`` twins of the fold files (the same records keyed by ``key``), the
whole-corpus ``<c>.jsonl``, nor Emo-DB's legacy ``emodb_{train,test}_fold<k>.json[l]`` (no
underscore before k, fields ``audio``/``label``, the same membership as the ``_fold_<k>`` files).

It writes what ``toolkit.corpora.folds.write_folds`` writes: ``OUTDIR/all/manifest.csv``,
``OUTDIR/fold<k>/{train,development,test}/manifest.csv``, ``OUTDIR/prepare_summary.json``.

Rules:

- Audio. ``wav`` is relative to EmoBox's root folder and starts ``downloads/<c>/``. When
  ``audio_root`` holds ``downloads/<c>/`` it is taken as that root; otherwise it is taken to be the
  ``downloads/<c>`` folder itself (under any name) and ``wav`` is read with that prefix removed.
  Media containers soundfile cannot decode (``.mp4 .avi .webm .m4a``: MELD, MEAD, eNTERFACE, EMNS,
  MER2023) are read from the ``.wav`` with the same path and stem, which the user extracts first.
- FileName is ``<key>.wav`` (the key itself when it already ends in ``.wav``, as RESD's do).
- Labels. ``emo`` is the corpus's raw label; the label map turns it into an EmoBox class name, looked
  up exactly, then ignoring case (Emo-DB's map has ``Neutral``, its records ``neutral``). A class
  name becomes a toolkit code through ``toolkit.emotions.CLASS_NAME_ALIASES`` (``Angry`` -> A,
  ``Boredom`` -> B, ``Calm`` -> K, ...); MSP-Podcast's ``Other`` and ``No-agreement`` become the
  non-target codes O and X (rows kept, no soft label, as in the MSP-Podcast adapter). Any other class
  name gets a new code (``new_class_codes``) and keeps its EmoBox name. The inventory is the target
  classes of the kept records (a map class no kept record has is left out and logged), in the
  standard order, then new classes alphabetically by name.
- Speakers. EmoBox records carry none. For IEMOCAP (session + the turn's letter:
  ``Ses01F_impro04_M012`` is ``Ses01M``), RAVDESS (actor), CREMA-D (actor), Emo-DB (first two
  characters) and ESD (speaker number) the audio file name says who speaks; otherwise the ``spk`` of
  ``data.seg.wrd.stm``, unless that file gives every utterance its own speaker (RESD writes the file
  name there); otherwise ``Unknown``. The summary counts each source (``speaker_sources``).
- Folds. Fold k tests on its test file and develops on its valid file; without one, ``write_folds``
  carves a Development set from the fold's training speakers (per utterance where the speaker is
  unknown, so that set is then not speaker-independent). EmoBox's own loader meant to carve a random
  20 % of train instead. The utterances are the union of all fold files; each fold trains on all of
  them outside its test and development sets, so each fold's files must list every utterance
  (EmoBox's do) and a key must keep its label and wav across files.
- Problems. Records skipped (once per key, with the file:line where the key first appears) under
  these reasons: ``unmapped_label``, ``segment_record`` (PAVOQUE's spans of long recordings, which a
  manifest row cannot address), ``wav_outside_corpus``, ``container_without_wav``, and those of
  ``toolkit.corpora.rows.audio_problem`` (``apple_double``, ``missing_audio``, ``git_lfs_pointer``,
  ``unreadable_audio``). An stm line without its ``<id=..,spk=..>`` tag is counted as ``bad_stm_line``
  (its utterance keeps no speaker). ``strict=True`` makes the first problem fatal. Malformed fold
  files, a key with two labels or wavs, and fold files that disagree about the utterances are errors.
"""

import json
import logging
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Set, Tuple

from tqdm import tqdm

from toolkit.corpora.folds import UNKNOWN_SPEAKERS, FoldProtocol, FoldSpec, write_folds
from toolkit.corpora.rows import (
    add_soft_labels,
    audio_problem,
    is_apple_double,
    utterance_row,
)
from toolkit.data.manifest import manifest_columns
from toolkit.data.problems import ProblemLog
from toolkit.emotions import (
    CLASS_NAME_ALIASES,
    NON_TARGET_CODES,
    STANDARD_NAMES,
    Inventory,
    canonical_order,
)
from toolkit.utils.atomic import PathLike
from toolkit.utils.errors import ToolkitError

logger = logging.getLogger(__name__)

#: Label map file names, in the order tried: EMOVO alone ships ``label_dict.json``.
LABEL_MAP_NAMES = ("label_map.json", "label_dict.json")
STM_NAME = "data.seg.wrd.stm"
FOLD_DIR = re.compile(r"fold_(\d+)")
#: Fold file parts in reading order; the order decides which file:line a problem names first.
PARTS = ("test", "valid", "train")
REQUIRED_PARTS = ("test", "train")
REQUIRED_FIELDS = ("key", "wav", "emo")
#: Containers EmoBox's ``wav`` fields name that soundfile cannot decode.
CONTAINER_SUFFIXES = {".mp4", ".avi", ".webm", ".m4a"}
#: EmoBox class names (lower case, runs of space/-/_ as one space) for the never-target codes.
NON_TARGET_CLASS_NAMES = {"other": "O", "no agreement": "X"}
#: Corpora whose audio file stem names the speaker: the groups of the pattern, joined, are the speaker.
SPEAKER_IN_FILE_NAME: Dict[str, re.Pattern] = {
    # session, then the letter of the turn suffix: the dialog's letter is the other actor half the time
    "iemocap": re.compile(r"(Ses\d{2})[FM]_.+_([FM])\d{3}"),
    "ravdess": re.compile(r"\d{2}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}-(\d{2})"),
    "cremad": re.compile(r"(\d{4})_[A-Z]{3}_[A-Z]{3}_[A-Z]+"),
    "emodb": re.compile(r"(\d{2})[a-z]\d{2}[A-Z][a-z]"),
    "esd": re.compile(r"(\d{4})_\d{6}"),
}
#: The speaker inside an stm line's ``<id=KEY,lang=..,spk=SPEAKER,emotion=..>`` tag; read from the tag
#: rather than by columns because some keys and speakers contain spaces (RESD, ASVP-ESD).
STM_TAG = re.compile(r"<id=(?P<key>.*),lang=[^,<>]*,spk=(?P<speaker>.*),emotion=[^<>]*>")


@dataclass
class Record:
    """One EmoBox utterance as first met; ``where`` is that ``file:line``."""

    key: str
    wav: str
    emo: str
    where: str
    is_segment: bool


@dataclass
class FoldFiles:
    """The jsonl files of one ``fold_<k>`` folder and the keys each lists."""

    number: int
    paths: Dict[str, Path]
    keys: Dict[str, Set[str]] = field(default_factory=dict)


@dataclass
class EmoBoxLabelMap:
    """EmoBox's raw label -> class name map and the toolkit code of every class name."""

    path: Path
    entries: Dict[str, str]
    codes: Dict[str, str]

    def class_of(self, raw: str) -> Optional[str]:
        """The class name of a raw label: exact key first, then ignoring case (keys that differ only in
        case map to one class, ``load_label_map`` checks)."""
        if raw in self.entries:
            return self.entries[raw]
        return next((name for label, name in self.entries.items() if label.casefold() == raw.casefold()), None)


def new_class_codes(names: List[str]) -> Dict[str, str]:
    """Codes for class names the toolkit does not know, deterministic in the set of names.

    Names are taken in case-insensitive alphabetical order; each gets the first upper-cased letter
    of its name (A-Z only) that is no standard code, not O or X and not given yet; failing that, its
    first letter followed by a later letter of the name, then followed by a digit 1-9 (a name without
    a letter A-Z starts from Q). So ``Sarcastic`` is T, ``Worried`` W, ``Poker`` P, and ``Concerned``,
    whose letters are all taken, CO.
    """
    taken = set(STANDARD_NAMES) | set(NON_TARGET_CODES)
    codes: Dict[str, str] = {}
    for name in sorted(names, key=str.casefold):
        letters = [letter for letter in name.upper() if "A" <= letter <= "Z"] or ["Q"]
        candidates = [*letters, *(letters[0] + later for later in letters[1:]),
                      *(f"{letters[0]}{digit}" for digit in range(1, 10))]
        code = next((candidate for candidate in candidates if candidate not in taken), None)
        if code is None:
            raise ToolkitError(f"EmoBox class {name!r}: no free class code among {', '.join(candidates)}; "
                               "rename the class in the label map")
        codes[name] = code
        taken.add(code)
    return codes


def _normal_class_name(name: str) -> str:
    return re.sub(r"[\s_-]+", " ", name.strip().lower())


def load_label_map(corpus_dir: Path) -> EmoBoxLabelMap:
    """The corpus's label map and the toolkit code of each of its class names."""
    path = next((corpus_dir / name for name in LABEL_MAP_NAMES if (corpus_dir / name).is_file()), None)
    if path is None:
        raise ToolkitError(f"{corpus_dir}: no {' or '.join(LABEL_MAP_NAMES)}; EmoBox ships one in every corpus "
                           "folder of data/: restore it from the EmoBox repository")
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ToolkitError(f"{path}: not readable JSON ({error}); restore it from the EmoBox repository") from None
    if not isinstance(entries, dict) or not entries:
        raise ToolkitError(f"{path}: expected a JSON object of raw label -> class name, like {{\"neu\": \"Neutral\"}}")
    for label, name in entries.items():
        if not isinstance(name, str) or not name.strip():
            raise ToolkitError(f"{path}: label {label!r} maps to {name!r}; class names must be non-empty strings")
    by_folded: Dict[str, Set[str]] = {}
    for label, name in entries.items():
        by_folded.setdefault(label.casefold(), set()).add(name)
    clashes = {label: names for label, names in by_folded.items() if len(names) > 1}
    if clashes:
        label, names = next(iter(clashes.items()))
        raise ToolkitError(f"{path}: keys spelled {label!r} in different cases map to {sorted(names)}; "
                           "labels are matched ignoring case, so give them one class")
    codes: Dict[str, str] = {}
    unknown: List[str] = []
    for name in dict.fromkeys(entries.values()):
        normal = _normal_class_name(name)
        if normal in CLASS_NAME_ALIASES:
            codes[name] = CLASS_NAME_ALIASES[normal]
        elif normal in NON_TARGET_CLASS_NAMES:
            codes[name] = NON_TARGET_CLASS_NAMES[normal]
        else:
            unknown.append(name)
    new = new_class_codes(unknown)
    for name, code in new.items():
        logger.info("EmoBox class %r has no standard code: it is class %s here", name, code)
    return EmoBoxLabelMap(path, dict(entries), {**codes, **new})


def _file_name(key: str) -> str:
    return key if key.lower().endswith(".wav") else f"{key}.wav"


def _fold_files(corpus_dir: Path, corpus: str) -> List[FoldFiles]:
    """Every ``fold_<k>`` folder's jsonl files, by k; an error when one lacks its train or test file."""
    folds: List[FoldFiles] = []
    legacy: List[str] = []
    for directory in sorted(corpus_dir.iterdir()):
        match = FOLD_DIR.fullmatch(directory.name)
        if not match or not directory.is_dir():
            continue
        number = int(match.group(1))
        paths = {part: directory / f"{corpus}_{part}_fold_{number}.jsonl" for part in PARTS}
        for part in REQUIRED_PARTS:
            if not paths[part].is_file():
                raise ToolkitError(f"{paths[part]} not found; every fold_<k> folder of EmoBox's data/{corpus} holds "
                                   f"{corpus}_train_fold_<k>.jsonl and {corpus}_test_fold_<k>.jsonl: restore it "
                                   "from the EmoBox repository")
        if not paths["valid"].is_file():
            del paths["valid"]
        legacy += sorted(path.name for path in directory.iterdir()
                         if re.fullmatch(rf"{re.escape(corpus)}_(train|test|valid)_fold\d+\.jsonl?", path.name))
        folds.append(FoldFiles(number, paths))
    if legacy:
        logger.info("%s: ignoring %d legacy fold file(s) such as %s (the same folds with older field names)",
                    corpus_dir, len(legacy), legacy[0])
    if not folds:
        raise ToolkitError(f"{corpus_dir}: no fold_<k> folders; EmoBox's data/{corpus} should hold fold_1, fold_2, ...")
    return sorted(folds, key=lambda fold: fold.number)


def _records(path: Path) -> Iterator[Tuple[int, Dict[str, object]]]:
    """(line number, record) of a jsonl fold file; blank lines are skipped, malformed ones are errors
    because a fold list with a hole would silently move a test utterance into training."""
    try:
        with open(path, encoding="utf-8") as handle:
            for number, line in enumerate(tqdm(handle, desc=f"reading {path.name}", unit="line", leave=False), 1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as error:
                    raise ToolkitError(f"{path}:{number}: not a JSON object ({error}); restore the file from the "
                                       "EmoBox repository") from None
                missing = [name for name in REQUIRED_FIELDS
                           if not isinstance(record, dict) or not isinstance(record.get(name), str) or not record[name]]
                if missing:
                    raise ToolkitError(f"{path}:{number}: record without {', '.join(missing)} (EmoBox's fold records "
                                       "have key, wav and emo strings); restore the file from the EmoBox repository")
                yield number, record
    except (OSError, UnicodeDecodeError) as error:
        raise ToolkitError(f"{path}: cannot read ({error})") from None


def _read_folds(folds: List[FoldFiles]) -> Dict[str, Record]:
    """Every key's record as first met (folds in order, test, valid, train); fills each fold's key sets."""
    records: Dict[str, Record] = {}
    for fold in folds:
        placed: Dict[str, str] = {}
        for part, path in fold.paths.items():
            keys = fold.keys.setdefault(part, set())
            for number, fields in _records(path):
                key, where = str(fields["key"]), f"{path}:{number}"
                if key in placed and placed[key] != part:
                    raise ToolkitError(f"{where}: key {key} is also in fold {fold.number}'s {placed[key]} file; "
                                       "a fold's train, valid and test files must not share utterances")
                placed[key] = part
                keys.add(key)
                seen = records.get(key)
                if seen is None:
                    records[key] = Record(key, str(fields["wav"]), str(fields["emo"]), where,
                                          "start_time" in fields or "end_time" in fields)
                elif (seen.wav, seen.emo) != (fields["wav"], fields["emo"]):
                    raise ToolkitError(f"key {key}: {seen.where} has wav {seen.wav} and label {seen.emo!r} but "
                                       f"{where} has wav {fields['wav']} and label {fields['emo']!r}; one utterance "
                                       "must have one label and one audio file: restore the files from EmoBox")
    for fold in folds:
        listed = set().union(*fold.keys.values())
        absent = [key for key in records if key not in listed]
        if absent:
            raise ToolkitError(
                f"fold {fold.number} ({', '.join(path.name for path in fold.paths.values())}) does not list "
                f"{len(absent)} utterance(s) other folds list, e.g. {absent[0]} ({records[absent[0]].where}); the "
                "toolkit trains each fold on every utterance outside its test and development sets, so each fold's "
                "files must list the whole corpus, as EmoBox's do")
    return records


def _audio_layout(audio_root: Path, corpus: str) -> str:
    """``emobox_root`` when ``audio_root`` holds ``downloads/<corpus>``, else ``corpus_folder`` (it is that folder)."""
    return "emobox_root" if (audio_root / "downloads" / corpus).is_dir() else "corpus_folder"


def _speakers_from_stm(path: Path, problems: ProblemLog) -> Dict[str, str]:
    """key -> speaker from an EmoBox ``data.seg.wrd.stm``; empty when it gives every line its own speaker."""
    speakers: Dict[str, str] = {}
    try:
        with open(path, encoding="utf-8") as handle:
            for number, line in enumerate(tqdm(handle, desc=f"reading {path.name}", unit="line", leave=False), 1):
                if not line.strip():
                    continue
                match = STM_TAG.search(line)
                if not match:
                    problems.report("bad_stm_line", 1, [
                        f"{path}:{number}: no <id=KEY,lang=..,spk=SPEAKER,emotion=..> tag; its speaker is unknown"],
                        action="ignored")
                    continue
                speakers[match.group("key")] = match.group("speaker").strip()
    except (OSError, UnicodeDecodeError) as error:
        raise ToolkitError(f"{path}: cannot read ({error}); delete or restore it") from None
    if len(speakers) > 1 and len(set(speakers.values())) == len(speakers):
        logger.info("%s: every utterance has its own speaker there (a file name, not a speaker): ignored", path)
        return {}
    return speakers


class SpeakerFinder:
    """The speaker of a record: from its audio file name, else the corpus's stm, else ``Unknown``."""

    def __init__(self, corpus: str, stm_path: Path, problems: ProblemLog):
        self.pattern = SPEAKER_IN_FILE_NAME.get(corpus)
        self.stm_path = stm_path
        self.problems = problems
        self.stm: Optional[Dict[str, str]] = None
        self.sources: Counter = Counter()

    def __call__(self, record: Record) -> str:
        match = self.pattern.fullmatch(Path(record.wav).stem) if self.pattern else None
        if match:
            self.sources["file_name"] += 1
            return "".join(match.groups())
        if self.stm is None:  # read on first need: corpora named in SPEAKER_IN_FILE_NAME rarely need it
            self.stm = _speakers_from_stm(self.stm_path, self.problems) if self.stm_path.is_file() else {}
        speaker = self.stm.get(record.key, "")
        if speaker and speaker not in UNKNOWN_SPEAKERS:
            self.sources["stm"] += 1
            return speaker
        self.sources["unknown"] += 1
        return "Unknown"


def _audio_path(record: Record, audio_root: Path, layout: str,
                corpus: str) -> Tuple[Optional[Path], Optional[Tuple[str, str]]]:
    """(audio file to read, None), or (None, (reason, message)) when a record's ``wav`` gives no usable audio."""
    prefix = f"downloads/{corpus}/"
    if layout == "emobox_root":
        named = audio_root / record.wav
    elif record.wav.startswith(prefix):
        named = audio_root / record.wav[len(prefix):]
    else:
        message = (f"{record.where}: wav {record.wav} is not under {prefix}, so it cannot be found in the corpus "
                   f"folder {audio_root}; give EmoBox's root (the folder holding downloads/) as the audio root; "
                   "skipped")
        return None, ("wav_outside_corpus", message)
    if named.suffix.lower() in CONTAINER_SUFFIXES and not is_apple_double(named):
        extracted = named.with_suffix(".wav")
        if not extracted.is_file():
            if named.is_file():
                message = (f"{record.where}: {named} is a {named.suffix} container, which soundfile cannot decode, "
                           f"and {extracted} is not there; extract its audio, e.g. ffmpeg -i '{named}' -vn -ac 1 "
                           f"-ar 16000 '{extracted}'; skipped")
                return None, ("container_without_wav", message)
            message = f"{record.where}: neither {named} nor its extracted audio {extracted} found; skipped"
            return None, ("missing_audio", message)
        named = extracted
    problem = audio_problem(named)
    return (None, (problem[0], f"{record.where}: {problem[1]}")) if problem else (named, None)


def prepare_emobox(emobox_data: PathLike, corpus: str, output_dir: PathLike, audio_root: PathLike,
                   dev_fraction: float = 0.2, strict: bool = False) -> Dict[str, object]:
    """Write the fold manifests of EmoBox's folds of ``corpus`` and ``prepare_summary.json``; return the summary.

    ``emobox_data``: EmoBox's ``data/`` folder; ``corpus``: its folder name there (``iemocap``,
    ``emodb``, ...); ``audio_root``: the folder holding ``downloads/<corpus>/`` or that folder itself;
    ``dev_fraction``: the share of training speakers carved out where a fold has no valid file.
    """
    emobox_data, output_dir, audio_root = Path(emobox_data), Path(output_dir), Path(audio_root)
    if not emobox_data.is_dir():
        raise ToolkitError(f"{emobox_data}: EmoBox data folder not found; give the data/ folder of a clone of "
                           "github.com/emo-box/EmoBox")
    corpus_dir = emobox_data / corpus
    if not corpus_dir.is_dir():
        known = sorted(path.name for path in emobox_data.iterdir()
                       if path.is_dir() and any((path / name).is_file() for name in LABEL_MAP_NAMES))
        raise ToolkitError(f"{corpus_dir}: no such corpus folder in EmoBox's data; corpora there: "
                           f"{', '.join(known) or 'none (is this the data/ folder?)'}")
    if not audio_root.is_dir():
        raise ToolkitError(f"{audio_root}: audio root not found; give the folder holding downloads/{corpus}/ "
                           f"or that downloads/{corpus} folder itself")
    labels = load_label_map(corpus_dir)
    folds = _fold_files(corpus_dir, corpus)
    records = _read_folds(folds)
    layout = _audio_layout(audio_root, corpus)
    problems = ProblemLog(strict=strict)
    speaker_of = SpeakerFinder(corpus, corpus_dir / STM_NAME, problems)

    rows = _utterance_rows(records, labels, audio_root, layout, corpus, problems, speaker_of)
    inventory = _inventory(rows, labels)
    protocol = _protocol(folds, {row["FileName"] for row in rows}, corpus, dev_fraction, speaker_of.sources["unknown"])
    if problems.total():
        logger.warning("skipped %d %s utterance(s): %s", problems.total(), corpus,
                       ", ".join(f"{reason} {count}" for reason, count in sorted(problems.counts.items())))
    import pandas as pd

    frame = pd.DataFrame(add_soft_labels(rows, inventory), columns=manifest_columns(inventory))
    summary = {
        "adapter": "emobox",
        "corpus": corpus,
        "emobox_data": str(emobox_data),
        "audio_root": str(audio_root),
        "audio_layout": layout,
        "label_map": {"file": str(labels.path), "entries": labels.entries, "codes": labels.codes},
        "emobox_folds": {str(fold.number): {part: str(path.relative_to(corpus_dir))
                                            for part, path in fold.paths.items()} for fold in folds},
        "speaker_sources": dict(sorted(speaker_of.sources.items())),
        "skipped": problems.to_dict(),
        "skipped_total": problems.total(),
    }
    return write_folds(frame, protocol, inventory, output_dir, summary)


def _utterance_rows(records: Dict[str, Record], labels: EmoBoxLabelMap, audio_root: Path, layout: str, corpus: str,
                    problems: ProblemLog, speaker_of: SpeakerFinder) -> List[Dict[str, str]]:
    """A manifest row (without soft labels) per usable record; the others are reported to ``problems``."""
    rows: List[Dict[str, str]] = []
    file_names: Dict[str, str] = {}
    for record in tqdm(records.values(), desc=f"checking {corpus} audio", unit="utt", leave=False):
        file_name = _file_name(record.key)
        if file_names.setdefault(file_name, record.key) != record.key:
            raise ToolkitError(f"{record.where}: keys {file_names[file_name]} and {record.key} both give the "
                               f"FileName {file_name}; FileNames must be unique")
        class_name = labels.class_of(record.emo)
        if class_name is None:
            problems.report("unmapped_label", 1, [(
                f"{record.where}: label {record.emo!r} (key {record.key}) is not in {labels.path}; add "
                f"\"{record.emo}\": \"<class name>\" there or remove the record; skipped")])
            continue
        if record.is_segment:
            problems.report("segment_record", 1, [(
                f"{record.where}: key {record.key} is a time span of {record.wav}; manifest rows address whole "
                "files, so cut the span into a file of its own and point wav at it; skipped")])
            continue
        wav, problem = _audio_path(record, audio_root, layout, corpus)
        if problem:
            reason, message = problem
            problems.report(reason, 1, [message])
            continue
        try:
            rows.append(utterance_row(file_name, wav, labels.codes[class_name], speaker_of(record)))
        except ToolkitError as error:  # the file changed between the check and the header read
            problems.report("unreadable_audio", 1, [f"{record.where}: {error}; skipped"])
    if not rows:
        looked = (f"{audio_root}/downloads/{corpus}" if layout == "emobox_root"
                  else f"{audio_root} (as downloads/{corpus})")
        reasons = ", ".join(f"{reason} {count}" for reason, count in sorted(problems.counts.items()))
        raise ToolkitError(f"no usable {corpus} utterance among {len(records)} record(s) (skipped: {reasons}); audio "
                           f"was looked for in {looked}: check the audio root")
    return rows


def _protocol(folds: List[FoldFiles], kept: Set[str], corpus: str, dev_fraction: float,
              unknown_speakers: int) -> FoldProtocol:
    """EmoBox's folds over the kept FileNames: test from the test file, Development from the valid file or carved."""
    specs = []
    for fold in folds:
        test = {_file_name(key) for key in fold.keys["test"]} & kept
        development = {_file_name(key) for key in fold.keys["valid"]} & kept if "valid" in fold.keys else None
        source = f"development from {fold.paths['valid'].name}" if development is not None else "development carved"
        specs.append(FoldSpec(fold.number, test, development,
                              f"EmoBox {corpus} fold_{fold.number}: test from {fold.paths['test'].name}, {source}"))
    if all(spec.development is not None for spec in specs):
        note = "EmoBox's valid files"
    elif unknown_speakers:
        note = (f"carved from training rows; {unknown_speakers} utterance(s) have no known speaker and are carved "
                "per utterance, so Development is not speaker-independent")
        logger.warning("%s: %d utterance(s) have no known speaker: the carved Development sets are not "
                       "speaker-independent", corpus, unknown_speakers)
    else:
        note = "carved from training speakers, speaker-disjoint"
    return FoldProtocol(f"emobox-{corpus}", specs, dev_fraction, notes={"development": note})


def _inventory(rows: List[Dict[str, str]], labels: EmoBoxLabelMap) -> Inventory:
    """The target classes of the kept rows, in the standard order, named as the toolkit or EmoBox names them."""
    found = {row["EmoClass"] for row in rows} - set(NON_TARGET_CODES)
    unused = sorted(name for name, code in labels.codes.items() if code not in found and code not in NON_TARGET_CODES)
    if unused:
        logger.info("%s: class(es) %s label no kept utterance: left out of the inventory", labels.path,
                    ", ".join(unused))
    if len(found) < 2:
        raise ToolkitError(f"the kept utterances carry {len(found)} class(es) ({', '.join(sorted(found)) or 'none'}); "
                           f"a classifier needs 2 or more: check {labels.path} and the skipped records")
    names = {code: name for name, code in labels.codes.items() if code not in STANDARD_NAMES}
    # a set has no order: new classes follow the standard ones alphabetically by name
    by_name = sorted(found, key=lambda code: names.get(code, code).casefold())
    return Inventory.from_codes(canonical_order(by_name), names)
