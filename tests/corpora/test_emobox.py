"""The EmoBox adapter: EmoBox's fold metadata + the corpus audio -> per-fold manifests."""

import json
import logging
import re

import pytest

from tests.corpora import emobox_layout as layout
from toolkit.corpora.emobox import load_label_map, new_class_codes, prepare_emobox
from toolkit.data.manifest import read_manifest
from toolkit.utils.errors import ToolkitError

SPLITS = ("train", "development", "test")


@pytest.fixture
def emobox(tmp_path):
    """(EmoBox root holding downloads/, its data/ folder)."""
    root = tmp_path / "EmoBox"
    return root, layout.build_emobox(root)


def _fold(output, number):
    return {split: read_manifest(output / f"fold{number}" / split / "manifest.csv") for split in SPLITS}


def _listed(data, corpus, number, part):
    """The FileNames a fold file lists, in the toolkit's form."""
    path = data / corpus / f"fold_{number}" / f"{corpus}_{part}_fold_{number}.jsonl"
    return {json.loads(line)["key"] + ".wav" for line in path.read_text().splitlines()}


def _line_of(path, key):
    return next(number for number, line in enumerate(path.read_text().splitlines(), 1) if f'"{key}"' in line)


def test_iemocap_folds_test_each_session_merge_exc_and_carve_a_speaker_disjoint_development(emobox, tmp_path):
    root, data = emobox
    summary = prepare_emobox(data, "iemocap", tmp_path / "out", root)

    assert summary["classes"] == [{"code": "A", "name": "Anger"}, {"code": "S", "name": "Sadness"},
                                  {"code": "H", "name": "Happiness"}, {"code": "N", "name": "Neutral"}]
    every = read_manifest(tmp_path / "out/all/manifest.csv").set_index("FileName")
    assert len(every) == 25, "5 sessions x 5 turns; the record without audio is skipped"
    assert every.loc["iemocap-Ses01F_impro01_M001.wav", "EmoClass"] == "H", "raw exc is Happy through the map"
    assert every.loc["iemocap-Ses01F_impro01_M001.wav", ["soft_A", "soft_S", "soft_H", "soft_N"]].tolist() == \
        ["0", "0", "1", "0"]
    # the turn letter names the speaker, not the dialog letter that EmoBox's stm gives as spk
    assert every.loc["iemocap-Ses01F_impro01_M001.wav", "SpkrID"] == "Ses01M"
    assert every.loc["iemocap-Ses03M_script01_1_F002.wav", "SpkrID"] == "Ses03F"
    assert sorted(set(every["SpkrID"])) == [f"Ses0{s}{g}" for s in range(1, 6) for g in "FM"]
    assert summary["speaker_sources"] == {"file_name": 25}
    assert every.loc["iemocap-Ses01F_impro01_F000.wav", "path"].endswith(
        "EmoBox/downloads/iemocap/Session1/sentences/wav/Ses01F_impro01/Ses01F_impro01_F000.wav")

    missing = layout.IEMOCAP_MISSING + ".wav"
    for number in range(1, 6):
        parts = _fold(tmp_path / "out", number)
        assert set(parts["test"]["FileName"]) == _listed(data, "iemocap", number, "test") - {missing}
        assert {speaker[:5] for speaker in parts["test"]["SpkrID"]} == {f"Ses0{number}"}
        assert not set(parts["development"]["SpkrID"]) & set(parts["train"]["SpkrID"])
        assert len(set(parts["development"]["SpkrID"])) == 2, "20 % of 8 training speakers"
        assert sum(len(part) for part in parts.values()) == 25
        assert summary["folds"][str(number)]["development_carved"] is True
        assert summary["emobox_folds"][str(number)] == {"test": f"fold_{number}/iemocap_test_fold_{number}.jsonl",
                                                        "train": f"fold_{number}/iemocap_train_fold_{number}.jsonl"}

    # listed in five files, counted once, at the first place it appears
    train_1 = data / "iemocap/fold_1/iemocap_train_fold_1.jsonl"
    assert summary["skipped"]["missing_audio"]["count"] == 1 and summary["skipped_total"] == 1
    assert summary["skipped"]["missing_audio"]["examples"][0].startswith(
        f"{train_1}:{_line_of(train_1, layout.IEMOCAP_MISSING)}: ")
    assert json.loads((tmp_path / "out/prepare_summary.json").read_text())["corpus"] == "iemocap"


