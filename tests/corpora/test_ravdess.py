"""The RAVDESS adapter: speech only, 8 classes with calm, EmoBox's 6 actor folds, the release's traps."""

import pytest

from tests.corpora.crema_d_layout import read_fold, write_audio
from tests.corpora.ravdess_layout import (
    APPLE_DOUBLE,
    AUDIO_VIDEO_WAV,
    DUPLICATE,
    MISNAMED,
    SONGS,
    WRAPPER,
    build_ravdess,
    ravdess_names,
)
from toolkit.corpora.ravdess import EMOBOX_TEST_ACTORS, prepare_ravdess
from toolkit.data.manifest import read_manifest
from toolkit.utils.errors import ToolkitError

EMOBOX_FOLDS = {1: {"01", "11", "20", "21"}, 2: {"04", "10", "12", "14"}, 3: {"08", "09", "19", "23"},
                4: {"03", "05", "07", "24"}, 5: {"02", "15", "16", "18"}, 6: {"06", "13", "17", "22"}}


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    """The default tree (wrapping folder, traps) prepared once: the tests below only read it."""
    base = tmp_path_factory.mktemp("ravdess")
    root = build_ravdess(base / "RAVDESS", takes=2)
    return root, base / "out", prepare_ravdess(root, base / "out")


def test_eight_speech_classes_with_calm_and_gender_and_statement_from_the_name(prepared):
    _, output_dir, summary = prepared
    assert [item["code"] for item in summary["classes"]] == ["A", "S", "H", "U", "F", "D", "N", "K"]
    assert summary["classes"][-1]["name"] == "Calm"
    rows = read_manifest(output_dir / "all/manifest.csv").set_index("FileName")
    assert set(rows.index) == set(ravdess_names(range(1, 25), 2)), "found below the wrapping folder, speech only"
    expected = dict(zip(["01", "02", "03", "04", "05", "06", "07", "08"], "NKHSAFDU", strict=True))
    for name, row in rows.iterrows():
        assert row["EmoClass"] == expected[name.split("-")[2]]
    calm = rows.loc["03-01-02-01-02-01-17.wav"]
    assert (calm["EmoClass"], calm["SpkrID"], calm["Gender"]) == ("K", "17", "Male")
    assert calm["text"] == "Dogs are sitting by the door"
    assert rows.loc["03-01-05-01-01-01-18.wav", "Gender"] == "Female"
    assert rows.loc["03-01-05-01-01-01-18.wav", "text"] == "Kids are talking by the door"
    assert rows.loc["03-01-05-01-01-01-18.wav", "sample_rate"] == "48000"
    assert (rows["soft_K"] == "1").sum() == (rows["EmoClass"] == "K").sum() == 48


def test_emobox_folds_test_exactly_their_four_actors_and_carve_development_from_training_actors(prepared):
    _, output_dir, summary = prepared
    assert {number: set(actors) for number, actors in enumerate(EMOBOX_TEST_ACTORS, start=1)} == EMOBOX_FOLDS
    assert summary["protocol"]["name"] == "emobox" and summary["protocol"]["folds"] == 6
    every = read_manifest(output_dir / "all/manifest.csv")
    for number, actors in EMOBOX_FOLDS.items():
        splits = read_fold(output_dir, number)
        speakers = {split: set(frame["SpkrID"]) for split, frame in splits.items()}
        assert speakers["test"] == actors
        assert set(splits["test"]["FileName"]) == set(every["FileName"][every["SpkrID"].isin(actors)])
        assert len(speakers["development"]) == 4, "20 % of the 20 training actors"
        assert not speakers["train"] & (speakers["development"] | speakers["test"])
        assert not speakers["development"] & speakers["test"]
        assert summary["folds"][str(number)]["development_carved"] is True


def test_song_other_modalities_and_release_traps_are_counted_with_the_file_named(prepared):
    root, _, summary = prepared
    skipped = summary["skipped"]
    assert {reason: entry["count"] for reason, entry in skipped.items()} == {
        "song": 2, "not_audio_only": 1, "apple_double": 1, "bad_file_name": 1, "duplicate_file_name": 1}
    for song in SONGS:
        assert any(example.startswith(str(root / song)) for example in skipped["song"]["examples"]), song
    assert str(root / AUDIO_VIDEO_WAV) in skipped["not_audio_only"]["examples"][0]
    assert str(root / APPLE_DOUBLE) in skipped["apple_double"]["examples"][0]
    assert str(root / MISNAMED) in skipped["bad_file_name"]["examples"][0]
    assert "MM-VV-EE-II-SS-RR-AA.wav" in skipped["bad_file_name"]["examples"][0]
    # Paths are read in sorted order: the copy outside the wrapper comes first and is kept.
    duplicate = skipped["duplicate_file_name"]["examples"][0]
    assert duplicate.startswith(str(root / WRAPPER / "Actor_06")) and str(root / DUPLICATE) in duplicate
    assert summary["other_files"] == 2, "the .mp4 and README.txt are counted, not read"


def test_strict_makes_a_song_file_fatal(tmp_path):
    root = build_ravdess(tmp_path / "RAVDESS", traps=False)
    actor_01 = root / WRAPPER / "Actor_01"
    (actor_01 / "03-01-01-01-01-01-01.wav").rename(actor_01 / "03-02-01-01-01-01-01.wav")
    with pytest.raises(ToolkitError, match="03-02-01-01-01-01-01.wav: a song recording.*--strict"):
        prepare_ravdess(root, tmp_path / "out", strict=True)


def test_unwrapped_tree_is_read_and_wrong_roots_give_clear_errors(tmp_path):
    root = build_ravdess(tmp_path / "flat", wrapped=False, traps=False)
    summary = prepare_ravdess(root, tmp_path / "out")
    assert summary["utterances"]["rows"] == 24 * 8 and summary["skipped_total"] == 0

    with pytest.raises(ToolkitError, match="not a folder"):
        prepare_ravdess(tmp_path / "missing", tmp_path / "out")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ToolkitError, match="no .wav files found"):
        prepare_ravdess(tmp_path / "empty", tmp_path / "out")
    songs_only = tmp_path / "songs"
    for song in SONGS:
        write_audio(songs_only / song, sample_rate=48000)
    with pytest.raises(ToolkitError, match="none of the 2 wav.* usable ravdess recording.*song 2"):
        prepare_ravdess(songs_only, tmp_path / "out")
    with pytest.raises(ToolkitError, match="unknown RAVDESS protocol"):
        prepare_ravdess(root, tmp_path / "out", protocol="actor")


def test_a_fold_whose_test_actors_are_all_missing_is_an_error(tmp_path):
    root = build_ravdess(tmp_path / "RAVDESS", actors=[a for a in range(1, 25) if a not in (1, 11, 20, 21)],
                         traps=False)
    with pytest.raises(ToolkitError, match="fold 1 tests speaker.*01, 11, 20, 21.*incomplete"):
        prepare_ravdess(root, tmp_path / "out")
