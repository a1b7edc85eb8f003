"""Recipe stage 2: run a frozen encoder over a manifest and write a sharded feature store.

Reads a manifest (``path`` and ``duration`` columns for acoustic encoders; a transcript column,
``asr_text`` by default, for text encoders) and an encoder config. Writes the store directory
described in ``toolkit.features.store`` plus, per shard, ``shards/<K>of<N>.failures.tsv`` and,
once merged, ``failures.tsv`` (``FileName<TAB>reason``) listing utterances that could not be
encoded (unreadable or empty audio, encoder errors). Text stores also get
``shards/<K>of<N>.empty.tsv`` and, merged, ``empty_transcripts.tsv`` (same columns): utterances
whose transcript has no words (Whisper heard nothing, or its transcription failed). They are not
failures: they are stored as ``empty_text_features`` (one zero frame), so no utterance loses its
text stream and training and ``toolkit predict`` see the same input for them.

Job K of N encodes only its shard of the manifest. Batches are fixed by the whole shard's
lengths, so a run resumed after a crash recomputes exactly the batches an uninterrupted run
would and writes identical features; batches whose utterances are all stored are skipped.
Audio of the next batch is decoded in a background thread while the encoder runs.
"""

import logging
import math
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
from tqdm import tqdm

from toolkit.data.audio import audio_info, load_audio
from toolkit.data.manifest import read_manifest
from toolkit.features.batching import length_batches, padding_waste
from toolkit.features.encoders import Encoder, EncoderSpec, load_encoder
from toolkit.features.store import FeatureShardWriter, FeatureStore, merge_store, shard_name, unfinished_shards
from toolkit.utils.atomic import PathLike, atomic_write_text, is_done
from toolkit.utils.device import resolve_device
from toolkit.utils.errors import ToolkitError
from toolkit.utils.sharding import shard

logger = logging.getLogger(__name__)

FAILURES_FILE = "failures.tsv"
FAILURES_HEADER = "FileName\treason\n"
EMPTY_FILE = "empty_transcripts.tsv"
# Log this many over-long transcripts by name; the rest are counted.
TRUNCATION_EXAMPLES = 5


@dataclass
class Item:
    file_name: str
    source: str  # audio path, or the transcript
    length: float  # seconds of audio, or tokens


@dataclass
class ShardReport:
    job: int
    encoded: int = 0
    already_done: int = 0
    failed: int = 0
    empty: int = 0  # transcripts without words, stored as one zero frame (text encoders)
    seconds: float = 0.0  # audio seconds (tokens for text) encoded in this run
    elapsed: float = 0.0
    padding_waste: float = 0.0


@dataclass
class ExtractReport:
    store_dir: Path
    shards: List[ShardReport]
    merged: bool
    failures: int = 0
    empty: int = 0  # of the merged store: utterances listed in empty_transcripts.tsv


def _failure_path(store_dir: Path, num_jobs: int, job: int) -> Path:
    return store_dir / "shards" / f"{shard_name(num_jobs, job)}.failures.tsv"


def _empty_path(store_dir: Path, num_jobs: int, job: int) -> Path:
    return store_dir / "shards" / f"{shard_name(num_jobs, job)}.empty.tsv"


def _listing(entries: Dict[str, str]) -> str:
    return FAILURES_HEADER + "".join(f"{name}\t{reason}\n" for name, reason in entries.items())


def _clean(reason) -> str:
    return " ".join(str(reason).split())


def _audio_items(rows, failures: Dict[str, str]) -> List[Item]:
    items = []
    for row in rows:
        try:
            duration = float(row.get("duration", ""))
        except ValueError:
            duration = float("nan")
        if not math.isfinite(duration) or duration <= 0:
            # A manifest without durations still works: read the header instead.
            try:
                duration = audio_info(row["path"]).duration
            except ToolkitError as error:
                failures[row["FileName"]] = _clean(error)
                continue
        if duration <= 0:
            failures[row["FileName"]] = f"{row['path']}: audio file holds no samples"
            continue
        items.append(Item(row["FileName"], row["path"], duration))
    return items