def test_emodb_neutral_key_case_boredem_legacy_files_and_traps(emobox, tmp_path):
    root, data = emobox
    summary = prepare_emobox(data, "emodb", tmp_path / "out", root)

    assert [item["code"] for item in summary["classes"]] == list("ASHFDNB")
    assert summary["classes"][-1] == {"code": "B", "name": "Boredom"}
    every = read_manifest(tmp_path / "out/all/manifest.csv").set_index("FileName")
    assert every.loc["emodb-03a04Nc.wav", "EmoClass"] == "N", "data 'neutral' finds the map's 'Neutral'"
    assert every.loc["emodb-10a07La.wav", "EmoClass"] == "B", "'boredem' is Boredom"
    assert every.loc["emodb-08b01Aa.wav", "EmoClass"] == "F"
    assert sorted(set(every["SpkrID"])) == ["03", "08", "09", "10", "11"]
    assert len(every) == len(layout.EMODB_UTTERANCES)
    assert layout.EMODB_LEGACY_ONLY + ".wav" not in every.index, "the legacy fold files are not read"

    test_1 = data / "emodb/fold_1/emodb_test_fold_1.jsonl"
    unmapped, apple_double = (f"emodb-{stem}" for stem, _ in (layout.EMODB_UNMAPPED, layout.EMODB_APPLE_DOUBLE))
    assert summary["skipped_total"] == 2
    assert summary["skipped"]["unmapped_label"]["count"] == 1
    assert summary["skipped"]["unmapped_label"]["examples"][0].startswith(f"{test_1}:{_line_of(test_1, unmapped)}: "
                                                                          "label 'surprise'")
    assert summary["skipped"]["apple_double"]["examples"][0].startswith(f"{test_1}:{_line_of(test_1, apple_double)}: ")

    for number in range(1, 6):
        parts = _fold(tmp_path / "out", number)
        expected = _listed(data, "emodb", number, "test") - {unmapped + ".wav", apple_double + ".wav"}
        assert set(parts["test"]["FileName"]) == expected
        # EmoBox's Emo-DB folds are speaker-dependent: the tested speakers' other utterances train or develop
        assert set(parts["test"]["SpkrID"]) <= set(parts["train"]["SpkrID"]) | set(parts["development"]["SpkrID"])
        assert summary["folds"][str(number)]["speaker_independent"] is False
        assert not set(parts["development"]["SpkrID"]) & set(parts["train"]["SpkrID"])

    with pytest.raises(ToolkitError, match=re.escape(f"{test_1}:{_line_of(test_1, unmapped)}: label 'surprise'")):
        prepare_emobox(data, "emodb", tmp_path / "strict", root, strict=True)


def test_audio_root_may_be_the_corpus_download_folder(emobox, tmp_path):
    root, data = emobox
    prepare_emobox(data, "emodb", tmp_path / "from_root", root)
    summary = prepare_emobox(data, "emodb", tmp_path / "from_corpus", root / "downloads" / "emodb")
    assert summary["audio_layout"] == "corpus_folder"
    for split in ("all", "fold3/test", "fold3/train"):
        from_root = read_manifest(tmp_path / "from_root" / split / "manifest.csv")
        from_corpus = read_manifest(tmp_path / "from_corpus" / split / "manifest.csv")
        assert from_root[["FileName", "path", "EmoClass"]].equals(from_corpus[["FileName", "path", "EmoClass"]])


