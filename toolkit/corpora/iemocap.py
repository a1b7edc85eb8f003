"""Stage 0 for IEMOCAP: the ``IEMOCAP_full_release`` folder in, leave-one-session-out fold manifests out.

Reads, under ``ROOT/Session1`` .. ``ROOT/Session5``:

- ``dialog/EmoEvaluation/<dialog>.txt``: the consensus label file of each dialog. Only these
  top-level files: the per-evaluator folders below (``Categorical/``, ``Attribute/``,
  ``Self-evaluation/``) hold .txt files in other formats and are never read;
- ``sentences/wav/<dialog>/<utterance>.wav``: the utterance audio (headers only);
- ``dialog/transcriptions/<dialog>.txt`` (optional): human transcripts, into the ``text`` column.

Writes, through ``toolkit.corpora.folds.write_folds``: ``OUTDIR/all/manifest.csv``,
``OUTDIR/fold<k>/{train,development,test}/manifest.csv`` for k = 1..5 (fold k tests on Session k;
its Development set is carved from the training speakers, ``dev_fraction`` of them),
``OUTDIR/prepare_summary.json`` and the done marker ``OUTDIR/.prepare.done``.

A consensus label file is a ``%`` header comment, then blocks separated by blank lines. A block
starts with the TAB-separated line ``[START - END]  TURN  code  [V, A, D]`` and goes on with one
line per rating: ``C-E2:  Neutral; Frustration;  (comment)`` is evaluator E2's categorical vote,
``A-E3:  val 3; act 2; dom  2;  ()`` its attribute rating; raters ``F``/``M`` (``C-F1``) are the
actors rating themselves. Lines are parsed by structure (brackets, tabs, ``;``), never by
character position, because dialog names vary in length (``Ses03M_impro05a``, ``Ses05M_script01_1b``).

Each kept utterance becomes one manifest row:

- ``FileName`` ``<turn>.wav``; ``SpkrID`` the session plus the letter of the turn suffix
  (``Ses01F_impro04_M012`` is ``Ses01M``: the letter in the dialog name is who wore the motion
  capture markers, not who speaks); ``Gender`` from the same letter.
- ``EmoClass`` from the class protocol: ``"4"`` (neu N, ang A, sad S, hap and exc H: the usual
  5,531-utterance setup), ``"6"`` (adds exc E Excitement, fru R Frustration), or a ``label_map``
  of raw code to class. Utterances with any other code (``xxx`` no agreement, ``oth``, classes
  outside the protocol) are counted per raw code in the summary's ``"excluded"`` and not written.
- ``EmoVal``, ``EmoAct``, ``EmoDom`` from the block's ``[V, A, D]`` triple (that order, 1-5),
  mapped linearly onto 1-7.
- ``soft_<code>`` from the E-evaluators' categorical votes: each adds one unit shared equally
  among the distinct categories it lists, categories outside the inventory carry no mass, and the
  sum is normalised (one-hot on EmoClass when no vote lands in the inventory). ``n_annotators``
  counts the E-evaluators with a recognised category. Self-evaluations are not used.

Bad input is skipped (or, for single lines of a block, ignored) and counted by reason with
``file:line`` examples in the summary's ``"skipped"``; ``strict=True`` makes the first one fatal.
Reasons: ``malformed_evaluation_line``, ``unknown_emotion_code``, ``attribute_out_of_range``,
``duplicate_utterance``, ``duplicate_evaluator_vote``, ``unknown_evaluator_category``,
``malformed_transcript_line``, ``apple_double``, ``missing_audio``, ``git_lfs_pointer``,
``unreadable_audio``.
"""

import logging
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Set, Tuple

import numpy as np
from tqdm import tqdm

from toolkit.corpora.folds import FoldProtocol, FoldSpec, check_dev_fraction, write_folds
from toolkit.corpora.generic import parse_class_value
from toolkit.corpora.rows import add_soft_labels, audio_problem, is_apple_double, rescale_attribute, utterance_row
from toolkit.data.manifest import manifest_columns
from toolkit.data.problems import ProblemLog
from toolkit.emotions import NON_TARGET_CODES, Inventory, canonical_order
from toolkit.utils.atomic import PathLike
from toolkit.utils.errors import ToolkitError

logger = logging.getLogger(__name__)

