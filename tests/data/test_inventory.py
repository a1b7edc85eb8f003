"""Where later stages find the inventory stage 0 recorded: manifest columns and the summary."""

import json

import pytest

from toolkit.data.inventory import read_inventory
from toolkit.emotions import CHALLENGE
from toolkit.utils.errors import ToolkitError


def _manifest(path, codes):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("FileName,EmoClass," + ",".join(f"soft_{code}" for code in codes) + ",text\na.wav,A,1,0,\n")


def test_codes_come_from_the_soft_columns_and_names_from_the_summary_beside_or_above(tmp_path):
    _manifest(tmp_path / "data/train/manifest.csv", "AK")
    assert read_inventory(tmp_path / "data/train/manifest.csv").describe() == "A Anger, K Calm"
    # the fold layout: OUTDIR/fold1/train/manifest.csv with the summary in OUTDIR
    _manifest(tmp_path / "folds/fold1/train/manifest.csv", "AP")
    (tmp_path / "folds/prepare_summary.json").write_text(json.dumps(
        {"classes": [{"code": "A", "name": "Anger"}, {"code": "P", "name": "Pleasant surprise"}]}))
    assert read_inventory(tmp_path / "folds/fold1/train/manifest.csv").describe() == "A Anger, P Pleasant surprise"


def test_a_file_without_soft_columns_is_the_challenge_and_disagreement_is_an_error(tmp_path):
    (tmp_path / "labels.csv").write_text("FileName,EmoClass\na.wav,A\n")
    assert read_inventory(tmp_path / "labels.csv") == CHALLENGE
    _manifest(tmp_path / "data/train/manifest.csv", "AS")
    (tmp_path / "data/prepare_summary.json").write_text(json.dumps({"classes": [{"code": "A"}, {"code": "N"}]}))
    with pytest.raises(ToolkitError, match="soft-label columns are for classes A,S but .* records A,N.*re-run stage 0"):
        read_inventory(tmp_path / "data/train/manifest.csv")
