"""Stage 0 for MSP-Podcast: a release directory in, one manifest per split out.

Reads ``ROOT/Labels/labels_consensus.csv`` (or ``.json``), ``ROOT/Labels/labels_detailed.csv``
(or ``.json``, any of the three per-annotator formats), ``ROOT/Audios/*.wav`` (headers only)
and ``ROOT/Transcripts/<utt>.txt``. Writes ``OUTDIR/<split>/manifest.csv`` for ``train``,
``development``, ``test3`` (and ``test1``/``test2`` when the labels carry them), a ``.done``
marker in each split directory, ``OUTDIR/prepare_summary.json`` and finally
``OUTDIR/.prepare.done``. A re-run with the same inputs and options returns the saved summary.

Bad rows are skipped and counted by reason (``strict=True`` makes the first one fatal);
columns and reasons are documented in docs/manifest.md.
"""

import json
import logging
import os
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Set

import numpy as np

from toolkit.data.annotations import AnnotationSource, find_annotation_file, load_json_without_gc, open_annotations
from toolkit.data.header_cache import AudioHeaderCache
from toolkit.data.manifest import CONSENSUS_COLUMNS, MANIFEST_COLUMNS, SPLIT_NAMES, write_manifest
from toolkit.data.problems import ProblemLog
from toolkit.data.soft_labels import SoftLabelAccumulator, SoftLabelRule, annotator_votes, normalise
from toolkit.data.tables import read_csv_chunks, read_header
from toolkit.emotions import (
    ALL_CONSENSUS_CODES,
    ATTRIBUTE_MAX,
    ATTRIBUTE_MIN,
    ATTRIBUTES,
    CHALLENGE,
    EMOTION_CODES,
    SOFT_COLUMNS,
)
from toolkit.utils.atomic import PathLike, atomic_write_json, done_marker, is_done, mark_done
from toolkit.utils.errors import ToolkitError

logger = logging.getLogger(__name__)

SUMMARY_NAME = "prepare_summary.json"
DONE_NAME = "prepare"
CONSENSUS_FILE_NAMES = ("labels_consensus.csv", "labels_consensus.json")
TEST3_SPLIT = "test3"
TARGET_SAMPLE_RATE = 16000
_SPLIT_BY_LOWER = {name.lower(): directory for name, directory in SPLIT_NAMES.items()}


