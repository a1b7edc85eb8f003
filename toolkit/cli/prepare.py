"""``toolkit prepare``: stage 0, a corpus in, one manifest per split (or per fold and split) out.

A click group with one subcommand per corpus adapter; each subcommand is a thin layer over the
adapter's ``prepare_<corpus>`` function. To add a corpus, add a subcommand to ``prepare``.
"""

import click

from toolkit.data.soft_labels import OTHER_POLICIES, SoftLabelRule


@click.group()
def prepare() -> None:
    """Stage 0: write OUTDIR/<split>/manifest.csv for a corpus, and OUTDIR/prepare_summary.json."""


def soft_label_options(function):
    """The soft-label rule options, shared by every corpus whose labels have per-annotator votes."""
    function = click.option(
        "--secondary-weight", default=SoftLabelRule.secondary_weight, type=click.FloatRange(min=0.0),
        show_default=True,
        help="Total weight of an annotator's secondary choices (0 = primary votes only).",
    )(function)
    return click.option(
        "--other-policy", default=SoftLabelRule.other_policy, type=click.Choice(OTHER_POLICIES), show_default=True,
        help="What an 'Other-...' vote adds: nothing (drop), 1/8 to every class (uniform), or 1 to N (neutral).",
    )(function)


@prepare.command("msp-podcast")
@click.argument("root", type=click.Path(exists=True, file_okay=False))
@click.argument("outdir", type=click.Path(file_okay=False))
@click.option("--test-list", type=click.Path(exists=True, dir_okay=False), default=None,
              help="File of test3 FileNames, one a line. Default: every wav without a label row.")
@soft_label_options
@click.option("--strict", is_flag=True, default=False, show_default=True,
              help="Stop at the first input problem instead of skipping and counting bad rows.")
@click.option("--audio-scan/--no-audio-scan", default=True, show_default=True,
              help="Read every wav header for duration, sample rate, channels (--no-audio-scan leaves them empty).")
def msp_podcast(root, outdir, test_list, secondary_weight, other_policy, strict, audio_scan) -> None:
    """Prepare an MSP-Podcast release ROOT (Audios/, Labels/, Transcripts/) into OUTDIR."""
    from toolkit.corpora.msp_podcast import prepare_msp_podcast
    from toolkit.corpora.summary import format_summary

    summary = prepare_msp_podcast(
        root, outdir, test_list=test_list, strict=strict, scan_audio=audio_scan,
        soft_label_rule=SoftLabelRule(secondary_weight=secondary_weight, other_policy=other_policy),
    )
    click.echo(format_summary(summary))
    click.echo(f"summary written to {summary['output_dir']}/prepare_summary.json")


@prepare.command("generic")
@click.argument("audio_dir", type=click.Path(exists=True, file_okay=False))
@click.argument("labels_csv", type=click.Path(exists=True, dir_okay=False))
@click.argument("outdir", type=click.Path(file_okay=False))
@click.option("--label-map", default=None,
              help="YAML/JSON file of 'corpus label: class' lines, or inline 'angry=A,calm=Calm,...'; a class is a "
                   "standard code or name (A, anger, K, calm, ...), a new 'CODE Name', O (other) or X (no agreement). "
                   "Default: the standard codes and names.")
@click.option("--classes", default=None, metavar="CODES",
              help="Pin the class inventory and its order, e.g. 'A,S,H,N'; rows of other classes are skipped and "
                   "counted. Default: the label map's classes that occur in the rows.")
@click.option("--dev-fraction", default=0.2, type=click.FloatRange(0.0, 1.0, max_open=True), show_default=True,
              help="Without a split column: share of speakers (files, without a speaker column) sent to Development.")
@click.option("--attribute-range", nargs=2, type=float, default=(1.0, 7.0), show_default=True,
              help="Scale of the arousal/valence/dominance columns, mapped linearly onto 1-7.")
@click.option("--strict", is_flag=True, default=False, show_default=True,
              help="Stop at the first input problem instead of skipping and counting bad rows.")
def generic(audio_dir, labels_csv, outdir, label_map, classes, dev_fraction, attribute_range, strict) -> None:
    """Prepare a folder of wavs AUDIO_DIR plus LABELS_CSV (FileName,label[,speaker,split,arousal,valence,dominance])."""
    import json

    from toolkit.corpora.generic import load_label_map, prepare_generic
    from toolkit.emotions import Inventory

    summary = prepare_generic(audio_dir, labels_csv, outdir, label_map=load_label_map(label_map),
                              dev_fraction=dev_fraction, attribute_range=tuple(attribute_range), strict=strict,
                              classes=Inventory.parse(classes) if classes else None)
    click.echo(json.dumps({"classes": summary["classes"], "splits": summary["splits"],
                           "skipped_total": summary["skipped_total"]}, indent=2))
    click.echo(f"summary written to {outdir}/prepare_summary.json")