SESSIONS = (1, 2, 3, 4, 5)
#: Every consensus code of the release; ``xxx`` means the evaluators reached no majority.
RAW_CODES = ("neu", "fru", "ang", "sad", "exc", "hap", "sur", "fea", "oth", "dis", "xxx")
NO_AGREEMENT = "xxx"
#: Raw consensus code -> class code, per built-in class protocol.
CLASS_PROTOCOLS: Dict[str, Dict[str, str]] = {
    "4": {"neu": "N", "ang": "A", "sad": "S", "hap": "H", "exc": "H"},
    "6": {"neu": "N", "ang": "A", "sad": "S", "hap": "H", "exc": "E", "fru": "R"},
}
#: The category names evaluators use on ``C-E`` lines (lower case) -> the raw code they stand for,
#: so that votes go through the same protocol as the consensus code (Excited -> H in the 4-class setup).
EVALUATOR_CATEGORIES: Dict[str, str] = {
    "neutral": "neu", "neutral state": "neu", "frustration": "fru", "anger": "ang", "sadness": "sad",
    "excited": "exc", "happiness": "hap", "surprise": "sur", "fear": "fea", "disgust": "dis", "other": "oth",
}
GENDERS = {"F": "Female", "M": "Male"}
FOLD_PROTOCOL = "iemocap-loso"
LAYOUT_HINT = ("ROOT must be the IEMOCAP_full_release folder: Session1 .. Session5, each holding "
               "dialog/EmoEvaluation/<dialog>.txt and sentences/wav/<dialog>/<utterance>.wav")

BLOCK_START = re.compile(r"\[\s*[\d.]+\s*-\s*[\d.]+\s*\]\s+(?P<turn>\S+)\s+(?P<code>\S+)\s+\[(?P<vad>[^\]]*)\]")
RATING_LINE = re.compile(r"(?P<kind>[A-Z])-(?P<rater>[A-Za-z]+\d*):(?P<rest>.*)")
TURN_NAME = re.compile(r"(?P<dialog>.+)_(?P<letter>[FM])\d+")
ANNOTATOR = re.compile(r"E\d+")
SELF_RATER = re.compile(r"[FM]\d*")
TRANSCRIPT_LINE = re.compile(r"(?P<turn>\S+)\s+\[[^\]]*\]:\s*(?P<text>.*)")


@dataclass
class Turn:
    """One labelled block of a consensus label file."""

    name: str
    session: int
    dialog: str
    letter: str
    code: str
    attributes: Dict[str, str]
    where: str
    #: E-evaluator id -> raw codes of the distinct categories it listed (None for a name not recognised)
    votes: Dict[str, Tuple[Optional[str], ...]] = field(default_factory=dict)


def class_protocol(classes: str = "4", label_map: Optional[Mapping[str, str]] = None
                   ) -> Tuple[str, Dict[str, str], Inventory]:
    """(protocol name, raw code -> class code, inventory) for ``classes`` or, when given, ``label_map``.

    A label map's keys are raw IEMOCAP codes (``neu``, ``exc``, ...); its values standard class codes
    or names (``H``, ``happiness``) or a new class written ``CODE Name``.
    """
    if label_map is None:
        chosen = str(classes)
        if chosen not in CLASS_PROTOCOLS:
            raise ToolkitError(f"IEMOCAP classes {classes!r} unknown; use 4 (neu, ang, sad, hap+exc), 6 (neu, ang, "
                               "sad, hap, exc, fru) or a label map of raw code to class")
        mapping = dict(CLASS_PROTOCOLS[chosen])
        return chosen, mapping, Inventory.from_codes(canonical_order(mapping.values()))
    mapping, names = {}, {}
    for raw, value in label_map.items():
        key = str(raw).strip().lower()
        if key not in RAW_CODES or key == NO_AGREEMENT:
            raise ToolkitError(f"IEMOCAP label map: {raw!r} is not a consensus code that can be mapped; use "
                               f"{', '.join(code for code in RAW_CODES if code != NO_AGREEMENT)}")
        code, name = parse_class_value(key, str(value), "IEMOCAP label map")
        if code in NON_TARGET_CODES:
            raise ToolkitError(f"IEMOCAP label map: {raw!r} maps to {code}, which is never a target; leave {raw!r} "
                               "out of the map to exclude its utterances")
        if name is not None:
            if names.get(code, name) != name:
                raise ToolkitError(f"IEMOCAP label map: class {code} is named both {names[code]!r} and {name!r}")
            names[code] = name
        mapping[key] = code
    return "label_map", mapping, Inventory.from_codes(canonical_order(mapping.values()), names)


