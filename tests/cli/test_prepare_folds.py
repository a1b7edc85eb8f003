"""The fold-protocol adapters through the CLI: each prints its folds and writes the layout; errors without traceback."""

import json

import pytest
from click.testing import CliRunner

from tests.corpora.crema_d_layout import build_crema_d
from tests.corpora.emobox_layout import build_emobox
from tests.corpora.emodb_layout import build_emodb
from tests.corpora.iemocap_layout import build_iemocap
from tests.corpora.ravdess_layout import build_ravdess
from toolkit.cli import main


def invoke(*args):
    return CliRunner().invoke(main, ["prepare", *map(str, args)])


@pytest.mark.parametrize("corpus, arguments, folds, classes", [
    ("iemocap", lambda tmp: [build_iemocap(tmp).root], 5, "A,S,H,N"),
    ("iemocap", lambda tmp: [build_iemocap(tmp).root, "--label-map", "neu=N,ang=A,sad=S,hap=H,exc=E Excited"], 5,
     "A,S,H,N,E"),
    ("crema-d", lambda tmp: [build_crema_d(tmp / "cremad"), "--folds", "3"], 3, "A,S,H,F,D,N"),
    ("ravdess", lambda tmp: [build_ravdess(tmp / "ravdess")], 6, "A,S,H,U,F,D,N,K"),
    ("emodb", lambda tmp: [build_emodb(tmp / "emodb")], 10, "A,S,H,F,D,N,B"),
])
def test_each_adapter_writes_its_folds_and_prints_them(tmp_path, corpus, arguments, folds, classes):
    result = invoke(corpus, *arguments(tmp_path), tmp_path / "data")
    assert result.exit_code == 0, result.output
    assert f"{folds} fold(s)" in result.output and "Traceback" not in result.output
    summary = json.loads((tmp_path / "data" / "prepare_summary.json").read_text())
    assert ",".join(item["code"] for item in summary["classes"]) == classes
    assert len(summary["folds"]) == folds
    for split in ("train", "development", "test"):
        assert (tmp_path / "data" / "fold1" / split / "manifest.csv").is_file()
    assert (tmp_path / "data" / "all" / "manifest.csv").is_file()


def test_emobox_through_the_cli_and_a_bad_root_without_traceback(tmp_path):
    data = build_emobox(tmp_path / "EmoBox")
    result = invoke("emobox", data, "iemocap", tmp_path / "data", "--audio-root", tmp_path / "EmoBox")
    assert result.exit_code == 0, result.output
    assert "protocol emobox-iemocap: 5 fold(s)" in result.output
    result = invoke("iemocap", tmp_path, tmp_path / "bad")
    assert result.exit_code == 1 and "error:" in result.output and "Traceback" not in result.output
