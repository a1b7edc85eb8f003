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


def test_a_checkpoint_from_before_fusion_projection_existed_loads_as_the_model_it_was(tmp_path):
    config = load_config(None, ["model.hidden_dim=8", "model.ff_dim=16", "model.fusion_projection=false",
                                "data.streams=[a, b]"])
    specs = [StreamSpec("a", 3), StreamSpec("b", 2)]
    torch.manual_seed(0)
    model = build_model(specs, config.model).eval()
    payload = model_payload(model, config, specs, stage=1, epoch=2, dev_macro_f1=0.3)
    # What an older toolkit wrote: its config had neither key.
    del payload["config"]["model"]["fusion_projection"]
    del payload["config"]["mixup"]["per_sample"]
    save_checkpoint(tmp_path / "best.pt", payload)
    loaded, loaded_config = load_member(tmp_path)
    assert loaded_config.model.fusion_projection is False and loaded_config.mixup.per_sample is False
    features = [torch.randn(2, 4, 3), torch.randn(2, 3, 2)]
    masks = [torch.zeros(2, 4, dtype=torch.bool), torch.zeros(2, 3, dtype=torch.bool)]
    with torch.no_grad():
        for mine, theirs in zip(loaded(features, masks), model(features, masks)):
            torch.testing.assert_close(mine, theirs, atol=0, rtol=0)


def test_new_checkpoints_keep_their_own_fusion_projection_setting(tmp_path):
    config = load_config(None, ["model.hidden_dim=8", "model.ff_dim=16", "data.streams=[a]"])
    specs = [StreamSpec("a", 3)]
    save_checkpoint(tmp_path / "best.pt", model_payload(build_model(specs, config.model), config, specs,
                                                        stage=1, epoch=1, dev_macro_f1=0.3))
    loaded, loaded_config = load_member(tmp_path)
    assert loaded_config.model.fusion_projection is True and loaded_config.mixup.per_sample is True
    assert isinstance(loaded.fusion_1_projection, torch.nn.Sequential)