def prepare_msp_podcast(root: PathLike, output_dir: PathLike, *, test_list: Optional[PathLike] = None,
                        soft_label_rule: Optional[SoftLabelRule] = None, strict: bool = False,
                        scan_audio: bool = True) -> Dict:
    """Write the split manifests of an MSP-Podcast release and return the summary (also saved as JSON).

    ``test_list``: a file of test3 FileNames, one a line; by default test3 is every wav without a
    label row. ``scan_audio=False`` skips reading wav headers (duration, sample_rate and
    num_channels are left empty and read later, when the audio is loaded).
    """
    import pandas as pd

    root, output_dir = Path(root), Path(output_dir)
    rule = soft_label_rule or SoftLabelRule()
    consensus_path, annotation_path, audio_dir, transcript_dir = _find_layout(root)
    test_list = Path(test_list) if test_list is not None else None
    if test_list is not None and not test_list.is_file():
        raise ToolkitError(f"--test-list {test_list}: file not found; give a file with one test3 FileName per line")
    fingerprint = _fingerprint(
        [consensus_path, annotation_path, test_list, audio_dir, transcript_dir],
        {"soft_label_rule": rule.to_dict(), "strict": strict, "scan_audio": scan_audio},
    )
    summary_path = output_dir / SUMMARY_NAME
    if is_done(output_dir, DONE_NAME) and summary_path.is_file():
        saved = json.loads(summary_path.read_text(encoding="utf-8"))
        if saved.get("fingerprint") == fingerprint:
            logger.info("%s is already prepared from the same inputs and options; delete %s to redo it",
                        output_dir, done_marker(output_dir, DONE_NAME))
            return saved
    done_marker(output_dir, DONE_NAME).unlink(missing_ok=True)

    problems = ProblemLog(strict=strict)
    notes: Dict[str, int] = {}
    audio_names = _list_wavs(audio_dir)
    logger.info("%s: %d wav files", audio_dir, len(audio_names))
    consensus, labelled_names = read_consensus(consensus_path, problems)
    consensus = _drop_missing_audio(consensus, consensus_path, audio_names, problems)

    annotations = open_annotations(annotation_path) if annotation_path else None
    if annotations is None:
        logger.warning("%s: no labels_detailed.csv/.json; soft labels fall back to one-hot consensus classes",
                       consensus_path.parent)
    soft, n_annotators = _soft_labels(consensus, annotations, labelled_names, rule, problems, notes)
    consensus[list(SOFT_COLUMNS)] = soft
    consensus["n_annotators"] = n_annotators

    test3_names = _test3_names(test_list, audio_names, labelled_names, consensus, problems)
    consensus = consensus[~consensus["FileName"].isin(test3_names)]
    frames = {split: part for split, part in consensus.groupby("split", sort=False)}
    # a release may label (some of) Test3; its unlabelled utterances join those rows
    unlabelled = _unlabelled_frame(sorted(test3_names))
    frames[TEST3_SPLIT] = pd.concat([frames[TEST3_SPLIT], unlabelled], ignore_index=True) \
        if TEST3_SPLIT in frames else unlabelled

    split_stats = _write_splits(frames, output_dir, audio_dir, transcript_dir, scan_audio, problems, notes)
    _remove_stale_splits(output_dir, set(frames))

    summary = {
        "corpus": "msp-podcast",
        "classes": CHALLENGE.to_list(),
        "root": str(root.resolve()),
        "output_dir": str(output_dir.resolve()),
        "inputs": {
            "consensus": str(consensus_path),
            "annotations": str(annotation_path) if annotation_path else None,
            "annotation_format": annotations.format if annotations else None,
            "test_list": str(test_list) if test_list else None,
        },
        "soft_label_rule": rule.to_dict(),
        "strict": strict,
        "scan_audio": scan_audio,
        "splits": split_stats,
        "skipped": dict(problems.counts),
        "problems": problems.to_dict(),
        "notes": notes,
        "fingerprint": fingerprint,
    }
    atomic_write_json(summary_path, summary)
    mark_done(output_dir, DONE_NAME)
    return summary


def _write_splits(frames: Dict, output_dir: Path, audio_dir: Path, transcript_dir: Path, scan_audio: bool,
                  problems: ProblemLog, notes: Dict[str, int]) -> Dict[str, Dict]:
    """Add path, audio header and transcript columns, write each split's manifest; return per-split counts."""
    split_stats = {}
    headers = AudioHeaderCache(output_dir)
    for split in sorted(frames, key=_split_order):
        frame = frames[split].sort_values("FileName", kind="stable").reset_index(drop=True)
        frame["path"] = [f"{audio_dir}{os.sep}{name}" for name in frame["FileName"]]
        try:
            frame = _add_audio_info(frame, scan_audio, headers, problems, notes, split)
        finally:
            headers.flush()
        frame["text"] = _read_transcripts(frame["FileName"], transcript_dir, problems)
        split_dir = output_dir / split
        split_stats[split] = _split_stats(frame, scan_audio)
        frame[list(SOFT_COLUMNS)] = np.stack([_float_text(frame[column].to_numpy(dtype=float))
                                              for column in SOFT_COLUMNS], axis=1)
        write_manifest(frame[MANIFEST_COLUMNS], split_dir / "manifest.csv")
        mark_done(split_dir)
        logger.info("wrote %s (%d rows)", split_dir / "manifest.csv", len(frame))
    return split_stats


def _float_text(values: np.ndarray) -> np.ndarray:
    """Floats as the text pandas would write (``repr``), empty for NaN, formatted once per distinct value:
    soft labels take few distinct values, and float-to-text dominated writing the manifests."""
    import pandas as pd

    codes, uniques = pd.factorize(values, sort=False)
    text = np.array([repr(float(value)) for value in uniques] + [""], dtype=object)
    return text[codes]


