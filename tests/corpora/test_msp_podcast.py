import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.corpora.msp_layout import CONSENSUS_HEADER, DEFAULT_ROWS, TEST3_NAMES, build_release, write_wav
from toolkit.corpora.msp_podcast import prepare_msp_podcast
from toolkit.data.manifest import MANIFEST_COLUMNS, read_manifest, soft_label_matrix
from toolkit.data.soft_labels import SoftLabelRule
from toolkit.utils.errors import ToolkitError


def row_of(frame, name):
    matches = frame[frame["FileName"] == name]
    assert len(matches) == 1, name
    return matches.iloc[0]


def soft_of(frame, name):
    return soft_label_matrix(frame[frame["FileName"] == name])[0]


@pytest.fixture
def release(tmp_path):
    return build_release(tmp_path / "MSP-PODCAST")


def test_manifests_per_split_with_documented_columns(release, tmp_path):
    out = tmp_path / "data"
    summary = prepare_msp_podcast(release, out)
    assert sorted(path.parent.name for path in out.glob("*/manifest.csv")) == ["development", "test3", "train"]
    train = read_manifest(out / "train" / "manifest.csv")
    assert list(train.columns) == MANIFEST_COLUMNS
    assert list(train["FileName"]) == sorted(row[0] for row in DEFAULT_ROWS if row[7] == "Train")
    first = row_of(train, "MSP-PODCAST_0001_0001.wav")
    # consensus columns verbatim
    assert [first[column] for column in MANIFEST_COLUMNS[:8]] == list(DEFAULT_ROWS[0])
    assert Path(first["path"]).is_absolute() and Path(first["path"]).is_file()
    assert float(first["duration"]) == pytest.approx(0.25)
    assert (first["sample_rate"], first["num_channels"], first["n_annotators"]) == ("16000", "1", "3")
    assert first["text"] == 'words of MSP-PODCAST_0001_0001.wav, "quoted"'
    # default rule, hand computed: Angry, Angry, Contempt -> A 2/3, C 1/3
    expected = np.zeros(8)
    expected[[0, 6]] = [2 / 3, 1 / 3]
    np.testing.assert_allclose(soft_of(train, "MSP-PODCAST_0001_0001.wav"), expected)
    # X consensus: Sad, Fear, Other (dropped) -> S 1/2, F 1/2
    np.testing.assert_allclose(soft_of(train, "MSP-PODCAST_0002_0001.wav"), [0, .5, 0, 0, .5, 0, 0, 0])
    development = read_manifest(out / "development" / "manifest.csv")
    other = row_of(development, "MSP-PODCAST_0003_0002.wav")
    # only Other votes: no soft label, kept for the attribute head, no transcript
    assert [other[column] for column in ("soft_A", "soft_N", "text", "EmoAct")] == ["", "", "", "3.0"]
    assert other["Gender"] == "Other"
    test3 = read_manifest(out / "test3" / "manifest.csv")
    assert list(test3["FileName"]) == TEST3_NAMES
    assert set(test3["EmoClass"]) == {""} and set(test3["soft_A"]) == {""} and set(test3["Split_Set"]) == {"Test3"}
    assert summary == json.loads((out / "prepare_summary.json").read_text())
    assert summary["splits"]["train"]["rows"] == 3 and summary["splits"]["train"]["classes"] == {"A": 1, "N": 1, "X": 1}
    assert summary["splits"]["development"]["soft_labels"] == 1
    assert summary["problems"] == {} and summary["notes"] == {"no_soft_label": 1}
    assert summary["inputs"]["annotation_format"] == "csv-rows"
    assert (out / "train" / ".done").exists() and (out / ".prepare.done").exists()


def test_soft_labels_sum_to_one_and_follow_the_rule(release, tmp_path):
    rule = SoftLabelRule(secondary_weight=0.5, other_policy="uniform")
    prepare_msp_podcast(release, tmp_path / "data", soft_label_rule=rule)
    train = read_manifest(tmp_path / "data" / "train" / "manifest.csv")
    soft = soft_label_matrix(train)
    np.testing.assert_allclose(soft.sum(axis=1), 1.0)
    # W1 A1 + D.5, W2 A1, W3 C1 + A.5 (Frustrated carries nothing) -> A 2.5, D .5, C 1 of 4
    expected = np.zeros(8)
    expected[[0, 5, 6]] = [0.625, 0.125, 0.25]
    np.testing.assert_allclose(soft_of(train, "MSP-PODCAST_0001_0001.wav"), expected)
    development = read_manifest(tmp_path / "data" / "development" / "manifest.csv")
    np.testing.assert_allclose(soft_of(development, "MSP-PODCAST_0003_0002.wav"), np.full(8, 1 / 8))


