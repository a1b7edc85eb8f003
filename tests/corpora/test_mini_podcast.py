"""The generated mini corpus on disk: MSP-Podcast layout, audio, determinism, resume, stage 0, CLI."""

import csv
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile
from click.testing import CliRunner

from toolkit.cli import main
from toolkit.corpora.mini_podcast import make_mini_podcast
from toolkit.emotions import ALL_CONSENSUS_CODES, EMOTION_CODES, SOFT_COLUMNS
from toolkit.utils.errors import ToolkitError

SIZE = 24
CONSENSUS_HEADER = "FileName,EmoClass,EmoAct,EmoVal,EmoDom,SpkrID,Gender,Split_Set"
NAME_PATTERN = re.compile(r"MSP-PODCAST_\d{4}_\d{4}(_\d{4})?\.wav")
TEST3_PATTERN = re.compile(r"MSP-PODCAST_test3_\d{4}\.wav")
ANNOTATOR_NAMES = {"Angry", "Sad", "Happy", "Surprise", "Fear", "Disgust", "Contempt", "Neutral"}


@pytest.fixture(scope="module")
def corpora(tmp_path_factory):
    """The same seed in the three per-annotator formats."""
    base = tmp_path_factory.mktemp("mini")
    return {fmt: (base / fmt, make_mini_podcast(base / fmt, seed=0, num_utts=SIZE, detailed_format=fmt))
            for fmt in ("csv", "json", "emodetail")}


@pytest.fixture(scope="module")
def root(corpora):
    return corpora["csv"][0]


def _rows(path):
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_layout_is_msp_podcast(corpora):
    for fmt, (directory, _) in corpora.items():
        detailed = "labels_detailed.json" if fmt == "json" else "labels_detailed.csv"
        assert (directory / "Labels" / "labels_consensus.csv").is_file()
        assert sorted(p.name for p in (directory / "Labels").iterdir()) == sorted(["labels_consensus.csv", detailed])
        assert (directory / "Key" / "test3_labels.csv").is_file()
        assert len(list((directory / "Audios").glob("*.wav"))) == SIZE


def test_consensus_file_has_the_exact_header_and_value_conventions(root):
    path = root / "Labels" / "labels_consensus.csv"
    assert path.read_text(encoding="utf-8").splitlines()[0] == CONSENSUS_HEADER
    rows = _rows(path)
    assert {row["Split_Set"] for row in rows} == {"Train", "Development"}
    for row in rows:
        assert NAME_PATTERN.fullmatch(row["FileName"]), row["FileName"]
        assert (root / "Audios" / row["FileName"]).is_file()
        assert row["EmoClass"] in ALL_CONSENSUS_CODES
        for attribute in ("EmoAct", "EmoVal", "EmoDom"):
            assert re.fullmatch(r"\d\.\d", row[attribute]) and 1.0 <= float(row[attribute]) <= 7.0
        assert row["SpkrID"] == "Unknown" or row["SpkrID"].isdigit()
        assert row["Gender"] in ("Male", "Female")
    assert [row["FileName"] for row in rows] == sorted(row["FileName"] for row in rows)


def test_detailed_csv_has_one_row_per_annotator(root):
    path = root / "Labels" / "labels_detailed.csv"
    assert path.read_text(encoding="utf-8").splitlines()[0] == \
        "FileName,WorkerID,EmoClass_Major,EmoClass_Second,EmoAct,EmoVal,EmoDom"
    rows = _rows(path)
    labelled = {row["FileName"] for row in _rows(root / "Labels" / "labels_consensus.csv")}
    assert {row["FileName"] for row in rows} == labelled
    for row in rows:
        assert re.fullmatch(r"WORKER\d{5}", row["WorkerID"])
        assert row["EmoClass_Major"] in ANNOTATOR_NAMES or row["EmoClass_Major"].startswith("Other-")
        assert all(name in ANNOTATOR_NAMES for name in filter(None, row["EmoClass_Second"].split(",")))
        assert float(row["EmoAct"]) in range(1, 8)
    per_file = {name: sum(row["FileName"] == name for row in rows) for name in labelled}
    assert min(per_file.values()) >= 5


def test_detailed_json_and_emodetail_schemas(corpora):
    payload = json.loads((corpora["json"][0] / "Labels" / "labels_detailed.json").read_text(encoding="utf-8"))
    file_name, workers = next(iter(payload.items()))
    worker, vote = next(iter(workers.items()))
    assert NAME_PATTERN.fullmatch(file_name) and worker.startswith("WORKER")
    assert set(vote) == {"EmoClass_Major", "EmoClass_Second", "EmoAct", "EmoVal", "EmoDom"}
    rows = _rows(corpora["emodetail"][0] / "Labels" / "labels_detailed.csv")
    assert list(rows[0]) == ["FileName", "EmoDetail"]
    pattern = r"WORKER\d{5}; [A-Za-z-]+; [A-Za-z,]*; A:\d\.\d; V:\d\.\d; D:\d\.\d;"
    assert all(re.fullmatch(pattern, row["EmoDetail"]) for row in rows)
    assert sum(len(workers) for workers in payload.values()) == len(rows)


