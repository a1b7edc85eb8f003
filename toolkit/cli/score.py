"""``toolkit score SUBMISSION.csv --reference REF``: the leaderboard's numbers, computed locally.

Exit status: 0 scored, 1 submission invalid (the validation report is printed), 2 unusable
arguments, unreadable files or a reference without the task's labels.
"""

import json
import sys
from typing import Optional

import click

from toolkit.cli.validate import EXIT_INVALID, EXIT_VALID, fail_unusable
from toolkit.submission.formats import TASK_COLUMNS
from toolkit.utils.errors import ToolkitError


@click.command("score")
@click.argument("submission", type=str)
@click.option("--reference", "-r", required=True, type=str, metavar="REF",
              help="labels_consensus-style CSV (or .json) or toolkit manifest with the true labels.")
@click.option("--split", type=str, default=None, metavar="NAME",
              help="Keep only reference rows with this Split_Set (e.g. Development).")
@click.option("--task", type=click.Choice(sorted(TASK_COLUMNS)), default=None,
              help="Force the task instead of detecting it from the header.")
@click.option("--classes", type=str, default=None, metavar="CODES",
              help="Classes to score over, e.g. 'A,S,H,N'. Default: REF's classes (a manifest's soft-label columns), "
                   "else the challenge's ASHUFDCN.")
@click.option("--class-map", default=None, metavar="MAP",
              help="Score a system of another corpus: its classes (--system-classes) onto REF's, shared codes to "
                   "themselves plus these pairs, e.g. 'E=H,C=-'; a prediction mapped nowhere counts as an error.")
@click.option("--system-classes", default=None, metavar="CODES",
              help="With --class-map: the classes the submission uses (default: the challenge's ASHUFDCN).")
@click.option("--bootstrap", type=click.IntRange(min=0), default=0,
              help="Resamples for 95% bootstrap intervals (0: none; 1000 is usual).")
@click.option("--seed", type=int, default=42, help="Seed of the bootstrap resampling.")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text")
@click.option("--max-per-code", type=click.IntRange(min=0), default=10,
              help="Validation problems shown per code (0 shows all).")
def score(submission: str, reference: str, split: Optional[str], task: Optional[str], classes: Optional[str],
          class_map: Optional[str], system_classes: Optional[str], bootstrap: int, seed: int, output_format: str,
          max_per_code: int) -> None:
    """Validate SUBMISSION.csv against REF's FileNames, then score it.

    Task 1: Macro-F1, per-class precision/recall/F1, accuracy, UAR, confusion matrix.
    Task 2: CCC per attribute and their mean.
    """
    from toolkit.emotions import CHALLENGE, Inventory
    from toolkit.submission.score import format_scores, score_submission

    try:
        target = Inventory.parse(classes) if classes else None
        mapping = None
        if class_map or system_classes:
            from toolkit.class_map import build_class_map
            from toolkit.data.inventory import read_inventory

            source = Inventory.parse(system_classes) if system_classes else CHALLENGE
            mapping = build_class_map(source, target or read_inventory(reference), class_map)
        result = score_submission(submission, reference, split=split, task=task, bootstrap=bootstrap, seed=seed,
                                  max_per_code=max_per_code, inventory=target, class_map=mapping)
    except ToolkitError as error:
        fail_unusable(str(error), output_format)
    if output_format == "json":
        click.echo(json.dumps(result.to_dict(), indent=2))
    else:
        report = result.validation
        if not report.valid or report.problems:
            click.echo(report.format_text(), err=report.valid)
        if report.valid:
            click.echo(format_scores(result))
    sys.exit(EXIT_VALID if result.validation.valid else EXIT_INVALID)