@pytest.mark.parametrize("fmt", ["json", "csv-packed"])
def test_every_annotation_format_gives_the_same_manifests(tmp_path, fmt):
    reference = build_release(tmp_path / "rows", annotation_format="csv-rows")
    other = build_release(tmp_path / fmt, annotation_format=fmt)
    rule = SoftLabelRule(secondary_weight=1.0)
    prepare_msp_podcast(reference, tmp_path / "out-rows", soft_label_rule=rule)
    summary = prepare_msp_podcast(other, tmp_path / f"out-{fmt}", soft_label_rule=rule)
    assert summary["inputs"]["annotation_format"] == fmt
    for split in ("train", "development"):
        left = read_manifest(tmp_path / "out-rows" / split / "manifest.csv").drop(columns=["path"])
        right = read_manifest(tmp_path / f"out-{fmt}" / split / "manifest.csv").drop(columns=["path"])
        assert left.equals(right)


def test_consensus_json_twin_gives_the_same_manifests(release, tmp_path):
    prepare_msp_podcast(release, tmp_path / "from-csv")
    labels = release / "Labels"
    document = {row[0]: dict(zip(CONSENSUS_HEADER.split(",")[1:], row[1:])) for row in DEFAULT_ROWS}
    for record in document.values():
        record["SpkrID"] = int(record["SpkrID"]) if record["SpkrID"].isdigit() else record["SpkrID"]
    (labels / "labels_consensus.csv").unlink()
    (labels / "labels_consensus.json").write_text(json.dumps(document))
    prepare_msp_podcast(release, tmp_path / "from-json")
    for split in ("train", "development", "test3"):
        assert read_manifest(tmp_path / "from-csv" / split / "manifest.csv").equals(
            read_manifest(tmp_path / "from-json" / split / "manifest.csv"))


BAD_ROWS = [
    ("unknown_class", "MSP-PODCAST_0009_0001.wav,Q,4,4,4,1,Male,Train", "EmoClass 'Q' is not one of"),
    ("unparsable_number", "MSP-PODCAST_0009_0001.wav,A,high,4,4,1,Male,Train", "EmoAct 'high' is not a number"),
    ("unparsable_number", "MSP-PODCAST_0009_0001.wav,A,4,,4,1,Male,Train", "EmoVal '' is not a number"),
    ("attribute_out_of_range", "MSP-PODCAST_0009_0001.wav,A,4,4,7.5,1,Male,Train", "EmoDom 7.5 is outside [1, 7]"),
    ("unknown_split", "MSP-PODCAST_0009_0001.wav,A,4,4,4,1,Male,Validation", "Split_Set 'Validation'"),
    ("bad_file_name", "MSP-PODCAST_0009_0001,A,4,4,4,1,Male,Train", "does not end in .wav"),
    ("wrong_field_count", "MSP-PODCAST_0009_0001.wav,A,4,4,4,1,Male,Train,extra", "expected 8 fields"),
    ("missing_audio", "MSP-PODCAST_0009_0009.wav,A,4,4,4,1,Male,Train", "has a label row but no wav"),
]


@pytest.mark.parametrize("reason, bad_line, message", BAD_ROWS, ids=[f"{case[0]}-{i}" for i, case in enumerate(BAD_ROWS)])
def test_bad_consensus_row_is_skipped_counted_and_named(tmp_path, reason, bad_line, message):
    lines = [CONSENSUS_HEADER] + [",".join(row) for row in DEFAULT_ROWS[:2]] + [bad_line] + \
        [",".join(row) for row in DEFAULT_ROWS[2:]]
    release = build_release(tmp_path / "root", consensus_lines=lines)
    if reason != "missing_audio":
        write_wav(release / "Audios" / "MSP-PODCAST_0009_0001.wav")
    summary = prepare_msp_podcast(release, tmp_path / "data")
    assert summary["skipped"] == {reason: 1}
    example = summary["problems"][reason]["examples"][0]
    assert example.startswith(f"{release / 'Labels' / 'labels_consensus.csv'}:4:") and message in example
    rows = sum(stats["rows"] for split, stats in summary["splits"].items() if split != "test3")
    assert rows == len(DEFAULT_ROWS)
    # the wav of a bad label row is not mistaken for a test3 utterance
    assert summary["splits"]["test3"]["rows"] == len(TEST3_NAMES)
    with pytest.raises(ToolkitError, match=f"labels_consensus.csv:4: .*{message[:12]}.*--strict"):
        prepare_msp_podcast(release, tmp_path / "strict", strict=True)


