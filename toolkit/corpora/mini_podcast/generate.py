"""``make_mini_podcast``: plan, annotate, synthesise and write a mini corpus in the MSP-Podcast layout.

Writes under ``output_dir``: ``Audios/*.wav`` (16 kHz mono 16-bit), ``Labels/``, ``Transcripts/``,
``Key/`` (see writer.py), ``mini_podcast.json`` (the arguments and a summary) and the done
marker ``.mini_podcast.done`` last. Everything is decided by the seed before any audio is made,
and audio is made in fixed chunks, each in a fresh process with its own child seeds, so an
interrupted run resumes where it stopped (complete chunks are kept) and produces the same bytes
as an uninterrupted one.
"""

import json
import logging
import os
from collections import Counter
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Dict, List

import numpy as np

from toolkit.corpora.mini_podcast.annotators import annotate, annotate_test_utterance, consensus, make_worker_pool
from toolkit.corpora.mini_podcast.channels import CHANNEL_MODES, RecordingChannel, draw_channels
from toolkit.corpora.mini_podcast.script import Utterance, plan_utterances
from toolkit.corpora.mini_podcast.synthesis import write_chunk
from toolkit.corpora.mini_podcast.writer import (
    DETAILED_FORMATS,
    LabelledUtterance,
    detailed_labels_path,
    write_consensus,
    write_design,
    write_detailed,
    write_transcripts,
)
from toolkit.utils.atomic import PathLike, atomic_write_json, is_done, mark_done
from toolkit.utils.errors import ToolkitError

logger = logging.getLogger(__name__)

MIN_UTTS = 24
#: Bumped whenever the same arguments would produce different files.
GENERATOR_VERSION = 1
UNKNOWN_SPEAKER_FRACTION = 0.03
MISSING_TRANSCRIPT_FRACTION = 0.03
DONE_NAME = "mini_podcast"
ARGUMENTS_FILE = ".mini_podcast.args.json"
SUMMARY_FILE = "mini_podcast.json"
#: Utterances synthesised by one worker process; also the unit of resumption.
CHUNK_SIZE = 25
MAX_PROCESSES = 4


def _describe(arguments: Dict[str, Any]) -> str:
    return " ".join(f"{key}={arguments[key]}" for key in sorted(arguments))


def _check_output_dir(root: Path, arguments: Dict[str, Any]) -> None:
    """Refuse to mix two corpora, or to write into a directory that is not a mini corpus."""
    arguments_path = root / ARGUMENTS_FILE
    if arguments_path.is_file():
        previous = json.loads(arguments_path.read_text(encoding="utf-8"))
        if previous != arguments:
            raise ToolkitError(
                f"{root} holds a mini corpus made with {_describe(previous)}, not {_describe(arguments)}; "
                "choose another OUTDIR or delete this one first"
            )
    elif root.is_dir() and any(root.iterdir()):
        raise ToolkitError(
            f"{root} is not empty and is not a mini_podcast corpus ({ARGUMENTS_FILE} missing); "
            "choose an empty or new OUTDIR"
        )


def _label(utterances: List[Utterance], rng: np.random.Generator) -> List[LabelledUtterance]:
    workers = make_worker_pool(rng)
    labelled = []
    for utterance in utterances:
        if utterance.split == "Test3":
            votes, result = annotate_test_utterance(utterance, workers, rng)
        else:
            votes = annotate(utterance, workers, rng)
            result = consensus(votes)
        # MSP-Podcast leaves some speakers unidentified; only Train rows here, so splits stay disjoint.
        unknown = utterance.split == "Train" and rng.random() < UNKNOWN_SPEAKER_FRACTION
        speaker_label = "Unknown" if unknown else str(utterance.speaker.speaker_id)
        labelled.append(LabelledUtterance(utterance, votes, result, speaker_label))
    return labelled


def _pool_context():
    """A start method whose workers never inherit a used espeak-ng engine (forkserver where it exists)."""
    import multiprocessing

    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        # Imported once in the server, so each forked worker starts in milliseconds.
        context.set_forkserver_preload(["toolkit.corpora.mini_podcast.synthesis", "scipy.signal", "soundfile"])
        return context
    return multiprocessing.get_context("spawn")


def _synthesise(root: Path, utterances: List[Utterance], seed_sequence: np.random.SeedSequence,
                channels: Dict[int, RecordingChannel]) -> float:
    """Write the wavs of every chunk that is not complete; return the total duration in seconds."""
    import soundfile
    from tqdm import tqdm

    audio_dir = root / "Audios"
    audio_dir.mkdir(parents=True, exist_ok=True)
    jobs = [(utterance, seed, channels.get(utterance.speaker.speaker_id))
            for utterance, seed in zip(utterances, seed_sequence.spawn(len(utterances)))]
    chunks = [jobs[start:start + CHUNK_SIZE] for start in range(0, len(jobs), CHUNK_SIZE)]
    total_seconds = 0.0
    pending = []
    for chunk in chunks:
        paths = [audio_dir / utterance.file_name for utterance, _, _ in chunk]
        if all(path.is_file() for path in paths):
            total_seconds += sum(soundfile.info(str(path)).duration for path in paths)
        else:
            pending.append(chunk)
    if not pending:
        return total_seconds
    logger.info("synthesising %d chunks of up to %d utterances (%d already done)",
                len(pending), CHUNK_SIZE, len(chunks) - len(pending))
    processes = max(1, min(MAX_PROCESSES, os.cpu_count() or 1, len(pending)))
    # One chunk per worker process: espeak-ng state must not leak from one chunk into the next.
    with _pool_context().Pool(processes, maxtasksperchild=1) as pool, \
            tqdm(total=sum(len(chunk) for chunk in pending), desc="synthesising", unit="utt") as progress:
        for durations in pool.imap_unordered(partial(write_chunk, audio_dir), pending):
            total_seconds += sum(durations)
            progress.update(len(durations))
    return total_seconds


