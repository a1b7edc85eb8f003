"""``toolkit ensemble``: combination methods compared out-of-fold, the submitted system, report and leaderboard files."""

from pathlib import Path
from typing import Optional, Sequence

import click

from toolkit.utils.errors import ToolkitError


def read_members_file(path: Path) -> list:
    """Member directories, one a line; blank lines and ``#`` comments ignored."""
    lines = [line.split("#", 1)[0].strip() for line in path.read_text(encoding="utf-8").splitlines()]
    return [line for line in lines if line]


@click.command(context_settings={"show_default": True})
@click.option("--member", "members", multiple=True, type=click.Path(exists=True, file_okay=False),
              help="A trained member's experiment directory (repeatable).")
@click.option("--members-file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A file listing member directories, one a line.")
@click.option("--probe", "probes", multiple=True, type=click.Path(exists=True, file_okay=False),
              help="A probe directory (toolkit probe) scored beside the members for reference, never combined "
                   "(give it as --member to combine it). Repeatable.")
@click.option("--combine", default="auto",
              type=click.Choice(["auto", "soup", "meta", "pool", "soft-vote", "hard-vote", "best-member"]),
              help="The submitted method. auto: the weighted pool unless another method beats it out-of-fold on "
                   "Development by more than --auto-margin standard errors (docs/ensemble.md); soup reproduces the paper.")
@click.option("--auto-default", default="pool",
              type=click.Choice(["pool", "none", "soup", "meta", "soft-vote", "hard-vote", "best-member"]),
              help="The method --combine auto keeps unless another beats it out-of-fold by more than --auto-margin "
                   "standard errors; none: the one-standard-error rule alone.")
@click.option("--auto-margin", default=3.0, type=click.FloatRange(min=0), show_default=True,
              help="Standard errors of out-of-fold lead another method needs to replace --auto-default.")
@click.option("--manifest", required=True, type=click.Path(exists=True, dir_okay=False),
              help="Development manifest: the labels for the held-out comparison and the soup.")
@click.option("--out-dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Where tables, soup weights and test predictions go, e.g. exp/<tag>/ensemble.")
@click.option("--submissions-dir", default="submissions", type=click.Path(file_okay=False),
              help="Where the two leaderboard CSVs go.")
@click.option("--tag", required=True, help="Experiment name; the leaderboard files are <tag>_categorical.csv and <tag>_attributes.csv.")
@click.option("--report", "report_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Report path  [default: <out-dir>/../report.md]")
@click.option("--folds", default=5, type=int, help="Folds of the held-out protocol over Development.")
@click.option("--soup-runs", default=6, type=int, help="Meta-classifier runs averaged into the soup.")
@click.option("--seed", default=42, type=int)
@click.option("--test-split", default="test3", help="Split whose member predictions get the soup and the leaderboard files.")
@click.option("--test-key", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Labels of the test split (FileName,EmoClass,EmoAct,EmoVal,EmoDom) to score it.")
@click.option("--weight-decay", default="1e-4,1e-3,1e-2,1e-1,1",
              help="L2 penalty of the meta-classifier and soup runs (standardised inputs); a comma-separated grid is "
                   "chosen from by inner cross-validation on the rows each fit sees.")
@click.option("--class-weight-alpha", default=0.5, type=click.FloatRange(min=0), show_default=True,
              help="The meta-classifier's and soup's class weights (N / (K f_c)) ** alpha in their loss, K the "
                   "inventory's classes; 0 disables, 1 weighs every class equally.")
@click.option("--pool-penalty", default=10.0, type=click.FloatRange(min=0),
              help="L2 pull of the weighted pool's member weights towards equal and class biases towards 0.")
@click.option("--device", default="auto", help="auto, cpu, cuda or cuda:N.")
@click.option("--force", is_flag=True, help="Redo even if --out-dir holds a finished run of the same inputs.")
def ensemble(members: Sequence[str], members_file: Optional[Path], probes: Sequence[str], combine: str,
             auto_default: str, auto_margin: float, manifest: str, out_dir: Path, submissions_dir: str, tag: str,
             report_path: Optional[Path], folds: int, soup_runs: int, seed: int, test_split: str,
             test_key: Optional[str], weight_decay: str, class_weight_alpha: float, pool_penalty: float,
             device: str, force: bool) -> None:
    """Combine trained members (MEDUSA stages 3-4) and write the test leaderboard files."""
    from toolkit.ensemble.combine import EnsembleConfig, run_ensemble
    from toolkit.ensemble.meta_classifier import MetaConfig
    from toolkit.ensemble.pool import PoolConfig
    from toolkit.ensemble.results import format_table
    from toolkit.utils.device import resolve_device

    try:
        decays = tuple(float(value) for value in weight_decay.split(",") if value.strip())
    except ValueError:
        raise click.BadParameter(f"{weight_decay!r}: give a number or comma-separated numbers",
                                 param_hint="--weight-decay") from None
    if not decays or min(decays) < 0:
        raise click.BadParameter(f"{weight_decay!r}: penalties must be >= 0", param_hint="--weight-decay")

    member_dirs = list(members) + (read_members_file(members_file) if members_file else [])
    missing = [directory for directory in member_dirs if not Path(directory).is_dir()]
    if missing:
        raise ToolkitError(f"{members_file}: member directory {missing[0]} does not exist")
    config = EnsembleConfig(
        folds=folds, soup_runs=soup_runs, seed=seed, test_split=test_split, combine=combine,
        auto_default=None if auto_default == "none" else auto_default, auto_margin=auto_margin,
        meta=MetaConfig(weight_decay=decays[0], class_weight_alpha=class_weight_alpha),
        pool=PoolConfig(penalty=pool_penalty),
        weight_decay_grid=decays if len(decays) > 1 else (),
    )
    report_path = report_path or out_dir.parent / "report.md"
    result = run_ensemble(
        member_dirs, manifest, out_dir, submissions_dir, tag, config=config, test_key=test_key,
        device=resolve_device(device), force=force, report_path=report_path, probe_dirs=probes,
    )
    if result is None:
        click.echo((out_dir / "combination.md").read_text(encoding="utf-8"), nl=False)
        return
    click.echo(format_table(result.table), nl=False)
    click.echo(f"submitted: {result.choice_reason}")
    if result.test_table is not None:
        click.echo(f"{test_split}:")
        click.echo(format_table(result.test_table), nl=False)
    if result.test_scores:
        click.echo(f"{test_split}: Macro-F1 {result.test_scores['macro_f1']:.4f}, CCC mean {result.test_scores['ccc_mean']:.4f}")
    for path in [*result.submission_paths, report_path]:
        click.echo(f"wrote {path}")