def fold_options(function):
    """Options every fold-protocol adapter shares."""
    function = click.option("--strict", is_flag=True, default=False, show_default=True,
                            help="Stop at the first input problem instead of skipping and counting it.")(function)
    return click.option("--dev-fraction", default=0.2, type=click.FloatRange(0.0, 1.0, min_open=True, max_open=True),
                        show_default=True,
                        help="Share of each fold's training speakers carved out as its Development set, where the "
                             "protocol has none (speaker-disjoint, deterministic).")(function)


def _report(summary, outdir) -> None:
    from toolkit.corpora.summary import format_summary

    click.echo(format_summary(summary))
    click.echo(f"summary written to {outdir}/prepare_summary.json")


@prepare.command("iemocap")
@click.argument("root", type=click.Path(exists=True, file_okay=False))
@click.argument("outdir", type=click.Path(file_okay=False))
@click.option("--classes", default="4", show_default=True,
              help="4: neu, ang, sad, hap+exc (the usual protocol); 6: neu, ang, sad, hap, exc, fru.")
@click.option("--label-map", default=None,
              help="Another protocol: a YAML/JSON file or inline 'neu=N,ang=A,...' mapping IEMOCAP's codes to classes; "
                   "replaces --classes.")
@fold_options
def iemocap(root, outdir, classes, label_map, dev_fraction, strict) -> None:
    """Prepare IEMOCAP_full_release ROOT: leave-one-session-out, fold k tests Session k."""
    from toolkit.corpora.generic import read_label_pairs
    from toolkit.corpora.iemocap import prepare_iemocap

    mapping = dict(read_label_pairs(label_map)[0]) if label_map else None
    _report(prepare_iemocap(root, outdir, classes=classes, label_map=mapping, dev_fraction=dev_fraction,
                            strict=strict), outdir)


@prepare.command("crema-d")
@click.argument("root", type=click.Path(exists=True, file_okay=False))
@click.argument("outdir", type=click.Path(file_okay=False))
@click.option("--protocol", default="actor", show_default=True, type=click.Choice(["actor", "emobox"]),
              help="actor: speaker-independent folds by actor; emobox: EmoBox's single speaker-dependent split rule.")
@click.option("--folds", default=5, show_default=True, type=click.IntRange(min=2), help="Folds of the actor protocol.")
@fold_options
def crema_d(root, outdir, protocol, folds, dev_fraction, strict) -> None:
    """Prepare a CREMA-D release ROOT (AudioWAV/, VideoDemographics.csv): classes from the file names."""
    from toolkit.corpora.crema_d import prepare_crema_d

    _report(prepare_crema_d(root, outdir, protocol=protocol, folds=folds, dev_fraction=dev_fraction, strict=strict),
            outdir)


@prepare.command("ravdess")
@click.argument("root", type=click.Path(exists=True, file_okay=False))
@click.argument("outdir", type=click.Path(file_okay=False))
@fold_options
def ravdess(root, outdir, dev_fraction, strict) -> None:
    """Prepare RAVDESS speech ROOT (Actor_01 .. Actor_24): 8 classes with calm, EmoBox's 6 actor folds."""
    from toolkit.corpora.ravdess import prepare_ravdess

    _report(prepare_ravdess(root, outdir, dev_fraction=dev_fraction, strict=strict), outdir)


@prepare.command("emodb")
@click.argument("root", type=click.Path(exists=True, file_okay=False))
@click.argument("outdir", type=click.Path(file_okay=False))
@fold_options
def emodb(root, outdir, dev_fraction, strict) -> None:
    """Prepare Emo-DB ROOT (wav/): 7 classes with boredom, leave-one-speaker-out."""
    from toolkit.corpora.emodb import prepare_emodb

    _report(prepare_emodb(root, outdir, dev_fraction=dev_fraction, strict=strict), outdir)


@prepare.command("emobox")
@click.argument("emobox_data", type=click.Path(exists=True, file_okay=False))
@click.argument("corpus")
@click.argument("outdir", type=click.Path(file_okay=False))
@click.option("--audio-root", required=True, type=click.Path(exists=True, file_okay=False),
              help="The folder holding downloads/<corpus>/ (EmoBox's root), or that corpus folder itself.")
@fold_options
def emobox(emobox_data, corpus, outdir, audio_root, dev_fraction, strict) -> None:
    """Prepare CORPUS with EmoBox's standard folds, from EmoBox's data/ folder EMOBOX_DATA."""
    from toolkit.corpora.emobox import prepare_emobox

    _report(prepare_emobox(emobox_data, corpus, outdir, audio_root, dev_fraction=dev_fraction, strict=strict), outdir)