def test_duplicate_file_name_names_both_lines(tmp_path):
    lines = [CONSENSUS_HEADER] + [",".join(row) for row in DEFAULT_ROWS] + [",".join(DEFAULT_ROWS[1])]
    release = build_release(tmp_path / "root", consensus_lines=lines)
    summary = prepare_msp_podcast(release, tmp_path / "data")
    assert summary["skipped"] == {"duplicate_file_name": 1}
    assert summary["problems"]["duplicate_file_name"]["examples"][0].endswith(
        f"labels_consensus.csv:7: duplicate FileName 'MSP-PODCAST_0001_0002.wav', first at "
        f"{release / 'Labels' / 'labels_consensus.csv'}:3; row skipped")


def test_bad_annotator_votes_are_ignored_and_reported(tmp_path):
    votes = {
        "MSP-PODCAST_0001_0001.wav": [("W1", "Angry", ""), ("W2", "Furious", ""), ("W1", "Sad", "")],
        "MSP-PODCAST_0001_0002.wav": [("W1", "Neutral", "")],
        "MSP-PODCAST_7777_0001.wav": [("W1", "Happy", "")],
    }
    release = build_release(tmp_path / "root", votes=votes)
    summary = prepare_msp_podcast(release, tmp_path / "data")
    assert summary["skipped"] == {"unknown_annotator_class": 1, "duplicate_annotator": 1,
                                  "annotation_without_consensus_row": 1}
    detailed = release / "Labels" / "labels_detailed.csv"
    assert summary["problems"]["unknown_annotator_class"]["examples"][0].startswith(
        f"{detailed}:3: EmoClass_Major 'Furious' is not one of")
    assert summary["problems"]["duplicate_annotator"]["examples"][0].startswith(f"{detailed}:4: annotator repeated")
    train = read_manifest(tmp_path / "data" / "train" / "manifest.csv")
    assert row_of(train, "MSP-PODCAST_0001_0001.wav")["n_annotators"] == "1"
    np.testing.assert_allclose(soft_of(train, "MSP-PODCAST_0001_0001.wav"), [1, 0, 0, 0, 0, 0, 0, 0])
    # labelled files without annotator rows fall back to their one-hot consensus class
    np.testing.assert_allclose(soft_of(train, "MSP-PODCAST_0002_0001.wav"), np.full(8, np.nan))
    assert summary["notes"]["soft_label_from_consensus_class"] == 1  # the H row of development
    with pytest.raises(ToolkitError, match="labels_detailed.csv:3: EmoClass_Major 'Furious'"):
        prepare_msp_podcast(release, tmp_path / "strict", strict=True)


def test_without_per_annotator_labels_soft_labels_are_the_consensus_class(tmp_path):
    release = build_release(tmp_path / "root", annotation_format=None)
    summary = prepare_msp_podcast(release, tmp_path / "data")
    train = read_manifest(tmp_path / "data" / "train" / "manifest.csv")
    np.testing.assert_allclose(soft_of(train, "MSP-PODCAST_0001_0001.wav"), [1, 0, 0, 0, 0, 0, 0, 0])
    assert set(train["n_annotators"]) == {"0"}
    assert np.isnan(soft_of(train, "MSP-PODCAST_0002_0001.wav")).all()  # X: no class to fall back on
    assert summary["notes"] == {"soft_label_from_consensus_class": 3, "no_soft_label": 2}
    assert summary["inputs"]["annotations"] is None


def test_odd_audio_is_recorded_not_rejected_and_broken_audio_is_skipped(release, tmp_path):
    write_wav(release / "Audios" / "MSP-PODCAST_0001_0001.wav", sample_rate=44100, channels=2)
    (release / "Audios" / "MSP-PODCAST_0001_0002.wav").write_bytes(b"RIFF not really a wav")
    summary = prepare_msp_podcast(release, tmp_path / "data")
    train = read_manifest(tmp_path / "data" / "train" / "manifest.csv")
    odd = row_of(train, "MSP-PODCAST_0001_0001.wav")
    assert (odd["sample_rate"], odd["num_channels"]) == ("44100", "2")
    assert float(odd["duration"]) == pytest.approx(0.25)
    assert "MSP-PODCAST_0001_0002.wav" not in set(train["FileName"])
    assert summary["skipped"] == {"unreadable_audio": 1}
    assert "MSP-PODCAST_0001_0002.wav: not readable as audio" in summary["problems"]["unreadable_audio"]["examples"][0]
    assert summary["notes"]["non_16k_audio"] == 1 and summary["notes"]["multi_channel_audio"] == 1