def session_dirs(root: Path) -> Dict[int, Path]:
    """Session number -> folder; ToolkitError naming what is missing when ROOT is not a release."""
    if not root.is_dir():
        raise ToolkitError(f"{root}: IEMOCAP root not found; {LAYOUT_HINT}")
    missing = []
    for session in SESSIONS:
        directory = root / f"Session{session}"
        for needed in (directory, directory / "dialog" / "EmoEvaluation", directory / "sentences" / "wav"):
            if not needed.is_dir():
                missing.append(str(needed.relative_to(root)))
                break
    if missing:
        nested = root / "IEMOCAP_full_release"
        hint = f"; did you mean {nested}?" if nested.is_dir() else ""
        raise ToolkitError(f"{root}: not an IEMOCAP release, missing {', '.join(missing)} (leave-one-session-out "
                           f"needs all five sessions); {LAYOUT_HINT}{hint}")
    return {session: root / f"Session{session}" for session in SESSIONS}


def label_files(session_dir: Path, problems: ProblemLog) -> List[Path]:
    """The consensus label files of a session: ``dialog/EmoEvaluation/*.txt``, not recursing, AppleDouble skipped."""
    found = []
    for path in sorted((session_dir / "dialog" / "EmoEvaluation").glob("*.txt")):
        if is_apple_double(path):
            problems.report("apple_double", 1, [
                f"{path}: macOS AppleDouble metadata file, not a label file; skipped (delete the ._* files, "
                "e.g. find ROOT -name '._*' -delete)"])
        elif path.is_file():
            found.append(path)
    return found


def read_evaluation_file(path: Path, session: int, problems: ProblemLog) -> List[Turn]:
    """The labelled blocks of one consensus label file; bad lines are reported to ``problems``."""
    dialog = path.stem
    turns: List[Turn] = []
    current: Optional[Turn] = None
    # set after a block's first line was reported: the rest of that block belongs to a skipped utterance
    in_skipped_block = False
    with open(path, encoding="utf-8-sig", errors="replace") as handle:
        for number, line in enumerate(handle, start=1):
            where = f"{path}:{number}"
            text = line.strip()
            if not text:
                current, in_skipped_block = None, False
            elif text.startswith("%"):
                continue  # the header comment naming the fields
            elif text.startswith("["):
                current = _block_start(text, dialog, session, where, problems)
                in_skipped_block = current is None
                if current is not None:
                    turns.append(current)
            elif not in_skipped_block:
                _rating_line(text, current, where, problems)
    return turns


def _block_start(text: str, dialog: str, session: int, where: str, problems: ProblemLog) -> Optional[Turn]:
    match = BLOCK_START.fullmatch(text)
    if match is None:
        problems.report("malformed_evaluation_line", 1, [
            f"{where}: {text!r} is not a block's first line '[START - END]<TAB>TURN<TAB>code<TAB>[V, A, D]'; "
            "block skipped"])
        return None
    turn = TURN_NAME.fullmatch(match["turn"])
    if turn is None or turn["dialog"] != dialog:
        problems.report("malformed_evaluation_line", 1, [
            f"{where}: turn {match['turn']!r} is not named {dialog}_F<number> or {dialog}_M<number> after its "
            "label file; block skipped"])
        return None
    code = match["code"].lower()
    if code not in RAW_CODES:
        problems.report("unknown_emotion_code", 1, [
            f"{where}: emotion code {match['code']!r} unknown (known: {', '.join(RAW_CODES)}); block skipped"])
        return None
    try:
        valence, activation, dominance = (float(value) for value in match["vad"].split(","))
    except ValueError:
        problems.report("malformed_evaluation_line", 1, [
            f"{where}: [{match['vad']}] is not three numbers [V, A, D]; block skipped"])
        return None
    try:
        attributes = {"EmoVal": rescale_attribute(valence, 1.0, 5.0), "EmoAct": rescale_attribute(activation, 1.0, 5.0),
                      "EmoDom": rescale_attribute(dominance, 1.0, 5.0)}
    except ValueError as error:
        problems.report("attribute_out_of_range", 1, [f"{where}: {error} (IEMOCAP ratings are 1-5); block skipped"])
        return None
    return Turn(match["turn"], session, dialog, turn["letter"], code, attributes, where)


