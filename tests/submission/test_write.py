"""write_submissions: sorted, clipped, validated leaderboard files, and nothing written when invalid."""

import csv
import logging
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from toolkit.emotions import EMOTION_CODES
from toolkit.submission.validate import validate_submission
from toolkit.submission.write import write_submissions
from toolkit.utils.errors import ToolkitError

NAMES = ["MSP-PODCAST_test3_0003.wav", "MSP-PODCAST_test3_0001.wav", "MSP-PODCAST_test3_0002.wav"]


def read_rows(path):
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def test_writes_sorted_clipped_valid_files(tmp_path, caplog):
    attributes = np.array([[0.5, 4.0, 7.5], [2.0, 3.0, 4.0], [1.0, 7.0, 6.25]])
    with caplog.at_level(logging.INFO):
        categorical, attribute_file = write_submissions(tmp_path, "sys1", NAMES, ["A", "N", "S"], attributes)
    assert categorical == tmp_path / "sys1_categorical.csv"
    assert attribute_file == tmp_path / "sys1_attributes.csv"
    assert read_rows(categorical) == [
        ["FileName", "EmoClass"],
        ["MSP-PODCAST_test3_0001.wav", "N"],
        ["MSP-PODCAST_test3_0002.wav", "S"],
        ["MSP-PODCAST_test3_0003.wav", "A"],
    ]
    rows = read_rows(attribute_file)
    assert rows[0] == ["FileName", "EmoAct", "EmoVal", "EmoDom"]
    assert [row[0] for row in rows[1:]] == sorted(NAMES)
    values = np.array([[float(value) for value in row[1:]] for row in rows[1:]])
    np.testing.assert_allclose(values, [[2.0, 3.0, 4.0], [1.0, 7.0, 6.25], [1.0, 4.0, 7.0]])
    assert "clipped 2 of 9" in caplog.text
    assert b"\r" not in categorical.read_bytes()
    for path in (categorical, attribute_file):
        assert validate_submission(path, NAMES, strict=True).valid
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sys1_attributes.csv", "sys1_categorical.csv"]


def test_invalid_class_code_raises_with_report_and_writes_nothing(tmp_path):
    with pytest.raises(ToolkitError) as caught:
        write_submissions(tmp_path, "bad", NAMES, ["A", "x", "S"], np.full((3, 3), 4.0))
    message = str(caught.value)
    assert "bad_categorical.csv:2: C501" in message  # sorted: test3_0001 (code 'x') is line 2
    assert list(tmp_path.iterdir()) == []


def test_missing_expected_ids_are_reported(tmp_path):
    expected = NAMES + ["MSP-PODCAST_test3_0004.wav"]
    with pytest.raises(ToolkitError, match="I403 1 of 4 expected FileNames have no row: MSP-PODCAST_test3_0004.wav"):
        write_submissions(tmp_path, "short", NAMES, ["A", "N", "S"], np.full((3, 3), 4.0), expected_ids=expected)
    assert list(tmp_path.iterdir()) == []


def test_duplicate_file_names_are_rejected(tmp_path):
    names = [NAMES[0], NAMES[0], NAMES[1]]
    with pytest.raises(ToolkitError, match="I401"):
        write_submissions(tmp_path, "dup", names, ["A", "N", "S"], np.full((3, 3), 4.0))


def test_nan_attributes_and_shape_mismatch_are_clear_errors(tmp_path):
    attributes = np.full((3, 3), 4.0)
    attributes[1, 2] = np.nan
    with pytest.raises(ToolkitError, match="NaN or infinite attributes .*MSP-PODCAST_test3_0001.wav"):
        write_submissions(tmp_path, "nan", NAMES, ["A", "N", "S"], attributes)
    with pytest.raises(ToolkitError, match=r"3 FileNames need 3 class codes and \(3, 3\) attributes, got 2"):
        write_submissions(tmp_path, "short", NAMES, ["A", "N"], np.full((3, 3), 4.0))
    with pytest.raises(ToolkitError, match="path separators"):
        write_submissions(tmp_path, "a/b", NAMES, ["A", "N", "S"], np.full((3, 3), 4.0))


def test_rewriting_replaces_previous_files(tmp_path):
    write_submissions(tmp_path, "sys", NAMES, ["A", "A", "A"], np.full((3, 3), 4.0))
    categorical, _ = write_submissions(tmp_path, "sys", NAMES, ["N", "N", "N"], np.full((3, 3), 4.0))
    assert {row[1] for row in read_rows(categorical)[1:]} == {"N"}


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.dictionaries(
        st.from_regex(r"MSP-PODCAST_[0-9]{4}_[0-9]{4}\.wav", fullmatch=True),
        st.tuples(st.sampled_from(list(EMOTION_CODES)),
                  st.lists(st.floats(-10, 20, allow_nan=False), min_size=3, max_size=3)),
        min_size=1, max_size=20,
    )
)
def test_written_files_read_back_as_the_clipped_predictions(tmp_path, rows):
    names = list(rows)
    codes = [rows[name][0] for name in names]
    attributes = np.array([rows[name][1] for name in names])
    categorical, attribute_file = write_submissions(tmp_path, "prop", names, codes, attributes)
    class_report = validate_submission(categorical, names, strict=True)
    attribute_report = validate_submission(attribute_file, names, strict=True)
    assert class_report.valid and attribute_report.valid
    assert class_report.records == dict(zip(names, codes))
    expected = np.clip(attributes, 1, 7)
    read_back = np.array([attribute_report.records[name] for name in names])
    np.testing.assert_allclose(read_back, expected, atol=5e-7)


def test_submission_package_never_imports_torch_or_transformers():
    code = (
        "import sys\nimport toolkit.submission.write, toolkit.submission.score, toolkit.cli.score\n"
        "print(sorted(m for m in ('torch', 'transformers') if m in sys.modules))"
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert completed.stdout.strip() == "[]"
