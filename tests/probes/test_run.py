"""toolkit probe: a probe fitted on the config's splits, selected on Development, predicting like a member."""

import json

import pytest
from click.testing import CliRunner

from tests.training.corpus import tiny_overrides, write_corpus
from toolkit.cli import main
from toolkit.ensemble.members import load_members
from toolkit.predictions import read_predictions
from toolkit.probes.run import load_probe, run_probe
from toolkit.training.config import load_config


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return write_corpus(tmp_path_factory.mktemp("corpus"), per_class=6, noise=1.5)


def test_probe_learns_selects_c_on_development_and_writes_member_predictions(corpus, tmp_path):
    config = load_config(None, tiny_overrides(corpus))
    result = run_probe(config, tmp_path / "probe")
    assert result.dev_macro_f1 > 0.6
    description = json.loads((tmp_path / "probe" / "probe.json").read_text())
    grid = [row for row in description["selection"] if row["parameter"] == "C"]
    assert [row["value"] for row in grid] == [0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0]
    assert description["C"] == max(grid, key=lambda row: row["dev_macro_f1"])["value"]
    assert description["dev_macro_f1"] == pytest.approx(result.dev_macro_f1)
    assert description["streams"] == ["acoustic", "text"] and len(description["classes"]) == 8
    for split in ("development", "test3"):
        frame = read_predictions(tmp_path / "probe" / "predictions" / f"{split}.csv")
        assert frame[["EmoAct", "EmoVal", "EmoDom"]].stack().between(1, 7).all()
    # a probe is an ensemble member like any other
    (member,) = load_members([tmp_path / "probe"], "development")
    assert member.logits.shape[1] == 8
    # saved and reloaded, it predicts exactly what it wrote
    probe = load_probe(tmp_path / "probe")
    assert probe.C == description["C"] and probe.inventory.num_classes == 8


def test_a_finished_probe_is_skipped_and_the_cli_reports_it(corpus, tmp_path):
    args = ["probe", "-", "--exp-dir", str(tmp_path / "p")]
    config = tmp_path / "c.yaml"
    config.write_text("data:\n  num_workers: 0\n")
    args[1] = str(config)
    overrides = [value for item in tiny_overrides(corpus, streams=("text",)) for value in ("--set", item)]
    result = CliRunner().invoke(main, args + overrides + ["--c-grid", "0.01,0.1"])
    assert result.exit_code == 0, result.output
    assert "probe over text: Development Macro-F1" in result.output
    stamp = (tmp_path / "p" / "probe.npz").stat().st_mtime_ns
    assert CliRunner().invoke(main, args + overrides).exit_code == 0
    assert (tmp_path / "p" / "probe.npz").stat().st_mtime_ns == stamp
    result = CliRunner().invoke(main, args + overrides + ["--c-grid", "0,x"])
    assert result.exit_code == 2 and "comma-separated numbers" in result.output


def test_the_c_grid_goes_on_past_its_best_end_unless_fixed(tmp_path):
    # Noisy enough that Development Macro-F1 still rises past the lower end of the grid given.
    corpus = write_corpus(tmp_path / "noisy", per_class=6, noise=6.0)
    config = tmp_path / "c.yaml"
    config.write_text("data:\n  num_workers: 0\n")
    overrides = [value for item in tiny_overrides(corpus) for value in ("--set", item)]

    def c_values_tried(exp_dir, *options):
        result = CliRunner().invoke(main, ["probe", str(config), "--exp-dir", str(exp_dir), *overrides,
                                           "--c-grid", "0.01,0.1", *options])
        assert result.exit_code == 0, result.output
        description = json.loads((exp_dir / "probe.json").read_text())
        return sorted(row["value"] for row in description["selection"] if row["parameter"] == "C")

    assert c_values_tried(tmp_path / "extended") == [0.001, 0.01, 0.1]
    assert c_values_tried(tmp_path / "fixed", "--fixed-grids") == [0.01, 0.1]
