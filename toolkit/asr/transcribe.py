"""Recipe stage 1: transcribe a manifest's audio, shard by shard, resumably; merge the shards.

Reads a manifest (``FileName``, ``path``, optionally the human ``text``) and the audio files.
Writes, under OUTDIR:
  ``shards/options.json``        the settings and manifest fingerprint every shard was made with
  ``shards/<K>of<N>.jsonl``      one JSON line per finished utterance of shard K, flushed as it goes
  ``shards/.<K>of<N>.done``      shard K is complete
  ``manifest.csv``               (merge) the input manifest plus ``asr_text``
  ``wer.json``                   (merge) WER against the human ``text``, counts, real-time factor
  ``failures.tsv``               (merge) ``FileName<TAB>reason`` of every utterance that failed
  ``.done``                      (merge) everything above is complete
"""

import hashlib
import json
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence

from toolkit.asr.backends import AsrOptions, Recognizer, load_backend
from toolkit.asr.wer import word_error_rate
from toolkit.utils.atomic import PathLike, atomic_path, atomic_write_json, atomic_write_text, is_done, mark_done
from toolkit.utils.errors import ToolkitError
from toolkit.utils.sharding import shard

logger = logging.getLogger(__name__)

ASR_COLUMN = "asr_text"


@dataclass
class ShardReport:
    """What one shard did: counts for the log line and the merged summary."""

    job: int
    num_jobs: int
    utterances: int = 0
    resumed: int = 0
    failed: int = 0
    audio_seconds: float = 0.0
    asr_seconds: float = 0.0


def _shard_name(job: int, num_jobs: int) -> str:
    return f"{job}of{num_jobs}"


def _fingerprint(file_names: Sequence[str]) -> str:
    """Identifies the manifest's rows and their order, which decide every shard's contents."""
    digest = hashlib.sha256()
    for name in file_names:
        digest.update(name.encode("utf-8") + b"\n")
    return digest.hexdigest()


def _read_rows(manifest: Path):
    from toolkit.data.manifest import read_manifest

    frame = read_manifest(manifest)
    duplicated = frame["FileName"].duplicated(keep=False)
    if duplicated.any():
        # +2: one for the header, one because CSV lines are counted from 1.
        lines = [str(index + 2) for index in frame.index[duplicated][:10]]
        raise ToolkitError(
            f"{manifest}: FileName must be unique, repeated on line(s) {', '.join(lines)}; fix the manifest"
        )
    return frame


def _check_options(shards_dir: Path, record: Dict[str, object]) -> None:
    """Refuse to resume results made with other settings or another manifest; write them on first use."""
    path = shards_dir / "options.json"
    if path.exists():
        previous = json.loads(path.read_text(encoding="utf-8"))
        changed = sorted(key for key in set(previous) | set(record) if previous.get(key) != record.get(key))
        if changed:
            details = ", ".join(f"{key}: {previous.get(key)!r} -> {record.get(key)!r}" for key in changed)
            raise ToolkitError(
                f"{path}: earlier results were made with other settings or another manifest ({details}); "
                f"use a new output directory, or delete {shards_dir} to start over"
            )
        return
    atomic_write_json(path, record)


def _read_results(path: Path) -> Dict[str, dict]:
    """Finished utterances of a shard; a line cut short by a crash is dropped and the file repaired."""
    if not path.exists():
        return {}
    results: Dict[str, dict] = {}
    text = path.read_text(encoding="utf-8")
    lines = text.split("\n")
    complete = lines[:-1]  # a crash mid-write leaves a last line without its newline
    for number, line in enumerate(complete, start=1):
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            raise ToolkitError(f"{path}:{number}: not a JSON line; delete the file to redo this shard") from None
        results[record["FileName"]] = record
    if lines[-1]:
        logger.warning("%s: dropping a partly written last line (interrupted run); that utterance is redone", path)
        with atomic_path(path) as temporary:
            temporary.write_text("".join(line + "\n" for line in complete), encoding="utf-8")
    return results


def _one_line(reason: str) -> str:
    return " ".join(str(reason).split())


