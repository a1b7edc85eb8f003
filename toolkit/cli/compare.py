"""``toolkit compare A.csv B.csv --reference REF``: is A really better than B? (paired bootstrap)

The statistics live in :mod:`toolkit.submission.compare`. Exit status, as ``toolkit score``: 0
compared, 1 a submission invalid (its validation report is printed), 2 unusable arguments,
unreadable files, a reference without the task's labels, files of different tasks or a metric
of the other task.
"""

import json
import sys
from typing import Optional

import click

from toolkit.cli.validate import EXIT_INVALID, EXIT_VALID, fail_unusable
from toolkit.utils.errors import ToolkitError


@click.command("compare")
@click.argument("submission_a", metavar="A.csv", type=str)
@click.argument("submission_b", metavar="B.csv", type=str)
@click.option("--reference", "-r", required=True, type=str, metavar="REF",
              help="labels_consensus-style CSV (or .json) or toolkit manifest with the true labels.")
@click.option("--split", type=str, default=None, metavar="NAME",
              help="Keep only reference rows with this Split_Set (e.g. Development).")
@click.option("--metric", type=click.Choice(["macro_f1", "uar", "ccc_mean"]), default=None,
              help="macro_f1 or uar for Task 1 files, ccc_mean for Task 2 files. Default: the task's headline.")
@click.option("--classes", type=str, default=None, metavar="CODES",
              help="Classes to score over, e.g. 'A,S,H,N'. Default: REF's classes (a manifest's soft-label columns), "
                   "else the challenge's ASHUFDCN.")
@click.option("--resamples", type=click.IntRange(min=1), default=1000,
              help="Paired bootstrap resamples; the smallest p-value is 2/(N+1).")
@click.option("--seed", type=int, default=42, help="Seed of the resampling.")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text")
@click.option("--max-per-code", type=click.IntRange(min=0), default=10,
              help="Validation problems shown per code (0 shows all).")
def compare(submission_a: str, submission_b: str, reference: str, split: Optional[str], metric: Optional[str],
            classes: Optional[str], resamples: int, seed: int, output_format: str, max_per_code: int) -> None:
    """Validate A.csv and B.csv against REF, then test whether their scores differ.

    Both systems are scored on the same reference rows; a paired bootstrap gives the difference
    A - B with its 95% interval and a two-sided p-value (docs/submission.md).
    """
    from toolkit.emotions import Inventory
    from toolkit.submission.compare import compare_submissions, format_comparison

    try:
        comparison = compare_submissions(
            submission_a, submission_b, reference, metric=metric, split=split, resamples=resamples, seed=seed,
            max_per_code=max_per_code, inventory=Inventory.parse(classes) if classes else None,
        )
    except ToolkitError as error:
        fail_unusable(str(error), output_format)
    if output_format == "json":
        click.echo(json.dumps(comparison.to_dict(), indent=2))
    else:
        for report in (comparison.a.validation, comparison.b.validation):
            if not report.valid or report.problems:
                click.echo(report.format_text(), err=report.valid)
        if comparison.valid:
            click.echo(format_comparison(comparison))
    sys.exit(EXIT_VALID if comparison.valid else EXIT_INVALID)
