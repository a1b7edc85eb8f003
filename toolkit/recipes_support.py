"""Helpers the recipe shell scripts call, so that no YAML is parsed in shell.

Reads a recipe's ensemble config (``conf/ensemble.yaml``): which DeepSER members to train, the
feature streams each one fuses, its training config and optional ``--set`` overrides. Writes
nothing; prints tab-separated lines for ``run.sh`` to read::

    python -m toolkit.recipes_support streams conf/ensemble.yaml --encoder-dir conf/encoders
        -> <stream> TAB <encoder yaml>            (one line per stream any member uses)
    python -m toolkit.recipes_support members conf/ensemble.yaml
        -> <member> TAB <train yaml> TAB [s1,s2] [TAB <override>]...
    python -m toolkit.recipes_support probes conf/ensemble.yaml
        -> <probe> TAB <train yaml> TAB [streams] TAB member|reference  (one per stream, and all_streams)
    python -m toolkit.recipes_support folds data/prepare_summary.json  -> 1 2 3 4 5
    python -m toolkit.recipes_support fold-table exp/<tag> --folds "1 2 3"  -> exp/<tag>/folds.md, folds.json

and writes leaderboard files from a prediction file (``toolkit/predictions.py`` format)::

    python -m toolkit.recipes_support write-submissions PREDICTIONS.csv OUTDIR --tag TAG [--manifest M]
        -> OUTDIR/TAG_categorical.csv, OUTDIR/TAG_attributes.csv (validated against M's FileNames)

The ensemble config::

    train_config: conf/train/deepser.yaml   # default training config of every member
    members:
      - name: wavlm_roberta
        streams: [wavlm_large, roberta_large]
        overrides: [train.seed=1]            # optional, passed as --set
        train_config: conf/train/other.yaml  # optional, replaces the default
    probe_members: [all_streams]             # optional: probes combined as members (the others are
                                             # scored for reference); names as printed by ``probes``
"""

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional, Tuple

import click

from toolkit.utils.atomic import PathLike
from toolkit.utils.errors import ToolkitError

_MEMBER_KEYS = {"name", "streams", "overrides", "train_config", "description"}
#: The recipes' probe over every stream the members use.
ALL_STREAMS_PROBE = "all_streams"
_TOP_KEYS = {"train_config", "members", "probe_members", "description"}


@dataclass(frozen=True)
class Member:
    name: str
    streams: List[str]
    train_config: str
    overrides: List[str] = field(default_factory=list)


def _read_ensemble_yaml(path: Path) -> dict:
    import yaml

    if not path.is_file():
        raise ToolkitError(f"{path}: ensemble config not found; pass --ensemble_conf or create it (see docs/recipes.md)")
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise ToolkitError(f"{path}: not valid YAML: {error}") from None


def load_ensemble_config(path: PathLike) -> List[Member]:
    """The members of an ensemble config, checked: unique names, 1+ distinct streams, known keys."""
    path = Path(path)
    loaded = _read_ensemble_yaml(path)
    if not isinstance(loaded, dict) or not isinstance(loaded.get("members"), list) or not loaded["members"]:
        raise ToolkitError(f"{path}: expected a mapping with a non-empty 'members' list")
    unknown = set(loaded) - _TOP_KEYS
    if unknown:
        raise ToolkitError(f"{path}: unknown key(s) {', '.join(sorted(unknown))}; known: {', '.join(sorted(_TOP_KEYS))}")
    default_config = loaded.get("train_config")
    members: List[Member] = []
    for index, entry in enumerate(loaded["members"]):
        where = f"{path}: members[{index}]"
        if not isinstance(entry, dict):
            raise ToolkitError(f"{where}: expected a mapping with name and streams")
        unknown = set(entry) - _MEMBER_KEYS
        if unknown:
            raise ToolkitError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}; known: {', '.join(sorted(_MEMBER_KEYS))}")
        name = entry.get("name")
        if not isinstance(name, str) or not name or any(char in name for char in "/\t "):
            raise ToolkitError(f"{where}: 'name' must be a non-empty string without spaces or '/', got {name!r}")
        streams = entry.get("streams")
        if (not isinstance(streams, list) or not streams or not all(isinstance(s, str) and s for s in streams)
                or len(set(streams)) != len(streams)):
            raise ToolkitError(f"{where} ({name}): 'streams' must be a list of distinct stream names, got {streams!r}")
        train_config = entry.get("train_config", default_config)
        if not isinstance(train_config, str) or not train_config:
            raise ToolkitError(f"{where} ({name}): no train_config; set it on the member or at the top level")
        overrides = entry.get("overrides", [])
        if not isinstance(overrides, list) or not all(isinstance(o, str) and "=" in o and "\t" not in o for o in overrides):
            raise ToolkitError(f"{where} ({name}): 'overrides' must be a list of key=value strings, got {overrides!r}")
        if any(m.name == name for m in members):
            raise ToolkitError(f"{where}: member name {name!r} is used twice; names must be unique")
        members.append(Member(name=name, streams=list(streams), train_config=train_config, overrides=list(overrides)))
    return members


