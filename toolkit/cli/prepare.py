"""``toolkit prepare``: stage 0, a corpus in, one manifest per split out (``prepare msp-podcast ...``).

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
