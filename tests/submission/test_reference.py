"""Expected-id sources: id lists, manifests and labels_consensus files, with clear errors."""

import json

import pytest

from toolkit.submission.reference import read_id_list, read_reference
from toolkit.utils.errors import ToolkitError


def test_id_list_skips_header_and_blank_lines(tmp_path):
    path = tmp_path / "ids.txt"
    path.write_text("FileName\na.wav\n\n b.wav \n")
    assert read_id_list(path) == ["a.wav", "b.wav"]


def test_id_list_errors_name_file_and_line(tmp_path):
    path = tmp_path / "ids.txt"
    path.write_text("a.wav\nb.wav\na.wav\n")
    with pytest.raises(ToolkitError, match=r"ids.txt:3: a.wav already listed on line 1"):
        read_id_list(path)
    path.write_text("\n\n")
    with pytest.raises(ToolkitError, match="holds no FileName"):
        read_id_list(path)
    path.write_bytes(b"\xff\xfe\x00a")
    with pytest.raises(ToolkitError, match="not UTF-8"):
        read_id_list(path)
    with pytest.raises(ToolkitError, match="not found"):
        read_id_list(tmp_path / "absent.txt")


def test_reference_reads_labels_and_filters_split(tmp_path):
    path = tmp_path / "labels.csv"
    path.write_text(
        "\ufeffFileName,EmoClass,EmoAct,EmoVal,EmoDom,SpkrID,Gender,Split_Set\n"
        "a.wav,N,4.8,4.2,5.4,127,Female,Development\n"
        "b.wav,X,,,,Unknown,Male,Train\n"
        "c.wav,A,2,3,4,1,Male,Development\n"
    )
    reference = read_reference(path)
    assert reference.ids == ["a.wav", "b.wav", "c.wav"] and reference.has_classes and reference.has_attributes
    assert reference.classes["b.wav"] == "X" and reference.attributes["b.wav"] is None
    assert reference.attributes["a.wav"] == (4.8, 4.2, 5.4)
    assert read_reference(path, split="development").ids == ["a.wav", "c.wav"]
    with pytest.raises(ToolkitError, match=r"no row has Split_Set Test3; splits present: Development \(2\), Train \(1\)"):
        read_reference(path, split="Test3")


def test_manifest_without_labels_gives_ids_only(tmp_path):
    path = tmp_path / "manifest.csv"
    path.write_text("FileName,path,duration\nx.wav,/d/x.wav,1.0\n")
    reference = read_reference(path)
    assert reference.ids == ["x.wav"] and not reference.has_classes and not reference.has_attributes
    with pytest.raises(ToolkitError, match="no Split_Set column"):
        read_reference(path, split="Train")


@pytest.mark.parametrize(
    "content, message",
    [
        ("name,label\nx.wav,A\n", "labels.csv:1: no FileName column"),
        ("FileName,EmoAct,EmoVal,EmoDom\nx.wav,1,2,3\nx.wav,1,2,3\n", "labels.csv:3: FileName x.wav already at .*labels.csv:2"),
        ("FileName,EmoAct,EmoVal,EmoDom\nx.wav,1,two,3\n", "labels.csv:2: EmoVal 'two' is not a number"),
        ("FileName,EmoAct,EmoVal,EmoDom\nx.wav,1,nan,3\n", "labels.csv:2: EmoVal is 'nan'"),
        ("FileName,EmoClass\n,A\n", "labels.csv:2: empty FileName"),
        ("FileName,EmoClass\n", "no data rows"),
    ],
)
def test_reference_errors_name_line(tmp_path, content, message):
    path = tmp_path / "labels.csv"
    path.write_text(content)
    with pytest.raises(ToolkitError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_reference(path)


def test_labels_consensus_json_twin(tmp_path):
    path = tmp_path / "labels_consensus.json"
    path.write_text(json.dumps({
        "a.wav": {"EmoClass": "N", "EmoAct": 4.8, "EmoVal": 4.2, "EmoDom": 5.4, "SpkrID": 127, "Split_Set": "Development"},
        "b.wav": {"EmoClass": "X", "EmoAct": None, "EmoVal": 3, "EmoDom": 3, "Split_Set": "Train"},
    }))
    reference = read_reference(path)
    assert reference.ids == ["a.wav", "b.wav"] and reference.classes == {"a.wav": "N", "b.wav": "X"}
    assert reference.attributes == {"a.wav": (4.8, 4.2, 5.4), "b.wav": None}
    assert read_reference(path, split="Train").ids == ["b.wav"]
    path.write_text(json.dumps({"a.wav": {"EmoAct": "high", "EmoVal": 1, "EmoDom": 1}}))
    with pytest.raises(ToolkitError, match="labels_consensus.json: key 'a.wav': EmoAct 'high' is not a number"):
        read_reference(path)
    path.write_text("{not json")
    with pytest.raises(ToolkitError, match="labels_consensus.json:1: not valid JSON"):
        read_reference(path)
