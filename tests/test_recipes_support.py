"""toolkit.recipes_support: the helpers run.sh calls (ensemble members, streams, submissions, label checks)."""

import numpy as np
import pandas as pd
import pytest

from toolkit.predictions import write_predictions
from toolkit.recipes_support import main

ENSEMBLE = """train_config: conf/train/deepser.yaml
members:
  - {name: a_b, streams: [a, b], overrides: [train.seed=1, stage1.lr=0.001]}
  - {name: b_c, streams: [b, c], train_config: conf/train/other.yaml}
"""


def test_members_and_streams_print_tab_separated_lines(tmp_path, capsys):
    conf = tmp_path / "ensemble.yaml"
    conf.write_text(ENSEMBLE)
    assert main(["members", str(conf)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "a_b\tconf/train/deepser.yaml\t[a,b]\ttrain.seed=1\tstage1.lr=0.001",
        "b_c\tconf/train/other.yaml\t[b,c]",
    ]
    assert main(["streams", str(conf)]) == 0
    assert capsys.readouterr().out.split() == ["a", "b", "c"]
    encoders = tmp_path / "encoders"
    encoders.mkdir()
    for stream in ("a", "b"):
        (encoders / f"{stream}.yaml").write_text("kind: fbank\n")
    assert main(["streams", str(conf), "--encoder-dir", str(encoders)]) == 1
    assert f"stream 'c' has no encoder config {encoders}/c.yaml" in capsys.readouterr().err


def test_write_submissions_takes_the_argmax_class_and_checks_the_ids(tmp_path, capsys):
    names = ["MSP-PODCAST_test3_0002.wav", "MSP-PODCAST_test3_0001.wav"]
    logits = np.zeros((2, 8))
    logits[0, 2] = 5.0  # H
    logits[1, 7] = 5.0  # N
    write_predictions(tmp_path / "pred.csv", names, logits, np.array([[4.0, 3.0, 8.0], [0.5, 2.0, 3.0]]))
    pd.DataFrame({"FileName": sorted(names), "path": ["x", "y"]}).to_csv(tmp_path / "manifest.csv", index=False)
    assert main(["write-submissions", str(tmp_path / "pred.csv"), str(tmp_path / "out"), "--tag", "sys",
                 "--manifest", str(tmp_path / "manifest.csv")]) == 0
    categorical = pd.read_csv(tmp_path / "out/sys_categorical.csv", dtype=str)
    assert categorical.values.tolist() == [["MSP-PODCAST_test3_0001.wav", "N"], ["MSP-PODCAST_test3_0002.wav", "H"]]
    attributes = pd.read_csv(tmp_path / "out/sys_attributes.csv")
    assert attributes[["EmoAct", "EmoVal", "EmoDom"]].values.tolist() == [[1.0, 2.0, 3.0], [4.0, 3.0, 7.0]]

    pd.DataFrame({"FileName": ["MSP-PODCAST_test3_0003.wav"], "path": ["z"]}).to_csv(tmp_path / "other.csv", index=False)
    assert main(["write-submissions", str(tmp_path / "pred.csv"), str(tmp_path / "bad"), "--tag", "sys",
                 "--manifest", str(tmp_path / "other.csv")]) == 1
    assert not (tmp_path / "bad/sys_categorical.csv").exists()


@pytest.mark.parametrize("rows, task, expected", [
    ({"EmoClass": ["A", "N"]}, "categorical", 0),
    ({"EmoClass": ["A", ""]}, "categorical", 1),
    ({"EmoClass": ["A", "N"]}, "attributes", 1),
    ({"EmoAct": ["1", "2"], "EmoVal": ["3", "4"], "EmoDom": ["5", "6"]}, "attributes", 0),
    ({"EmoAct": ["1", ""], "EmoVal": ["3", "4"], "EmoDom": ["5", "6"]}, "attributes", 1),
])
def test_has_labels_exit_status(tmp_path, rows, task, expected):
    pd.DataFrame({"FileName": ["a.wav", "b.wav"], **rows}).to_csv(tmp_path / "labels.csv", index=False)
    with pytest.raises(SystemExit) as exit_info:
        main(["has-labels", str(tmp_path / "labels.csv"), "--task", task])
    assert exit_info.value.code == expected


def test_probes_are_one_per_stream_and_all_streams_with_their_role(tmp_path, capsys):
    config = tmp_path / "ensemble.yaml"
    config.write_text("train_config: t.yaml\nprobe_members: [all_streams]\nmembers:\n"
                      "  - {name: a, streams: [fbank, minilm]}\n  - {name: b, streams: [whisper, minilm]}\n")
    assert main(["probes", str(config)]) == 0
    lines = [line.split("\t") for line in capsys.readouterr().out.splitlines()]
    assert lines == [["fbank", "t.yaml", "[fbank]", "reference"], ["minilm", "t.yaml", "[minilm]", "reference"],
                     ["whisper", "t.yaml", "[whisper]", "reference"],
                     ["all_streams", "t.yaml", "[fbank,minilm,whisper]", "member"]]
    config.write_text("train_config: t.yaml\nprobe_members: [nope]\nmembers:\n  - {name: a, streams: [fbank]}\n")
    assert main(["probes", str(config)]) == 1
    assert "probe_members must list probes of this ensemble (fbank)" in capsys.readouterr().err
