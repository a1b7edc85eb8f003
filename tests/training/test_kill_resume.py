"""A ``toolkit train`` process killed with SIGKILL mid-epoch resumes to the run it would have been."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import torch

from tests.training.corpus import tiny_overrides, write_corpus
from toolkit.training.checkpoint import read_checkpoint
from toolkit.training.config import load_config
from toolkit.training.trainer import train_member

REPO = Path(__file__).resolve().parents[2]


def _command(config: Path, exp: Path, overrides, *extra):
    command = [str(Path(sys.executable).parent / "toolkit"), "--num-threads", "1", "train", str(config),
               "--exp-dir", str(exp), "--device", "cpu", *extra]
    for override in overrides:
        command += ["--set", override]
    return command


def _run_state(last: Path):
    """The run state in ``last``, or None while the first checkpoint is still being written."""
    if not last.exists():
        return None
    # Written by rename, so a reader sees a whole file: the old one or the new one.
    return torch.load(last, map_location="cpu", weights_only=False)["run_state"]


def test_a_run_killed_mid_epoch_resumes_with_the_same_selection_weights_and_metrics(tmp_path):
    root = write_corpus(tmp_path / "corpus", per_class=6)
    config = tmp_path / "train.yaml"
    config.write_text("train:\n  seed: 5\n")
    # 52 training rows in batches of 4: 13 steps per epoch, each writing stage1/last.pt; dropout
    # and frequent MixUp make every random state matter.
    overrides = tiny_overrides(root, epochs=3) + [
        "train.batch_size=4", "train.checkpoint_every_steps=1", "model.dropout=0.2", "mixup.p=0.7",
        "data.predict_splits=[development]",
    ]
    reference = tmp_path / "uninterrupted"
    train_member(load_config(config, overrides), reference, 1, device="cpu")

    exp = tmp_path / "killed"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
    killed_at = None
    with open(tmp_path / "killed.log", "w") as log:
        process = subprocess.Popen(_command(config, exp, overrides), stdout=log, stderr=subprocess.STDOUT, env=env)
        try:
            deadline = time.monotonic() + 300
            while process.poll() is None and time.monotonic() < deadline:
                state = _run_state(exp / "stage1" / "last.pt")
                if state is not None and state["global_step"] >= 3 and state["batch_in_epoch"] > 0:
                    os.kill(process.pid, signal.SIGKILL)
                    killed_at = state
                    break
                time.sleep(0.005)
        finally:
            if killed_at is None and process.poll() is None:
                process.kill()  # timed out, or the test failed: leave no process behind
            process.wait()
    assert killed_at is not None and process.returncode == -signal.SIGKILL, \
        (tmp_path / "killed.log").read_text()[-3000:]
    assert not (exp / ".stage1.done").exists() and not (exp / "best.pt").exists()
    # What a kill during a checkpoint write leaves, whether or not this kill landed in one.
    partial = exp / "stage1" / f"last.pt.tmp-{process.pid}"
    if not partial.exists():
        partial.write_bytes(b"half a checkpoint")

    resumed = subprocess.run(_command(config, exp, overrides, "--resume"), capture_output=True, text=True, env=env,
                             timeout=300)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "resumed stage 1 at epoch" in resumed.stderr

    expected, selected = read_checkpoint(reference / "best.pt"), read_checkpoint(exp / "best.pt")
    assert selected["epoch"] == expected["epoch"]
    for name, tensor in expected["model_state"].items():
        assert torch.equal(selected["model_state"][name], tensor), name
    pd.testing.assert_frame_equal(pd.read_csv(exp / "metrics.csv").drop(columns="seconds"),
                                  pd.read_csv(reference / "metrics.csv").drop(columns="seconds"))
    assert not partial.exists() and not list(exp.rglob("*.tmp-*"))
