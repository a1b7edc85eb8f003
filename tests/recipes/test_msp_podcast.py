"""The real MSP-Podcast recipe, stages 0-6, on a tiny corpus in the MSP-Podcast layout.

Everything is the recipe's own (run.sh, conf/encoders, conf/train, member definitions of
conf/ensemble.yaml) except what cannot run offline in CI, switched by one option, ``--config``:
the encoders' ``model:`` points at tiny random models of the same architecture, the ASR is the
offline tiny.en, and two of the fourteen members train for one epoch.
"""

import re

import pandas as pd
import yaml

from tests.recipes.conftest import RECIPES, run_recipe, work_dirs
from tests.tiny_models import build_tiny_hubert, build_tiny_roberta, build_tiny_wavlm, build_tiny_whisper
from toolkit.recipes_support import load_ensemble_config

TINY_BUILDERS = {
    "wavlm_large": build_tiny_wavlm,
    "hubert_large": build_tiny_hubert,
    "whisper_large_v3": build_tiny_whisper,
    "roberta_large": build_tiny_roberta,
    "modernbert_large": build_tiny_roberta,
}
CI_MEMBERS = ("wavlm_roberta", "hubert_whisper_roberta")


def _ci_config(tmp_path, corpus):
    recipe = RECIPES / "msp_podcast"
    members = {member.name: member for member in load_ensemble_config(recipe / "conf/ensemble.yaml")}
    chosen = [members[name] for name in CI_MEMBERS]
    ensemble = {"members": [{"name": m.name, "streams": m.streams, "train_config": m.train_config,
                             "overrides": m.overrides} for m in chosen]}
    (tmp_path / "ensemble.yaml").write_text(yaml.safe_dump(ensemble))
    encoders = tmp_path / "encoders"
    encoders.mkdir()
    for stream in sorted({stream for member in chosen for stream in member.streams}):
        config = yaml.safe_load((recipe / f"conf/encoders/{stream}.yaml").read_text())
        config["model"] = str(TINY_BUILDERS[stream](tmp_path / "models" / stream))
        (encoders / f"{stream}.yaml").write_text(yaml.safe_dump(config))
    ci = tmp_path / "ci.conf"
    ci.write_text("\n".join([
        f"msp_root={corpus}",
        f"test_key={corpus}/Key/test3_labels.csv",
        "nj=2",
        "max_jobs_run=2",
        f"encoder_conf_dir={encoders}",
        f"ensemble_conf={tmp_path / 'ensemble.yaml'}",
        'asr_opts="--backend faster-whisper --model tiny.en-offline --beam-size 1 --window utterance"',
        'train_overrides="stage1.max_epochs=1 stage2.max_epochs=1 model.hidden_dim=32 model.ff_dim=64 '
        'train.batch_size=8 data.num_workers=0"',
        'ensemble_opts="--folds 2 --soup-runs 2"',
        "",
    ]))
    return ci


def test_msp_recipe_runs_stages_0_to_6_with_tiny_encoders(tmp_path, mini_corpus):
    ci = _ci_config(tmp_path, mini_corpus)
    result = run_recipe("msp_podcast", "--config", str(ci), *work_dirs(tmp_path))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    for stage in range(7):
        assert re.search(rf"Stage {stage}: done in \d+ s", result.stdout), f"stage {stage} did not end"
    for stream in ("wavlm_large", "hubert_large", "whisper_large_v3", "roberta_large"):
        assert (tmp_path / f"dump/features/{stream}/test3/.stage2.done").is_file()
    categorical = pd.read_csv(tmp_path / "submissions/medusa_categorical.csv", dtype=str)
    key = pd.read_csv(mini_corpus / "Key/test3_labels.csv", dtype=str)
    assert list(categorical["FileName"]) == sorted(key["FileName"])
    scores = (tmp_path / "exp/medusa/scores/test3_categorical.txt").read_text()
    assert re.search(r"^Macro-F1\s+[01]\.\d{4}$", scores, re.M)


def test_msp_recipe_without_corpus_path_fails_at_once_with_a_hint(tmp_path):
    result = run_recipe("msp_podcast", "--msp_root", "", *work_dirs(tmp_path), timeout=60)
    assert result.returncode == 1
    assert "no corpus path: pass --msp_root /path/to/MSP-Podcast or set MSP_PODCAST in db.sh" in result.stderr
    assert not (tmp_path / "data").exists() and not (tmp_path / "exp").exists()
    result = run_recipe("msp_podcast", "--msp_root", str(tmp_path), *work_dirs(tmp_path), timeout=60)
    assert result.returncode == 1 and "expected Audios/ and Labels/" in result.stderr
