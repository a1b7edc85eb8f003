"""The Emo-DB adapter: German emotion letters, speaker genders, leave-one-speaker-out, the traps."""

import pytest

from tests.corpora.crema_d_layout import read_fold
from tests.corpora.emodb_layout import APPLE_DOUBLE, MISNAMED, SPEAKERS, build_emodb, emodb_names
from toolkit.corpora.emodb import prepare_emodb
from toolkit.data.manifest import read_manifest
from toolkit.utils.errors import ToolkitError

GENDERS = {"03": "Male", "08": "Female", "09": "Female", "10": "Male", "11": "Male",
           "12": "Male", "13": "Female", "14": "Female", "15": "Male", "16": "Female"}


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    """The default tree (with traps) prepared once: the tests below only read it."""
    base = tmp_path_factory.mktemp("emodb")
    root = build_emodb(base / "emodb", takes=2)
    return root, base / "out", prepare_emodb(root, base / "out")


def test_german_letters_map_to_seven_classes_and_a_means_fear(prepared):
    _, output_dir, summary = prepared
    assert [item["code"] for item in summary["classes"]] == ["A", "S", "H", "F", "D", "N", "B"]
    rows = read_manifest(output_dir / "all/manifest.csv").set_index("FileName")
    assert set(rows.index) == set(emodb_names(SPEAKERS, 2))
    expected = {"W": "A", "L": "B", "E": "D", "A": "F", "F": "H", "T": "S", "N": "N"}
    for name, row in rows.iterrows():
        assert row["EmoClass"] == expected[name[5]]
    assert rows.loc["03a01Aa.wav", "EmoClass"] == "F", "A is Angst (fear)"
    assert rows.loc["03a01Wa.wav", "EmoClass"] == "A", "W is Wut (anger)"
    assert rows.loc["03a01Aa.wav", "soft_F"] == "1" and rows.loc["03a01Aa.wav", "soft_A"] == "0"
    for speaker, gender in GENDERS.items():
        assert set(rows["Gender"][rows["SpkrID"] == speaker]) == {gender}, speaker
    assert set(rows["text"]) == {""}, "the sentence is only coded in the name"


def test_leave_one_speaker_out_tests_the_kth_speaker_in_fold_k(prepared):
    _, output_dir, summary = prepared
    assert summary["protocol"]["name"] == "loso" and summary["protocol"]["folds"] == 10
    for number, speaker in enumerate(sorted(GENDERS), start=1):
        splits = read_fold(output_dir, number)
        speakers = {split: set(frame["SpkrID"]) for split, frame in splits.items()}
        assert speakers["test"] == {speaker}
        assert len(splits["test"]) == 14
        assert len(speakers["development"]) == 2, "20 % of the 9 training speakers, rounded"
        assert not speakers["train"] & (speakers["development"] | speakers["test"])
        assert speakers["train"] | speakers["development"] == set(GENDERS) - {speaker}
        assert summary["folds"][str(number)]["speaker_independent"] is True


def test_traps_are_counted_with_the_file_named_and_release_extras_are_left_alone(prepared):
    root, _, summary = prepared
    skipped = summary["skipped"]
    assert {reason: entry["count"] for reason, entry in skipped.items()} == {"apple_double": 1, "bad_file_name": 2}
    assert str(root / APPLE_DOUBLE) in skipped["apple_double"]["examples"][0]
    examples = " ".join(skipped["bad_file_name"]["examples"])
    for name in MISNAMED:
        assert str(root / name) in examples
    assert "unknown emotion letter X" in examples and "speaker 17 is not one of" in examples
    assert "SSTTTEV.wav" in examples
    assert summary["other_files"] == 1, "Thumbs.db in wav/; erkennung.txt and lablaut/ are not walked"


def test_strict_makes_a_bad_name_fatal(tmp_path):
    root = build_emodb(tmp_path / "emodb", traps=False)
    (root / "wav/03a01Wa.wav").rename(root / "wav/03a01Wa_copy.wav")
    with pytest.raises(ToolkitError, match="03a01Wa_copy.wav: file name is not SSTTTEV.*--strict"):
        prepare_emodb(root, tmp_path / "out", strict=True)


def test_wrong_root_and_too_few_speakers_give_clear_errors(tmp_path):
    root = build_emodb(tmp_path / "emodb", speakers=("03", "08"), traps=False)
    with pytest.raises(ToolkitError, match="no wav/ folder"):
        prepare_emodb(root / "wav", tmp_path / "out")
    with pytest.raises(ToolkitError, match="needs at least 3 speakers.*found 2"):
        prepare_emodb(root, tmp_path / "out")
    with pytest.raises(ToolkitError, match="unknown Emo-DB protocol 'emobox'"):
        prepare_emodb(root, tmp_path / "out", protocol="emobox")
