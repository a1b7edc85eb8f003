"""The IEMOCAP adapter: a release tree in, leave-one-session-out fold manifests out."""

import json
import shutil

import numpy as np
import pytest

from toolkit.corpora.iemocap import prepare_iemocap
from toolkit.data.inventory import read_inventory
from toolkit.data.manifest import read_manifest
from toolkit.utils.errors import ToolkitError

from tests.corpora.iemocap_layout import build_iemocap

SPLITS = ("train", "development", "test")


@pytest.fixture(scope="module")
def layout(tmp_path_factory):
    return build_iemocap(tmp_path_factory.mktemp("iemocap"))


@pytest.fixture(scope="module")
def four_class(layout, tmp_path_factory):
    output = tmp_path_factory.mktemp("four_class")
    return prepare_iemocap(layout.root, output), output


def _by_name(frame):
    return frame.set_index("FileName")


def _soft(row, codes):
    return [float(row[f"soft_{code}"]) for code in codes]


def test_four_class_protocol_merges_excited_into_happiness_and_counts_excluded_codes(layout, four_class):
    summary, output = four_class
    assert [item["code"] for item in summary["classes"]] == ["A", "S", "H", "N"]
    assert summary["class_protocol"] == "4"
    # 16 turns in each of 10 dialogs, 2 of every code per dialog: 20 per code
    assert summary["excluded"] == {"fru": 20, "oth": 20, "xxx": 20}
    every = _by_name(read_manifest(output / "all/manifest.csv"))
    assert read_inventory(output / "all/manifest.csv").codes == ("A", "S", "H", "N")
    # hap and exc (20 each) are both H; the malformed block and the missing wav are both neu turns
    assert every["EmoClass"].value_counts().to_dict() == {"H": 40, "A": 20, "S": 20, "N": 18}
    codes = {f"{turn.name}.wav": turn.code for turn in layout.turns}
    assert {codes[name] for name in every.index[every["EmoClass"] == "H"]} == {"hap", "exc"}
    assert not {name for name, code in codes.items() if code in ("fru", "oth", "xxx")} & set(every.index)
    assert f"{layout.malformed_turn}.wav" not in every.index and f"{layout.missing_wav_turn}.wav" not in every.index


def test_speaker_and_gender_come_from_the_turn_letter_not_the_dialog_name(four_class):
    _, output = four_class
    every = _by_name(read_manifest(output / "all/manifest.csv"))
    assert every.loc["Ses01F_impro01_M000.wav", ["SpkrID", "Gender"]].tolist() == ["Ses01M", "Male"]
    assert every.loc["Ses03M_impro05a_F000.wav", ["SpkrID", "Gender"]].tolist() == ["Ses03F", "Female"]
    assert every.loc["Ses05M_script01_1b_F001.wav", ["SpkrID", "Gender"]].tolist() == ["Ses05F", "Female"]
    assert every.loc["Ses05M_script01_1b_F001.wav", "path"].endswith(
        "Session5/sentences/wav/Ses05M_script01_1b/Ses05M_script01_1b_F001.wav")
    assert sorted(set(every["SpkrID"])) == [f"Ses0{session}{letter}" for session in range(1, 6) for letter in "FM"]
    for name, row in every.iterrows():
        turn_letter = name[:-len(".wav")].rsplit("_", 1)[1][0]
        assert row["SpkrID"] == name[:5] + turn_letter


def test_vad_triple_is_valence_activation_dominance_mapped_from_1_5_onto_1_7(four_class):
    _, output = four_class
    every = _by_name(read_manifest(output / "all/manifest.csv"))
    # the block's triple is [1.5000, 4.0000, 4.5000] (V, A, D): 1 + 6 * (x - 1) / 4
    row = every.loc["Ses01F_impro01_F001.wav"]
    assert [float(row[column]) for column in ("EmoVal", "EmoAct", "EmoDom")] == [1.75, 5.5, 6.25]
    row = every.loc["Ses01F_impro01_F000.wav"]  # [3.0000, 2.5000, 2.5000]
    assert [float(row[column]) for column in ("EmoVal", "EmoAct", "EmoDom")] == [4.0, 3.25, 3.25]


