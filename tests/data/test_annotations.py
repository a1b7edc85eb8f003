import json

import pytest

from tests.corpora.msp_layout import DEFAULT_VOTES, write_votes
from toolkit.data.annotations import find_annotation_file, open_annotations
from toolkit.data.problems import ProblemLog
from toolkit.utils.errors import ToolkitError


def read_all(source, problems=None, chunk_rows=4):
    import pandas as pd

    chunks = list(source.chunks(problems or ProblemLog(), chunk_rows=chunk_rows))
    return pd.concat(chunks, ignore_index=True)


def as_set(frame):
    return set(zip(frame["FileName"], frame["WorkerID"], frame["EmoClass_Major"], frame["EmoClass_Second"]))


EXPECTED = {(name, worker, major, second) for name, entries in DEFAULT_VOTES.items() for worker, major, second in entries}


@pytest.mark.parametrize("fmt", ["json", "csv-rows", "csv-packed"])
def test_every_format_gives_the_same_annotator_rows(tmp_path, fmt):
    path = write_votes(tmp_path, DEFAULT_VOTES, fmt)
    source = open_annotations(path)
    assert source.format == fmt
    frame = read_all(source)
    assert as_set(frame) == EXPECTED
    assert len(frame) == len(EXPECTED)


def test_csv_rows_carry_their_file_line(tmp_path):
    path = write_votes(tmp_path, DEFAULT_VOTES, "csv-rows")
    frame = read_all(open_annotations(path), chunk_rows=3)
    lines = path.read_text().splitlines()
    for _, row in frame.iterrows():
        assert lines[row["line"] - 1].startswith(f"{row['FileName']},{row['WorkerID']},")


def test_csv_is_preferred_over_json(tmp_path):
    assert find_annotation_file(tmp_path) is None
    write_votes(tmp_path, DEFAULT_VOTES, "json")
    assert find_annotation_file(tmp_path).name == "labels_detailed.json"
    write_votes(tmp_path, DEFAULT_VOTES, "csv-rows")
    assert find_annotation_file(tmp_path).name == "labels_detailed.csv"


def test_unknown_csv_header_names_the_expected_ones(tmp_path):
    path = tmp_path / "labels_detailed.csv"
    path.write_text("File,Worker,Label\na.wav,W1,Angry\n")
    with pytest.raises(ToolkitError, match=r"labels_detailed.csv:1: unknown per-annotator format.*FileName,EmoDetail"):
        open_annotations(path)


def test_packed_rows_without_secondary_field_and_malformed_rows(tmp_path):
    path = tmp_path / "labels_detailed.csv"
    path.write_text('FileName,EmoDetail\n'
                    'a.wav,"W1; Angry; A:4.0; V:2.0; D:5.0;"\n'
                    'a.wav,"garbage"\n'
                    'b.wav,"W2; Sad; Fear,Happy; A:4.0; V:2.0; D:5.0;"\n')
    problems = ProblemLog()
    frame = read_all(open_annotations(path), problems)
    assert as_set(frame) == {("a.wav", "W1", "Angry", ""), ("b.wav", "W2", "Sad", "Fear,Happy")}
    assert problems.counts == {"malformed_emo_detail": 1}
    assert problems.examples["malformed_emo_detail"][0].startswith(f"{path}:3: EmoDetail 'garbage'")


def test_json_that_is_not_an_object_of_annotators(tmp_path):
    path = tmp_path / "labels_detailed.json"
    path.write_text(json.dumps(["a.wav"]))
    with pytest.raises(ToolkitError, match="expected a JSON object"):
        read_all(open_annotations(path))
    path.write_text("{not json")
    with pytest.raises(ToolkitError, match="not readable as JSON"):
        read_all(open_annotations(path))


def test_json_bad_records_are_counted_and_the_rest_kept(tmp_path):
    path = tmp_path / "labels_detailed.json"
    path.write_text(json.dumps({"a.wav": {"W1": {"EmoClass_Major": "Angry"}, "W2": "Sad"}, "b.wav": 3}))
    problems = ProblemLog()
    frame = read_all(open_annotations(path), problems)
    assert as_set(frame) == {("a.wav", "W1", "Angry", "")}
    assert problems.counts == {"malformed_annotation_record": 2}
    assert any("'a.wav' / 'W2'" in message for message in problems.examples["malformed_annotation_record"])