def _text_items(rows, encoder, column: str, empty: Dict[str, str]) -> List[Item]:
    """Every row becomes an item; those without words are also listed in ``empty`` with the reason.

    Items without words still go through the encoder, which gives them ``empty_text_features``
    exactly as it does for ``toolkit predict``.
    """
    texts = [(row["FileName"], row[column].strip()) for row in rows]
    items, truncated = [], []
    chunk = 1024  # tokenise in chunks to keep memory flat on large splits
    for start in range(0, len(texts), chunk):
        part = texts[start : start + chunk]
        for (file_name, text), count in zip(part, encoder.token_counts([text for _, text in part])):
            if count > encoder.max_tokens:
                truncated.append(file_name)
            if count <= encoder.empty_tokens:
                empty[file_name] = (f"no words in column {column}: stored as one zero frame" if text
                                    else f"empty transcript in column {column}: stored as one zero frame")
            items.append(Item(file_name, text, float(min(count, encoder.max_tokens))))
    if truncated:
        logger.warning(
            "%d transcript(s) exceed %d tokens and are truncated (e.g. %s); set max_tokens: to change the limit",
            len(truncated), encoder.max_tokens, ", ".join(truncated[:TRUNCATION_EXAMPLES]),
        )
    return items


def _load_inputs(encoder: Encoder, batch: Sequence[Item]) -> Tuple[List[Item], List, object, Dict[str, str]]:
    """Decode a batch's audio and prepare the encoder's input; unreadable items become failures.

    Runs in the loader thread. When preparing the batch fails, ``prepared`` is None and the main
    thread encodes the batch again item by item to name the culprit.
    """
    if encoder.modality == "text":
        kept, inputs, failures = list(batch), [item.source for item in batch], {}
    else:
        kept, inputs, failures = [], [], {}
        for item in batch:
            try:
                inputs.append(load_audio(item.source))
                kept.append(item)
            except ToolkitError as error:
                failures[item.file_name] = _clean(error)
    try:
        prepared = encoder.prepare(inputs) if inputs else None
    except Exception:  # retried item by item in _encode, which records the reason
        prepared = None
    return kept, inputs, prepared, failures


def _encode(encoder: Encoder, items: List[Item], inputs: List, prepared=None) -> Tuple[List, Dict[str, str]]:
    """Encode a batch; if it fails, encode its members one by one to isolate the culprit."""
    try:
        outputs = encoder.forward(prepared) if prepared is not None else encoder.encode(inputs)
    except Exception as error:  # any encoder error fails its utterance (fatal with --strict, in the caller)
        if len(items) == 1:
            return [None], {items[0].file_name: f"encoder failed: {_clean(error)}"}
        outputs, failures = [], {}
        for item, single in zip(items, inputs):
            output, failure = _encode(encoder, [item], [single])
            outputs.extend(output)
            failures.update(failure)
        return outputs, failures
    failures = {}
    for index, (item, output) in enumerate(zip(items, outputs)):
        reason = None
        if output.shape[0] == 0:
            reason = "encoder returned no frames (input too short)"
        elif not np.isfinite(output.astype(np.float16)).all():
            reason = "features are not finite in float16 (NaN, or values beyond +-65504)"
        if reason:
            failures[item.file_name] = reason
            outputs[index] = None
    return outputs, failures


