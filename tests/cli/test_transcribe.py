import json
import subprocess
import sys

import pandas as pd
import pytest
from click.testing import CliRunner

from tests.asr.speech import SENTENCES, write_manifest_csv, write_speech_corpus
from toolkit.cli import main


@pytest.fixture(scope="module")
def speech_dir(tmp_path_factory):
    return write_speech_corpus(tmp_path_factory.mktemp("speech"))


@pytest.fixture()
def speech_manifest(speech_dir, tmp_path):
    return write_manifest_csv(tmp_path / "manifest.csv", [(name, str(speech_dir / name), text) for name, text in SENTENCES.items()])


def run(*args):
    return CliRunner().invoke(main, ["transcribe", *map(str, args)])


def test_missing_model_path_is_an_error_without_traceback(speech_manifest, tmp_path):
    result = run(speech_manifest, tmp_path / "asr", "--backend", "openai-whisper", "--model", tmp_path / "nope.pt")
    assert result.exit_code == 1
    assert "error: --model" in result.output and "no such file or directory" in result.output
    assert "Traceback" not in result.output


def test_merge_before_any_shard_ran_says_what_to_run(speech_manifest, tmp_path):
    result = run(speech_manifest, tmp_path / "asr", "--nj", "2", "--merge")
    assert result.exit_code == 1 and "no transcription results to merge" in result.output


def test_job_outside_nj_is_refused(speech_manifest, tmp_path):
    result = run(speech_manifest, tmp_path / "asr", "--nj", "2", "--job", "3")
    assert result.exit_code == 1 and "--job must be between 1 and --nj=2" in result.output


def test_all_shards_in_turn_then_merge_when_no_job_is_given(speech_dir, tmp_path):
    rows = [(name, str(speech_dir / name), "") for name in ("utt_garbage.wav", "utt_empty.wav")]
    manifest = write_manifest_csv(tmp_path / "broken.csv", rows)
    result = run(manifest, tmp_path / "asr", "--nj", "2", "--beam-size", "1", "--device", "cpu")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "asr" / "shards" / ".1of2.done").exists() and (tmp_path / "asr" / "shards" / ".2of2.done").exists()
    failures = pd.read_csv(tmp_path / "asr" / "failures.tsv", sep="\t")
    assert list(failures["FileName"]) == ["utt_garbage.wav", "utt_empty.wav"]
    summary = json.loads((tmp_path / "asr" / "wer.json").read_text())
    assert summary["failed"] == 2 and summary["wer"] is None


def test_strict_makes_a_bad_file_fatal(speech_dir, tmp_path):
    manifest = write_manifest_csv(tmp_path / "m.csv", [("utt_garbage.wav", str(speech_dir / "utt_garbage.wav"), "")])
    result = run(manifest, tmp_path / "asr", "--strict", "--device", "cpu")
    assert result.exit_code == 1 and "utt_garbage.wav" in result.output and "--strict" in result.output


def test_the_command_module_does_not_import_torch():
    code = "import sys, toolkit.cli.transcribe; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True)
