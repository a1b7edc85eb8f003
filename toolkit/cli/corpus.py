"""``toolkit corpus``: corpus generators. ``make-mini`` writes the mini_podcast corpus (MSP-Podcast layout)."""

import click

from toolkit.corpora.mini_podcast.channels import CHANNEL_MODES
from toolkit.corpora.mini_podcast.generate import MIN_UTTS
from toolkit.corpora.mini_podcast.writer import DETAILED_FORMATS


@click.group()
def corpus() -> None:
    """Generate corpora."""


@corpus.command("make-mini")
@click.argument("output_dir", type=click.Path(file_okay=False))
@click.option("--seed", default=0, show_default=True, type=int, help="Same seed, same corpus (labels byte for byte).")
@click.option("--num-utts", default=600, show_default=True, type=click.IntRange(min=MIN_UTTS),
              help="Utterances in all: about 2/3 Train, 1/5 Development, the rest Test3 (a multiple of 8).")
@click.option("--detailed-format", default="csv", show_default=True, type=click.Choice(DETAILED_FORMATS),
              help="Schema of Labels/labels_detailed.*: one row per annotator (csv), JSON, or packed EmoDetail.")
@click.option("--channels", default="clean", show_default=True, type=click.Choice(CHANNEL_MODES),
              help="Recording conditions: clean, or per-speaker (each speaker's own microphone response, high-pass, "
                   "gain, noise floor and room, as between podcasts).")
def make_mini(output_dir: str, seed: int, num_utts: int, detailed_format: str, channels: str) -> None:
    """Write a small synthetic-speech corpus in the MSP-Podcast layout to OUTPUT_DIR.

    Re-running with the same options on a finished directory does nothing; an interrupted run resumes.
    """
    from toolkit.corpora.mini_podcast import make_mini_podcast

    summary = make_mini_podcast(output_dir, seed=seed, num_utts=num_utts, detailed_format=detailed_format,
                                channels=channels)
    for split in ("Train", "Development", "Test3"):
        info = summary["splits"][split]
        classes = " ".join(f"{code}:{count}" for code, count in info["consensus"].items())
        click.echo(f"{split:<12} {info['utterances']:>5} utts {info['speakers']:>3} speakers  {classes}")
    click.echo(f"{summary['audio_seconds'] / 60:.1f} min of audio, "
               f"{len(summary['missing_transcripts'])} transcripts missing on purpose, in {summary['output_dir']}")
