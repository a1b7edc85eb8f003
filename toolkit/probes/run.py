"""``toolkit probe``: fit a linear probe on the splits and streams a training config names, predict like a member.

Reads the manifests and feature stores of a ``toolkit train`` config (``data`` section: manifest
and features directories, streams, train/dev/predict splits, store split; the other sections are
ignored). Writes into the experiment directory::

    probe.npz                  the fitted probe (standardisation, class and attribute weights)
    probe.json                 streams, store widths, classes, chosen C and alpha, the Development grid
    predictions/<split>.csv    every split of data.predict_splits, in the member format
                               (toolkit.predictions), so toolkit ensemble can take a probe as a member
    .probe.done                written last; a re-run with it present does nothing
"""

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Sequence

import numpy as np

from toolkit.emotions import Inventory
from toolkit.metrics import macro_f1
from toolkit.predictions import write_predictions
from toolkit.probes.linear import DEFAULT_ALPHA_GRID, DEFAULT_C_GRID, LinearProbe, fit_probe
from toolkit.probes.pooling import pool_split
from toolkit.utils.atomic import PathLike, atomic_path, atomic_write_json, is_done, mark_done
from toolkit.utils.errors import ToolkitError

logger = logging.getLogger(__name__)

PROBE_ARRAYS = "probe.npz"
PROBE_DESCRIPTION = "probe.json"
DONE_NAME = "probe"


@dataclass
class ProbeResult:
    exp_dir: Path
    dev_macro_f1: float
    C: float
    alpha: float


def is_probe(member_dir: PathLike) -> bool:
    """True for a directory written by ``toolkit probe`` (rather than a DeepSER member)."""
    return (Path(member_dir) / PROBE_DESCRIPTION).is_file()


def save_probe(probe: LinearProbe, exp_dir: Path, extra: Dict[str, object]) -> None:
    with atomic_path(exp_dir / PROBE_ARRAYS) as temporary, open(temporary, "wb") as handle:
        np.savez(handle, **probe.arrays())
    atomic_write_json(exp_dir / PROBE_DESCRIPTION, {
        "streams": probe.streams, "classes": probe.inventory.to_list(), "C": probe.C, "alpha": probe.alpha,
        "selection": probe.selection, **extra,
    })


def load_probe(exp_dir: PathLike) -> LinearProbe:
    exp_dir = Path(exp_dir)
    description_path, arrays_path = exp_dir / PROBE_DESCRIPTION, exp_dir / PROBE_ARRAYS
    if not description_path.is_file() or not arrays_path.is_file():
        raise ToolkitError(f"{exp_dir}: no {PROBE_DESCRIPTION} and {PROBE_ARRAYS}; run toolkit probe for it first")
    description = json.loads(description_path.read_text(encoding="utf-8"))
    with np.load(arrays_path) as arrays:
        loaded = {name: arrays[name] for name in arrays.files}
    return LinearProbe(description["streams"], Inventory.from_list(description["classes"], str(description_path)),
                       C=description["C"], alpha=description["alpha"], selection=description["selection"], **loaded)


def run_probe(config, exp_dir: PathLike, c_grid: Sequence[float] = DEFAULT_C_GRID,
              alpha_grid: Sequence[float] = DEFAULT_ALPHA_GRID, extend_grids: bool = True) -> ProbeResult:
    """Fit, select and apply a probe over ``config.data``; skipped when ``exp_dir`` already holds one.
    ``extend_grids``: go on past an end of a grid that holds the best value (``fit_probe``)."""
    from toolkit.data.inventory import read_inventory
    from toolkit.training.dataset import load_split, manifest_path

    exp_dir = Path(exp_dir)
    data = config.data
    if is_done(exp_dir, DONE_NAME):
        description = json.loads((exp_dir / PROBE_DESCRIPTION).read_text(encoding="utf-8"))
        logger.info("%s: probe already done (delete %s/.%s.done to redo it)", exp_dir, exp_dir, DONE_NAME)
        return ProbeResult(exp_dir, description["dev_macro_f1"], description["C"], description["alpha"])
    inventory = read_inventory(manifest_path(data.manifest_dir, data.train_split))

    def split_data(split: str):
        return load_split(data.manifest_dir, data.features_dir, data.streams, split, inventory=inventory,
                          store_split=data.store_split)

    def pooled(split_rows, split: str) -> np.ndarray:
        return pool_split(split_rows.store_dirs, split_rows.file_names, description=f"pooling {split}")

    train, dev = split_data(data.train_split), split_data(data.dev_split)
    train_x, dev_x = pooled(train, data.train_split), pooled(dev, data.dev_split)
    probe = fit_probe(train_x, train.class_indices, train.attributes, dev_x, dev.class_indices, dev.attributes,
                      inventory, data.streams, c_grid, alpha_grid, seed=config.train.seed, extend_grids=extend_grids)
    dev_logits, _ = probe.predict(dev_x)
    labelled = dev.class_indices >= 0
    dev_score = macro_f1(dev.class_indices[labelled], dev_logits[labelled].argmax(axis=1), inventory.num_classes)
    exp_dir.mkdir(parents=True, exist_ok=True)
    for split in dict.fromkeys(data.predict_splits):
        if split == data.dev_split:
            rows, vectors = dev, dev_x
        else:
            rows = split_data(split)
            vectors = pooled(rows, split)
        logits, attributes = probe.predict(vectors)
        write_predictions(exp_dir / "predictions" / f"{split}.csv", rows.file_names, logits, attributes,
                          inventory.codes)
    save_probe(probe, exp_dir, {
        "dev_macro_f1": dev_score, "train_rows": int((train.class_indices >= 0).sum()),
        "dev_rows": int(labelled.sum()), "features": int(train_x.shape[1]),
        "manifest_dir": str(data.manifest_dir), "features_dir": str(data.features_dir),
    })
    mark_done(exp_dir, DONE_NAME)
    logger.info("probe %s: Development Macro-F1 %.4f; predictions for %s", exp_dir, dev_score,
                ", ".join(data.predict_splits))
    return ProbeResult(exp_dir, dev_score, probe.C, probe.alpha)
