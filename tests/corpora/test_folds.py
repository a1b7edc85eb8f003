"""Fold protocols: manifests per fold, the carved Development set, the summary."""

import json

import pandas as pd
import pytest

from toolkit.corpora.folds import FoldProtocol, FoldSpec, carve_development, write_folds
from toolkit.data.inventory import read_inventory
from toolkit.data.manifest import read_manifest
from toolkit.emotions import Inventory
from toolkit.utils.errors import ToolkitError

INVENTORY = Inventory.parse("A,S,H,N")


def _rows(speakers=10, per_speaker=4):
    rows = []
    for speaker in range(speakers):
        for index in range(per_speaker):
            code = "ASHN"[index % 4]
            rows.append({"FileName": f"s{speaker:02d}_{index}.wav", "EmoClass": code, "EmoAct": "", "EmoVal": "",
                         "EmoDom": "", "SpkrID": f"spk{speaker:02d}", "Gender": "", "Split_Set": "", "path": "/x.wav",
                         "duration": "1.5", "sample_rate": "16000", "num_channels": "1", "n_annotators": "0",
                         **{f"soft_{c}": str(float(c == code)) for c in "ASHN"}, "text": ""})
    return pd.DataFrame(rows)


def test_carved_development_is_speaker_disjoint_deterministic_and_sized_by_the_fraction():
    frame = _rows()
    first = carve_development(frame, "p", 1, 0.2)
    assert first == carve_development(frame, "p", 1, 0.2)
    speakers = set(frame["SpkrID"][frame["FileName"].isin(first)])
    assert len(speakers) == 2 and first == set(frame["FileName"][frame["SpkrID"].isin(speakers)])
    assert carve_development(frame, "p", 2, 0.2) != first, "each fold draws its own speakers"
    with pytest.raises(ToolkitError, match="cannot carve"):
        carve_development(_rows(speakers=1), "p", 1, 0.2)


def test_write_folds_writes_every_split_and_records_the_protocol(tmp_path):
    frame = _rows()
    folds = [FoldSpec(k, set(frame["FileName"][frame["SpkrID"].isin([f"spk{2 * k - 2:02d}", f"spk{2 * k - 1:02d}"])]),
                      description=f"test speakers {2 * k - 2} and {2 * k - 1}") for k in (1, 2)]
    development = set(frame["FileName"][frame["SpkrID"] == "spk09"])
    folds.append(FoldSpec(3, set(frame["FileName"][frame["SpkrID"] == "spk08"]), development=development))
    summary = write_folds(frame, FoldProtocol("toy", folds), INVENTORY, tmp_path, {"corpus": "toy"})
    assert len(read_manifest(tmp_path / "all/manifest.csv")) == 40
    for k in (1, 2, 3):
        parts = {split: read_manifest(tmp_path / f"fold{k}/{split}/manifest.csv")
                 for split in ("train", "development", "test")}
        assert sum(len(part) for part in parts.values()) == 40
        assert not set(parts["train"]["SpkrID"]) & (set(parts["test"]["SpkrID"]) | set(parts["development"]["SpkrID"]))
        assert set(parts["test"]["Split_Set"]) == {"Test"}
        assert read_inventory(tmp_path / f"fold{k}/train/manifest.csv").describe() == INVENTORY.describe()
    assert set(read_manifest(tmp_path / "fold3/development/manifest.csv")["FileName"]) == development
    on_disk = json.loads((tmp_path / "prepare_summary.json").read_text())
    assert on_disk == json.loads(json.dumps(summary))
    assert on_disk["folds"]["1"]["development_carved"] and not on_disk["folds"]["3"]["development_carved"]
    assert on_disk["folds"]["1"]["test"]["speakers"] == ["spk00", "spk01"]
    assert on_disk["folds"]["1"]["speaker_independent"] is True
    assert on_disk["protocol"] == {"name": "toy", "folds": 3, "dev_fraction": 0.2}
    assert (tmp_path / ".prepare.done").exists()
