"""The generic corpus adapter: wav folder + label CSV + label map -> the stage-0 manifests."""

import json

import numpy as np
import pytest
import soundfile

from toolkit.corpora.generic import load_label_map, prepare_generic
from toolkit.data.inventory import read_inventory
from toolkit.data.manifest import manifest_columns, read_manifest, soft_label_matrix
from toolkit.emotions import Inventory
from toolkit.utils.errors import ToolkitError


def _wav(path, seconds=0.5, sample_rate=16000, channels=1):
    path.parent.mkdir(parents=True, exist_ok=True)
    samples = np.zeros((int(seconds * sample_rate), channels), dtype=np.float32)
    soundfile.write(path, samples, sample_rate)


@pytest.fixture
def corpus(tmp_path):
    audio = tmp_path / "wavs"
    for name in ("a.wav", "b.wav", "c.wav", "d.wav", "sub/e.wav", "extra.wav"):
        _wav(audio / name)
    _wav(audio / "stereo.wav", seconds=1.0, sample_rate=22050, channels=2)
    labels = tmp_path / "labels.csv"
    labels.write_text(
        "FileName,label,speaker,split,arousal,valence,dominance\n"
        "a.wav,angry,s1,train,5,1,4\n"
        "b.wav,happy,s2,train,3,5,3\n"
        "sub/e.wav,neutral,s3,dev,3,3,3\n"
        "c.wav,frustrated,s3,dev,4,2,4\n"
        "d.wav,,s4,test,,,\n"

        "stereo.wav,mixed,s1,train,2,2,2\n"
        "missing.wav,sad,s5,train,1,1,1\n"
        "a.wav,sad,s1,train,1,1,1\n"
        "h.wav,happy,s2,train,9,5,3\n"
        "i.wav,angry,s1,train,x,1,1\n"
    )
    return audio, labels


def test_manifests_have_every_column_one_hot_soft_labels_and_rescaled_attributes(corpus, tmp_path):
    audio, labels = corpus
    label_map = load_label_map("angry=A,happy=H,neutral=N,frustrated=A,mixed=X,sad=S")
    summary = prepare_generic(audio, labels, tmp_path / "data", label_map=label_map, attribute_range=(1, 5))

    train = read_manifest(tmp_path / "data/train/manifest.csv")
    # the inventory: the label map's classes that label a kept row (sad's only row was skipped)
    inventory = Inventory.from_codes("AHN")
    assert summary["classes"] == [{"code": "A", "name": "Anger"}, {"code": "H", "name": "Happiness"},
                                  {"code": "N", "name": "Neutral"}]
    assert read_inventory(tmp_path / "data/train/manifest.csv") == inventory
    assert list(train.columns) == manifest_columns(inventory)
    assert list(train["FileName"]) == ["a.wav", "b.wav", "stereo.wav"]
    assert list(train["EmoClass"]) == ["A", "H", "X"]
    soft = soft_label_matrix(train)
    np.testing.assert_array_equal(soft[0], [1, 0, 0])
    np.testing.assert_array_equal(soft[1], [0, 1, 0])
    assert np.isnan(soft[2]).all(), "an X row has no soft label but stays for the attribute head"
    # 1-5 scale mapped onto 1-7: 5 -> 7, 1 -> 1, 3 -> 4
    assert train.loc[0, ["EmoAct", "EmoVal", "EmoDom"]].astype(float).tolist() == [7.0, 1.0, 5.5]
    assert train.loc[2, "sample_rate"] == "22050" and train.loc[2, "num_channels"] == "2"
    assert float(train.loc[0, "duration"]) == pytest.approx(0.5)
    assert train.loc[0, "path"] == str((audio / "a.wav").resolve())

    development = read_manifest(tmp_path / "data/development/manifest.csv")
    assert list(development["FileName"]) == ["c.wav", "sub/e.wav"]
    assert list(development["EmoClass"]) == ["A", "N"]
    assert set(development["Split_Set"]) == {"Development"}

    test3 = read_manifest(tmp_path / "data/test3/manifest.csv")
    assert list(test3["FileName"]) == ["d.wav", "extra.wav"], "unlisted wavs become unlabelled test3 rows"
    assert set(test3["EmoClass"]) == {""}

    on_disk = json.loads((tmp_path / "data/prepare_summary.json").read_text())
    assert on_disk == json.loads(json.dumps(summary))
    assert on_disk["skipped"]["missing_audio"]["count"] == 1
    assert on_disk["skipped"]["duplicate_file_name"]["count"] == 1
    assert "labels.csv:9" in on_disk["skipped"]["duplicate_file_name"]["examples"][0]
    assert on_disk["unlisted_wavs_to_test3"] == 1
    assert "labels.csv:10: 9.0 outside the attribute range [1, 5]" in on_disk["skipped"]["attribute_out_of_range"]["examples"][0]
    assert on_disk["skipped"]["unparsable_number"]["count"] == 1
    assert on_disk["splits"]["train"]["rows"] == 3


