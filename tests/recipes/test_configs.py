"""Every config file under recipes/ loads: ensembles, encoders, training configs and label maps."""

from pathlib import Path

import pytest
import yaml

from tests.recipes.conftest import RECIPES
from toolkit.corpora.generic import load_label_map
from toolkit.recipes_support import ensemble_streams, load_ensemble_config
from toolkit.training.config import load_config

CONFIGS = sorted(RECIPES.glob("*/conf/**/*.yaml"))


def _ensemble_configs():
    return [path for path in CONFIGS if path.parent.name == "conf" and path.name.startswith("ensemble")]


def test_the_repository_has_recipe_configs():
    assert {path.parent.parent.name for path in _ensemble_configs()} >= {"msp_podcast", "mini_podcast", "TEMPLATE"}


@pytest.mark.parametrize("path", CONFIGS, ids=lambda path: str(path.relative_to(RECIPES)))
def test_every_yaml_parses_to_a_mapping(path):
    assert isinstance(yaml.safe_load(path.read_text()), dict)


@pytest.mark.parametrize("path", sorted(RECIPES.glob("*/conf/train/*.yaml")), ids=lambda path: str(path.relative_to(RECIPES)))
def test_training_configs_load_with_the_trainer_loader(path):
    load_config(path)


@pytest.mark.parametrize("path", _ensemble_configs(), ids=lambda path: str(path.relative_to(RECIPES)))
def test_ensemble_configs_name_existing_training_and_encoder_configs(path):
    recipe = path.parent.parent
    members = load_ensemble_config(path)
    for member in members:
        load_config(recipe / member.train_config, [f"data.streams=[{','.join(member.streams)}]", *member.overrides])
    encoder_dir = recipe / "conf" / "encoders"
    if not encoder_dir.is_dir():
        encoder_dir = RECIPES / "mini_podcast" / "conf" / "encoders"
    for stream in ensemble_streams(members):
        assert (encoder_dir / f"{stream}.yaml").is_file(), f"{path}: no encoder config for stream {stream}"
        assert "kind" in yaml.safe_load((encoder_dir / f"{stream}.yaml").read_text())


def test_msp_ensemble_is_the_papers_shape():
    members = load_ensemble_config(RECIPES / "msp_podcast/conf/ensemble.yaml")
    assert len(members) == 14
    assert all(2 <= len(member.streams) <= 3 for member in members)
    assert set(ensemble_streams(members)) == {"wavlm_large", "hubert_large", "whisper_large_v3",
                                               "roberta_large", "modernbert_large"}
    assert len({tuple(sorted(member.streams)) for member in members}) == 14, "no combination twice"


def test_mini_ensemble_has_4_to_6_members_over_2_to_3_offline_streams():
    members = load_ensemble_config(RECIPES / "mini_podcast/conf/ensemble.yaml")
    assert 4 <= len(members) <= 6
    assert all(2 <= len(member.streams) <= 3 for member in members)


@pytest.mark.parametrize("path", sorted(RECIPES.glob("*/conf/label_map.yaml")), ids=lambda path: str(path.relative_to(RECIPES)))
def test_label_maps_load(path: Path):
    assert load_label_map(str(path))


def test_bad_ensemble_configs_are_explained(tmp_path):
    from toolkit.utils.errors import ToolkitError

    cases = {
        "members: []\n": "non-empty 'members' list",
        "train_config: a.yaml\nmembers:\n  - {name: x, streams: [a, a]}\n": "distinct stream names",
        "train_config: a.yaml\nmembers:\n  - {name: x, streams: [a]}\n  - {name: x, streams: [b]}\n": "used twice",
        "members:\n  - {name: x, streams: [a]}\n": "no train_config",
        "train_config: a.yaml\nmembers:\n  - {name: x, streams: [a], seed: 3}\n": "unknown key(s) seed",
    }
    for text, message in cases.items():
        path = tmp_path / "ensemble.yaml"
        path.write_text(text)
        with pytest.raises(ToolkitError, match=message.replace("(", r"\(").replace(")", r"\)")):
            load_ensemble_config(path)
