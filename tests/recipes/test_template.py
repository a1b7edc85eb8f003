"""recipes/TEMPLATE: stage 0 through the generic adapter, and the corpus-path checks."""

import shutil

import pandas as pd

from tests.recipes.conftest import RECIPES, run_recipe, work_dirs
from toolkit.recipes_support import ensemble_streams, load_ensemble_config


def test_stage_0_turns_a_wav_folder_and_csv_into_manifests(tmp_path, mini_corpus):
    audio = tmp_path / "wavs"
    audio.mkdir()
    consensus = pd.read_csv(mini_corpus / "Labels/labels_consensus.csv", dtype=str)
    names = {"A": "angry", "S": "sad", "H": "happy", "U": "surprise", "F": "fear", "D": "disgust",
             "C": "contempt", "N": "neutral", "X": "other", "O": "other"}
    rows = []
    for record in consensus.itertuples():
        shutil.copyfile(mini_corpus / "Audios" / record.FileName, audio / record.FileName)
        rows.append({"FileName": record.FileName, "label": names[record.EmoClass], "speaker": record.SpkrID,
                     "split": record.Split_Set.lower(), "arousal": record.EmoAct, "valence": record.EmoVal,
                     "dominance": record.EmoDom})
    pd.DataFrame(rows).to_csv(tmp_path / "labels.csv", index=False)

    result = run_recipe("TEMPLATE", "--stop_stage", "0", "--audio_dir", str(audio),
                        "--labels_csv", str(tmp_path / "labels.csv"), *work_dirs(tmp_path), timeout=300)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "Stage 0: done in" in result.stdout
    train = pd.read_csv(tmp_path / "data/train/manifest.csv", dtype=str, keep_default_na=False)
    development = pd.read_csv(tmp_path / "data/development/manifest.csv", dtype=str, keep_default_na=False)
    expected = consensus.assign(EmoClass=consensus["EmoClass"].replace({"X": "O"}))
    for split, frame in (("Train", train), ("Development", development)):
        want = expected[expected["Split_Set"] == split].sort_values("FileName")
        assert list(frame["FileName"]) == list(want["FileName"])
        assert list(frame["EmoClass"]) == list(want["EmoClass"])
    assert (tmp_path / "data/.stage0.done").is_file()


def test_empty_corpus_paths_fail_at_once_with_a_hint(tmp_path):
    result = run_recipe("TEMPLATE", *work_dirs(tmp_path), timeout=60)
    assert result.returncode == 1
    assert "no corpus path: pass --audio_dir DIR --labels_csv FILE" in result.stderr
    assert not (tmp_path / "data").exists()


def test_template_ensemble_resolves_against_its_default_encoder_dir():
    recipe = RECIPES / "TEMPLATE"
    for stream in ensemble_streams(load_ensemble_config(recipe / "conf/ensemble.yaml")):
        assert (recipe / "../mini_podcast/conf/encoders" / f"{stream}.yaml").is_file()
