"""Checkpoints of DeepSER members, and loading a trained member for the ensemble and inference.

Layout of an experiment directory ``DIR`` (``toolkit train ... --exp-dir DIR``)::

    config.yaml                 resolved training config
    metrics.csv, metrics.png    one row per epoch of every stage run, and its curves
    stage1/last.pt              resumable state (model, optimizer, RNGs, position in the epoch)
    stage1/best.pt              the stage's best epoch on Development Macro-F1
    stage2/last.pt, best.pt     the same for stage 2 (best.pt only if stage 2 beat stage 1)
    best.pt                     the selected checkpoint (stage 2's best if it beat stage 1, else stage 1's)
    predictions/<split>.csv     the selected checkpoint's predictions (toolkit.predictions format)
    stage<k>/predictions/       the predictions of stage k's own best checkpoint, kept after later stages

A model checkpoint (``best.pt``) is a ``torch.save`` dict with keys ``format``
(``"toolkit.deepser"``), ``format_version``, ``config`` (the resolved config as a nested dict),
``streams`` (name, dim, num_layers per stream, in input order), ``classes`` (the inventory the
class head predicts, ``[{"code", "name"}]`` in logit order), ``model_state``, ``stage``, ``epoch``
and ``dev_macro_f1``. Format 1 checkpoints have no ``classes``: they predict the challenge's 8.
A stored config lacking a key added later (``LEGACY_CONFIG``) is read with the value that
describes how that checkpoint was trained, never with today's default.
"""

import os
import re
from pathlib import Path
from typing import Any, Dict, List, Tuple

from toolkit.emotions import CHALLENGE, Inventory
from toolkit.utils.atomic import PathLike, atomic_path
from toolkit.utils.errors import ToolkitError

CHECKPOINT_FORMAT = "toolkit.deepser"
FORMAT_VERSION = 2

#: Config keys added after checkpoints existed, with the behaviour of every checkpoint written
#: before: no projection before the fusion encoders, one MixUp λ per batch.
LEGACY_CONFIG = {"model": {"fusion_projection": False}, "mixup": {"per_sample": False}}


def save_checkpoint(path: PathLike, payload: Dict[str, Any]) -> None:
    """Write atomically, so a kill during the write leaves the previous checkpoint intact."""
    import torch

    with atomic_path(path) as temporary:
        torch.save(payload, temporary)


def remove_stale_temporaries(exp_dir: PathLike) -> List[Path]:
    """Delete the temporary files (``<name>.tmp-<pid>``, ``toolkit.utils.atomic``) that writers killed
    mid-write left in ``exp_dir`` (a partial checkpoint can be as large as a whole one); returns them.

    Only this process writes into an experiment directory (rank 0 under torchrun), so every
    temporary file of another process id is stale.
    """
    own = f".tmp-{os.getpid()}"
    stale = [path for path in Path(exp_dir).rglob("*.tmp-*")
             if re.search(r"\.tmp-\d+$", path.name) and not path.name.endswith(own)]
    for path in stale:
        path.unlink(missing_ok=True)
    return stale


def read_checkpoint(path: PathLike) -> Dict[str, Any]:
    import torch

    path = Path(path)
    if not path.is_file():
        raise ToolkitError(f"{path}: checkpoint not found; did toolkit train finish for this member?")
    payload = torch.load(path, map_location="cpu", weights_only=False)
    if not isinstance(payload, dict) or payload.get("format") != CHECKPOINT_FORMAT:
        raise ToolkitError(f"{path}: not a toolkit DeepSER checkpoint")
    if payload.get("format_version", 0) > FORMAT_VERSION:
        raise ToolkitError(f"{path}: written by a newer toolkit (format {payload['format_version']}); upgrade")
    return payload


def model_payload(model, config, specs, stage: int, epoch: int, dev_macro_f1: float,
                  inventory: Inventory = CHALLENGE) -> Dict[str, Any]:
    return {
        "format": CHECKPOINT_FORMAT,
        "format_version": FORMAT_VERSION,
        "config": config.to_dict(),
        "streams": [spec.to_dict() for spec in specs],
        "classes": inventory.to_list(),
        "model_state": {name: tensor.detach().cpu() for name, tensor in model.state_dict().items()},
        "stage": stage,
        "epoch": epoch,
        "dev_macro_f1": dev_macro_f1,
    }


def payload_inventory(payload: Dict[str, Any]) -> Inventory:
    """The classes a checkpoint's head predicts, in logit order."""
    if "classes" not in payload:
        return CHALLENGE
    return Inventory.from_list(payload["classes"], "checkpoint")


def stored_config(payload: Dict[str, Any]) -> Dict[str, Any]:
    """The checkpoint's config as a nested dict, keys it predates filled in from ``LEGACY_CONFIG``."""
    config = {section: dict(values) for section, values in payload["config"].items()}
    for section, values in LEGACY_CONFIG.items():
        stored = config.setdefault(section, {})
        for key, value in values.items():
            stored.setdefault(key, value)
    return config


def model_from_payload(payload: Dict[str, Any], device: str = "cpu"):
    """(DeepSER in eval mode on ``device``, TrainingConfig) from a checkpoint dict."""
    from toolkit.models.deepser import StreamSpec, build_model
    from toolkit.training.config import config_from_dict

    config = config_from_dict(stored_config(payload))
    model = build_model([StreamSpec(**spec) for spec in payload["streams"]], config.model,
                        payload_inventory(payload).num_classes)
    model.load_state_dict(payload["model_state"])
    return model.to(device).eval(), config


def load_member(exp_dir: PathLike, device: str = "cpu") -> Tuple[Any, Any]:
    """Load the selected checkpoint ``<exp_dir>/best.pt`` → ``(model, config)``; the model is in eval mode.

    ``model.streams`` lists the input streams (``StreamSpec``: name, dim, num_layers) in the order
    ``toolkit.training.inference.predict_batch`` feeds them.
    """
    return model_from_payload(read_checkpoint(Path(exp_dir) / "best.pt"), device)