def ensemble_streams(members: List[Member]) -> List[str]:
    """Every stream the members use, in first-use order."""
    streams: List[str] = []
    for member in members:
        streams.extend(stream for stream in member.streams if stream not in streams)
    return streams


@click.group()
def cli() -> None:
    """Recipe helpers: read conf/ensemble.yaml for run.sh."""


@cli.command()
@click.argument("ensemble_conf", type=click.Path(dir_okay=False))
@click.option("--encoder-dir", type=click.Path(file_okay=False), default=None,
              help="Directory of <stream>.yaml encoder configs; each must exist.")
def streams(ensemble_conf: str, encoder_dir: Optional[str]) -> None:
    """Print each stream the ensemble needs (and its encoder config)."""
    for stream in ensemble_streams(load_ensemble_config(ensemble_conf)):
        if encoder_dir is None:
            click.echo(stream)
            continue
        encoder = Path(encoder_dir) / f"{stream}.yaml"
        if not encoder.is_file():
            raise ToolkitError(
                f"{ensemble_conf}: stream {stream!r} has no encoder config {encoder}; "
                f"add it or pass another --encoder_conf_dir"
            )
        click.echo(f"{stream}\t{encoder}")


@cli.command()
@click.argument("ensemble_conf", type=click.Path(dir_okay=False))
def members(ensemble_conf: str) -> None:
    """Print each member: name, training config, streams as a YAML list, overrides."""
    for member in load_ensemble_config(ensemble_conf):
        fields = [member.name, member.train_config, "[" + ",".join(member.streams) + "]", *member.overrides]
        click.echo("\t".join(fields))


def probe_specs(members: List[Member]) -> List[Tuple[str, str, List[str]]]:
    """(name, training config, streams) of the recipe's probes: one per stream, one over all of them."""
    streams = ensemble_streams(members)
    config = members[0].train_config
    specs = [(stream, config, [stream]) for stream in streams]
    if len(streams) > 1:
        specs.append((ALL_STREAMS_PROBE, config, streams))
    return specs


def probe_members(path: PathLike) -> List[str]:
    """The probes an ensemble config combines as members (``probe_members``), checked against its probes."""
    path = Path(path)
    names = _read_ensemble_yaml(path).get("probe_members", [])
    known = [name for name, _, _ in probe_specs(load_ensemble_config(path))]
    if not isinstance(names, list) or any(name not in known for name in names):
        raise ToolkitError(f"{path}: probe_members must list probes of this ensemble ({', '.join(known)}), got {names!r}")
    return names


@cli.command()
@click.argument("ensemble_conf", type=click.Path(dir_okay=False))
def probes(ensemble_conf: str) -> None:
    """Print each probe of the recipe: name, training config (for its data section), streams as a YAML list,
    and its role: ``member`` (combined, listed in probe_members) or ``reference`` (scored beside the members)."""
    combined = probe_members(ensemble_conf)
    for name, config, streams in probe_specs(load_ensemble_config(ensemble_conf)):
        role = "member" if name in combined else "reference"
        click.echo("\t".join([name, config, "[" + ",".join(streams) + "]", role]))


