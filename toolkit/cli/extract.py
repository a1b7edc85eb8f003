"""``toolkit extract``: frozen-encoder features of a manifest into a sharded feature store (stage 2)."""

import click


@click.command()
@click.argument("manifest", type=click.Path(exists=True, dir_okay=False))
@click.argument("outdir", type=click.Path(file_okay=False))
@click.option("--encoder", "encoder_config", required=True, type=click.Path(exists=True, dir_okay=False),
              help="Encoder config, e.g. conf/encoders/wavlm_large.yaml.")
@click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda or cuda:N.")
@click.option("--nj", "num_jobs", default=1, show_default=True, type=int, help="Number of shards (JOB=1:N).")
@click.option("--job", default=None, type=int,
              help="Shard to run, 1-based; without it every unfinished shard runs in turn and the store is merged.")
@click.option("--merge", is_flag=True, help="Merge the shards into the store's index (all shards must be done).")
@click.option("--batch-seconds", default=None, type=float,
              help="Padded seconds of audio (tokens for text encoders) per batch; overrides the config.")
@click.option("--text-column", default=None, help="Transcript column for text encoders; overrides the config.")
@click.option("--model", default=None, help="Model name or local directory; overrides the config's model:.")
@click.option("--strict", is_flag=True, help="Stop at the first utterance that fails instead of recording it.")
def extract(manifest, outdir, encoder_config, device, num_jobs, job, merge, batch_seconds, text_column, model, strict):
    """Extract features of MANIFEST's utterances into the feature store OUTDIR."""
    from toolkit.features.extract import extract_features

    extract_features(
        manifest, outdir, encoder_config, device=device, num_jobs=num_jobs, job=job, merge=merge,
        batch_seconds=batch_seconds, strict=strict, text_column=text_column, model=model,
    )
