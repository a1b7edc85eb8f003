"""Shared fixtures of the recipe tests: paths, and a real single-node Slurm cluster (root only)."""

import os
import subprocess
import shutil
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
    """Install Debian's Slurm packages (apt-get update first), start slurmctld + slurmd, stop them after."""
    if os.geteuid() != 0:
        pytest.skip("the Slurm test cluster needs root (apt-get, slurmctld/slurmd as root); not root here")
    if shutil.which("apt-get") is None and shutil.which("slurmctld") is None:
        pytest.skip("neither apt-get nor an installed Slurm: cannot set up the Slurm test cluster on this machine")
    from tests.recipes.slurm_cluster import SlurmCluster, install_packages

    install_packages()
    cluster = SlurmCluster(tmp_path_factory.mktemp("slurm"))
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


#: CI-sized settings of the mini recipe: a 48-utterance corpus, 2 members, 1 epoch per MEDUSA stage.
MINI_CI_ARGS = [
    "--num_utts", "48", "--nj", "2",
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
    """
    from toolkit.corpora.mini_podcast.generate import make_mini_podcast

    corpus = tmp_path_factory.mktemp("mini_corpus") / "corpus"
    make_mini_podcast(corpus, seed=0, num_utts=48)
    return corpus


@pytest.fixture(scope="session")
def mini_run(tmp_path_factory, mini_corpus):
    """The mini recipe, stages 0-6, CI-sized, once per session: (root, completed process)."""
    root = tmp_path_factory.mktemp("mini_recipe")
    result = run_recipe("mini_podcast", "--corpus_dir", str(mini_corpus), *work_dirs(root), *MINI_CI_ARGS)
    return root, result
