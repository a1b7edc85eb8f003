"""The CREMA-D adapter: classes from file names, actor folds, EmoBox's split, the release's traps."""

import json
import random

import pytest

from tests.corpora.crema_d_layout import (
    APPLE_DOUBLE,
    LFS_POINTER,
    MISNAMED,
    UNREADABLE,
    build_crema_d,
    crema_d_names,
    read_fold,
    write_audio,
)
from toolkit.corpora.crema_d import per_emotion_test_sample, prepare_crema_d
from toolkit.data.manifest import read_manifest, soft_label_matrix
from toolkit.utils.errors import ToolkitError

ACTORS = tuple(range(1001, 1011))


def test_classes_speakers_gender_and_sentences_come_from_names_and_demographics(tmp_path):
    root = build_crema_d(tmp_path / "CREMA-D", sentences=2, traps=False)
    summary = prepare_crema_d(root, tmp_path / "out")

    assert [item["code"] for item in summary["classes"]] == ["A", "S", "H", "F", "D", "N"]
    rows = read_manifest(tmp_path / "out/all/manifest.csv").set_index("FileName")
    assert set(rows.index) == set(crema_d_names(ACTORS, 2))
    assert list(rows.columns[rows.columns.str.startswith("soft_")]) == [f"soft_{c}" for c in "ASHFDN"]
    expected = {"ANG": "A", "DIS": "D", "FEA": "F", "HAP": "H", "NEU": "N", "SAD": "S"}
    for name, row in rows.iterrows():
        assert row["EmoClass"] == expected[name.split("_")[2]]
    angry = rows.loc["1002_IEO_ANG_HI.wav"]
    assert (angry["SpkrID"], angry["Gender"], angry["text"]) == ("1002", "Female", "It's eleven o'clock")
    assert rows.loc["1001_DFA_SAD_XX.wav", "Gender"] == "Male"
    assert rows.loc["1001_DFA_SAD_XX.wav", "text"] == "Don't forget a jacket"
    assert rows.loc["1001_DFA_SAD_XX.wav", "sample_rate"] == "16000"
    soft = soft_label_matrix(rows.reset_index())
    assert (soft.sum(axis=1) == 1).all() and (soft.max(axis=1) == 1).all(), "one-hot soft labels"
    assert summary["corpus"] == "crema-d" and summary["skipped_total"] == 0 and summary["skipped"] == {}


def test_actor_protocol_tests_each_actor_once_in_speaker_disjoint_folds(tmp_path):
    root = build_crema_d(tmp_path / "CREMA-D", traps=False)
    summary = prepare_crema_d(root, tmp_path / "out", protocol="actor", folds=5)

    assert summary["protocol"]["name"] == "actor" and summary["protocol"]["folds"] == 5
    tested = []
    for number in range(1, 6):
        splits = read_fold(tmp_path / "out", number)
        speakers = {split: set(frame["SpkrID"]) for split, frame in splits.items()}
        # round-robin over the sorted actors: fold k tests the (k-1)-th, (k+4)-th, ...
        assert speakers["test"] == {str(ACTORS[number - 1]), str(ACTORS[number + 4])}
        assert not speakers["train"] & speakers["development"]
        assert not (speakers["train"] | speakers["development"]) & speakers["test"]
        assert len(speakers["development"]) == 2, "20 % of the 8 training actors"
        assert sum(len(frame) for frame in splits.values()) == 60
        assert summary["folds"][str(number)]["speaker_independent"] is True
        tested += sorted(speakers["test"])
    assert sorted(tested) == [str(actor) for actor in ACTORS]


def test_emobox_protocol_tests_a_quarter_of_each_emotion_with_all_actors_and_is_deterministic(tmp_path):
    root = build_crema_d(tmp_path / "CREMA-D", sentences=2, traps=False)
    summary = prepare_crema_d(root, tmp_path / "first", protocol="emobox")
    prepare_crema_d(root, tmp_path / "second", protocol="emobox")

    assert summary["protocol"]["name"] == "emobox" and summary["protocol"]["folds"] == 1
    assert "EmoBox-metadata adapter" in summary["protocol"]["emobox_file_list"]
    every = read_manifest(tmp_path / "first/all/manifest.csv")
    splits = read_fold(tmp_path / "first", 1)
    test = splits["test"]
    for code, count in every["EmoClass"].value_counts().items():
        assert (test["EmoClass"] == code).sum() == int(0.25 * count) == 5, code
    assert set(test["SpkrID"]) & set(splits["train"]["SpkrID"]), "speaker-dependent: actors in train and test"
    assert summary["folds"]["1"]["speaker_independent"] is False
    assert list(read_fold(tmp_path / "second", 1)["test"]["FileName"]) == list(test["FileName"])
    names = sorted(every["FileName"])
    classes = every.set_index("FileName").loc[names, "EmoClass"]
    assert set(test["FileName"]) == per_emotion_test_sample(names, list(classes))