def _summary(arguments, root, labelled, missing_transcripts, audio_seconds, channels) -> Dict[str, Any]:
    splits: Dict[str, Any] = {}
    for split in ("Train", "Development", "Test3"):
        items = [item for item in labelled if item.utterance.split == split]
        splits[split] = {
            "utterances": len(items),
            "speakers": len({item.utterance.speaker.speaker_id for item in items}),
            "consensus": dict(sorted(Counter(item.consensus.code for item in items).items())),
        }
    return {
        "arguments": arguments,
        "output_dir": str(root),
        "splits": splits,
        "carriers": dict(sorted(Counter(item.utterance.carrier for item in labelled).items())),
        "annotations": sum(len(item.votes) for item in labelled if item.utterance.split != "Test3"),
        "missing_transcripts": missing_transcripts,
        "audio_seconds": round(audio_seconds, 1),
        "recording_channels": {str(speaker): channel.to_dict() for speaker, channel in sorted(channels.items())},
    }


@dataclass(frozen=True)
class CorpusPlan:
    """Everything about the corpus except its audio, decided by the seed alone."""

    utterances: List[Utterance]
    labelled: List[LabelledUtterance]
    missing_transcripts: List[str]
    audio_seed: np.random.SeedSequence
    channels: Dict[int, RecordingChannel]


def plan_corpus(seed: int, num_utts: int, channels: str = "clean") -> CorpusPlan:
    """Plan and annotate the corpus (fast, no audio): what make_mini_podcast will write."""
    # A fourth child seed for the channels leaves the first three, and so a clean corpus, unchanged.
    plan_seed, label_seed, audio_seed, channel_seed = np.random.SeedSequence(seed).spawn(4)
    plan_rng = np.random.default_rng(plan_seed)
    utterances = plan_utterances(num_utts, plan_rng)
    labelled = _label(utterances, np.random.default_rng(label_seed))
    missing_count = max(1, round(MISSING_TRANSCRIPT_FRACTION * len(utterances)))
    chosen = plan_rng.choice(len(utterances), missing_count, replace=False)
    missing = sorted(utterances[index].file_name for index in chosen)
    speaker_ids = sorted({utterance.speaker.speaker_id for utterance in utterances})
    recording = draw_channels(speaker_ids, np.random.default_rng(channel_seed)) if channels == "per-speaker" else {}
    return CorpusPlan(utterances, labelled, missing, audio_seed, recording)


def make_mini_podcast(
    output_dir: PathLike, *, seed: int = 0, num_utts: int = 600, detailed_format: str = "csv", channels: str = "clean"
) -> Dict[str, Any]:
    """Generate the mini corpus under ``output_dir`` and return its summary (also in mini_podcast.json).

    ``channels="per-speaker"`` records every speaker through a channel of their own (channels.py).
    Re-running with the same arguments on a finished directory does nothing and returns the
    stored summary; an interrupted run resumes.
    """
    if detailed_format not in DETAILED_FORMATS:
        raise ToolkitError(f"detailed_format={detailed_format!r} is not one of {', '.join(DETAILED_FORMATS)}")
    if channels not in CHANNEL_MODES:
        raise ToolkitError(f"channels={channels!r} is not one of {', '.join(CHANNEL_MODES)}")
    if num_utts < MIN_UTTS:
        raise ToolkitError(f"num_utts={num_utts} is too small: use at least {MIN_UTTS} (8 test3 files, one per class)")
    root = Path(output_dir).resolve()
    arguments = {"seed": seed, "num_utts": num_utts, "detailed_format": detailed_format, "version": GENERATOR_VERSION}
    if channels != "clean":
        # Only then: the arguments of existing clean corpora stay valid.
        arguments["channels"] = channels
    _check_output_dir(root, arguments)
    if is_done(root, DONE_NAME):
        logger.info("%s: mini corpus already complete, nothing to do", root)
        return json.loads((root / SUMMARY_FILE).read_text(encoding="utf-8"))
    atomic_write_json(root / ARGUMENTS_FILE, arguments)

    plan = plan_corpus(seed, num_utts, channels)
    utterances, labelled, missing = plan.utterances, plan.labelled, plan.missing_transcripts
    audio_seconds = _synthesise(root, utterances, plan.audio_seed, plan.channels)
    write_transcripts(root / "Transcripts", utterances, missing)
    labelled_sets = [item for item in labelled if item.utterance.split != "Test3"]
    write_consensus(root / "Labels" / "labels_consensus.csv", labelled_sets)
    write_detailed(detailed_labels_path(root, detailed_format), labelled_sets, detailed_format)
    write_consensus(root / "Key" / "test3_labels.csv", [item for item in labelled if item.utterance.split == "Test3"])
    write_design(root / "Key" / "utterance_design.csv", utterances)
    summary = _summary(arguments, root, labelled, missing, audio_seconds, plan.channels)
    atomic_write_json(root / SUMMARY_FILE, summary)
    mark_done(root, DONE_NAME)
    logger.info(
        "%s: %d utterances (%s), %.0f s of audio, %d transcripts left out on purpose",
        root, len(utterances), ", ".join(f"{split} {info['utterances']}" for split, info in summary["splits"].items()),
        audio_seconds, len(missing),
    )
    return summary