def test_no_audio_scan_leaves_header_columns_empty(release, tmp_path):
    summary = prepare_msp_podcast(release, tmp_path / "data", scan_audio=False)
    train = read_manifest(tmp_path / "data" / "train" / "manifest.csv")
    assert set(train["duration"]) == set(train["sample_rate"]) == set(train["num_channels"]) == {""}
    assert summary["splits"]["train"]["hours"] is None


def test_test_list_decides_test3(release, tmp_path):
    write_wav(release / "Audios" / "MSP-PODCAST_test3_0003.wav")
    test_list = tmp_path / "test3.txt"
    test_list.write_text("MSP-PODCAST_test3_0001.wav\n\nMSP-PODCAST_test3_0002\nMSP-PODCAST_test3_0404.wav\n")
    summary = prepare_msp_podcast(release, tmp_path / "data", test_list=test_list)
    test3 = read_manifest(tmp_path / "data" / "test3" / "manifest.csv")
    assert list(test3["FileName"]) == TEST3_NAMES
    assert summary["skipped"] == {"missing_audio": 1, "audio_without_label": 1}
    assert summary["problems"]["missing_audio"]["examples"][0].startswith(f"{test_list}:4: MSP-PODCAST_test3_0404.wav")
    assert summary["problems"]["audio_without_label"]["examples"][0].startswith("MSP-PODCAST_test3_0003.wav")


def test_test_list_entry_with_a_label_row_moves_to_test3(release, tmp_path):
    test_list = tmp_path / "test3.txt"
    test_list.write_text("MSP-PODCAST_0001_0002.wav\n" + "\n".join(TEST3_NAMES) + "\n")
    summary = prepare_msp_podcast(release, tmp_path / "data", test_list=test_list)
    assert summary["skipped"] == {"test_list_overlaps_labels": 1}
    assert summary["splits"]["train"]["rows"] == 2 and summary["splits"]["test3"]["rows"] == 3


def test_rerun_is_skipped_unless_inputs_or_options_change(release, tmp_path):
    out = tmp_path / "data"
    first = prepare_msp_podcast(release, out)
    manifest = out / "train" / "manifest.csv"
    stamp = manifest.stat().st_mtime_ns
    assert prepare_msp_podcast(release, out) == first
    assert manifest.stat().st_mtime_ns == stamp
    changed = prepare_msp_podcast(release, out, soft_label_rule=SoftLabelRule(secondary_weight=1.0))
    assert changed["soft_label_rule"]["secondary_weight"] == 1.0
    assert manifest.stat().st_mtime_ns != stamp
    (out / ".prepare.done").unlink()
    assert prepare_msp_podcast(release, out, soft_label_rule=SoftLabelRule(secondary_weight=1.0))["splits"] == \
        changed["splits"]
    assert not list(out.rglob("*.tmp-*"))


def test_test1_test2_splits_appear_and_stale_ones_are_removed(tmp_path):
    rows = DEFAULT_ROWS + [("MSP-PODCAST_0100_0001.wav", "S", "2", "2", "2", "5", "Male", "Test1"),
                           ("MSP-PODCAST_0101_0001.wav", "N", "4", "4", "4", "6", "Male", "Test2")]
    release = build_release(tmp_path / "root", rows=rows)
    out = tmp_path / "data"
    summary = prepare_msp_podcast(release, out)
    assert list(summary["splits"]) == ["train", "development", "test1", "test2", "test3"]
    assert read_manifest(out / "test1" / "manifest.csv")["FileName"].tolist() == ["MSP-PODCAST_0100_0001.wav"]
    shutil.rmtree(release)
    build_release(release)
    summary = prepare_msp_podcast(release, out)
    assert "test1" not in summary["splits"] and not (out / "test1" / "manifest.csv").exists()