def test_meld_develops_on_its_valid_file_reads_extracted_wavs_and_stm_speakers(emobox, tmp_path):
    root, data = emobox
    summary = prepare_emobox(data, "meld", tmp_path / "out", root)

    parts = _fold(tmp_path / "out", 1)
    not_extracted = layout.MELD_NOT_EXTRACTED + ".wav"
    assert set(parts["development"]["FileName"]) == _listed(data, "meld", 1, "valid")
    assert set(parts["test"]["FileName"]) == _listed(data, "meld", 1, "test")
    assert set(parts["train"]["FileName"]) == _listed(data, "meld", 1, "train") - {not_extracted}
    assert summary["folds"]["1"]["development_carved"] is False
    assert summary["protocol"]["development"] == "EmoBox's valid files"
    assert summary["emobox_folds"]["1"]["valid"] == "fold_1/meld_valid_fold_1.jsonl"

    every = read_manifest(tmp_path / "out/all/manifest.csv").set_index("FileName")
    assert every.loc["meld-dia0_utt1-train.wav", "SpkrID"] == "The-Interviewer"
    assert every.loc["meld-dia0_utt0-dev.wav", "SpkrID"] == "Phoebe"
    assert every.loc["meld-dia0_utt0-dev.wav", "path"].endswith("downloads/meld/dev_splits_complete/dia0_utt0.wav")
    assert every.loc["meld-dia1_utt0-dev.wav", "EmoClass"] == "H", "joy is Happy"
    assert summary["speaker_sources"] == {"stm": 12}
    problem = summary["skipped"]["container_without_wav"]
    assert problem["count"] == 1 and "ffmpeg -i" in problem["examples"][0] and "dia9_utt0.wav" in problem["examples"][0]


def test_without_speakers_development_is_carved_per_utterance_and_flagged(tmp_path, caplog):
    root = tmp_path / "EmoBox"
    layout.build_meld(root, valid=False, stm="file_names")
    with caplog.at_level(logging.WARNING, logger="toolkit.corpora.emobox"):
        summary = prepare_emobox(root / "data", "meld", tmp_path / "out", root)

    parts = _fold(tmp_path / "out", 1)
    assert len(parts["development"]) == 1 and len(parts["train"]) == 5, "20 % of the 6 training utterances"
    assert set(read_manifest(tmp_path / "out/all/manifest.csv")["SpkrID"]) == {"Unknown"}, \
        "an stm naming every utterance's own file names no speakers"
    assert summary["speaker_sources"] == {"unknown": 9}
    assert "not speaker-independent" in summary["protocol"]["development"]
    assert "not speaker-independent" in caplog.text


def test_emovo_label_dict_and_stm_speakers(emobox, tmp_path):
    root, data = emobox
    summary = prepare_emobox(data, "emovo", tmp_path / "out", root)
    assert summary["label_map"]["file"].endswith("emovo/label_dict.json")
    assert [item["code"] for item in summary["classes"]] == ["S", "H", "N"]
    for number in (1, 2):
        parts = _fold(tmp_path / "out", number)
        assert set(parts["test"]["FileName"]) == _listed(data, "emovo", number, "test")
        assert len(set(parts["development"]["SpkrID"])) == 1
        assert not set(parts["development"]["SpkrID"]) & set(parts["train"]["SpkrID"])
    assert set(read_manifest(tmp_path / "out/all/manifest.csv")["SpkrID"]) == set(layout.EMOVO_SPEAKERS)


def test_classes_without_a_standard_code_get_a_new_one_and_keep_their_name(tmp_path):
    root = tmp_path / "EmoBox"
    label_map = {"Angry": "Angry", "Excited": "Excited", "Sarcastic": "Sarcastic", "Concerned": "Concerned"}
    groups = []
    for speaker in ("s1", "s2", "s3"):
        groups.append([layout.record("emns", f"{speaker}-{emo}", f"downloads/emns/{speaker}/{emo}.wav", emo)
                       for emo in label_map])
    for item in (item for group in groups for item in group):
        layout.write_audio(root, item)
    layout.write_corpus(root, "emns", label_map, layout.leave_one_out(groups),
                        speakers={item["key"]: item["key"].split("-")[1] for group in groups for item in group})

    summary = prepare_emobox(root / "data", "emns", tmp_path / "out", root)
    assert summary["classes"] == [{"code": "A", "name": "Anger"}, {"code": "E", "name": "Excitement"},
                                  {"code": "CO", "name": "Concerned"}, {"code": "T", "name": "Sarcastic"}]
    assert summary["label_map"]["codes"] == {"Angry": "A", "Excited": "E", "Sarcastic": "T", "Concerned": "CO"}
    assert new_class_codes(["Worried", "Poker", "pleasure", "Sleepy", "Amused"]) == \
        {"Amused": "M", "pleasure": "P", "Poker": "PO", "Sleepy": "L", "Worried": "W"}


