"""Counting bad input by reason, so that stage 0 never drops a row silently.

Reads and writes nothing itself: corpus adapters report each problem here (a stable reason
code, how many rows, a few ``file:line: message`` examples), and the counts and examples end
up in ``prepare_summary.json``. With ``strict=True`` the first problem raises ``ToolkitError``.
"""

import logging
from itertools import islice
from typing import Dict, Iterable, List

from toolkit.utils.errors import ToolkitError

logger = logging.getLogger(__name__)


class ProblemLog:
    """Problems met while reading a corpus, by reason code; optionally fatal."""

    def __init__(self, strict: bool = False, max_examples: int = 5):
        self.strict = strict
        self.max_examples = max_examples
        self.counts: Dict[str, int] = {}
        self.examples: Dict[str, List[str]] = {}

    def report(self, reason: str, count: int, messages: Iterable[str], action: str = "skipped") -> None:
        """Record ``count`` occurrences of ``reason``; ``messages`` is consumed lazily, only the first few.

        ``action`` says what was done about it (``skipped``, ``ignored``, ...) and ends each log line.
        """
        if count <= 0:
            return
        examples = list(islice(iter(messages), self.max_examples))
        if self.strict:
            first = examples[0] if examples else reason
            more = f" (and {count - 1} more like it)" if count > 1 else ""
            raise ToolkitError(f"{first}{more}; --strict makes every input problem fatal: fix the input or drop --strict")
        self.counts[reason] = self.counts.get(reason, 0) + count
        kept = self.examples.setdefault(reason, [])
        for message in examples:
            if len(kept) < self.max_examples:
                kept.append(message)
                logger.warning("%s [%s, %s]", message, reason, action)
        if count > len(examples):
            logger.warning("%s: %d occurrence(s) in this batch, %s", reason, count, action)

    def total(self) -> int:
        return sum(self.counts.values())

    def to_dict(self) -> Dict[str, Dict[str, object]]:
        return {
            reason: {"count": self.counts[reason], "examples": self.examples.get(reason, [])}
            for reason in sorted(self.counts)
        }