def test_unknown_label_is_skipped_and_counted_or_fatal_with_strict(corpus, tmp_path):
    audio, labels = corpus
    summary = prepare_generic(audio, labels, tmp_path / "data", label_map=load_label_map("angry=A,happy=H,neutral=N"))
    assert summary["skipped"]["unknown_label"]["count"] == 3
    assert "labels.csv:5: label 'frustrated' is not in the label map" in summary["skipped"]["unknown_label"]["examples"][0]
    with pytest.raises(ToolkitError, match=r"labels\.csv:5: label 'frustrated'.*--strict"):
        prepare_generic(audio, labels, tmp_path / "strict", label_map=load_label_map("angry=A,happy=H,neutral=N"),
                        strict=True)


def test_without_split_column_speakers_never_straddle_train_and_development(tmp_path):
    audio = tmp_path / "wavs"
    lines = ["FileName,label,speaker"]
    for index in range(60):
        _wav(audio / f"u{index}.wav", seconds=0.1)
        lines.append(f"u{index}.wav,{'AHSN'[index % 4]},spk{index % 12}")
    (tmp_path / "labels.csv").write_text("\n".join(lines) + "\n")
    prepare_generic(audio, tmp_path / "labels.csv", tmp_path / "data", dev_fraction=0.3)
    train = read_manifest(tmp_path / "data/train/manifest.csv")
    development = read_manifest(tmp_path / "data/development/manifest.csv")
    assert len(train) + len(development) == 60
    assert not set(train["SpkrID"]) & set(development["SpkrID"])
    assert len(development) > 0 and len(train) > len(development)
    again = tmp_path / "again"
    prepare_generic(audio, tmp_path / "labels.csv", again, dev_fraction=0.3)
    assert (again / "train/manifest.csv").read_bytes() == (tmp_path / "data/train/manifest.csv").read_bytes()


def test_label_map_file_and_its_errors(tmp_path):
    good = tmp_path / "map.yaml"
    good.write_text("Angry: A\nhap: h\nnone: X\nmad: Anger\nserene: calm\nbored: Boredom\npleasant: P Pleasant surprise\n")
    label_map = load_label_map(str(good))
    assert label_map == {"angry": "A", "hap": "H", "none": "X", "mad": "A", "serene": "K", "bored": "B", "pleasant": "P"}
    assert label_map.names == {"P": "Pleasant surprise"}
    bad = tmp_path / "bad.yaml"
    bad.write_text("angry: Angrr\n")
    with pytest.raises(ToolkitError, match=r"bad\.yaml: label 'angry' maps to 'ANGRR', which is not a known class.*'CODE Name'"):
        load_label_map(str(bad))
    with pytest.raises(ToolkitError, match=r"class code 'p' must be an upper-case letter"):
        load_label_map("pleasant=p Pleasant")
    with pytest.raises(ToolkitError, match="neither a file nor an inline map"):
        load_label_map("no-such-file.yaml")
    assert load_label_map(None)["sad"] == "S"


