"""recipes/iemocap end to end on a tiny IEMOCAP_full_release fixture: folds, the table, cross-corpus scoring."""

import json
import re
import subprocess

import pandas as pd
import pytest

from tests.corpora.iemocap_layout import build_iemocap
from tests.recipes.conftest import RECIPES, VENV_BIN, recipe_env, run_recipe

#: CI-sized: two folds of five, two members, one epoch per MEDUSA stage.
IEMOCAP_CI_ARGS = [
    "--folds", "1 2", "--ensemble_conf", "conf/ensemble_ci.yaml",
    "--train_overrides", "stage1.max_epochs=1 stage2.max_epochs=1 model.hidden_dim=32 model.ff_dim=64",
    "--ensemble_opts", "--folds 2 --soup-runs 2",
]


@pytest.fixture(scope="module")
def iemocap_run(tmp_path_factory, mini_run):
    """The recipe on the fixture, with the mini recipe's system as the cross-corpus system."""
    mini_root, mini_result = mini_run
    assert mini_result.returncode == 0
    root = tmp_path_factory.mktemp("iemocap_recipe")
    bundle = root / "mini_bundle"
    subprocess.run([str(VENV_BIN / "toolkit"), "export", str(mini_root / "exp/mini_medusa/ensemble"), str(bundle),
                    "--encoder-dir", str(RECIPES / "mini_podcast/conf/encoders"), "--asr-model", "tiny.en-offline",
                    "--beam-size", "1", "--window", "utterance", "--vad"], check=True, env=recipe_env(), capture_output=True)
    layout = build_iemocap(root, utterances_per_dialog=8)
    arguments = ["--iemocap_root", str(layout.root), "--datadir", str(root / "data"), "--dumpdir", str(root / "dump"),
                 "--expdir", str(root / "exp"), "--cross_bundle", str(bundle), *IEMOCAP_CI_ARGS]
    return root, run_recipe("iemocap", *arguments), arguments


def test_every_stage_runs_per_fold_and_writes_the_cross_validation_table(iemocap_run):
    root, result, _ = iemocap_run
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    for stage in range(7):
        assert re.search(rf"Stage {stage}: .* -- start", result.stdout), f"stage {stage} did not start"
    summary = json.loads((root / "data/prepare_summary.json").read_text())
    assert [c["code"] for c in summary["classes"]] == ["A", "S", "H", "N"] and len(summary["folds"]) == 5
    # transcripts and features once per utterance, read by every fold
    assert sorted(p.name for p in (root / "dump/features").iterdir()) == ["fbank", "minilm", "whisper_tiny_en"]
    assert all([p.name for p in (root / "dump/features" / s).iterdir()] == ["all"] for s in ("fbank", "minilm"))
    exp = root / "exp/iemocap_medusa"
    for fold in (1, 2):
        test = pd.read_csv(root / f"data/fold{fold}/test/manifest.csv", dtype=str)
        assert set(test["SpkrID"]) == {f"Ses0{fold}F", f"Ses0{fold}M"}
        submitted = pd.read_csv(exp / f"fold{fold}/submissions/iemocap_medusa_categorical.csv", dtype=str)
        assert sorted(submitted["FileName"]) == sorted(test["FileName"]) and set(submitted["EmoClass"]) <= set("ASHN")
        assert (exp / f"fold{fold}/probes/all_streams/predictions/test.csv").is_file()
    assert not (exp / "fold3").exists(), "--folds restricts stages 3-6"
    table = json.loads((exp / "folds.json").read_text())
    assert table["folds"] == [1, 2]
    for system in ("submitted system", "cross-corpus system", "member fbank_minilm", "probe all_streams"):
        entry = table["systems"][system]
        assert set(entry["folds"]) == {"1", "2"}
        for metric in ("ua", "wa", "macro_f1"):
            values = [entry["folds"][fold][metric] for fold in ("1", "2")]
            assert entry[metric]["mean"] == pytest.approx(sum(values) / 2)
    assert "| submitted system |" in (exp / "folds.md").read_text()


def test_cross_corpus_scoring_maps_the_eight_classes_onto_iemocaps_four(iemocap_run):
    root, result, _ = iemocap_run
    assert result.returncode == 0
    cross = pd.read_csv(root / "exp/iemocap_medusa/fold1/cross/iemocap_medusa_cross_categorical.csv", dtype=str)
    assert set(cross["EmoClass"]) <= set("ASHN"), "the mini system's 8 classes restricted to IEMOCAP's 4"
    predictions = pd.read_csv(root / "exp/iemocap_medusa/fold1/cross/predictions.csv")
    assert [c for c in predictions.columns if c.startswith("prob_")] == ["prob_A", "prob_S", "prob_H", "prob_N"]


def test_rerun_from_stage_3_skips_every_finished_fold_step(iemocap_run):
    root, first, arguments = iemocap_run
    assert first.returncode == 0
    result = run_recipe("iemocap", *arguments, "--stage", "3")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "train fbank_minilm on [fbank,minilm] (MEDUSA stage 1): already done" in result.stdout
    assert result.stdout.count("fold 2") >= 4 and "Stage 1" not in result.stdout
