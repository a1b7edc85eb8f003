import pandas as pd
from click.testing import CliRunner

from tests.training.corpus import tiny_overrides, write_corpus
from toolkit.cli import main


def _args(root, tmp_path, *extra):
    config = tmp_path / "train.yaml"
    config.write_text("train:\n  seed: 3\n")
    args = ["train", str(config), "--exp-dir", str(tmp_path / "exp"), "--device", "cpu"]
    for override in tiny_overrides(root, epochs=1) + list(extra):
        args += ["--set", override]
    return args


def test_train_runs_stage_1_and_reports_the_selected_checkpoint(tmp_path):
    root = write_corpus(tmp_path / "corpus", per_class=2, ambiguous=2)
    result = CliRunner().invoke(main, _args(root, tmp_path, "data.predict_splits=[development]"))
    assert result.exit_code == 0, result.output
    assert "stage 1 finished" in result.output and "best.pt" in result.output
    assert len(pd.read_csv(tmp_path / "exp" / "metrics.csv")) == 1
    assert not (tmp_path / "exp" / "predictions" / "test3.csv").exists()


def test_unknown_config_key_is_a_one_line_error_naming_the_nearest_key(tmp_path):
    root = tmp_path / "nothing"
    result = CliRunner().invoke(main, _args(root, tmp_path, "stage1.lr_rate=1"))
    assert result.exit_code == 1
    assert "error: --set stage1.lr_rate=1: unknown config key stage1.lr_rate; did you mean stage1.lr?" in result.output
    assert "Traceback" not in result.output


def test_missing_features_point_at_toolkit_extract(tmp_path):
    root = write_corpus(tmp_path / "corpus", per_class=1, ambiguous=0)
    result = CliRunner().invoke(main, _args(root, tmp_path, "data.streams=[acoustic, wavlm_large]"))
    assert result.exit_code == 1
    assert "no feature store for stream 'wavlm_large'" in result.output and "toolkit extract" in result.output