def test_missing_columns_and_empty_development_are_explained(tmp_path):
    audio = tmp_path / "wavs"
    _wav(audio / "a.wav")
    (tmp_path / "nolabel.csv").write_text("FileName,speaker\na.wav,s1\n")
    with pytest.raises(ToolkitError, match=r"nolabel\.csv:1: header lacks column\(s\) label"):
        prepare_generic(audio, tmp_path / "nolabel.csv", tmp_path / "data")
    (tmp_path / "train_only.csv").write_text("FileName,label,split\na.wav,A,train\n")
    with pytest.raises(ToolkitError, match="no usable Development rows"):
        prepare_generic(audio, tmp_path / "train_only.csv", tmp_path / "data")


def test_cli_prepare_generic_writes_manifests_and_reports_errors_without_traceback(corpus, tmp_path):
    from click.testing import CliRunner

    from toolkit.cli import main

    audio, labels = corpus
    runner = CliRunner()
    result = runner.invoke(main, ["prepare", "generic", str(audio), str(labels), str(tmp_path / "data"),
                                  "--label-map", "angry=A,happy=H,neutral=N,frustrated=A,mixed=X,sad=S",
                                  "--attribute-range", "1", "5"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "data/development/manifest.csv").is_file()
    result = runner.invoke(main, ["prepare", "generic", str(audio), str(labels), str(tmp_path / "bad"),
                                  "--label-map", "angry=Q"])
    assert result.exit_code == 1
    assert "error: inline label map: label 'angry' maps to 'Q'" in result.output
    assert "Traceback" not in result.output


def test_new_classes_get_their_own_codes_and_the_inventory_follows_the_label_map(tmp_path):
    audio = tmp_path / "wavs"
    lines = ["FileName,label,split"]
    labels = ["calm", "neutral", "bored", "pleasant", "angry", "calm"]
    for index, label in enumerate(labels * 2):
        _wav(audio / f"u{index}.wav", seconds=0.1)
        lines.append(f"u{index}.wav,{label},{'train' if index < 6 else 'dev'}")
    (tmp_path / "labels.csv").write_text("\n".join(lines) + "\n")
    summary = prepare_generic(audio, tmp_path / "labels.csv", tmp_path / "data",
                              label_map=load_label_map("calm=Calm,neutral=N,bored=boredom,pleasant=P Pleasant surprise,"
                                                       "angry=A"))
    # standard classes in the standard order, then the corpus's own
    assert [(c["code"], c["name"]) for c in summary["classes"]] == [
        ("A", "Anger"), ("N", "Neutral"), ("K", "Calm"), ("B", "Boredom"), ("P", "Pleasant surprise")]
    train = read_manifest(tmp_path / "data/train/manifest.csv")
    assert [c for c in train.columns if c.startswith("soft_")] == ["soft_A", "soft_N", "soft_K", "soft_B", "soft_P"]
    assert read_inventory(tmp_path / "data/development/manifest.csv").describe() == \
        "A Anger, N Neutral, K Calm, B Boredom, P Pleasant surprise"


def test_classes_option_pins_the_inventory_and_counts_rows_outside_it(corpus, tmp_path):
    audio, labels = corpus
    summary = prepare_generic(audio, labels, tmp_path / "data", classes=Inventory.parse("A,S,H,N"),
                              label_map=load_label_map("angry=A,happy=H,neutral=N,frustrated=R,mixed=X,sad=S"))
    assert [c["code"] for c in summary["classes"]] == ["A", "S", "H", "N"], "pinned, S kept though no row has it"
    assert summary["skipped"]["class_not_in_inventory"]["count"] == 1
    assert "label 'frustrated' is class R, which is not in --classes A,S,H,N" in \
        summary["skipped"]["class_not_in_inventory"]["examples"][0]
