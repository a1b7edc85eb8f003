"""Shared fixtures of the recipe tests: paths, and a real single-node Slurm cluster (root only).

The cluster's packages are installed by the set-up (`make test` runs `make slurm-packages`), not here.
"""

import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
RECIPES = REPO / "recipes"
UTILS = RECIPES / "utils"
VENV_BIN = REPO / ".venv" / "bin"


def recipe_env(**extra) -> dict:
    """The environment a user has after `make venv`: the venv first on PATH, offline hubs."""
    environment = dict(os.environ)
    environment["PATH"] = f"{VENV_BIN}:{environment['PATH']}"
    environment.update({"HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1"})
    environment.update(extra)
    return environment


@pytest.fixture(scope="session")
def slurm_cluster(tmp_path_factory):
    """Start slurmctld + slurmd on this host, stop them after the session.

    Installing Slurm is set-up, not testing: `make test` does it first (`make slurm-packages`);
    here a machine without it, or a run without root, skips with the reason.
    """
    from tests.recipes.slurm_cluster import SlurmCluster, missing_tools

    if os.geteuid() != 0:
        pytest.skip("the Slurm test cluster runs munged, slurmctld and slurmd as root; not root here")
    missing = missing_tools()
    if missing:
        pytest.skip(f"Slurm is not installed ({', '.join(missing)} not found on PATH); as root, `make slurm-packages` "
                    "installs Debian's munge slurmctld slurmd slurm-client")
    cluster = SlurmCluster(tmp_path_factory.mktemp("slurm"))
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


#: CI-sized settings of the mini recipe: a 48-utterance corpus, 2 members, 1 epoch per MEDUSA stage.
#: The mini recipe's stage-1 options plus Silero VAD, under which tiny.en hears no words in the
#: silent and the noise-only test3 clip of the CI corpus (``mini_corpus``): empty transcripts.
MINI_CI_ASR_OPTS = "--backend faster-whisper --model tiny.en-offline --beam-size 1 --window utterance --vad"
#: The two test3 clips ``mini_corpus`` replaces by digital silence and by white noise.
SPEECHLESS_TEST3 = {"MSP-PODCAST_test3_0001.wav": "silence", "MSP-PODCAST_test3_0002.wav": "noise"}
MINI_CI_ARGS = [
    "--num_utts", "48", "--nj", "2", "--asr_opts", MINI_CI_ASR_OPTS,
    "--ensemble_conf", "conf/ensemble_ci.yaml",
    "--train_overrides", "stage1.max_epochs=1 stage2.max_epochs=1 model.hidden_dim=32 model.ff_dim=64",
    "--ensemble_opts", "--folds 2 --soup-runs 2",
]


def run_recipe(recipe: str, *args, env=None, timeout=3600) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(RECIPES / recipe / "run.sh"), *args], capture_output=True, text=True,
                          env=env or recipe_env(), timeout=timeout)


def work_dirs(root: Path) -> list:
    """Options that keep every output of a recipe run under ``root``."""
    return ["--datadir", str(root / "data"), "--dumpdir", str(root / "dump"), "--expdir", str(root / "exp"),
            "--submission_dir", str(root / "submissions")]


@pytest.fixture(scope="session")
def mini_corpus(tmp_path_factory) -> Path:
    """A 48-utterance mini_podcast corpus in the MSP-Podcast layout (with Key/), shared read-only.

    At seed 0, 48 utterances give a Train split with every class, which MEDUSA stage 2 needs (24 do not).
    Two test3 clips are replaced by digital silence and white noise of the same length
    (``SPEECHLESS_TEST3``): every stage must still carry them to a prediction.
    """
    import numpy as np
    import soundfile

    from toolkit.corpora.mini_podcast.generate import make_mini_podcast

    corpus = tmp_path_factory.mktemp("mini_corpus") / "corpus"
    make_mini_podcast(corpus, seed=0, num_utts=48, channels="per-speaker")  # the recipe's default
    for name, kind in SPEECHLESS_TEST3.items():
        samples, rate = soundfile.read(corpus / "Audios" / name, dtype="float32")
        noise = 0.1 * np.random.default_rng(0).standard_normal(samples.shape)
        soundfile.write(corpus / "Audios" / name, (np.zeros_like(samples) if kind == "silence" else noise), rate)
    return corpus


@pytest.fixture(scope="session")
def mini_run(tmp_path_factory, mini_corpus):
    """The mini recipe, stages 0-6, CI-sized, once per session: (root, completed process)."""
    root = tmp_path_factory.mktemp("mini_recipe")
    result = run_recipe("mini_podcast", "--corpus_dir", str(mini_corpus), *work_dirs(root), *MINI_CI_ARGS)
    return root, result
