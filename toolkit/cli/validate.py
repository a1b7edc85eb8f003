"""``toolkit validate SUBMISSION.csv``: check a leaderboard file before uploading it.

Exit status: 0 valid (warnings allowed), 1 invalid, 2 unusable arguments or unreadable file.
"""

import json
import sys
from typing import List, Optional

import click

from toolkit.submission.formats import TASK_COLUMNS
from toolkit.utils.errors import ToolkitError

EXIT_VALID, EXIT_INVALID, EXIT_UNUSABLE = 0, 1, 2


def expected_ids_from_options(ids: Optional[str], manifest: Optional[str], split: Optional[str]) -> Optional[List[str]]:
    """The expected FileNames chosen by ``--ids`` / ``--manifest`` (None: the 3,200 test3 names)."""
    from toolkit.submission.reference import read_id_list, read_reference

    if ids and manifest:
        raise ToolkitError("give either --ids or --manifest, not both")
    if split and not manifest:
        raise ToolkitError("--split filters the rows of --manifest; give --manifest too")
    if ids:
        return read_id_list(ids)
    if manifest:
        return read_reference(manifest, split=split, labels=False).ids
    return None


def classes_from_options(classes: Optional[str], manifest: Optional[str]):
    """The EmoClass codes a file may use: ``--classes``, else ``--manifest``'s inventory, else the challenge's."""
    from toolkit.emotions import CHALLENGE, Inventory

    if classes:
        return Inventory.parse(classes)
    if manifest and manifest.lower().endswith(".csv"):
        from toolkit.data.inventory import read_inventory

        return read_inventory(manifest)
    return CHALLENGE


def fail_unusable(message: str, output_format: str) -> None:
    """Report an unusable argument or unreadable file and exit 2 (JSON on stdout when asked)."""
    if output_format == "json":
        click.echo(json.dumps({"valid": False, "error": message}, indent=2))
    click.echo(f"error: {message}", err=True)
    sys.exit(EXIT_UNUSABLE)


@click.command("validate")
@click.argument("submission", type=str)
@click.option("--task", type=click.Choice(sorted(TASK_COLUMNS)), default=None,
              help="Force the task instead of detecting it from the header.")
@click.option("--ids", type=str, default=None, metavar="FILE", help="File of expected FileNames, one per line.")
@click.option("--manifest", type=str, default=None, metavar="PATH",
              help="Toolkit manifest or labels_consensus-style CSV (or .json) whose FileNames are expected.")
@click.option("--split", type=str, default=None, metavar="NAME", help="Keep only --manifest rows with this Split_Set.")
@click.option("--classes", type=str, default=None, metavar="CODES",
              help="EmoClass codes allowed, e.g. 'A,S,H,N'. Default: --manifest's classes, else the challenge's ASHUFDCN.")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text")
@click.option("--max-per-code", type=click.IntRange(min=0), default=10,
              help="Problems shown per code before 'and N more' (0 shows all).")
@click.option("--strict", is_flag=True, help="Treat warnings (CRLF line endings, unsorted rows) as errors.")
def validate(submission: str, task: Optional[str], ids: Optional[str], manifest: Optional[str],
             split: Optional[str], classes: Optional[str], output_format: str, max_per_code: int, strict: bool) -> None:
    """Check SUBMISSION.csv (Task 1 or Task 2) against the expected test FileNames.

    By default the expected FileNames are MSP-PODCAST_test3_0001.wav ... _3200.wav and the
    classes the challenge's ASHUFDCN; --manifest gives a corpus's own FileNames and classes.
    Every problem is reported at once as PATH:LINE: CODE message (codes in docs/submission.md).
    """
    from toolkit.submission.validate import validate_submission

    try:
        expected = expected_ids_from_options(ids, manifest, split)
        report = validate_submission(submission, expected, task=task, max_per_code=max_per_code, strict=strict,
                                     classes=classes_from_options(classes, manifest))
    except ToolkitError as error:
        fail_unusable(str(error), output_format)
    if output_format == "json":
        click.echo(json.dumps(report.to_dict(), indent=2))
    else:
        click.echo(report.format_text())
    sys.exit(EXIT_VALID if report.valid else EXIT_INVALID)