def _transcribe_one(row, manifest_dir: Path, recognizer: Recognizer) -> dict:
    """One utterance's record; bad audio and recogniser errors become a failure with its reason."""
    from toolkit.data.audio import TARGET_SAMPLE_RATE, load_audio

    audio_path = Path(row.path) if os.path.isabs(row.path) else manifest_dir / row.path
    record = {"FileName": row.FileName}
    try:
        waveform = load_audio(audio_path)
    except ToolkitError as error:
        return {**record, ASR_COLUMN: None, "reason": _one_line(error)}
    record["duration"] = round(len(waveform) / TARGET_SAMPLE_RATE, 4)
    started = time.perf_counter()
    try:
        text = recognizer(waveform)
    except Exception as error:  # one bad utterance must not stop a shard of thousands
        return {**record, ASR_COLUMN: None, "reason": _one_line(f"recogniser failed: {type(error).__name__}: {error}")}
    record["asr_seconds"] = round(time.perf_counter() - started, 4)
    record[ASR_COLUMN] = text
    return record


def transcribe_shard(
    rows,
    shards_dir: Path,
    job: int,
    num_jobs: int,
    manifest_dir: Path,
    get_recognizer: Callable[[], Recognizer],
    strict: bool = False,
) -> ShardReport:
    """Transcribe the rows of one shard not already in its results file; mark the shard done at the end."""
    from tqdm import tqdm

    name = _shard_name(job, num_jobs)
    results_path = shards_dir / f"{name}.jsonl"
    report = ShardReport(job=job, num_jobs=num_jobs, utterances=len(rows))
    finished = _read_results(results_path)
    if is_done(shards_dir, name):
        logger.info("shard %d/%d: already done (%d utterances), skipped", job, num_jobs, len(finished))
        report.resumed = len(finished)
        return report
    pending = [row for row in rows.itertuples(index=False) if row.FileName not in finished]
    report.resumed = len(rows) - len(pending)
    report.failed = sum(1 for name in rows["FileName"] if finished.get(name, {}).get(ASR_COLUMN, "") is None)
    if pending:
        recognizer = get_recognizer()
        with open(results_path, "a", encoding="utf-8") as out, tqdm(
            pending, desc=f"transcribe {job}/{num_jobs}", unit="utt", dynamic_ncols=True
        ) as bar:
            for row in bar:
                record = _transcribe_one(row, manifest_dir, recognizer)
                if record[ASR_COLUMN] is None:
                    if strict:
                        raise ToolkitError(f"{row.FileName}: {record['reason']} (--strict stops at the first failure)")
                    logger.warning("%s: failed, recorded in failures.tsv: %s", row.FileName, record["reason"])
                    report.failed += 1
                else:
                    report.audio_seconds += record["duration"]
                    report.asr_seconds += record["asr_seconds"]
                    if report.audio_seconds:
                        bar.set_postfix(rtf=f"{report.asr_seconds / report.audio_seconds:.3f}")
                # One flushed, fsynced line per utterance: a crash loses at most the utterance in flight.
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
                out.flush()
                os.fsync(out.fileno())
    mark_done(shards_dir, name)
    rtf = report.asr_seconds / report.audio_seconds if report.audio_seconds else float("nan")
    logger.info(
        "shard %d/%d: %d utterances (%d resumed from an earlier run), %d failed, %.1f s of audio in %.1f s (RTF %.3f)",
        job, num_jobs, report.utterances, report.resumed, report.failed, report.audio_seconds, report.asr_seconds, rtf,
    )
    return report


def transcribe_manifest(
    manifest: PathLike,
    outdir: PathLike,
    options: AsrOptions = AsrOptions(),
    *,
    device: str = "auto",
    num_jobs: int = 1,
    job: Optional[int] = None,
    strict: bool = False,
    merge: Optional[bool] = None,
    wer_normalizer: str = "basic",
) -> List[ShardReport]:
    """Transcribe shard ``job`` of ``num_jobs`` (every shard in turn when ``job`` is None).

    ``merge`` defaults to True when this call covers every shard (``num_jobs == 1`` or no
    ``job``); array jobs run with ``job=K`` and one later ``merge_transcripts`` call.
    """
    manifest, outdir = Path(manifest), Path(outdir)
    frame = _read_rows(manifest)
    shards_dir = outdir / "shards"
    shard(range(len(frame)), num_jobs, job or 1)  # validates --nj and --job before anything is written
    shards_dir.mkdir(parents=True, exist_ok=True)
    fingerprint = {"manifest_rows": len(frame), "manifest_fingerprint": _fingerprint(frame["FileName"])}
    _check_options(shards_dir, {**options.as_dict(), **fingerprint})
    jobs = [job] if job is not None else list(range(1, num_jobs + 1))
    if merge is None:
        merge = num_jobs == 1 or job is None

    recognizer: List[Recognizer] = []

    def get_recognizer() -> Recognizer:
        # Loaded only when some utterance is left to do, so a finished re-run costs no model load.
        if not recognizer:
            recognizer.append(load_backend(options, device))
        return recognizer[0]

    reports = []
    for current in jobs:
        rows = frame.iloc[shard(range(len(frame)), num_jobs, current)]
        reports.append(transcribe_shard(rows, shards_dir, current, num_jobs, manifest.parent, get_recognizer, strict))
    if merge:
        merge_transcripts(manifest, outdir, num_jobs=num_jobs, wer_normalizer=wer_normalizer)
    elif job is not None:
        logger.info("shard %d/%d finished; when all %d are, run the same command with --merge", job, num_jobs, num_jobs)
    return reports


