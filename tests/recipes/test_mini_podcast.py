"""The mini_podcast recipe end to end (stages 0-6, CI-sized): the one small run through every stage."""

import re

import pandas as pd

from tests.recipes.conftest import MINI_CI_ARGS, recipe_env, run_recipe, work_dirs


def assert_scored(scores, corpus):
    """Stage 6's score sheets: Development against its manifest, test3 against the corpus's key.

    The recipe scores test3 only when it finds ``<corpus_dir>/Key/test3_labels.csv`` and skips it
    without a word otherwise, so the sheet must exist and name that key.
    """
    key = corpus / "Key" / "test3_labels.csv"
    for split in ("development", "test3"):
        categorical = (scores / f"{split}_categorical.txt").read_text()
        attributes = (scores / f"{split}_attributes.txt").read_text()
        assert re.search(r"^Macro-F1\s+[01]\.\d{4}$", categorical, re.M)
        assert re.search(r"^CCC mean\s+-?[01]\.\d{4}$", attributes, re.M)
        if split == "test3":
            assert f" vs {key}" in categorical.splitlines()[0] and f" vs {key}" in attributes.splitlines()[0]


def test_every_stage_runs_and_writes_valid_scored_leaderboard_files(mini_run, mini_corpus):
    root, result = mini_run
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    for stage in range(7):
        assert re.search(rf"Stage {stage}: .* -- start", result.stdout), f"stage {stage} did not start"
        assert re.search(rf"Stage {stage}: done in \d+ s", result.stdout), f"stage {stage} did not end"

    categorical = pd.read_csv(root / "submissions/mini_medusa_categorical.csv", dtype=str)
    attributes = pd.read_csv(root / "submissions/mini_medusa_attributes.csv")
    test3 = pd.read_csv(root / "data/test3/manifest.csv", dtype=str)
    assert list(categorical.columns) == ["FileName", "EmoClass"]
    assert sorted(categorical["FileName"]) == sorted(test3["FileName"]) == list(categorical["FileName"])
    assert set(categorical["EmoClass"]) <= set("ASHUFDCN")
    assert list(attributes.columns) == ["FileName", "EmoAct", "EmoVal", "EmoDom"]
    assert attributes[["EmoAct", "EmoVal", "EmoDom"]].stack().between(1, 7).all()

    # Development and test3 (against the corpus key) are scored with the challenge metrics.
    assert_scored(root / "exp/mini_medusa/scores", mini_corpus)
    # Stage 5 got the key too (it scores every combination method on test3 only with --test-key).
    assert (root / "exp/mini_medusa/ensemble/test_scores.csv").is_file()
    assert (root / "exp/mini_medusa/report.md").is_file()
    for member in ("whisper_minilm", "fbank_whisper_minilm"):
        assert (root / f"exp/mini_medusa/members/{member}/best.pt").is_file()
        assert (root / f"exp/mini_medusa/members/{member}/predictions/test3.csv").is_file()

    saved = (root / "exp/mini_medusa/run.sh").read_text()
    assert "bash run.sh --corpus_dir" in saved and "conf/ensemble_ci.yaml" in saved


def test_rerun_skips_finished_steps_and_a_deleted_output_is_redone(mini_run, mini_corpus):
    root, first = mini_run
    assert first.returncode == 0
    exp = root / "exp/mini_medusa"
    # Without its marker and one of its leaderboard files, stage 5's ensemble really recomputes
    # (toolkit ensemble skips a finished run whose outputs are all there).
    (exp / "ensemble/.recipe_stage5.done").unlink()
    (exp / "ensemble/leaderboard/mini_medusa_categorical.csv").unlink()
    (exp / "ensemble/test_scores.csv").unlink()
    score_sheets = sorted((exp / "scores").glob("*.txt"))
    assert len(score_sheets) == 4
    for sheet in score_sheets:
        sheet.unlink()
    before = (exp / "members/whisper_minilm/best.pt").stat().st_mtime_ns
    result = run_recipe("mini_podcast", "--corpus_dir", str(mini_corpus), *work_dirs(root), *MINI_CI_ARGS,
                        "--stage", "3")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "train whisper_minilm on [whisper_tiny_en,minilm] (MEDUSA stage 1): already done" in result.stdout
    assert "Stage 0" not in result.stdout and "Stage 2" not in result.stdout
    assert (exp / "members/whisper_minilm/best.pt").stat().st_mtime_ns == before
    assert re.search(r"ensemble of 2 members\n", result.stdout), "the ensemble step without its marker is redone"
    assert (exp / "ensemble/.recipe_stage5.done").is_file()
    assert (exp / "ensemble/leaderboard/mini_medusa_categorical.csv").is_file()
    # The re-run found the corpus's key: the ensemble scored test3 again, and so did stage 6.
    assert (exp / "ensemble/test_scores.csv").is_file()
    assert_scored(exp / "scores", mini_corpus)


def test_empty_corpus_path_and_unknown_option_fail_at_once(tmp_path):
    result = run_recipe("mini_podcast", "--corpus_dir", "", *work_dirs(tmp_path), timeout=60)
    assert result.returncode == 1
    assert "no corpus path: pass --corpus_dir" in result.stderr
    assert not (tmp_path / "data").exists()
    result = run_recipe("mini_podcast", "--no_such_option", "1", timeout=60)
    assert result.returncode == 1 and "unknown option '--no_such_option'" in result.stderr


def test_help_lists_options_with_defaults():
    result = run_recipe("mini_podcast", "--help", env=recipe_env(), timeout=60)
    assert result.returncode == 0
    assert re.search(r"--stage\s+\[0\]", result.stdout)
    assert re.search(r"--nj\s+\[2\]", result.stdout)
    assert re.search(r"--backend\s+\[local\]", result.stdout)