def test_soft_labels_share_each_evaluators_vote_and_ignore_self_evaluations(four_class):
    _, output = four_class
    every = _by_name(read_manifest(output / "all/manifest.csv"))
    # neu turn: E1 Neutral; E2 Neutral + Frustration (R is outside the 4 classes); E3 Excited (-> H);
    # the actor's own C-F1 Anger must not count: N 1.5, H 1 of 2.5
    row = every.loc["Ses01F_impro01_F000.wav"]
    np.testing.assert_allclose(_soft(row, "ASHN"), [0.0, 0.0, 0.4, 0.6])
    assert row["n_annotators"] == "3"
    # ang turn: A 1.5, H 1; the self-evaluation says Sadness
    np.testing.assert_allclose(_soft(every.loc["Ses01F_impro01_F001.wav"], "ASHN"), [0.6, 0.0, 0.4, 0.0])
    # hap turn: Happiness, Happiness + Frustration, Excited: all the mass on H
    np.testing.assert_allclose(_soft(every.loc["Ses01F_impro01_F003.wav"], "ASHN"), [0.0, 0.0, 1.0, 0.0])


def test_transcripts_fill_the_text_column(layout, four_class):
    _, output = four_class
    every = _by_name(read_manifest(output / "all/manifest.csv"))
    texts = {f"{turn.name}.wav": turn.text for turn in layout.turns}
    assert all(every.loc[name, "text"] == texts[name] for name in every.index)
    assert not [name for name in every.index if "XX" in name]


def test_fold_k_tests_exactly_session_k_with_speaker_disjoint_splits(layout, four_class):
    summary, output = four_class
    every = read_manifest(output / "all/manifest.csv")
    assert summary["protocol"]["folds"] == 5
    for k in range(1, 6):
        parts = {split: read_manifest(output / f"fold{k}/{split}/manifest.csv") for split in SPLITS}
        assert set(parts["test"]["FileName"]) == {name for name in every["FileName"] if name.startswith(f"Ses0{k}")}
        assert all(f"/Session{k}/" in path for path in parts["test"]["path"])
        assert set(parts["test"]["SpkrID"]) == {f"Ses0{k}F", f"Ses0{k}M"}
        speakers = {split: set(part["SpkrID"]) for split, part in parts.items()}
        assert not speakers["train"] & speakers["development"]
        assert not (speakers["train"] | speakers["development"]) & speakers["test"]
        assert len(speakers["development"]) == 2, "0.2 of the 8 training speakers"
        assert sorted(name for part in parts.values() for name in part["FileName"]) == sorted(every["FileName"])
        assert set(parts["train"]["EmoClass"]) == {"A", "S", "H", "N"}
        assert summary["folds"][str(k)]["description"] == f"test Session{k}"


def test_per_evaluator_subfolders_are_not_read(layout, four_class):
    summary, output = four_class
    every = _by_name(read_manifest(output / "all/manifest.csv"))
    assert not {f"{name}.wav" for name in layout.decoy_turns} & set(every.index)
    # the decoys relabel each session's first turn as sad (and Anger/Fear votes): it stays a neutral turn
    assert every.loc["Ses01F_impro01_F000.wav", "EmoClass"] == "N"
    examples = json.dumps(summary["skipped"])
    assert not any(folder in examples for folder in ("Categorical", "Attribute", "Self-evaluation"))


def test_bad_input_is_counted_with_file_and_line(layout, four_class):
    summary, _ = four_class
    skipped = summary["skipped"]
    # also shows that the ';' inside a vote's comment is not read as a category (no unknown_evaluator_category)
    assert {reason: entry["count"] for reason, entry in skipped.items()} == {
        "apple_double": 2, "malformed_evaluation_line": 1, "missing_audio": 1}
    assert summary["skipped_total"] == 4
    path, line = layout.malformed_line
    assert skipped["malformed_evaluation_line"]["examples"][0].startswith(f"{path}:{line}: ")
    missing = skipped["missing_audio"]["examples"][0]
    assert "Ses04F_impro03.txt:" in missing and f"{layout.missing_wav_turn}.wav: audio file not found" in missing
    assert all(any(str(path) in example for example in skipped["apple_double"]["examples"])
               for path in layout.apple_double)


