import pytest

from toolkit.data.problems import ProblemLog
from toolkit.data.tables import read_csv_chunks, read_header
from toolkit.utils.errors import ToolkitError


def test_rows_with_too_many_fields_are_reported_and_line_numbers_stay_true(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a, b\n1,x\n2,y,extra\n3,z\n4,w\n5,v,extra\n6,u\n")
    problems = ProblemLog()
    chunks = list(read_csv_chunks(path, ["a", "b"], problems, chunk_rows=2))
    rows = [(a, b, line) for chunk in chunks for a, b, line in zip(chunk["a"], chunk["b"], chunk["line"])]
    assert rows == [("1", "x", 2), ("3", "z", 4), ("4", "w", 5), ("6", "u", 7)]
    assert problems.counts == {"wrong_field_count": 2}
    assert problems.examples["wrong_field_count"][0].startswith(f"{path}:3: expected 2 fields, found more")


def test_missing_columns_name_the_file_and_header(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("FileName,EmoClass\n")
    with pytest.raises(ToolkitError, match=r"t.csv:1: header lacks column\(s\) Split_Set"):
        list(read_csv_chunks(path, ["FileName", "Split_Set"], ProblemLog()))


def test_header_with_bom_and_spaces_and_empty_file(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("\ufeffFileName , EmoClass\n", encoding="utf-8")
    assert read_header(path) == ["FileName", "EmoClass"]
    path.write_text("")
    with pytest.raises(ToolkitError, match="empty file"):
        read_header(path)
    path.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(ToolkitError, match="expected a UTF-8 CSV"):
        read_header(path)


def test_strict_makes_a_bad_line_fatal(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a,b\n1,2,3\n")
    with pytest.raises(ToolkitError, match=r"t.csv:2: expected 2 fields, found more.*--strict"):
        list(read_csv_chunks(path, ["a", "b"], ProblemLog(strict=True)))


def test_rows_with_many_extra_fields_and_short_rows(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a,b\n1,x,2,3,4\n5\n6,y,\n")
    problems = ProblemLog()
    chunk = next(read_csv_chunks(path, ["a", "b"], problems))
    assert list(zip(chunk["a"], chunk["b"], chunk["line"])) == [("5", "", 3), ("6", "y", 4)]
    assert problems.counts == {"wrong_field_count": 1}
    assert problems.examples["wrong_field_count"][0].startswith(f"{path}:2:")