def extract_shard(encoder: Encoder, items: List[Item], store_dir: Path, num_jobs: int, job: int,
                  pre_failures: Dict[str, str], strict: bool = False,
                  empty: Optional[Dict[str, str]] = None) -> ShardReport:
    """Encode one shard's items into ``shards/<job>of<num_jobs>``; resumable; marks the shard done.

    ``empty`` (text encoders): the items without words, written to the shard's ``.empty.tsv``.
    """
    report = ShardReport(job=job, empty=len(empty or {}))
    failures = dict(pre_failures)
    if strict and failures:
        name, reason = next(iter(failures.items()))
        raise ToolkitError(f"{name}: {reason} (--strict; without it the utterance is recorded in {FAILURES_FILE})")
    writer = FeatureShardWriter(store_dir, num_jobs, job, dim=encoder.dim, meta=encoder.meta())
    lengths = [item.length for item in items]
    batches = length_batches(lengths, encoder.batch_budget, encoder.max_batch, encoder.batch_cost)
    report.padding_waste = padding_waste(lengths, batches, encoder.batch_cost)
    pending = [[items[i] for i in batch] for batch in batches if any(items[i].file_name not in writer for i in batch)]
    report.already_done = sum(item.file_name in writer for item in items)
    complete = False
    start = time.perf_counter()
    progress = tqdm(total=len(items), initial=report.already_done, unit="utt", dynamic_ncols=True,
                    desc=f"{encoder.spec.name} {shard_name(num_jobs, job)}")
    try:
        with ThreadPoolExecutor(max_workers=1) as loader:
            upcoming = loader.submit(_load_inputs, encoder, pending[0]) if pending else None
            for index in range(len(pending)):
                kept, inputs, prepared, load_failures = upcoming.result()
                if index + 1 < len(pending):
                    upcoming = loader.submit(_load_inputs, encoder, pending[index + 1])
                if strict and load_failures:
                    name, reason = next(iter(load_failures.items()))
                    raise ToolkitError(f"{name}: {reason} (--strict)")
                outputs, encode_failures = _encode(encoder, kept, inputs, prepared) if kept else ([], {})
                if strict and encode_failures:
                    name, reason = next(iter(encode_failures.items()))
                    raise ToolkitError(f"{name}: {reason} (--strict)")
                fresh = sum(item.file_name not in writer for item in pending[index])
                done = [(item.file_name, output) for item, output in zip(kept, outputs)
                        if output is not None and item.file_name not in writer]
                writer.add_many(done)
                failures.update(load_failures)
                failures.update(encode_failures)
                report.encoded += len(done)
                report.seconds += sum(item.length for item, output in zip(kept, outputs) if output is not None)
                progress.update(fresh)
                _show_speed(progress, encoder, report, time.perf_counter() - start)
        complete = True
    finally:
        progress.close()
        report.elapsed = time.perf_counter() - start
        if complete:
            # The failure and empty-transcript reports go in before the done marker, which is written last.
            atomic_write_text(_failure_path(store_dir, num_jobs, job), _listing(failures))
            if empty is not None:
                atomic_write_text(_empty_path(store_dir, num_jobs, job), _listing(empty))
        writer.close(complete=complete)
    report.failed = len(failures)
    return report


def _show_speed(progress, encoder: Encoder, report: ShardReport, elapsed: float) -> None:
    if encoder.modality == "audio" and report.seconds > 0:
        progress.set_postfix(rtf=f"{elapsed / report.seconds:.3f}", refresh=False)


def _speed(encoder: Encoder, report: ShardReport) -> str:
    if not report.seconds:
        return ""
    if encoder.modality == "text":
        return f" ({report.encoded / report.elapsed:.1f} utt/s, {report.seconds / report.elapsed:.0f} tokens/s)"
    return f" ({report.seconds:.1f} s of audio, real-time factor {report.elapsed / report.seconds:.3f})"


def _read_items(encoder: Encoder, rows, failures: Dict[str, str], empty: Dict[str, str]) -> List[Item]:
    if encoder.modality == "text":
        return _text_items(rows, encoder, encoder.spec.text_column, empty)
    return _audio_items(rows, failures)


def _manifest_rows(manifest: PathLike, spec: EncoderSpec) -> List[Dict[str, str]]:
    frame = read_manifest(manifest)
    if spec.kind == "hf_text" and spec.text_column not in frame.columns:
        raise ToolkitError(
            f"{manifest}: no column {spec.text_column!r} for the text encoder; pass the transcription stage's "
            "manifest (data/<split>/asr/manifest.csv) or choose another column (text_column: text for the "
            "human transcripts, or --text-column)"
        )
    duplicated = frame["FileName"][frame["FileName"].duplicated()]
    if len(duplicated):
        raise ToolkitError(
            f"{manifest}: FileName {duplicated.iloc[0]} appears more than once ({len(duplicated)} duplicate rows); "
            "each utterance must have one row"
        )
    # Only the columns this stage reads, to keep a 100k-row manifest small in memory.
    wanted = ["FileName", spec.text_column] if spec.kind == "hf_text" else ["FileName", "path", "duration"]
    return frame[[column for column in wanted if column in frame.columns]].to_dict("records")


def _check_finished_store(store_dir: Path, spec: EncoderSpec) -> None:
    """A finished store is only skipped when it was written by the encoder now asked for."""
    meta = FeatureStore(store_dir).meta
    asked = {"encoder": spec.name, "model": spec.model}
    if spec.kind in ("hf_audio", "hf_text"):
        asked["layers"] = str(spec.layer_spec)
    found = {key: meta.get(key) for key in asked}
    if found != asked:
        raise ToolkitError(
            f"{store_dir}: this finished store was written with {found}, not {asked}; "
            "delete the directory or write to a new one"
        )


