"""A resumable cache of wav headers, so that a re-run of stage 0 does not read 100k headers again.

Reads and appends ``<output_dir>/.audio_headers.tsv``: one line per wav with its path, size,
modification time (ns), sample rate, channels and frames. A header is reused only while the file's
size and modification time are unchanged. Lines are appended in batches as the scan goes, so a
killed scan resumes where it stopped; a torn last line is ignored when the cache is read.
"""

import os
from pathlib import Path
from typing import Dict, List, Tuple

from toolkit.data.audio import AudioInfo, audio_info
from toolkit.utils.atomic import PathLike

CACHE_NAME = ".audio_headers.tsv"
FLUSH_EVERY = 2000


class AudioHeaderCache:
    """``info(path)`` returns the wav's ``AudioInfo`` from the cache or from its header."""

    def __init__(self, directory: PathLike):
        self.path = Path(directory) / CACHE_NAME
        self._known: Dict[str, Tuple[int, int, AudioInfo]] = {}
        self._pending: List[str] = []
        self.hits = 0
        if self.path.is_file():
            with open(self.path, encoding="utf-8") as handle:
                for line in handle:
                    fields = line.rstrip("\n").split("\t")
                    if len(fields) != 6 or not all(field.isdigit() for field in fields[1:]):
                        continue
                    size, mtime, rate, channels, frames = map(int, fields[1:])
                    self._known[fields[0]] = (size, mtime, AudioInfo(rate, channels, frames))

    def info(self, path: str) -> AudioInfo:
        """Header of ``path``; raises ToolkitError (from ``audio_info``) when it is not readable audio."""
        try:
            status = os.stat(path)
        except OSError:
            status = None
        if status is not None:
            cached = self._known.get(path)
            if cached and cached[0] == status.st_size and cached[1] == status.st_mtime_ns:
                self.hits += 1
                return cached[2]
        info = audio_info(path)
        if status is not None and "\t" not in path and "\n" not in path:
            self._known[path] = (status.st_size, status.st_mtime_ns, info)
            self._pending.append(f"{path}\t{status.st_size}\t{status.st_mtime_ns}\t{info.sample_rate}\t"
                                 f"{info.num_channels}\t{info.num_frames}\n")
            if len(self._pending) >= FLUSH_EVERY:
                self.flush()
        return info

    def flush(self) -> None:
        if self._pending:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path, "a", encoding="utf-8") as handle:
                handle.writelines(self._pending)
            self._pending = []
