"""The Slurm back-end on a real single-node Slurm cluster: a sharded stage of the mini recipe as an array job.

The cluster is started by the ``slurm_cluster`` fixture (Debian's packages, as root); the test
takes the transcribed manifests of the session's mini run, points one utterance of the second
shard at a broken wav, and runs stage 2 with ``--backend slurm --extract_opts --strict``.
"""

import re
import shutil

import yaml

from tests.recipes.conftest import recipe_env, run_recipe, work_dirs
from toolkit.data.manifest import read_manifest, write_manifest
from toolkit.features.store import FeatureStore


def test_failing_shard_fails_the_stage_with_its_log_tail_and_a_rerun_redoes_only_that_shard(
        slurm_cluster, mini_run, tmp_path):
    mini_root, mini_result = mini_run
    assert mini_result.returncode == 0, "the session's mini run must have transcribed the corpus"
    manifest = read_manifest(mini_root / "data/train/asr/manifest.csv")
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF\x00\x00\x00\x00WAVEnot audio at all")
    good_audio = manifest["path"].iloc[-1]
    manifest.loc[manifest.index[-1], "path"] = str(broken)
    write_manifest(manifest, tmp_path / "data/train/asr/manifest.csv")
    ensemble = tmp_path / "fbank.yaml"
    ensemble.write_text(yaml.safe_dump({"train_config": "conf/train/deepser.yaml",
                                        "members": [{"name": "fbank_only", "streams": ["fbank"]}]}))
    args = ["--stage", "2", "--stop_stage", "2", "--backend", "slurm", "--nj", "2", "--splits", "train",
            "--ensemble_conf", str(ensemble), "--extract_opts", "--strict", *work_dirs(tmp_path)]
    environment = recipe_env(**slurm_cluster.environ)

    failed = run_recipe("mini_podcast", *args, env=environment, timeout=1800)
    assert failed.returncode == 1
    assert "run_slurm.sh: job 2 of 2 failed; log:" in failed.stderr
    assert "broken.wav" in failed.stderr, "the tail of the failed shard's log names the bad file"
    logs = tmp_path / "dump/features/fbank/train/log"
    first_log = (logs / "extract.1.log").read_text()
    assert re.search(r"Slurm job \d+", first_log) and "# Ended (code 0)" in first_log
    assert sorted(path.name for path in (logs / "done_nj2").iterdir()) == ["1.done"]
    assert not (tmp_path / "dump/features/fbank/train/.stage2.done").exists()

    shutil.copyfile(good_audio, broken)
    again = run_recipe("mini_podcast", *args, env=environment, timeout=1800)
    assert again.returncode == 0, again.stdout[-2000:] + again.stderr[-2000:]
    assert (logs / "extract.1.log").read_text() == first_log, "the finished shard was not run again"
    second_log = (logs / "extract.2.log").read_text()
    assert re.search(r"Slurm job \d+", second_log) and "# Ended (code 0)" in second_log
    store = FeatureStore(tmp_path / "dump/features/fbank/train")
    assert sorted(store.ids) == sorted(manifest["FileName"])