@cli.command()
@click.argument("summary", type=click.Path(exists=True, dir_okay=False))
def folds(summary: str) -> None:
    """Print the fold numbers a stage-0 summary (prepare_summary.json) records, space-separated."""
    import json

    from toolkit.corpora.folds import fold_numbers

    numbers = fold_numbers(json.loads(Path(summary).read_text(encoding="utf-8")))
    if not numbers:
        raise ToolkitError(f"{summary}: no folds; this corpus was prepared without a fold protocol")
    click.echo(" ".join(map(str, numbers)))


@cli.command("fold-table")
@click.argument("exp_root", type=click.Path(exists=True, file_okay=False))
@click.option("--folds", "fold_list", required=True, help="Space-separated fold numbers, e.g. '1 2 3 4 5'.")
def fold_table(exp_root: str, fold_list: str) -> None:
    """Write EXP_ROOT/folds.md and folds.json: UA, WA, Macro-F1 of every system per fold, mean ± std."""
    from toolkit.ensemble.cross_validation import write_fold_table

    path = write_fold_table(exp_root, [int(fold) for fold in fold_list.split()])
    click.echo(path.read_text(encoding="utf-8"), nl=False)


@cli.command("write-submissions")
@click.argument("predictions", type=click.Path(dir_okay=False))
@click.argument("outdir", type=click.Path(file_okay=False))
@click.option("--tag", required=True, help="Name of the files: <tag>_categorical.csv and <tag>_attributes.csv.")
@click.option("--manifest", type=click.Path(dir_okay=False), default=None,
              help="Manifest whose FileNames the files must cover exactly (default: the prediction file's).")
def write_submissions_command(predictions: str, outdir: str, tag: str, manifest: Optional[str]) -> None:
    """Write both leaderboard files from a prediction file: class = argmax of the logits."""
    from toolkit.data.manifest import read_manifest
    from toolkit.emotions import ATTRIBUTES
    from toolkit.predictions import LOGIT_PREFIX, prediction_codes, read_predictions
    from toolkit.submission.write import write_submissions

    frame = read_predictions(predictions)
    classes = prediction_codes(frame)
    logits = frame[[f"{LOGIT_PREFIX}{code}" for code in classes]].to_numpy()
    codes = [classes[index] for index in logits.argmax(axis=1)]
    expected = list(read_manifest(manifest)["FileName"]) if manifest else None
    for path in write_submissions(outdir, tag, list(frame["FileName"]), codes,
                                  frame[list(ATTRIBUTES)].to_numpy(), expected_ids=expected, classes=classes):
        click.echo(str(path))


@cli.command("has-labels")
@click.argument("labels", type=click.Path(dir_okay=False))
@click.option("--task", type=click.Choice(["categorical", "attributes"]), required=True)
def has_labels(labels: str, task: str) -> None:
    """Exit 0 when every row of LABELS (a manifest or labels_consensus-style CSV) has the task's labels, else 1."""
    import pandas as pd

    from toolkit.emotions import ATTRIBUTES

    path = Path(labels)
    if not path.is_file():
        raise ToolkitError(f"{path}: label file not found")
    columns = ["EmoClass"] if task == "categorical" else list(ATTRIBUTES)
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [column for column in columns if column not in frame.columns]
    if missing or not len(frame):
        sys.exit(1)
    if task == "categorical":
        labelled = (frame["EmoClass"] != "").all()
    else:
        labelled = (frame[columns] != "").all(axis=None)
    sys.exit(0 if labelled else 1)


def main(argv: Optional[List[str]] = None) -> int:
    try:
        cli.main(args=argv, prog_name="python -m toolkit.recipes_support", standalone_mode=False)
    except ToolkitError as error:
        click.echo(f"error: {error}", err=True)
        return 1
    except click.ClickException as error:
        error.show()
        return error.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
