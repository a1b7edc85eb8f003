"""Fold protocols: one table of a corpus's utterances in, per-fold manifests out.

Corpora without an official split are evaluated by cross-validation (IEMOCAP leave-one-session-
out, Emo-DB leave-one-speaker-out, EmoBox's folds). An adapter builds one manifest-shaped table
of every usable utterance and a list of ``FoldSpec`` (which utterances each fold tests on, and
optionally which it develops on); ``write_folds`` writes::

    OUTDIR/all/manifest.csv                          every utterance once: stages 1-2 run on it
    OUTDIR/fold<k>/{train,development,test}/manifest.csv
    OUTDIR/prepare_summary.json                      classes, protocol, per-fold counts, skipped rows

and a done marker ``OUTDIR/.prepare.done`` last. Rows of a fold that are neither test nor
development are its training rows.

A fold without a Development set gets one carved from its training speakers
(``carve_development``): speaker-disjoint from train and test, and deterministic: the training
speakers are ranked by the MD5 hash of ``"<protocol>:<fold>:<speaker>"`` and the first
``round(dev_fraction * speakers)`` of them (at least 1, at most all but 1) form Development.
Utterances without a known speaker (``SpkrID`` empty or ``Unknown``) are ranked the same way by
FileName instead, so they are spread over train and Development without a speaker to keep apart.
"""

import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Set

from toolkit.data.manifest import manifest_columns, write_manifest
from toolkit.emotions import Inventory
from toolkit.utils.atomic import PathLike, atomic_write_json, mark_done
from toolkit.utils.errors import ToolkitError

logger = logging.getLogger(__name__)

ALL_SPLIT = "all"
FOLD_SPLITS = ("train", "development", "test")
SPLIT_SET = {"train": "Train", "development": "Development", "test": "Test"}
UNKNOWN_SPEAKERS = {"", "Unknown"}


@dataclass
class FoldSpec:
    """Fold ``number`` tests on the FileNames ``test``; ``development`` (optional) is its Development set."""

    number: int
    test: Set[str]
    development: Optional[Set[str]] = None
    description: str = ""


@dataclass
class FoldProtocol:
    """A named set of folds and the share of training speakers carved out where a fold has no Development."""

    name: str
    folds: List[FoldSpec]
    dev_fraction: float = 0.2
    notes: Dict[str, str] = field(default_factory=dict)


def _rank(key: str) -> str:
    return hashlib.md5(key.encode("utf-8")).hexdigest()


def check_dev_fraction(dev_fraction: float) -> None:
    """Adapters call this before reading a corpus, so a bad value fails at once rather than after."""
    if not 0.0 < dev_fraction < 1.0:
        raise ToolkitError(f"--dev-fraction must be in (0, 1) to carve a Development set, got {dev_fraction}")


def carve_development(frame, protocol: str, fold: int, dev_fraction: float) -> Set[str]:
    """FileNames of a speaker-disjoint, deterministic Development set carved from ``frame`` (a fold's
    training rows); see the module docstring for the rule."""
    check_dev_fraction(dev_fraction)
    speakers = sorted(set(frame["SpkrID"]) - UNKNOWN_SPEAKERS)
    chosen: Set[str] = set()
    if speakers:
        count = min(max(1, round(dev_fraction * len(speakers))), len(speakers) - 1) if len(speakers) > 1 else 0
        ranked = sorted(speakers, key=lambda speaker: _rank(f"{protocol}:{fold}:{speaker}"))
        chosen = set(frame["FileName"][frame["SpkrID"].isin(ranked[:count])])
    unknown = frame[frame["SpkrID"].isin(UNKNOWN_SPEAKERS)]
    if len(unknown):
        names = sorted(unknown["FileName"], key=lambda name: _rank(f"{protocol}:{fold}:{name}"))
        chosen |= set(names[:round(dev_fraction * len(names))])
    if not chosen:
        raise ToolkitError(f"fold {fold}: cannot carve a Development set from {len(speakers)} training speaker(s); "
                           "the protocol needs at least 2 training speakers or utterances without a speaker")
    return chosen