def test_key_covers_test3_exactly_and_is_balanced(root):
    key_path = root / "Key" / "test3_labels.csv"
    assert key_path.read_text(encoding="utf-8").splitlines()[0] == CONSENSUS_HEADER
    key = _rows(key_path)
    labelled = {row["FileName"] for row in _rows(root / "Labels" / "labels_consensus.csv")}
    unlabelled = {path.name for path in (root / "Audios").glob("*.wav")} - labelled
    assert {row["FileName"] for row in key} == unlabelled
    assert all(TEST3_PATTERN.fullmatch(name) for name in unlabelled)
    assert all(row["Split_Set"] == "Test3" for row in key)
    counts = [sum(row["EmoClass"] == code for row in key) for code in EMOTION_CODES]
    assert len(set(counts)) == 1 and counts[0] >= 1


def test_audio_is_16k_mono_16bit_speech(root):
    for path in sorted((root / "Audios").glob("*.wav"))[:8]:
        info = soundfile.info(str(path))
        assert (info.samplerate, info.channels, info.subtype) == (16000, 1, "PCM_16")
        assert 1.0 < info.duration < 15.0
        samples, _ = soundfile.read(str(path), dtype="float32")
        frames = samples[: len(samples) // 400 * 400].reshape(-1, 400)
        energy = np.sqrt((frames ** 2).mean(axis=1))
        # Speech: loud frames well above the noise floor of the padding.
        assert energy.max() > 30 * np.median(energy[:3])


def test_transcripts_are_the_spoken_text_with_a_few_missing(root, corpora):
    summary = corpora["csv"][1]
    missing = set(summary["missing_transcripts"])
    assert missing
    design = {row["FileName"]: row for row in _rows(root / "Key" / "utterance_design.csv")}
    for name in design:
        transcript = root / "Transcripts" / (Path(name).stem + ".txt")
        assert transcript.is_file() == (name not in missing)
        if transcript.is_file():
            assert transcript.read_text(encoding="utf-8").strip()


def test_speakers_do_not_cross_splits(root):
    rows = _rows(root / "Labels" / "labels_consensus.csv") + _rows(root / "Key" / "test3_labels.csv")
    speakers = {}
    for row in rows:
        if row["SpkrID"] != "Unknown":
            speakers.setdefault(row["SpkrID"], set()).add(row["Split_Set"])
    assert all(len(splits) == 1 for splits in speakers.values())


def test_same_seed_gives_the_same_bytes(tmp_path, root):
    make_mini_podcast(tmp_path / "again", seed=0, num_utts=SIZE)
    for relative in ("Labels/labels_consensus.csv", "Labels/labels_detailed.csv", "Key/test3_labels.csv"):
        assert (tmp_path / "again" / relative).read_bytes() == (root / relative).read_bytes(), relative
    # Audio too, although espeak-ng already ran in this process (see synthesis.py on chunks).
    for wav in sorted((root / "Audios").glob("*.wav")):
        assert (tmp_path / "again" / "Audios" / wav.name).read_bytes() == wav.read_bytes(), wav.name


def test_rerun_is_a_no_op_and_other_arguments_are_refused(corpora):
    directory, summary = corpora["json"]
    stamps = {path: path.stat().st_mtime_ns for path in directory.rglob("*") if path.is_file()}
    assert make_mini_podcast(directory, seed=0, num_utts=SIZE, detailed_format="json") == summary
    assert {path: path.stat().st_mtime_ns for path in directory.rglob("*") if path.is_file()} == stamps
    with pytest.raises(ToolkitError, match="seed=0"):
        make_mini_podcast(directory, seed=4, num_utts=SIZE, detailed_format="json")


def test_interrupted_run_resumes_to_the_same_corpus(tmp_path, root):
    directory = tmp_path / "corpus"
    shutil.copytree(root, directory)
    victim = sorted((directory / "Audios").glob("*.wav"))[5]
    victim.unlink()
    (directory / ".mini_podcast.done").unlink()
    (directory / "Labels" / "labels_consensus.csv").unlink()
    make_mini_podcast(directory, seed=0, num_utts=SIZE)
    assert victim.read_bytes() == (root / "Audios" / victim.name).read_bytes()
    assert (directory / "Labels" / "labels_consensus.csv").read_bytes() == \
        (root / "Labels" / "labels_consensus.csv").read_bytes()


def test_refuses_a_directory_that_is_not_a_mini_corpus(tmp_path):
    (tmp_path / "Audios").mkdir()
    with pytest.raises(ToolkitError, match="not empty"):
        make_mini_podcast(tmp_path, num_utts=24)
    with pytest.raises(ToolkitError, match="at least 24"):
        make_mini_podcast(tmp_path / "small", num_utts=10)
    with pytest.raises(ToolkitError, match="detailed_format"):
        make_mini_podcast(tmp_path / "fmt", num_utts=24, detailed_format="xml")


def test_three_detailed_formats_give_the_same_soft_labels_after_stage_0(corpora, tmp_path):
    import pandas as pd

    from toolkit.corpora.msp_podcast import prepare_msp_podcast

    frames = {}
    for fmt, (directory, _) in corpora.items():
        summary = prepare_msp_podcast(directory, tmp_path / fmt)
        assert not summary["skipped"], summary["skipped"]
        frames[fmt] = {split: pd.read_csv(tmp_path / fmt / split / "manifest.csv", dtype=str, keep_default_na=False)
                       for split in ("train", "development", "test3")}
    columns = ["FileName", "EmoClass", "n_annotators", *SOFT_COLUMNS]
    for split in ("train", "development"):
        reference = frames["csv"][split][columns]
        assert (reference["n_annotators"].astype(int) >= 5).all()
        soft = reference[list(SOFT_COLUMNS)].astype(float).to_numpy()
        assert np.allclose(soft.sum(axis=1), 1.0)
        for fmt in ("json", "emodetail"):
            pd.testing.assert_frame_equal(frames[fmt][split][columns], reference)
    key = {row["FileName"] for row in _rows(corpora["csv"][0] / "Key" / "test3_labels.csv")}
    assert set(frames["csv"]["test3"]["FileName"]) == key


def test_cli_make_mini(corpora, tmp_path):
    directory = corpora["emodetail"][0]
    runner = CliRunner()
    arguments = ["corpus", "make-mini", str(directory), "--num-utts", str(SIZE), "--detailed-format", "emodetail"]
    result = runner.invoke(main, arguments + ["--seed", "0"])
    assert result.exit_code == 0, result.output
    assert re.search(r"Test3 +8 utts", result.output) and re.search(r"Train +\d+ utts", result.output)
    refused = runner.invoke(main, arguments + ["--seed", "1"])
    assert refused.exit_code == 1 and "error:" in refused.output and "Traceback" not in refused.output
    too_small = runner.invoke(main, ["corpus", "make-mini", str(tmp_path / "x"), "--num-utts", "5"])
    assert too_small.exit_code == 2 and not (tmp_path / "x").exists()


def _band_levels(path):
    """Energy (dB) of the waveform in four frequency bands."""
    samples, rate = soundfile.read(str(path))
    spectrum = np.abs(np.fft.rfft(samples)) ** 2
    frequencies = np.fft.rfftfreq(len(samples), 1 / rate)
    edges = [(100, 400), (400, 1200), (1200, 3000), (3000, 7000)]
    return np.array([10 * np.log10(spectrum[(frequencies >= low) & (frequencies < high)].sum() + 1e-12)
                     for low, high in edges])


def test_per_speaker_channels_colour_every_speaker_alike_and_leave_the_labels_alone(tmp_path, root):
    channelled = tmp_path / "channels"
    summary = make_mini_podcast(channelled, seed=0, num_utts=SIZE, channels="per-speaker")
    for relative in ("Labels/labels_consensus.csv", "Labels/labels_detailed.csv", "Key/test3_labels.csv"):
        assert (channelled / relative).read_bytes() == (root / relative).read_bytes(), relative
    design = {row["FileName"]: row for row in _rows(root / "Key" / "utterance_design.csv")}
    speakers = {row["FileName"]: row["SpkrID"] for row in _rows(root / "Labels" / "labels_consensus.csv")}
    speakers.update({row["FileName"]: "test3-" + design[row["FileName"]]["Voice"]
                     for row in _rows(root / "Key" / "test3_labels.csv")})
    assert len(summary["recording_channels"]) == len({row["Voice"] for row in design.values()}), "one per speaker"
    # The channel's transfer function: band levels with the channel minus without, per utterance.
    responses = {}
    for wav in sorted((root / "Audios").glob("*.wav")):
        if speakers.get(wav.name, "Unknown") != "Unknown":
            responses.setdefault(speakers[wav.name], []).append(
                _band_levels(channelled / "Audios" / wav.name) - _band_levels(wav))
    repeated = [np.stack(r) for r in responses.values() if len(r) > 1]
    within = np.mean([r.std(axis=0).mean() for r in repeated])
    across = np.stack([np.mean(r, axis=0) for r in responses.values()]).std(axis=0).mean()
    assert within < 1.5 and across > 3 * within, (within, across)
    with pytest.raises(ToolkitError, match="channels='studio' is not one of clean, per-speaker"):
        make_mini_podcast(tmp_path / "bad", seed=0, num_utts=SIZE, channels="studio")