def _find_layout(root: Path):
    """Paths of the label files, audio and transcript directories; ToolkitError naming what is missing."""
    layout_hint = ("expected the MSP-Podcast layout ROOT/Audios/*.wav, ROOT/Labels/labels_consensus.csv "
                   "(or .json), optional ROOT/Labels/labels_detailed.csv (or .json) and ROOT/Transcripts/*.txt")
    if not root.is_dir():
        raise ToolkitError(f"{root}: corpus directory not found; {layout_hint}")
    labels_dir, audio_dir = root / "Labels", root / "Audios"
    consensus_path = next((labels_dir / name for name in CONSENSUS_FILE_NAMES if (labels_dir / name).is_file()), None)
    if consensus_path is None:
        raise ToolkitError(f"{labels_dir}: no labels_consensus.csv or labels_consensus.json; {layout_hint}")
    if not audio_dir.is_dir():
        raise ToolkitError(f"{audio_dir}: audio directory not found; {layout_hint}")
    transcript_dir = root / "Transcripts"
    return consensus_path, find_annotation_file(labels_dir), audio_dir.resolve(), transcript_dir


def _fingerprint(paths: Sequence[Optional[Path]], options: Dict) -> Dict:
    """Options plus size and modification time of every input, so a changed input means a redo."""
    files = {}
    for path in paths:
        if path is not None and path.exists():
            status = path.stat()
            files[str(path)] = [status.st_size, status.st_mtime_ns]
    return {"options": options, "files": files}


def _list_wavs(audio_dir: Path) -> Set[str]:
    with os.scandir(audio_dir) as entries:
        return {entry.name for entry in entries if entry.name.endswith(".wav")}


def read_consensus(path: Path, problems: ProblemLog):
    """Valid rows of ``labels_consensus.csv``/``.json`` (strings, plus ``line`` and ``split``) and every FileName named.

    Each bad row is reported under the first reason that applies and skipped.
    """
    import pandas as pd

    if path.suffix.lower() == ".json":
        frame = _consensus_json(path)
    else:
        extra = [column for column in read_header(path) if column not in CONSENSUS_COLUMNS]
        if extra:
            logger.info("%s: column(s) %s are not part of the manifest and are not copied", path, ", ".join(extra))
        chunks = list(read_csv_chunks(path, CONSENSUS_COLUMNS, problems))
        frame = pd.concat(chunks, ignore_index=True) if chunks else pd.DataFrame(columns=CONSENSUS_COLUMNS + ["line"])
    all_names = _named_files(path, frame)

    def where(rows) -> List[str]:
        if path.suffix.lower() == ".json":
            return [f"{path}: key {name!r}" for name in rows["FileName"]]
        return [f"{path}:{line}" for line in rows["line"]]

    def reject(mask, reason: str, message) -> None:
        nonlocal frame
        mask = np.asarray(mask, dtype=bool)
        if mask.any():
            bad = frame[mask]
            problems.report(reason, int(mask.sum()),
                            (f"{place}: {message(row)}; row skipped" for place, (_, row) in zip(where(bad), bad.iterrows())))
            frame = frame[~mask]

    reject(frame["FileName"] == "", "missing_file_name", lambda row: "empty FileName")
    reject(~frame["FileName"].str.endswith(".wav"), "bad_file_name",
           lambda row: f"FileName {row['FileName']!r} does not end in .wav")
    duplicated = frame["FileName"].duplicated(keep="first")
    if duplicated.any():
        first_place = dict(zip(frame["FileName"][~duplicated], where(frame[~duplicated])))
        reject(duplicated, "duplicate_file_name",
               lambda row: f"duplicate FileName {row['FileName']!r}, first at {first_place[row['FileName']]}")
    reject(~frame["EmoClass"].isin(list(ALL_CONSENSUS_CODES)), "unknown_class",
           lambda row: f"EmoClass {row['EmoClass']!r} is not one of {', '.join(ALL_CONSENSUS_CODES)}")
    for attribute in ATTRIBUTES:
        values = pd.to_numeric(frame[attribute], errors="coerce")
        reject(values.isna() | ~np.isfinite(values), "unparsable_number",
               lambda row, attribute=attribute: f"{attribute} {row[attribute]!r} is not a number")
        values = pd.to_numeric(frame[attribute], errors="coerce")
        reject((values < ATTRIBUTE_MIN) | (values > ATTRIBUTE_MAX), "attribute_out_of_range",
               lambda row, attribute=attribute: f"{attribute} {row[attribute]} is outside [{ATTRIBUTE_MIN:g}, {ATTRIBUTE_MAX:g}]")
    split = frame["Split_Set"].str.lower().map(_SPLIT_BY_LOWER)
    reject(split.isna(), "unknown_split",
           lambda row: f"Split_Set {row['Split_Set']!r} is not one of {', '.join(SPLIT_NAMES)}")
    frame = frame.assign(split=frame["Split_Set"].str.lower().map(_SPLIT_BY_LOWER))
    return frame.reset_index(drop=True), all_names