def test_strict_makes_the_first_problem_fatal(tmp_path):
    layout = build_iemocap(tmp_path / "corpus", utterances_per_dialog=8)
    with pytest.raises(ToolkitError, match=r"\._Ses01F_impro01\.txt: macOS AppleDouble.*--strict"):
        prepare_iemocap(layout.root, tmp_path / "out", strict=True)
    for path in layout.apple_double:
        path.unlink()
    path, line = layout.malformed_line
    with pytest.raises(ToolkitError, match=rf"{path}:{line}: .*block skipped.*--strict"):
        prepare_iemocap(layout.root, tmp_path / "out", strict=True)
    assert not (tmp_path / "out/prepare_summary.json").exists()


def test_six_class_protocol_keeps_excitement_and_frustration(layout, tmp_path):
    summary = prepare_iemocap(layout.root, tmp_path, classes="6")
    assert [item["code"] for item in summary["classes"]] == ["A", "S", "H", "N", "R", "E"]
    assert summary["excluded"] == {"oth": 20, "xxx": 20}
    every = _by_name(read_manifest(tmp_path / "all/manifest.csv"))
    assert every["EmoClass"].value_counts().to_dict() == {"A": 20, "S": 20, "H": 20, "E": 20, "R": 20, "N": 18}
    # Excited now votes for E and Frustration for R: N 1.5, R 0.5, E 1 of 3
    np.testing.assert_allclose(_soft(every.loc["Ses01F_impro01_F000.wav"], "ASHNRE"), [0, 0, 0, 0.5, 1 / 6, 1 / 3],
                               atol=1e-5)
    assert all(set(fold["train"]["classes"]) == set("ASHNRE") for fold in summary["folds"].values())


def test_a_label_map_defines_any_other_protocol(layout, tmp_path):
    summary = prepare_iemocap(layout.root, tmp_path, label_map={"ang": "Anger", "sad": "S", "hap": "H", "exc": "H"})
    assert summary["class_protocol"] == "label_map"
    assert [item["code"] for item in summary["classes"]] == ["A", "S", "H"]
    # neu is excluded now: 20 turns less the malformed block (skipped, not excluded)
    assert summary["excluded"] == {"fru": 20, "neu": 19, "oth": 20, "xxx": 20}
    every = _by_name(read_manifest(tmp_path / "all/manifest.csv"))
    assert set(every["EmoClass"]) == {"A", "S", "H"} and len(every) == 80
    # the sad turn's votes: Sadness, Sadness + Frustration, Excited: S 1.5, H 1
    np.testing.assert_allclose(_soft(every.loc["Ses01F_impro01_F002.wav"], "ASH"), [0.0, 0.6, 0.4])


@pytest.mark.parametrize("label_map, message", [
    ({"angry": "A", "neu": "N"}, "'angry' is not a consensus code"),
    ({"xxx": "N", "ang": "A"}, "'xxx' is not a consensus code"),
    ({"oth": "X", "ang": "A"}, "maps to X, which is never a target"),
    ({"ang": "A"}, "a classifier needs at least 2 classes"),
])
def test_bad_label_maps_are_explained(layout, tmp_path, label_map, message):
    with pytest.raises(ToolkitError, match=message):
        prepare_iemocap(layout.root, tmp_path, label_map=label_map)


def test_unknown_class_protocol_is_explained(layout, tmp_path):
    with pytest.raises(ToolkitError, match="IEMOCAP classes '5' unknown; use 4 .* 6"):
        prepare_iemocap(layout.root, tmp_path, classes="5")


def test_wrong_root_says_what_layout_is_expected(layout, tmp_path):
    with pytest.raises(ToolkitError, match="IEMOCAP root not found; ROOT must be the IEMOCAP_full_release folder"):
        prepare_iemocap(tmp_path / "nowhere", tmp_path / "out")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ToolkitError, match=r"missing Session1, Session2, .*Session5 .*dialog/EmoEvaluation/<dialog>\.txt"):
        prepare_iemocap(tmp_path / "empty", tmp_path / "out")
    with pytest.raises(ToolkitError, match=r"did you mean .*IEMOCAP_full_release\?"):
        prepare_iemocap(layout.root.parent, tmp_path / "out")
    partial = tmp_path / "partial"
    shutil.copytree(layout.root / "Session1", partial / "Session1")
    with pytest.raises(ToolkitError, match=r"missing Session2, Session3, Session4, Session5 \(leave-one-session-out"):
        prepare_iemocap(partial, tmp_path / "out")