def _rating_line(text: str, current: Optional[Turn], where: str, problems: ProblemLog) -> None:
    """Record an E-evaluator's categorical vote on ``current``; attribute lines and self-evaluations carry
    nothing the adapter needs (the block's first line has the attribute means)."""
    match = RATING_LINE.fullmatch(text)
    if match is None or current is None or match["kind"] not in "CA":
        problems.report("malformed_evaluation_line", 1, [
            f"{where}: {text!r} is neither a block's first line nor a rating line 'C-E1:<TAB>Category;<TAB>()' or "
            "'A-E1:<TAB>val 3; act 2; dom  2;<TAB>()' inside a block; line ignored"], action="ignored")
        return
    rater = match["rater"]
    if SELF_RATER.fullmatch(rater) or match["kind"] == "A":
        return
    if not ANNOTATOR.fullmatch(rater):
        problems.report("malformed_evaluation_line", 1, [
            f"{where}: rater {rater!r} is neither an evaluator E<n> nor an actor F<n>/M<n>; line ignored"],
            action="ignored")
        return
    # the comment in parentheses may itself hold ';', so categories are what precedes it
    names = list(dict.fromkeys(name.strip() for name in match["rest"].split("(", 1)[0].split(";") if name.strip()))
    if not names:
        problems.report("malformed_evaluation_line", 1, [f"{where}: evaluator {rater} lists no category; vote ignored"],
                        action="ignored")
        return
    if rater in current.votes:
        problems.report("duplicate_evaluator_vote", 1, [
            f"{where}: second categorical line of {rater} for {current.name}; the first one counts"], action="ignored")
        return
    codes = []
    for name in names:
        lowered = name.lower()
        code = "oth" if lowered.startswith("other") else EVALUATOR_CATEGORIES.get(lowered)
        if code is None:
            problems.report("unknown_evaluator_category", 1, [
                f"{where}: category {name!r} unknown (known: {', '.join(sorted(EVALUATOR_CATEGORIES))}); "
                "it keeps its share of the vote but gives no class mass"], action="ignored")
        codes.append(code)
    current.votes[rater] = tuple(codes)


def vote_vector(turn: Turn, mapping: Mapping[str, str], inventory: Inventory) -> Tuple[np.ndarray, int]:
    """(unnormalised class weights over ``inventory``, E-evaluators with a recognised category) of one turn."""
    vector = np.zeros(inventory.num_classes)
    usable = 0
    for codes in turn.votes.values():
        if not any(codes):
            continue
        usable += 1
        for raw in codes:
            code = mapping.get(raw) if raw else None
            if code is not None:
                vector[inventory.index(code)] += 1.0 / len(codes)
    return vector, usable


def read_transcripts(path: Path, wanted: Set[str], problems: ProblemLog) -> Dict[str, str]:
    """Turn name -> transcript (whitespace collapsed) for the ``wanted`` turns of one transcription file."""
    texts: Dict[str, str] = {}
    if not path.is_file():
        return texts
    with open(path, encoding="utf-8-sig", errors="replace") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            match = TRANSCRIPT_LINE.fullmatch(line.strip())
            if match is None:
                problems.report("malformed_transcript_line", 1, [
                    f"{path}:{number}: {line.strip()!r} is not 'TURN [START-END]: text'; line ignored"],
                    action="ignored")
            elif match["turn"] in wanted:
                texts[match["turn"]] = " ".join(match["text"].split())
    return texts


def _report_apple_double_wavs(wav_dir: Path, problems: ProblemLog) -> None:
    """Count ``._*`` files beside the utterance wavs: never opened (wavs are found by name), but a sign
    of a copy made on macOS that the user may want to clean."""
    for path in sorted(wav_dir.glob("*/._*")):
        problems.report("apple_double", 1, [f"{path}: macOS AppleDouble metadata file, not audio; ignored"],
                        action="ignored")