@pytest.mark.parametrize("remove, message", [
    ("Audios", "Audios: audio directory not found"),
    ("Labels/labels_consensus.csv", "no labels_consensus.csv or labels_consensus.json"),
])
def test_missing_layout_parts_are_named(release, tmp_path, remove, message):
    target = release / remove
    shutil.rmtree(target) if target.is_dir() else target.unlink()
    with pytest.raises(ToolkitError, match=message):
        prepare_msp_podcast(release, tmp_path / "data")


def test_consensus_header_without_a_column_is_named(tmp_path):
    lines = ["FileName,EmoClass,EmoAct,EmoVal,EmoDom,SpkrID,Gender"] + [",".join(row[:7]) for row in DEFAULT_ROWS]
    release = build_release(tmp_path / "root", consensus_lines=lines)
    with pytest.raises(ToolkitError, match=r"labels_consensus.csv:1: header lacks column\(s\) Split_Set"):
        prepare_msp_podcast(release, tmp_path / "data")


def test_labelled_test3_rows_keep_their_labels_beside_unlabelled_wavs(tmp_path):
    rows = DEFAULT_ROWS + [("MSP-PODCAST_test3_0009.wav", "F", "5", "2", "3", "9", "Female", "Test3")]
    release = build_release(tmp_path / "root", rows=rows)
    summary = prepare_msp_podcast(release, tmp_path / "data")
    test3 = read_manifest(tmp_path / "data" / "test3" / "manifest.csv")
    assert test3["FileName"].tolist() == TEST3_NAMES + ["MSP-PODCAST_test3_0009.wav"]
    assert test3["EmoClass"].tolist() == ["", "", "F"]
    assert summary["splits"]["test3"]["classes"] == {"F": 1}


def test_header_cache_spares_a_second_scan_and_notices_changed_files(release, tmp_path):
    from toolkit.data.header_cache import AudioHeaderCache

    out = tmp_path / "data"
    prepare_msp_podcast(release, out)
    cache = AudioHeaderCache(out)
    wav = str(release.resolve() / "Audios" / "MSP-PODCAST_0001_0001.wav")
    assert cache.info(wav).sample_rate == 16000 and cache.hits == 1
    write_wav(release / "Audios" / "MSP-PODCAST_0001_0001.wav", sample_rate=8000, seconds=0.5)
    prepare_msp_podcast(release, out, soft_label_rule=SoftLabelRule(other_policy="neutral"))
    train = read_manifest(out / "train" / "manifest.csv")
    changed = row_of(train, "MSP-PODCAST_0001_0001.wav")
    assert (changed["sample_rate"], float(changed["duration"])) == ("8000", 0.5)
    with open(out / ".audio_headers.tsv", "a") as handle:
        handle.write("/torn/line\t12")  # a scan killed mid-write
    assert AudioHeaderCache(out).info(wav).sample_rate == 8000


def test_file_whose_votes_are_all_unusable_falls_back_to_its_consensus_class(tmp_path):
    votes = {"MSP-PODCAST_0001_0001.wav": [("W1", "Furious", ""), ("W2", "", "")]}
    release = build_release(tmp_path / "root", votes=votes)
    summary = prepare_msp_podcast(release, tmp_path / "data")
    train = read_manifest(tmp_path / "data" / "train" / "manifest.csv")
    assert row_of(train, "MSP-PODCAST_0001_0001.wav")["n_annotators"] == "0"
    np.testing.assert_allclose(soft_of(train, "MSP-PODCAST_0001_0001.wav"), [1, 0, 0, 0, 0, 0, 0, 0])
    assert summary["skipped"] == {"unknown_annotator_class": 2}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(st.text(alphabet=st.sampled_from(list('AXO,.;"\n\r 7wav-MSP_\x00é')), max_size=40), max_size=6),
       keep_header=st.booleans())
def test_property_any_consensus_file_gives_rows_or_a_clear_error(tmp_path, lines, keep_header):
    from toolkit.corpora.msp_podcast import read_consensus
    from toolkit.data.problems import ProblemLog

    path = tmp_path / "labels_consensus.csv"
    path.write_text("\n".join(([CONSENSUS_HEADER] if keep_header else []) + lines), encoding="utf-8")
    problems = ProblemLog()
    try:
        frame, names = read_consensus(path, problems)
    except ToolkitError as error:
        assert str(path) in str(error)
        return
    assert set(frame["FileName"]) <= names
    assert frame["EmoClass"].isin(list("ASHUFDCNOX")).all()