def test_per_emotion_sample_follows_emobox_draw_order():
    # EmoBox: random.seed(0), then for each emotion in first-seen order random.sample(its files, int(n / 4)).
    names = [f"f{index:02d}" for index in range(24)]
    codes = ["A" if index % 3 == 1 else "S" for index in range(24)]   # S is seen first (f00), A second (f01)
    generator = random.Random(0)
    first = generator.sample([n for n, c in zip(names, codes, strict=True) if c == "S"], 4)
    second = generator.sample([n for n, c in zip(names, codes, strict=True) if c == "A"], 2)
    assert per_emotion_test_sample(names, codes) == set(first) | set(second)
    assert per_emotion_test_sample(list(reversed(names)), list(reversed(codes))) != set(first) | set(second), \
        "the file order is part of the rule"


def test_release_traps_are_counted_with_the_file_named_and_nothing_else_is_lost(tmp_path):
    root = build_crema_d(tmp_path / "CREMA-D")
    summary = prepare_crema_d(root, tmp_path / "out")

    skipped = summary["skipped"]
    assert {reason: entry["count"] for reason, entry in skipped.items()} == {
        "apple_double": 1, "git_lfs_pointer": 1, "unreadable_audio": 1, "bad_file_name": 1}
    assert summary["skipped_total"] == 4
    for reason, path in (("apple_double", APPLE_DOUBLE), ("git_lfs_pointer", LFS_POINTER),
                         ("unreadable_audio", UNREADABLE), ("bad_file_name", MISNAMED)):
        assert str(root / path) in skipped[reason]["examples"][0], reason
    assert "git lfs pull" in skipped["git_lfs_pointer"]["examples"][0]
    assert "AAAA_SSS_EEE_LL.wav" in skipped["bad_file_name"]["examples"][0]
    assert summary["other_files"] == 1, "notes.txt in AudioWAV/ is counted, AudioMP3/ is not read"
    kept = set(read_manifest(tmp_path / "out/all/manifest.csv")["FileName"])
    assert kept == set(crema_d_names(ACTORS, 1)) - {"1002_DFA_SAD_XX.wav", "1003_DFA_HAP_XX.wav"}
    assert json.loads((tmp_path / "out/prepare_summary.json").read_text())["skipped"] == skipped


def test_strict_makes_a_misnamed_file_fatal(tmp_path):
    root = build_crema_d(tmp_path / "CREMA-D", traps=False)
    write_audio(root / MISNAMED)
    with pytest.raises(ToolkitError, match="1040_ITH_SAD_X.wav.*--strict"):
        prepare_crema_d(root, tmp_path / "out", strict=True)
    assert not (tmp_path / "out/prepare_summary.json").exists()


def test_gender_needs_the_demographics_table_and_missing_actors_are_counted(tmp_path):
    root = build_crema_d(tmp_path / "CREMA-D", traps=False)
    table = root / "VideoDemographics.csv"
    table.write_text("".join(line for line in table.read_text().splitlines(keepends=True)
                             if not line.startswith("1004,")))
    summary = prepare_crema_d(root, tmp_path / "out")
    rows = read_manifest(tmp_path / "out/all/manifest.csv")
    assert set(rows["Gender"][rows["SpkrID"] == "1004"]) == {""}
    assert summary["skipped"]["actor_not_in_demographics"]["count"] == 6
    assert "actor 1004" in summary["skipped"]["actor_not_in_demographics"]["examples"][0]
    assert len(rows) == 60, "the actor's files are kept"

    table.unlink()
    summary = prepare_crema_d(root, tmp_path / "bare")
    assert summary["demographics"] == "" and summary["skipped_total"] == 0
    assert set(read_manifest(tmp_path / "bare/all/manifest.csv")["Gender"]) == {""}


def test_wrong_root_and_impossible_protocols_give_clear_errors(tmp_path):
    root = build_crema_d(tmp_path / "CREMA-D", actors=(1001, 1002, 1003), traps=False)
    with pytest.raises(ToolkitError, match="no AudioWAV/ folder"):
        prepare_crema_d(root / "AudioWAV", tmp_path / "out")
    with pytest.raises(ToolkitError, match="no AudioWAV/ folder"):
        prepare_crema_d(tmp_path / "missing", tmp_path / "out")
    with pytest.raises(ToolkitError, match="unknown CREMA-D protocol 'loso'"):
        prepare_crema_d(root, tmp_path / "out", protocol="loso")
    with pytest.raises(ToolkitError, match="needs at least 5 actors with usable files, found 3"):
        prepare_crema_d(root, tmp_path / "out", folds=5)
    with pytest.raises(ToolkitError, match="dev-fraction"):
        prepare_crema_d(root, tmp_path / "out", dev_fraction=0.0)
