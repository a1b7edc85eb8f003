import json
import shutil

import numpy as np
import pytest

from toolkit.inference.bundle import export_bundle, load_bundle, load_members
from toolkit.utils.errors import ToolkitError


def test_export_copies_members_specs_and_soup_and_survives_the_sources_being_removed(tmp_path, fbank_system):
    ensemble_dir, encoder_dir = fbank_system
    bundle_dir = export_bundle(ensemble_dir, tmp_path / "bundle", encoder_dir)
    soup = json.loads((ensemble_dir / "system.json").read_text())["combiner"]["weights"]
    shutil.rmtree(tmp_path / "members")
    shutil.rmtree(encoder_dir)
    moved = shutil.move(str(bundle_dir), str(tmp_path / "elsewhere"))
    bundle = load_bundle(moved)
    assert [m.name for m in bundle.members] == ["m0", "m1"]
    assert bundle.streams == ["fbank"] and bundle.asr is None
    assert bundle.encoder_spec("fbank").fbank == {"num_mel_bins": 24}
    np.testing.assert_array_equal(bundle.combiner.weights.weight, np.asarray(soup["weight"]))
    models = load_members(bundle)
    assert [spec.name for spec in models[0].streams] == ["fbank"]


def test_local_models_are_copied_into_the_bundle(tmp_path, fbank_system):
    ensemble_dir, encoder_dir = fbank_system
    model_dir = tmp_path / "some_local_model"
    model_dir.mkdir()
    (model_dir / "config.json").write_text("{}")
    (encoder_dir / "fbank.yaml").write_text(f"kind: fbank\nmodel: {model_dir}\n")
    bundle = load_bundle(export_bundle(ensemble_dir, tmp_path / "bundle", encoder_dir))
    assert bundle.encoders["fbank"]["model"] == "bundle:models/fbank"
    assert bundle.encoder_spec("fbank").model == str(tmp_path / "bundle" / "models" / "fbank")
    assert (tmp_path / "bundle" / "models" / "fbank" / "config.json").is_file()


def test_export_errors_name_what_is_missing(tmp_path, fbank_system):
    ensemble_dir, encoder_dir = fbank_system
    with pytest.raises(ToolkitError, match=r"system\.json: not found; run toolkit ensemble"):
        export_bundle(tmp_path, tmp_path / "b", encoder_dir)
    (encoder_dir / "fbank.yaml").unlink()
    with pytest.raises(ToolkitError, match=r"fbank\.yaml: encoder config not found"):
        export_bundle(ensemble_dir, tmp_path / "b", encoder_dir)
    assert not (tmp_path / "b").exists()
    (encoder_dir / "fbank.yaml").write_text("kind: fbank\n")
    export_bundle(ensemble_dir, tmp_path / "b", encoder_dir)
    with pytest.raises(ToolkitError, match="already exists"):
        export_bundle(ensemble_dir, tmp_path / "b", encoder_dir)
    (tmp_path / "b" / "members" / "m1" / "best.pt").unlink()
    with pytest.raises(ToolkitError, match=r"m1/best\.pt"):
        load_bundle(tmp_path / "b")


def test_a_pool_combiner_loads_and_one_for_other_members_is_a_clear_error(tmp_path, fbank_system):
    ensemble_dir, encoder_dir = fbank_system
    bundle_dir = export_bundle(ensemble_dir, tmp_path / "bundle", encoder_dir)
    description = json.loads((bundle_dir / "bundle.json").read_text())
    description["combiner"] = {"method": "pool", "weights": {"member_weights": [0.6, 0.4], "class_bias": [0.0] * 8}}
    (bundle_dir / "bundle.json").write_text(json.dumps(description))
    assert load_bundle(bundle_dir).combiner.weights.member_weights.tolist() == [0.6, 0.4]
    description["combiner"]["weights"]["member_weights"] = [0.5, 0.3, 0.2]
    (bundle_dir / "bundle.json").write_text(json.dumps(description))
    with pytest.raises(ToolkitError, match="the pool weighs 3 members over 8 classes, not 2 members over 8 classes"):
        load_bundle(bundle_dir)
