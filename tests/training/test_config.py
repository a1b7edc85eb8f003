from pathlib import Path

import pytest

from toolkit.training.config import TrainingConfig, load_config, valid_keys
from toolkit.utils.errors import ToolkitError

REPO = Path(__file__).resolve().parents[2]


def test_defaults_are_the_paper_values():
    config = TrainingConfig()
    assert (config.model.hidden_dim, config.model.num_layers, config.model.num_heads) == (512, 2, 1)
    assert (config.loss.class_weight, config.loss.attribute_weight, config.loss.class_weight_alpha) == (1.5, 0.4, 0.5)
    assert (config.mixup.p, config.mixup.alpha) == (0.3, 0.2)
    assert (config.stage1.lr, config.stage2.lr, config.train.batch_size, config.train.seed) == (1e-5, 1e-6, 32, 42)
    assert config.stage1.max_epochs + config.stage2.max_epochs == 50 and config.stage1.patience == 8
    assert config.loss.targets == "soft" and config.model.fusion == "deep"
    # The public code's fusion levels are full legs and its MixUp draws one λ per sample.
    assert config.model.fusion_projection is True and config.mixup.per_sample is True


def test_the_paper_config_says_the_public_codes_fusion_legs_and_mixup():
    path = REPO / "recipes" / "msp_podcast" / "conf" / "train" / "deepser.yaml"
    assert "fusion_projection: true" in path.read_text() and "per_sample: true" in path.read_text()
    config = load_config(path)
    assert config.model.fusion_projection is True and config.mixup.per_sample is True
    flipped = load_config(path, ["model.fusion_projection=false", "mixup.per_sample=false"])
    assert flipped.model.fusion_projection is False and flipped.mixup.per_sample is False


def test_yaml_then_overrides_with_yaml_typed_values(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("model:\n  hidden_dim: 64\nstage1:\n  lr: 1.0e-4\ndata:\n  streams: [a, b]\n")
    config = load_config(path, ["stage1.lr=3e-5", "data.streams=[x]", "loss.multitask=false", "mixup.p=0"])
    assert config.model.hidden_dim == 64
    assert config.stage1.lr == pytest.approx(3e-5)
    assert config.data.streams == ["x"]
    assert config.loss.multitask is False and config.mixup.p == 0.0


@pytest.mark.parametrize("override, expected", [
    ("stage1.learning_rate=1", "stage1.lr"),
    ("model.hiden_dim=8", "model.hidden_dim"),
    ("mixup.prob=0.1", "mixup.p"),
])
def test_unknown_key_names_the_nearest_valid_key(override, expected):
    with pytest.raises(ToolkitError, match=f"unknown config key .*did you mean {expected}"):
        load_config(None, [override])


def test_unknown_key_in_file_names_file_and_nearest_key(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("trian:\n  seed: 1\n")
    with pytest.raises(ToolkitError, match=r"bad.yaml: unknown config key trian; did you mean train\."):
        load_config(path)


@pytest.mark.parametrize("override, message", [
    ("model.hidden_dim=abc", "model.hidden_dim expects a int"),
    ("model.fusion=early", "model.fusion: 'early' is not one of deep, late"),
    ("loss.ambiguous_rows=drop", "loss.ambiguous_rows: 'drop' is not one of skip, attributes"),
    ("mixup.p=2", "mixup.p"),
    ("data.normalize_utterances=-1", "data.normalize_utterances: 0 \\(all\\) or a positive count"),
    ("model.attention_dropout=1.5", r"model.attention_dropout: a probability in \[0, 1\)"),
    ("model.num_heads=3", "divisible"),
    ("loss.label_smoothing=1", r"loss.label_smoothing: a probability in \[0, 1\)"),
    ("train.ema_warmup=true", "train.ema_warmup: ramps the moving average's decay up to train.ema_decay"),
    ("stage1.lr", "expected key=value"),
])
def test_bad_values_are_explained(override, message):
    with pytest.raises(ToolkitError, match=message):
        load_config(None, [override])


def test_every_training_config_in_the_repo_loads():
    paths = sorted(REPO.glob("recipes/*/conf/train/*.yaml"))
    assert paths, "the recipes ship training configs"
    for path in paths:
        config = load_config(path)
        assert config.data.streams


def test_valid_keys_cover_every_section():
    sections = {key.split(".")[0] for key in valid_keys()}
    assert sections == {"data", "model", "loss", "mixup", "stage1", "stage2", "train"}