def _named_files(path: Path, frame) -> Set[str]:
    """Every FileName the consensus file mentions, even on rows too broken to parse (with ``.wav`` added
    where it was missing), so that the wav of a bad label row is not taken for a test3 utterance."""
    import csv

    if path.suffix.lower() == ".json":
        names = set(frame["FileName"])
    else:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            names = {row[0].strip() for row in csv.reader(handle) if row}
    return names | {f"{name}.wav" for name in names if not name.endswith(".wav")}


def _consensus_json(path: Path):
    """``{"<file>.wav": {"EmoClass": ..., ...}}`` as a DataFrame of strings (``line`` 0)."""
    import pandas as pd

    document = load_json_without_gc(path)
    if not isinstance(document, dict):
        raise ToolkitError(f"{path}: expected a JSON object {{FileName: {{EmoClass: ..., ...}}}}, "
                           f"found {type(document).__name__}")
    rows = []
    for name, record in document.items():
        if not isinstance(record, dict):
            raise ToolkitError(f"{path}: key {name!r}: expected an object with {', '.join(CONSENSUS_COLUMNS[1:])}, "
                               f"found {type(record).__name__}")
        rows.append([name.strip()] + ["" if record.get(column) is None else str(record.get(column)).strip()
                                      for column in CONSENSUS_COLUMNS[1:]])
    return pd.DataFrame(rows, columns=CONSENSUS_COLUMNS, dtype=object).assign(line=0)


def _drop_missing_audio(frame, consensus_path: Path, audio_names: Set[str], problems: ProblemLog):
    missing = ~frame["FileName"].isin(audio_names)
    if missing.any():
        bad = frame[missing]
        problems.report("missing_audio", int(missing.sum()),
                        (f"{consensus_path}:{line}: {name} has a label row but no wav in Audios/; row skipped"
                         if line else f"{consensus_path}: key {name!r}: no wav in Audios/; row skipped"
                         for line, name in zip(bad["line"], bad["FileName"])))
    return frame[~missing].reset_index(drop=True)


def _soft_labels(consensus, source: Optional[AnnotationSource], labelled_names: Set[str], rule: SoftLabelRule,
                 problems: ProblemLog, notes: Dict[str, int]):
    """Soft labels (rows x 8, NaN when none) and annotator counts for the consensus rows."""
    from tqdm import tqdm

    soft = np.full((len(consensus), len(EMOTION_CODES)), np.nan)
    n_annotators = np.zeros(len(consensus), dtype=np.int64)
    found = np.zeros(len(consensus), dtype=bool)
    if source is not None:
        accumulator = SoftLabelAccumulator()
        with tqdm(desc=f"annotator rows ({source.path.name})", unit=" rows", unit_scale=True) as progress:
            for chunk in source.chunks(problems):
                chunk = _valid_annotation_rows(chunk, source, problems)
                votes, usable = annotator_votes(chunk["EmoClass_Major"], chunk["EmoClass_Second"], rule)
                unknown = ~usable
                if unknown.any():
                    bad = chunk[unknown]
                    problems.report(
                        "unknown_annotator_class", int(unknown.sum()),
                        (f"{source.location(name, worker, line)}: EmoClass_Major {major!r} is not one of Angry, Sad, "
                         f"Happy, Surprise, Fear, Disgust, Contempt, Neutral, Other-...; vote ignored"
                         for name, worker, line, major in zip(bad["FileName"], bad["WorkerID"], bad["line"],
                                                              bad["EmoClass_Major"])),
                        action="ignored",
                    )
                accumulator.add(chunk["FileName"], chunk["WorkerID"], votes, usable, chunk["line"])
                progress.update(len(chunk))
        file_index, sums, counts, duplicates = accumulator.result()
        if len(duplicates):
            problems.report("duplicate_annotator", len(duplicates),
                            (f"{source.location(name, '', line)}: annotator repeated for {name}; only the first "
                             f"vote counts" for name, line in accumulator.describe(duplicates[:problems.max_examples])), action="ignored")
        unmatched = [name for name in file_index if name not in labelled_names]
        if unmatched:
            problems.report("annotation_without_consensus_row", len(unmatched),
                            (f"{source.path}: annotator rows for {name}, which has no row in the consensus labels; "
                             f"ignored" for name in unmatched), action="ignored")
        positions = consensus["FileName"].map(file_index)
        rows = positions.fillna(-1).astype(np.int64).to_numpy()
        # a file whose annotator rows hold no usable vote is treated as having none
        found = np.append(counts, 0)[rows] > 0  # rows of -1 (no annotator rows) read the appended 0
        rows = rows[found]
        soft[found] = normalise(sums[rows])
        n_annotators[found] = counts[rows]
    fallback = ~found
    classes = consensus["EmoClass"].to_numpy()
    for index, code in enumerate(EMOTION_CODES):
        hit = fallback & (classes == code)
        soft[hit] = 0.0
        soft[hit, index] = 1.0
    one_hot = int((fallback & np.isin(classes, list(EMOTION_CODES))).sum())
    if one_hot:
        notes["soft_label_from_consensus_class"] = one_hot
        if source is not None:
            logger.warning("%d labelled file(s) have no usable annotator vote in %s; their soft label is the one-hot "
                           "consensus class", one_hot, source.path)
    without = int(np.isnan(soft).all(axis=1).sum())
    if without:
        notes["no_soft_label"] = without
        logger.info("%d labelled file(s) have votes with no mass on the 8 classes: kept without soft label "
                    "(attributes only)", without)
    return soft, n_annotators


