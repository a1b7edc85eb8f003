"""The human-readable form of a stage-0 summary (``prepare_summary.json``), as the CLI prints it.

Reads a summary dict; writes nothing.
"""

from typing import Dict, List


def _format_folds(summary: Dict) -> List[str]:
    """Rows of every fold's splits, and its test speakers, for a fold protocol's summary."""
    protocol = summary.get("protocol", {})
    lines = [f"protocol {protocol.get('name', '?')}: {protocol.get('folds', 0)} fold(s); "
             f"{summary.get('utterances', {}).get('rows', 0)} utterances"]
    lines.append(f"{'fold':<6}{'train':>8}{'dev':>8}{'test':>8}  test speakers")
    for number, fold in summary["folds"].items():
        carved = " (dev carved)" if fold.get("development_carved") else ""
        speakers = fold["test"]["speakers"]
        shown = ", ".join(speakers[:6]) + (f", ... ({len(speakers)})" if len(speakers) > 6 else "")
        lines.append(f"{number:<6}{fold['train']['rows']:>8}{fold['development']['rows']:>8}{fold['test']['rows']:>8}  "
                     f"{shown}{carved}")
    return lines


def format_summary(summary: Dict) -> str:
    """Rows per split (or fold) and class, soft-label coverage, and skipped rows by reason, as a short text table."""
    lines = []
    if summary.get("classes"):
        lines.append("classes: " + ", ".join(f"{item['code']} {item['name']}" for item in summary["classes"]))
    if "folds" in summary:
        lines += _format_folds(summary)
    splits = summary.get("splits", {})
    codes = sorted({code for stats in splits.values() for code in stats.get("classes", {})})
    if splits:
        lines.append(f"{'split':<12}{'rows':>8}{'soft':>8}{'hours':>9}  " + " ".join(f"{code:>6}" for code in codes))
    for split, stats in splits.items():
        hours = stats.get("hours")
        hours_text = f"{hours:9.2f}" if hours is not None else f"{'-':>9}"
        classes = stats.get("classes", {})
        lines.append(
            f"{split:<12}{stats['rows']:>8}{stats.get('soft_labels', 0):>8}{hours_text}  "
            + " ".join(f"{classes.get(code, 0):>6}" for code in codes)
        )
    problems = summary.get("problems", summary.get("skipped", {}))
    if problems:
        lines.append("problems (rows or votes skipped/ignored, by reason):")
        for reason, entry in problems.items():
            lines.append(f"  {reason:<36}{entry['count']:>8}")
    else:
        lines.append("problems: none")
    for note, count in sorted(summary.get("notes", {}).items()):
        lines.append(f"note: {note}: {count}")
    return "\n".join(lines)
