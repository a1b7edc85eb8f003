"""The human-readable form of a stage-0 summary (``prepare_summary.json``), as the CLI prints it.

Reads a summary dict; writes nothing.
"""

from typing import Dict


def format_summary(summary: Dict) -> str:
    """Rows per split and class, soft-label coverage, and skipped rows by reason, as a short text table."""
    lines = []
    if summary.get("classes"):
        lines.append("classes: " + ", ".join(f"{item['code']} {item['name']}" for item in summary["classes"]))
    splits = summary.get("splits", {})
    codes = sorted({code for stats in splits.values() for code in stats.get("classes", {})})
    lines.append(f"{'split':<12}{'rows':>8}{'soft':>8}{'hours':>9}  " + " ".join(f"{code:>6}" for code in codes))
    for split, stats in splits.items():
        hours = stats.get("hours")
        hours_text = f"{hours:9.2f}" if hours is not None else f"{'-':>9}"
        classes = stats.get("classes", {})
        lines.append(
            f"{split:<12}{stats['rows']:>8}{stats.get('soft_labels', 0):>8}{hours_text}  "
            + " ".join(f"{classes.get(code, 0):>6}" for code in codes)
        )
    problems = summary.get("problems", {})
    if problems:
        lines.append("problems (rows or votes skipped/ignored, by reason):")
        for reason, entry in problems.items():
            lines.append(f"  {reason:<36}{entry['count']:>8}")
    else:
        lines.append("problems: none")
    for note, count in sorted(summary.get("notes", {}).items()):
        lines.append(f"note: {note}: {count}")
    return "\n".join(lines)