def merge_transcripts(manifest: PathLike, outdir: PathLike, *, num_jobs: int = 1, wer_normalizer: str = "basic") -> Path:
    """Combine finished shards into ``manifest.csv`` (+ ``asr_text``), ``wer.json`` and ``failures.tsv``."""
    from toolkit.data.manifest import write_manifest

    manifest, outdir = Path(manifest), Path(outdir)
    frame = _read_rows(manifest)
    shards_dir = outdir / "shards"
    options_path = shards_dir / "options.json"
    if not options_path.exists():
        raise ToolkitError(f"{outdir}: no transcription results to merge; run toolkit transcribe {manifest} {outdir} first")
    options = json.loads(options_path.read_text(encoding="utf-8"))
    if options.get("manifest_fingerprint") != _fingerprint(frame["FileName"]):
        raise ToolkitError(f"{manifest}: not the manifest the shards in {shards_dir} were made from; give that one")
    unfinished = [k for k in range(1, num_jobs + 1) if not is_done(shards_dir, _shard_name(k, num_jobs))]
    if unfinished:
        raise ToolkitError(
            f"{shards_dir}: shard(s) {', '.join(map(str, unfinished))} of --nj {num_jobs} not finished; "
            f"run toolkit transcribe {manifest} {outdir} --nj {num_jobs} --job K for each, then --merge"
        )
    results: Dict[str, dict] = {}
    for k in range(1, num_jobs + 1):
        results.update(_read_results(shards_dir / f"{_shard_name(k, num_jobs)}.jsonl"))
    missing = [name for name in frame["FileName"] if name not in results]
    if missing:
        raise ToolkitError(
            f"{shards_dir}: no result for {len(missing)} utterance(s) (first: {missing[0]}); delete {shards_dir} and re-run"
        )

    records = [results[name] for name in frame["FileName"]]
    if ASR_COLUMN in frame.columns:
        logger.warning("%s: already has an %s column; it is replaced", manifest, ASR_COLUMN)
    frame[ASR_COLUMN] = [record[ASR_COLUMN] or "" for record in records]
    failures = [record for record in records if record[ASR_COLUMN] is None]
    empty = [record["FileName"] for record in records if record[ASR_COLUMN] == ""]
    if empty:
        logger.warning("%d utterance(s) got an empty transcript (no speech recognised), e.g. %s; text streams store "
                       "them as one zero frame, they are not failures", len(empty), empty[0])

    references = frame["text"] if "text" in frame.columns else [""] * len(frame)
    summary = word_error_rate(
        ((reference, record[ASR_COLUMN]) for reference, record in zip(references, records)), normalizer=wer_normalizer
    )
    audio_seconds = sum(record.get("duration", 0.0) for record in records if record[ASR_COLUMN] is not None)
    asr_seconds = sum(record.get("asr_seconds", 0.0) for record in records if record[ASR_COLUMN] is not None)
    summary.update(
        utterances=len(records),
        failed=len(failures),
        empty_transcripts=len(empty),
        audio_seconds=round(audio_seconds, 3),
        asr_seconds=round(asr_seconds, 3),
        real_time_factor=round(asr_seconds / audio_seconds, 4) if audio_seconds else None,
        options={key: value for key, value in options.items() if not key.startswith("manifest_")},
    )

    write_manifest(frame, outdir / "manifest.csv")
    atomic_write_text(
        outdir / "failures.tsv",
        "FileName\treason\n" + "".join(f"{record['FileName']}\t{record['reason']}\n" for record in failures),
    )
    atomic_write_json(outdir / "wer.json", summary)
    mark_done(outdir)
    wer = summary["wer"]
    logger.info(
        "merged %d utterance(s) into %s: %d failed (see failures.tsv), WER %s over %d utterance(s) with a human transcript",
        len(records), outdir / "manifest.csv", len(failures), "n/a" if wer is None else f"{wer:.2%}", summary["utterances_scored"],
    )
    return outdir / "manifest.csv"