def _valid_annotation_rows(chunk, source: AnnotationSource, problems: ProblemLog):
    """Drop annotator rows without FileName or WorkerID (reported)."""
    missing = (chunk["FileName"] == "") | (chunk["WorkerID"] == "")
    if missing.any():
        bad = chunk[missing]
        problems.report("missing_annotation_field", int(missing.sum()),
                        (f"{source.location(name, worker, line)}: empty FileName or WorkerID; row skipped"
                         for name, worker, line in zip(bad["FileName"], bad["WorkerID"], bad["line"])))
        chunk = chunk[~missing]
    return chunk


def _test3_names(test_list: Optional[Path], audio_names: Set[str], labelled_names: Set[str], consensus,
                 problems: ProblemLog) -> Set[str]:
    """Unlabelled wavs, or the names in ``test_list`` (whose wavs must exist), that join test3.

    Rows the labels already put in Test3 stay there in either case.
    """
    unlabelled = audio_names - labelled_names
    if test_list is None:
        return unlabelled
    names: Set[str] = set()
    missing, overlap = [], []
    try:
        lines = test_list.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise ToolkitError(f"--test-list {test_list}: cannot read ({error}); expected UTF-8 text") from None
    labelled_test3 = set(consensus["FileName"][consensus["split"] == TEST3_SPLIT])
    labelled_elsewhere = set(consensus["FileName"]) - labelled_test3
    for number, raw in enumerate(lines, start=1):
        name = raw.strip()
        if not name:
            continue
        if not name.endswith(".wav"):
            name += ".wav"
        if name not in audio_names:
            missing.append(f"{test_list}:{number}: {name} has no wav in Audios/; skipped")
            continue
        if name in labelled_test3:
            continue
        if name in labelled_elsewhere:
            overlap.append(f"{test_list}:{number}: {name} also has a label row in another split; it goes to test3 "
                           f"only, without labels")
        names.add(name)
    problems.report("missing_audio", len(missing), iter(missing))
    problems.report("test_list_overlaps_labels", len(overlap), iter(overlap), action="moved to test3")
    orphans = sorted(unlabelled - names)
    problems.report("audio_without_label", len(orphans),
                    (f"{name}: wav with no label row and not in --test-list {test_list}; in no manifest"
                     for name in orphans))
    return names


def _unlabelled_frame(names: List[str]):
    import pandas as pd

    frame = pd.DataFrame({column: [""] * len(names) for column in CONSENSUS_COLUMNS})
    frame["FileName"] = names
    frame["Split_Set"] = "Test3"
    frame[list(SOFT_COLUMNS)] = np.nan
    frame["n_annotators"] = 0
    return frame