def _split_stats(frame, inventory: Inventory) -> Dict[str, object]:
    classes = frame["EmoClass"][frame["EmoClass"] != ""].value_counts()
    speakers = sorted(set(frame["SpkrID"]) - UNKNOWN_SPEAKERS)
    durations = frame["duration"].replace("", "nan").astype(float)
    return {
        "rows": int(len(frame)),
        "classes": {code: int(classes.get(code, 0)) for code in (*inventory.codes, "O", "X") if classes.get(code, 0)},
        "speakers": speakers,
        "hours": round(float(durations.sum(skipna=True)) / 3600, 4),
    }


def write_folds(rows, protocol: FoldProtocol, inventory: Inventory, output_dir: PathLike,
                summary: Dict[str, object]) -> Dict[str, object]:
    """Write ``OUTDIR/all``, every ``OUTDIR/fold<k>/<split>`` manifest and the summary; return the summary.

    ``rows``: a DataFrame of manifest rows (strings; ``soft_<code>`` columns over ``inventory``),
    one per utterance. ``summary``: what the adapter adds (corpus, root, skipped rows, ...).
    """
    output_dir = Path(output_dir)
    if rows["FileName"].duplicated().any():
        raise ToolkitError(f"duplicate FileName {rows['FileName'][rows['FileName'].duplicated()].iloc[0]} in the "
                           "utterance table; FileNames must be unique across the corpus")
    known = set(rows["FileName"])
    columns = manifest_columns(inventory)
    rows = rows.sort_values("FileName", kind="stable").reset_index(drop=True)
    write_manifest(rows.assign(Split_Set="All")[columns], output_dir / ALL_SPLIT / "manifest.csv")
    folds: Dict[str, Dict[str, object]] = {}
    for spec in protocol.folds:
        unknown = sorted((spec.test | (spec.development or set())) - known)
        if unknown:
            raise ToolkitError(f"fold {spec.number}: {len(unknown)} FileName(s) not among the utterances "
                               f"(first: {', '.join(unknown[:3])})")
        test = rows["FileName"].isin(spec.test)
        rest = rows[~test]
        carved = spec.development is None
        development = carve_development(rest, protocol.name, spec.number, protocol.dev_fraction) if carved \
            else spec.development
        is_dev = rows["FileName"].isin(development) & ~test
        parts = {"test": rows[test], "development": rows[is_dev], "train": rows[~test & ~is_dev]}
        stats: Dict[str, object] = {"description": spec.description, "development_carved": carved}
        for split, part in parts.items():
            if not len(part):
                raise ToolkitError(f"fold {spec.number}: the {split} split is empty; check the protocol's fold lists")
            write_manifest(part.assign(Split_Set=SPLIT_SET[split])[columns],
                           output_dir / f"fold{spec.number}" / split / "manifest.csv")
            stats[split] = _split_stats(part, inventory)
        overlap = set(stats["train"]["speakers"]) & set(stats["test"]["speakers"])
        stats["speaker_independent"] = not overlap
        folds[str(spec.number)] = stats
        logger.info("fold %d: train %d, development %d%s, test %d rows", spec.number, len(parts["train"]),
                    len(parts["development"]), " (carved)" if carved else "", len(parts["test"]))
    payload = {
        **summary,
        "classes": inventory.to_list(),
        "protocol": {"name": protocol.name, "folds": len(protocol.folds), "dev_fraction": protocol.dev_fraction,
                     **protocol.notes},
        "utterances": _split_stats(rows, inventory),
        "folds": folds,
    }
    atomic_write_json(output_dir / "prepare_summary.json", payload)
    mark_done(output_dir, "prepare")
    return payload


def fold_numbers(summary: Dict[str, object]) -> Sequence[int]:
    """The fold numbers a stage-0 summary records, in order."""
    return sorted(int(number) for number in summary.get("folds", {}))