def test_label_map_quirks_old_ravdess_typo_and_non_target_names(tmp_path):
    corpus = tmp_path / "ravdess"
    corpus.mkdir()
    (corpus / "label_map.json").write_text(json.dumps({"Superised": "Surprise", "Surprised": "Superised",
                                                       "O": "Other", "X": "No-agreement", "Calm": "Calm"}))
    labels = load_label_map(corpus)
    assert labels.codes == {"Surprise": "U", "Superised": "U", "Other": "O", "No-agreement": "X", "Calm": "K"}
    assert labels.class_of("calm") == "Calm" and labels.class_of("sad") is None

    (corpus / "label_map.json").write_text(json.dumps({"s": "Sad", "S": "Fear"}))
    with pytest.raises(ToolkitError, match="different cases"):
        load_label_map(corpus)


def test_missing_corpus_folder_or_label_map_are_clear_errors(emobox, tmp_path):
    root, data = emobox
    with pytest.raises(ToolkitError, match=r"no such corpus folder.*emodb, emovo, iemocap, meld"):
        prepare_emobox(data, "ravdess", tmp_path / "out", root)
    (data / "emodb" / "label_map.json").unlink()
    with pytest.raises(ToolkitError, match=r"no label_map.json or label_dict.json"):
        prepare_emobox(data, "emodb", tmp_path / "out", root)
    (data / "iemocap/fold_3/iemocap_test_fold_3.jsonl").unlink()
    with pytest.raises(ToolkitError, match=r"iemocap_test_fold_3.jsonl not found"):
        prepare_emobox(data, "iemocap", tmp_path / "out", root)
    assert not (tmp_path / "out").exists()


def test_fold_files_that_disagree_are_errors_naming_both_places(emobox, tmp_path):
    root, data = emobox
    train = data / "meld/fold_1/meld_train_fold_1.jsonl"
    lines = train.read_text().splitlines()
    lines.append(lines[0])
    lines[0] = lines[0].replace('"emo": "neutral"', '"emo": "joy"')
    train.write_text("\n".join(lines) + "\n")
    both_places = rf"meld_train_fold_1.jsonl:1 has .* but .*meld_train_fold_1.jsonl:{len(lines)}"
    with pytest.raises(ToolkitError, match=both_places):
        prepare_emobox(data, "meld", tmp_path / "out", root)

    train_4 = data / "iemocap/fold_4/iemocap_train_fold_4.jsonl"
    train_4.write_text("".join(line + "\n" for line in train_4.read_text().splitlines()[1:]))
    with pytest.raises(ToolkitError, match=r"fold 4 .* does not list 1 utterance"):
        prepare_emobox(data, "iemocap", tmp_path / "out", root)

    test_1 = data / "emodb/fold_1/emodb_test_fold_1.jsonl"
    test_1.write_text(test_1.read_text() + '{"key": "emodb-03a01Wa", "dataset": "emodb"}\n')
    with pytest.raises(ToolkitError, match=r"emodb_test_fold_1.jsonl:\d+: record without wav, emo"):
        prepare_emobox(data, "emodb", tmp_path / "out", root)


def test_time_spans_of_long_recordings_are_counted_not_read_as_whole_files(tmp_path):
    root = tmp_path / "EmoBox"
    # PAVOQUE's records address spans of a few long files, with start_time/end_time after EmoBox's usual fields
    spans = [{**layout.record("pavoque", f"m{index:04d}-{emo}", f"downloads/pavoque/pavoque-{emo}.flac", emo, 44100),
              "start_time": 4.0 * index, "end_time": 4.0 * index + 3.5}
             for index, emo in enumerate(("angry", "neutral", "sad", "happy"))]
    layout.write_corpus(root, "pavoque", {"angry": "Angry", "neutral": "Neutral", "sad": "Sad", "happy": "Happy"},
                        [{"train": spans[:2], "test": spans[2:]}])
    (root / "downloads" / "pavoque").mkdir(parents=True)
    all_skipped = r"no usable pavoque utterance among 4 record\(s\) \(skipped: segment_record 4\)"
    with pytest.raises(ToolkitError, match=all_skipped):
        prepare_emobox(root / "data", "pavoque", tmp_path / "out", root)
    with pytest.raises(ToolkitError, match=r"pavoque_test_fold_1.jsonl:1: key pavoque-m0002-sad is a time span"):
        prepare_emobox(root / "data", "pavoque", tmp_path / "out", root, strict=True)