def _add_audio_info(frame, scan_audio: bool, headers: AudioHeaderCache, problems: ProblemLog,
                    notes: Dict[str, int], split: str):
    """Duration, sample rate and channels from each wav header; unreadable wavs are skipped and reported."""
    import pandas as pd
    from tqdm import tqdm

    if not scan_audio:
        return frame.assign(duration="", sample_rate="", num_channels="")
    durations = np.full(len(frame), np.nan)
    rates = np.zeros(len(frame), dtype=np.int64)
    channels = np.zeros(len(frame), dtype=np.int64)
    readable = np.ones(len(frame), dtype=bool)
    unreadable = []
    for position, path in enumerate(tqdm(frame["path"], desc=f"wav headers ({split})", unit=" files")):
        try:
            info = headers.info(path)
        except ToolkitError as error:
            readable[position] = False
            unreadable.append(f"{error}; row skipped")
            continue
        durations[position], rates[position], channels[position] = info.duration, info.sample_rate, info.num_channels
    problems.report("unreadable_audio", len(unreadable), iter(unreadable))
    frame = frame.assign(duration=durations, sample_rate=pd.array(rates, dtype="Int64"),
                         num_channels=pd.array(channels, dtype="Int64"))[readable]
    off_rate = int((frame["sample_rate"] != TARGET_SAMPLE_RATE).sum())
    multi = int((frame["num_channels"] > 1).sum())
    for note, count, what in (("non_16k_audio", off_rate, f"not at {TARGET_SAMPLE_RATE} Hz"),
                              ("multi_channel_audio", multi, "with more than one channel")):
        if count:
            notes[note] = notes.get(note, 0) + count
            logger.warning("%s: %d wav(s) %s; recorded in the manifest, resampled/down-mixed when loaded",
                           split, count, what)
    return frame


def _read_transcripts(file_names, transcript_dir: Path, problems: ProblemLog) -> List[str]:
    """Each utterance's human transcript on one line, empty when the file is absent."""
    from tqdm import tqdm

    if not transcript_dir.is_dir():
        return [""] * len(file_names)
    with os.scandir(transcript_dir) as entries:
        available = {entry.name for entry in entries if entry.name.endswith(".txt")}
    texts, unreadable = [], []
    for name in tqdm(file_names, desc="transcripts", unit=" files", leave=False):
        text_name = name[:-len(".wav")] + ".txt"
        text = ""
        if text_name in available:
            try:
                text = " ".join((transcript_dir / text_name).read_text(encoding="utf-8-sig").split())
            except (OSError, UnicodeDecodeError) as error:
                unreadable.append(f"{transcript_dir / text_name}: not readable as UTF-8 text ({error}); text left empty")
        texts.append(text)
    problems.report("unreadable_transcript", len(unreadable), iter(unreadable), action="text left empty")
    return texts


def _split_stats(frame, scan_audio: bool) -> Dict:
    soft_present = frame[list(SOFT_COLUMNS)].notna().all(axis=1)
    classes = frame["EmoClass"][frame["EmoClass"] != ""].value_counts()
    stats = {
        "rows": int(len(frame)),
        "classes": {code: int(classes.get(code, 0)) for code in ALL_CONSENSUS_CODES if classes.get(code, 0)},
        "soft_labels": int(soft_present.sum()),
        "with_text": int((frame["text"] != "").sum()),
        "hours": round(float(np.nansum(frame["duration"].to_numpy(dtype=float))) / 3600, 4) if scan_audio else None,
    }
    return stats


def _split_order(split: str) -> int:
    order = ["train", "development", "test1", "test2", TEST3_SPLIT]
    return order.index(split) if split in order else len(order)


def _remove_stale_splits(output_dir: Path, written: Set[str]) -> None:
    """A split a previous run wrote but this run did not (e.g. Test1 left the labels) must not linger."""
    for split in set(SPLIT_NAMES.values()) - written:
        stale = output_dir / split / "manifest.csv"
        if stale.exists():
            logger.warning("removing %s: this run has no %s split", stale, split)
            stale.unlink()
            done_marker(output_dir / split).unlink(missing_ok=True)
