"""Corpora whose labels come from file names (CREMA-D, RAVDESS, Emo-DB): reading the wavs, writing the folds.

Reads a folder of wavs (recursively) and a corpus's file-name parser's verdict on each; writes
nothing itself (``write_corpus_folds`` hands the rows to ``toolkit.corpora.folds.write_folds``).
A parser returns a ``ParsedName`` or raises ``SkippedFile`` with a reason code; bad audio, bad
names and repeated FileNames are counted in the ``ProblemLog``, never dropped silently.
"""

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from tqdm import tqdm

from toolkit.corpora.folds import FoldProtocol, FoldSpec, write_folds
from toolkit.corpora.rows import add_soft_labels, audio_problem, utterance_row
from toolkit.data.problems import ProblemLog
from toolkit.emotions import Inventory
from toolkit.utils.atomic import PathLike
from toolkit.utils.errors import ToolkitError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ParsedName:
    """What a corpus's file name says about one recording: its class code, speaker, gender, sentence."""

    code: str
    speaker: str
    gender: str = ""
    text: str = ""


class SkippedFile(Exception):
    """Raised by a file-name parser for a file that is not used; ``reason`` is its ProblemLog code."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason
        self.message = message


def read_named_wavs(audio_dir: Path, parse: Callable[[Path], ParsedName], problems: ProblemLog,
                    corpus: str) -> Tuple[List[Dict[str, str]], int]:
    """Manifest rows (no soft labels yet) of the usable wavs under ``audio_dir`` and the number of
    non-wav files seen there (not read, only counted).

    Files are visited in sorted path order, so a FileName met twice keeps its first path. Bad
    audio (``toolkit.corpora.rows.audio_problem``), names ``parse`` rejects and repeated FileNames
    are reported to ``problems``. Raises ``ToolkitError`` when no wav is usable.
    """
    files = sorted(path for path in audio_dir.rglob("*") if path.is_file())
    wavs = [path for path in files if path.suffix.lower() == ".wav"]
    if not wavs:
        raise ToolkitError(f"{audio_dir}: no .wav files found; give the folder of the {corpus} release")
    rows: List[Dict[str, str]] = []
    first_path: Dict[str, Path] = {}
    for wav in tqdm(wavs, desc=f"reading {corpus} wavs", unit="wav", leave=False):
        # Audio first: an AppleDouble or LFS pointer file carries a valid-looking name.
        problem = audio_problem(wav)
        if problem:
            problems.report(problem[0], 1, [problem[1]])
            continue
        try:
            parsed = parse(wav)
        except SkippedFile as skipped:
            problems.report(skipped.reason, 1, [skipped.message])
            continue
        if wav.name in first_path:
            problems.report("duplicate_file_name", 1, [
                f"{wav}: FileName {wav.name} already read from {first_path[wav.name]}; remove one of the copies; "
                "skipped"])
            continue
        try:
            row = utterance_row(wav.name, wav, parsed.code, parsed.speaker, parsed.gender, text=parsed.text)
        except ToolkitError as error:
            problems.report("unreadable_audio", 1, [f"{error}; skipped"])
            continue
        first_path[wav.name] = wav
        rows.append(row)
    if not rows:
        raise ToolkitError(f"{audio_dir}: none of the {len(wavs)} wav(s) is a usable {corpus} recording (skipped: "
                           f"{_problem_counts(problems)}); see the warnings above")
    logger.info("%s: %d usable recording(s), %d non-wav file(s) ignored", corpus, len(rows), len(files) - len(wavs))
    return rows, len(files) - len(wavs)


def speaker_fold(number: int, rows: List[Dict[str, str]], speakers: Sequence[str], description: str) -> FoldSpec:
    """A fold testing every row of ``speakers``; ``ToolkitError`` when none of them has a row,
    a warning for each one that has none."""
    wanted = set(speakers)
    tested = [row for row in rows if row["SpkrID"] in wanted]
    test = {row["FileName"] for row in tested}
    if not test:
        raise ToolkitError(f"fold {number} tests speaker(s) {', '.join(speakers)}, none of whom has a usable "
                           "recording; the copy of the corpus is incomplete or its files were skipped (see the "
                           "warnings above)")
    for speaker in sorted(wanted - {row["SpkrID"] for row in tested}):
        logger.warning("fold %d: test speaker %s has no usable recording; the fold tests the others", number, speaker)
    return FoldSpec(number, test, description=description)


def write_corpus_folds(corpus: str, root: Path, rows: List[Dict[str, str]], inventory: Inventory,
                       protocol: FoldProtocol, output_dir: PathLike, problems: ProblemLog,
                       extra: Optional[Dict[str, object]] = None) -> Dict[str, object]:
    """One-hot soft labels on ``rows``, then ``write_folds`` with the corpus, root and skipped files in the summary."""
    import pandas as pd

    if problems.total():
        logger.warning("%s: %d file(s) skipped or flagged: %s", corpus, problems.total(), _problem_counts(problems))
    frame = pd.DataFrame(add_soft_labels(rows, inventory))
    summary = {"corpus": corpus, "root": str(root), **(extra or {}), "skipped": problems.to_dict(),
               "skipped_total": problems.total()}
    return write_folds(frame, protocol, inventory, output_dir, summary)


def _problem_counts(problems: ProblemLog) -> str:
    return ", ".join(f"{reason} {count}" for reason, count in sorted(problems.counts.items()))
