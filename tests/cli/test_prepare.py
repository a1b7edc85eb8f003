import json

from click.testing import CliRunner

from tests.corpora.msp_layout import CONSENSUS_HEADER, DEFAULT_ROWS, build_release
from toolkit.cli import main
from toolkit.data.manifest import read_manifest, soft_label_matrix


def invoke(*args):
    return CliRunner().invoke(main, ["prepare", "msp-podcast", *map(str, args)])


def test_prepare_writes_manifests_and_prints_the_summary(tmp_path):
    release = build_release(tmp_path / "root")
    result = invoke(release, tmp_path / "data", "--secondary-weight", "0.5", "--other-policy", "uniform")
    assert result.exit_code == 0, result.output
    assert "train" in result.output and "problems: none" in result.output
    assert f"{tmp_path / 'data' / 'prepare_summary.json'}" in result.output
    summary = json.loads((tmp_path / "data" / "prepare_summary.json").read_text())
    assert summary["soft_label_rule"] == {"secondary_weight": 0.5, "other_policy": "uniform"}
    development = read_manifest(tmp_path / "data" / "development" / "manifest.csv")
    assert not (soft_label_matrix(development) != soft_label_matrix(development)).any()  # uniform: no row without mass


def test_no_audio_scan_and_test_list(tmp_path):
    release = build_release(tmp_path / "root")
    test_list = tmp_path / "ids.txt"
    test_list.write_text("MSP-PODCAST_test3_0001.wav\n")
    result = invoke(release, tmp_path / "data", "--no-audio-scan", "--test-list", test_list)
    assert result.exit_code == 0, result.output
    assert "audio_without_label" in result.output
    test3 = read_manifest(tmp_path / "data" / "test3" / "manifest.csv")
    assert test3["FileName"].tolist() == ["MSP-PODCAST_test3_0001.wav"] and test3["duration"].tolist() == [""]


def test_bad_input_is_an_error_line_not_a_traceback(tmp_path):
    lines = [CONSENSUS_HEADER] + [",".join(row) for row in DEFAULT_ROWS] + ["MSP-PODCAST_0001_0001.wav,Z,4,4,4,1,Male,Train"]
    release = build_release(tmp_path / "root", consensus_lines=lines)
    result = invoke(release, tmp_path / "data", "--strict")
    assert result.exit_code == 1
    assert "error: " in result.output and "labels_consensus.csv:7:" in result.output and "--strict" in result.output
    assert "Traceback" not in result.output
    relaxed = invoke(release, tmp_path / "data")
    assert relaxed.exit_code == 0 and "duplicate_file_name" in relaxed.output


def test_missing_labels_directory_is_explained(tmp_path):
    (tmp_path / "root" / "Audios").mkdir(parents=True)
    result = invoke(tmp_path / "root", tmp_path / "data")
    assert result.exit_code == 1
    assert "no labels_consensus.csv or labels_consensus.json" in result.output and "Traceback" not in result.output


def test_invalid_option_values_are_refused_by_click(tmp_path):
    release = build_release(tmp_path / "root")
    assert invoke(release, tmp_path / "data", "--secondary-weight", "-1").exit_code == 2
    assert invoke(release, tmp_path / "data", "--other-policy", "keep").exit_code == 2
