"""Atomic file writes and done markers, so a killed job never leaves a half-written output.

Writers create ``<name>.tmp-<pid>`` beside the target and rename it into place; a ``.done``
marker is written last, so its presence means every output of that step is complete.
"""

import contextlib
import json
import os
from pathlib import Path
from typing import Any, Iterator, Union

PathLike = Union[str, os.PathLike]


@contextlib.contextmanager
def atomic_path(target: PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it onto ``target`` if the block succeeds."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f"{target.name}.tmp-{os.getpid()}")
    try:
        yield temporary
        os.replace(temporary, target)
    finally:
        if temporary.exists():
            temporary.unlink()


def atomic_write_text(target: PathLike, text: str) -> None:
    with atomic_path(target) as temporary:
        temporary.write_text(text, encoding="utf-8")


def atomic_write_json(target: PathLike, payload: Any) -> None:
    atomic_write_text(target, json.dumps(payload, indent=2, sort_keys=True, default=str) + "\n")


def done_marker(directory: PathLike, name: str = "") -> Path:
    """Path of the marker that says a step writing into ``directory`` finished."""
    return Path(directory) / (f".{name}.done" if name else ".done")


def is_done(directory: PathLike, name: str = "") -> bool:
    return done_marker(directory, name).exists()


def mark_done(directory: PathLike, name: str = "") -> None:
    atomic_write_text(done_marker(directory, name), "")
