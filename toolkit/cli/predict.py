"""``toolkit export`` (a self-contained model bundle) and ``toolkit predict`` (apply it to audio)."""

import csv
import json
import sys
from pathlib import Path
from typing import Optional, Sequence

import click


@click.command(context_settings={"show_default": True})
@click.argument("ensemble_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("bundle_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--encoder-dir", required=True, type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Directory of the encoder configs, one <stream>.yaml per feature stream (as for toolkit extract).")
@click.option("--asr-backend", default="faster-whisper", type=click.Choice(["faster-whisper", "openai-whisper"]),
              help="Recogniser for text streams (as used by toolkit transcribe for training).")
@click.option("--asr-model", default="tiny.en-offline", help="Whisper model name or local path.")
@click.option("--language", default="en")
@click.option("--beam-size", default=5, type=int)
@click.option("--window", default="30s", type=click.Choice(["30s", "utterance"]),
              help="Whisper windows, as for toolkit transcribe: give what the training transcripts used.")
@click.option("--window-padding", default=2.0, type=float, help="Silence after the audio with --window utterance.")
@click.option("--vad/--no-vad", default=False, help="Silero VAD before decoding, as for toolkit transcribe.")
@click.option("--copy-models/--no-copy-models", default=True,
              help="Copy encoder and ASR models given as local paths into the bundle.")
@click.option("--force", is_flag=True, help="Replace BUNDLE_DIR if it exists.")
def export(ensemble_dir: Path, bundle_dir: Path, encoder_dir: Path, asr_backend: str, asr_model: str, language: str,
           beam_size: int, window: str, window_padding: float, vad: bool, copy_models: bool, force: bool) -> None:
    """Bundle the submitted system of ENSEMBLE_DIR (its combiner, members and encoder specs) into BUNDLE_DIR."""
    from toolkit.asr.backends import AsrOptions
    from toolkit.inference.bundle import export_bundle

    options = AsrOptions(backend=asr_backend, model=asr_model, language=language or None, beam_size=beam_size,
                         window=window, window_padding=window_padding, vad=vad)
    path = export_bundle(ensemble_dir, bundle_dir, encoder_dir, asr_options=options, copy_models=copy_models, force=force)
    click.echo(f"wrote {path}")


def _write(rows, output_format: str, stream) -> None:
    if output_format == "json":
        json.dump(rows, stream, indent=2)
        stream.write("\n")
        return
    if output_format == "csv":
        writer = csv.DictWriter(stream, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        return
    columns = list(rows[0])
    cells = [[("" if row[c] is None else str(row[c])) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    stream.write("  ".join(c.ljust(w) for c, w in zip(columns, widths)).rstrip() + "\n")
    for row in cells:
        stream.write("  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip() + "\n")


@click.command(context_settings={"show_default": True})
@click.argument("bundle_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("audio", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--manifest", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Predict the utterances of a manifest (its path column) instead of AUDIO; rows carry its FileNames.")
@click.option("--classes", default=None, metavar="CODES",
              help="Classes to predict, when they differ from the system's (another corpus's). Default: --manifest's "
                   "classes (its soft-label columns), else the system's.")
@click.option("--class-map", default=None, metavar="MAP",
              help="System class -> target class pairs beyond the shared codes, e.g. 'E=H,C=-' (or a YAML file); "
                   "mapped probabilities are summed and renormalised over the target classes.")
@click.option("--submissions-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="With --manifest: also write <tag>_categorical.csv and <tag>_attributes.csv there, validated.")
@click.option("--tag", default="predict", help="Name of the leaderboard-style files of --submissions-dir.")
@click.option("--format", "output_format", default="table", type=click.Choice(["table", "csv", "json"]))
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the rows here instead of stdout.")
@click.option("--batch-size", default=8, type=int, help="Files processed together (bounds memory).")
@click.option("--device", default="auto", help="auto, cpu, cuda or cuda:N.")
def predict(bundle_dir: Path, audio: Sequence[Path], manifest: Optional[Path], classes: Optional[str],
            class_map: Optional[str], submissions_dir: Optional[Path], tag: str, output_format: str,
            output: Optional[Path], batch_size: int, device: str) -> None:
    """Class, class probabilities and 3 attributes for each AUDIO file (or audio directory, or --manifest row)."""
    from toolkit.inference.predict import Predictor, find_audio, manifest_audio, target_class_map, write_files
    from toolkit.utils.atomic import atomic_path
    from toolkit.utils.errors import ToolkitError

    if bool(audio) == bool(manifest):
        raise ToolkitError("give AUDIO files or directories, or --manifest, not both or neither")
    if submissions_dir is not None and manifest is None:
        raise ToolkitError("--submissions-dir writes one row per FileName of --manifest; give --manifest")
    file_names, paths = manifest_audio(manifest) if manifest else ([], find_audio(audio))
    predictor = Predictor(bundle_dir, device=device, class_map=target_class_map(bundle_dir, manifest, classes, class_map))
    results = list(predictor.predict_files(paths, batch_size=batch_size))
    rows = [dict({"FileName": name} if manifest else {}, **result.as_row())
            for name, result in zip(file_names or paths, results)]
    if output is None:
        _write(rows, output_format, sys.stdout)
    else:
        with atomic_path(output) as temporary, open(temporary, "w", encoding="utf-8", newline="") as handle:
            _write(rows, output_format, handle)
        click.echo(f"wrote {output}", err=True)
    failed = [row for row in rows if row["error"]]
    if failed:
        click.echo(f"error: {len(failed)} of {len(rows)} file(s) could not be predicted (see the error column), "
                   f"e.g. {failed[0]['file']}: {failed[0]['error']}", err=True)
        sys.exit(1)
    if submissions_dir is not None:
        for path in write_files(results, file_names, submissions_dir, tag, predictor.inventory):
            click.echo(f"wrote {path}", err=True)
