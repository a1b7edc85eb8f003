import pytest
import torch

from toolkit.models.deepser import StreamSpec, build_model
from toolkit.training.checkpoint import load_member, model_payload, read_checkpoint, save_checkpoint
from toolkit.training.config import load_config
from toolkit.utils.errors import ToolkitError


def test_load_member_rebuilds_the_saved_model_and_config(tmp_path):
    config = load_config(None, ["model.hidden_dim=8", "model.ff_dim=16", "model.fusion=late", "data.streams=[a, b]"])
    specs = [StreamSpec("a", 3), StreamSpec("b", 2, num_layers=2)]
    model = build_model(specs, config.model)
    save_checkpoint(tmp_path / "best.pt", model_payload(model, config, specs, stage=2, epoch=5, dev_macro_f1=0.4))
    loaded, loaded_config = load_member(tmp_path)
    assert loaded_config.to_dict() == config.to_dict()
    assert loaded.streams == specs and not loaded.training and loaded.fusion == "late"
    for name, tensor in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[name], tensor)
    assert read_checkpoint(tmp_path / "best.pt")["epoch"] == 5


def test_missing_or_foreign_checkpoints_are_explained(tmp_path):
    with pytest.raises(ToolkitError, match="did toolkit train finish"):
        load_member(tmp_path)
    torch.save({"weights": 1}, tmp_path / "best.pt")
    with pytest.raises(ToolkitError, match="not a toolkit DeepSER checkpoint"):
        load_member(tmp_path)