def _merge_listings(store_dir: Path, num_jobs: int, shard_path, merged_name: str) -> int:
    """Concatenate the shards' ``FileName<TAB>reason`` files into ``merged_name``; return its rows."""
    lines = []
    for job in range(1, num_jobs + 1):
        path = shard_path(store_dir, num_jobs, job)
        if path.exists():
            lines.extend(path.read_text(encoding="utf-8").splitlines(keepends=True)[1:])
    atomic_write_text(store_dir / merged_name, FAILURES_HEADER + "".join(lines))
    return len(lines)


def merge_failures(store_dir: PathLike, num_jobs: int) -> int:
    """Combine the shards' failure reports into ``failures.tsv``; return how many utterances failed."""
    return _merge_listings(Path(store_dir), num_jobs, _failure_path, FAILURES_FILE)


def merge_empty_transcripts(store_dir: PathLike, num_jobs: int) -> int:
    """Combine the shards' empty-transcript lists into ``empty_transcripts.tsv``; return how many there are."""
    return _merge_listings(Path(store_dir), num_jobs, _empty_path, EMPTY_FILE)


def extract_features(
    manifest: PathLike,
    store_dir: PathLike,
    encoder: Union[PathLike, EncoderSpec],
    device: str = "auto",
    num_jobs: int = 1,
    job: Optional[int] = None,
    merge: bool = False,
    batch_seconds: Optional[float] = None,
    strict: bool = False,
    text_column: Optional[str] = None,
    model: Optional[str] = None,
) -> ExtractReport:
    """Extract features of ``manifest`` with ``encoder`` (a config path or spec) into ``store_dir``.

    ``job`` (1-based) runs one shard of ``num_jobs``; ``job=None`` runs every unfinished shard in
    turn. The store is merged (``index.tsv``, ``failures.tsv``, ``.done``) when ``merge`` is set,
    when ``job`` is None, or when there is a single job. A finished store is left alone.
    """
    store_dir = Path(store_dir)
    spec = encoder if isinstance(encoder, EncoderSpec) else EncoderSpec.from_yaml(encoder)
    if batch_seconds is not None:
        spec.batch_seconds = spec.batch_tokens = batch_seconds
    if text_column is not None:
        spec.text_column = text_column
    if model is not None:
        spec.model = model
    if is_done(store_dir):
        _check_finished_store(store_dir, spec)
        logger.info("%s: feature store already complete; delete it to extract again", store_dir)
        return ExtractReport(store_dir, [], merged=True)
    jobs = [job] if job is not None else unfinished_shards(store_dir, num_jobs)
    rows = _manifest_rows(manifest, spec)
    shard(rows, num_jobs, jobs[0] if jobs else 1)  # validates --nj/--job before any model is loaded
    reports = []
    loaded: Optional[Encoder] = None
    for current in jobs:
        if is_done(store_dir / "shards", shard_name(num_jobs, current)):
            logger.info("%s: shard %s already done", store_dir, shard_name(num_jobs, current))
            continue
        if loaded is None:
            loaded = load_encoder(spec, resolve_device(device))
        failures: Dict[str, str] = {}
        empty: Dict[str, str] = {}
        items = _read_items(loaded, shard(rows, num_jobs, current), failures, empty)
        report = extract_shard(loaded, items, store_dir, num_jobs, current, failures, strict=strict,
                               empty=empty if loaded.modality == "text" else None)
        reports.append(report)
        logger.info(
            "%s shard %s: %d encoded, %d already done, %d failed in %.1f s%s, padding %.1f%%%s",
            spec.name, shard_name(num_jobs, current), report.encoded, report.already_done, report.failed,
            report.elapsed, _speed(loaded, report), 100 * report.padding_waste,
            f"; {report.empty} transcript(s) without words stored as one zero frame" if report.empty else "",
        )
    merged = merge or job is None or num_jobs == 1
    failed = empty_count = 0
    if merged:
        if not unfinished_shards(store_dir, num_jobs):
            failed = merge_failures(store_dir, num_jobs)
            if spec.kind == "hf_text":
                empty_count = merge_empty_transcripts(store_dir, num_jobs)
        merge_store(store_dir, num_jobs)  # names the unfinished shards, if any
        if failed:
            logger.warning("%s: %d utterance(s) failed and have no features; see %s", store_dir, failed,
                           store_dir / FAILURES_FILE)
        if empty_count:
            logger.warning("%s: %d utterance(s) have a transcript without words and are stored as one zero frame "
                           "(they keep this stream); see %s", store_dir, empty_count, store_dir / EMPTY_FILE)
    return ExtractReport(store_dir, reports, merged=merged, failures=failed, empty=empty_count)
