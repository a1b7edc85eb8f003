import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from tests.asr.speech import SENTENCES, write_manifest_csv
from toolkit.asr import transcribe as transcribe_module
from toolkit.asr.backends import AsrOptions
from toolkit.asr.transcribe import merge_transcripts, transcribe_manifest
from toolkit.asr.wer import text_normalizer
from toolkit.utils.errors import ToolkitError

OPTIONS = AsrOptions(backend="faster-whisper", model="tiny.en-offline", beam_size=1)
normalize = text_normalizer("basic")


def read_csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def finished_run(speech_dir, tmp_path_factory):
    """One uninterrupted single-job run over the three spoken utterances: (manifest, outdir)."""
    directory = tmp_path_factory.mktemp("finished")
    rows = [(name, str(speech_dir / name), text) for name, text in SENTENCES.items()]
    manifest = write_manifest_csv(directory / "manifest.csv", rows)
    transcribe_manifest(manifest, directory / "asr", OPTIONS, device="cpu")
    return manifest, directory / "asr"


def test_transcribes_a_manifest_and_scores_it(finished_run):
    _, outdir = finished_run
    merged = read_csv(outdir / "manifest.csv")
    assert list(merged["FileName"]) == list(SENTENCES)
    assert list(merged["text"]) == list(SENTENCES.values())
    assert [normalize(text) for text in merged["asr_text"]] == [normalize(text) for text in SENTENCES.values()]
    summary = json.loads((outdir / "wer.json").read_text())
    assert summary["wer"] == 0.0 and summary["utterances_scored"] == 3 and summary["failed"] == 0
    assert summary["options"]["backend"] == "faster-whisper" and summary["real_time_factor"] > 0
    assert (outdir / "failures.tsv").read_text() == "FileName\treason\n"
    assert (outdir / ".done").exists()


def test_finished_run_is_skipped_without_loading_a_model(finished_run, monkeypatch):
    manifest, outdir = finished_run
    before = (outdir / "manifest.csv").read_text()

    def refuse(*args, **kwargs):
        raise AssertionError("a finished run must not load a model")

    monkeypatch.setattr(transcribe_module, "load_backend", refuse)
    reports = transcribe_manifest(manifest, outdir, OPTIONS, device="cpu")
    assert reports[0].resumed == 3
    assert (outdir / "manifest.csv").read_text() == before


def test_bad_audio_is_recorded_and_the_rest_goes_on(mixed_manifest, tmp_path):
    outdir = tmp_path / "asr"
    transcribe_manifest(mixed_manifest, outdir, OPTIONS, device="cpu")

    merged = read_csv(outdir / "manifest.csv").set_index("FileName")
    assert normalize(merged.loc["utt_hello.wav", "asr_text"]) == "hello world"
    assert normalize(merged.loc["utt_station.wav", "asr_text"]) == "where is the train station"
    assert merged.loc["utt_garbage.wav", "asr_text"] == "" and merged.loc["utt_empty.wav", "asr_text"] == ""
    failures = pd.read_csv(outdir / "failures.tsv", sep="\t").set_index("FileName")["reason"]
    assert sorted(failures.index) == ["utt_empty.wav", "utt_garbage.wav"]
    assert "utt_garbage.wav: not readable as audio" in failures["utt_garbage.wav"]
    assert "no samples" in failures["utt_empty.wav"]
    summary = json.loads((outdir / "wer.json").read_text())
    assert (summary["utterances"], summary["failed"], summary["utterances_scored"]) == (4, 2, 1)
    assert summary["utterances_failed_with_reference"] == 1
    assert summary["utterances_without_reference"] == 2


def test_strict_stops_at_the_first_bad_file(mixed_manifest, tmp_path):
    with pytest.raises(ToolkitError, match="utt_garbage.wav: .*not readable.*--strict"):
        transcribe_manifest(mixed_manifest, tmp_path / "asr", OPTIONS, device="cpu", strict=True)
    assert not (tmp_path / "asr" / "manifest.csv").exists()


def test_array_jobs_then_merge_equal_one_job(finished_run, tmp_path):
    manifest, single = finished_run
    sharded = tmp_path / "sharded"
    transcribe_manifest(manifest, sharded, OPTIONS, device="cpu", num_jobs=2, job=2)
    assert (sharded / "shards" / ".2of2.done").exists() and not (sharded / "manifest.csv").exists()
    with pytest.raises(ToolkitError, match=r"shard\(s\) 1 of --nj 2 not finished"):
        merge_transcripts(manifest, sharded, num_jobs=2)
    transcribe_manifest(manifest, sharded, OPTIONS, device="cpu", num_jobs=2, job=1)
    merge_transcripts(manifest, sharded, num_jobs=2)
    pd.testing.assert_frame_equal(read_csv(sharded / "manifest.csv"), read_csv(single / "manifest.csv"))


def test_changed_settings_are_refused(finished_run):
    manifest, outdir = finished_run
    with pytest.raises(ToolkitError, match="beam_size: 1 -> 5"):
        transcribe_manifest(manifest, outdir, AsrOptions(beam_size=5), device="cpu")


def test_duplicate_file_names_are_refused_with_line_numbers(speech_dir, tmp_path):
    path = str(speech_dir / "utt_hello.wav")
    manifest = write_manifest_csv(tmp_path / "m.csv", [("a.wav", path, ""), ("b.wav", path, ""), ("a.wav", path, "")])
    with pytest.raises(ToolkitError, match=r"m.csv: FileName must be unique, repeated on line\(s\) 2, 4"):
        transcribe_manifest(manifest, tmp_path / "asr", OPTIONS, device="cpu")


def test_killed_run_resumes_to_the_same_output(finished_run, tmp_path):
    manifest, uninterrupted = finished_run
    outdir = tmp_path / "killed"
    results = outdir / "shards" / "1of1.jsonl"
    command = [sys.executable, "-c", "from toolkit.cli import main; main()", "transcribe", str(manifest), str(outdir),
               "--beam-size", "1", "--device", "cpu"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 120
    while not (results.exists() and results.read_text().count("\n") >= 1) and process.poll() is None:
        assert time.monotonic() < deadline, "the transcription subprocess made no progress"
        time.sleep(0.02)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    finished_before = results.read_text().splitlines()
    assert 1 <= len(finished_before) < len(SENTENCES), "the run was meant to be killed part-way"
    with results.open("a") as handle:  # a crash in the middle of writing a line
        handle.write('{"FileName": "utt_sta')

    reports = transcribe_manifest(manifest, outdir, OPTIONS, device="cpu")

    assert reports[0].resumed == len(finished_before)
    lines = results.read_text().splitlines()
    assert lines[: len(finished_before)] == finished_before and len(lines) == len(SENTENCES)
    pd.testing.assert_frame_equal(read_csv(outdir / "manifest.csv"), read_csv(uninterrupted / "manifest.csv"))


def test_no_speech_gives_an_empty_transcript_counted_but_not_failed(tmp_path):
    import numpy as np
    import soundfile

    soundfile.write(str(tmp_path / "silence.wav"), np.zeros(32000, dtype=np.float32), 16000)
    manifest = write_manifest_csv(tmp_path / "m.csv", [("silence.wav", "silence.wav", "")])  # relative to the manifest
    transcribe_manifest(manifest, tmp_path / "asr", AsrOptions(vad=True, beam_size=1), device="cpu")
    summary = json.loads((tmp_path / "asr" / "wer.json").read_text())
    assert (summary["empty_transcripts"], summary["failed"]) == (1, 0)
    assert read_csv(tmp_path / "asr" / "manifest.csv")["asr_text"].tolist() == [""]