def prepare_iemocap(root: PathLike, output_dir: PathLike, classes: str = "4",
                    label_map: Optional[Mapping[str, str]] = None, dev_fraction: float = 0.2,
                    strict: bool = False) -> Dict[str, object]:
    """Write the leave-one-session-out fold manifests of an IEMOCAP release; return the summary.

    ``classes``: ``"4"`` or ``"6"``; ``label_map`` (raw code -> class), when given, replaces it.
    ``dev_fraction``: share of each fold's training speakers carved out as its Development set.
    """
    import pandas as pd

    root, output_dir = Path(root), Path(output_dir)
    check_dev_fraction(dev_fraction)
    protocol_name, mapping, inventory = class_protocol(classes, label_map)
    sessions = session_dirs(root)
    problems = ProblemLog(strict=strict)
    files = [(session, path) for session, directory in sessions.items() for path in label_files(directory, problems)]

    turns: Dict[str, Turn] = {}
    for session, path in tqdm(files, desc="IEMOCAP label files", unit="file"):
        for turn in read_evaluation_file(path, session, problems):
            if turn.name in turns:
                problems.report("duplicate_utterance", 1, [
                    f"{turn.where}: {turn.name} already labelled at {turns[turn.name].where}; block skipped"])
            else:
                turns[turn.name] = turn
    excluded = Counter(turn.code for turn in turns.values() if turn.code not in mapping)
    kept = [turn for turn in turns.values() if turn.code in mapping]

    kept_by_dialog: Dict[Tuple[int, str], Set[str]] = {}
    for turn in kept:
        kept_by_dialog.setdefault((turn.session, turn.dialog), set()).add(turn.name)
    texts: Dict[str, str] = {}
    for (session, dialog), names in sorted(kept_by_dialog.items()):
        path = sessions[session] / "dialog" / "transcriptions" / f"{dialog}.txt"
        texts.update(read_transcripts(path, names, problems))

    rows: List[Dict[str, str]] = []
    votes: Dict[str, np.ndarray] = {}
    for turn in tqdm(kept, desc="IEMOCAP wav headers", unit="wav"):
        wav = sessions[turn.session] / "sentences" / "wav" / turn.dialog / f"{turn.name}.wav"
        problem = audio_problem(wav)
        if problem is not None:
            reason, message = problem
            problems.report(reason, 1, [f"{turn.where}: {turn.name}: {message}"])
            continue
        file_name = f"{turn.name}.wav"
        row = utterance_row(file_name, wav, mapping[turn.code], f"Ses{turn.session:02d}{turn.letter}",
                            GENDERS[turn.letter], turn.attributes, texts.get(turn.name, ""))
        votes[file_name], annotators = vote_vector(turn, mapping, inventory)
        row["n_annotators"] = str(annotators)
        rows.append(row)
    for directory in sessions.values():
        _report_apple_double_wavs(directory / "sentences" / "wav", problems)

    session_of = {f"{turn.name}.wav": turn.session for turn in kept}
    folds = []
    for session in SESSIONS:
        test = {row["FileName"] for row in rows if session_of[row["FileName"]] == session}
        if not test:
            skipped = ", ".join(f"{reason} {count}" for reason, count in sorted(problems.counts.items())) or "none"
            raise ToolkitError(f"{sessions[session]}: no utterance of the classes {inventory.describe()} was kept, so "
                               f"fold {session} has no test set; check its dialog/EmoEvaluation files and wavs "
                               f"(skipped so far: {skipped})")
        folds.append(FoldSpec(session, test, description=f"test Session{session}"))
    protocol = FoldProtocol(FOLD_PROTOCOL, folds, dev_fraction,
                            notes={"rule": "leave-one-session-out: fold k tests on Session k; Development is carved "
                                           "from the training speakers"})
    if excluded:
        logger.info("excluded (not in the class protocol): %s",
                    ", ".join(f"{code} {count}" for code, count in sorted(excluded.items())))
    summary = {
        "corpus": "iemocap",
        "root": str(root),
        "class_protocol": protocol_name,
        "label_map": mapping,
        "excluded": dict(sorted(excluded.items())),
        "with_transcript": sum(1 for row in rows if row["text"]),
        "skipped": problems.to_dict(),
        "skipped_total": problems.total(),
    }
    frame = pd.DataFrame(add_soft_labels(rows, inventory, votes), columns=manifest_columns(inventory))
    return write_folds(frame, protocol, inventory, output_dir, summary)
