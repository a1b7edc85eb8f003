import json

import pytest
from click.testing import CliRunner

from toolkit.cli import main
from tests.ensemble.conftest import Corpus


def test_ensemble_command_prints_the_table_and_writes_the_leaderboard_files(tmp_path):
    corpus = Corpus(tmp_path, dev_rows=90, test_rows=12)
    members_file = tmp_path / "members.txt"
    members_file.write_text("# members of the ensemble\n" + "\n".join(str(m) for m in corpus.members[1:]) + "\n")
    out_dir = tmp_path / "exp" / "demo" / "ensemble"
    result = CliRunner().invoke(main, [
        "ensemble", "--member", str(corpus.members[0]), "--members-file", str(members_file),
        "--manifest", str(corpus.manifest), "--out-dir", str(out_dir), "--submissions-dir", str(tmp_path / "subs"),
        "--tag", "demo", "--folds", "3", "--soup-runs", "1", "--weight-decay", "0.001", "--auto-margin", "2",
    ])
    assert result.exit_code == 0, result.output
    assert json.loads((out_dir / "fingerprint.json").read_text())["config"]["auto_margin"] == 2
    assert "| soup |" in result.output and "| member m2 |" in result.output
    assert "submitted: --combine auto:" in result.output
    assert (tmp_path / "subs" / "demo_categorical.csv").is_file()
    assert (tmp_path / "exp" / "demo" / "report.md").is_file()


@pytest.mark.parametrize("option", ["--auto-margin", "--class-weight-alpha"])
def test_a_negative_margin_or_class_weight_exponent_is_refused_with_the_option_named(tmp_path, option):
    # A negative exponent would weigh the frequent classes up, the opposite of what Macro-F1 needs.
    result = CliRunner().invoke(main, ["ensemble", "--member", str(tmp_path), "--manifest", __file__, "--out-dir",
                                       str(tmp_path / "out"), "--tag", "x", option, "-1"])
    assert result.exit_code == 2 and option in result.output and "Traceback" not in result.output


def test_ensemble_command_reports_a_missing_prediction_file_without_traceback(tmp_path):
    corpus = Corpus(tmp_path, dev_rows=30, test_rows=4)
    (corpus.members[0] / "predictions" / "test3.csv").unlink()
    result = CliRunner().invoke(main, [
        "ensemble", *[arg for m in corpus.members for arg in ("--member", str(m))],
        "--manifest", str(corpus.manifest), "--out-dir", str(tmp_path / "out"), "--tag", "x",
    ])
    assert result.exit_code == 1
    assert "error:" in result.output and "m0/predictions/test3.csv" in result.output
    assert "Traceback" not in result.output
