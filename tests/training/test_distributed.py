import os
import socket
import subprocess
import sys
from pathlib import Path

import pandas as pd

from tests.training.corpus import tiny_overrides, write_corpus
from toolkit.predictions import read_predictions
from toolkit.training.distributed import DistContext, rank_batches
from toolkit.training.history import METRIC_COLUMNS

REPO = Path(__file__).resolve().parents[2]


def test_rank_batches_split_evenly_and_pad_short_shares():
    batches = [[i] for i in range(5)]
    shares = [rank_batches(batches, DistContext(rank, 2, rank, "cpu")) for rank in (0, 1)]
    assert shares[0] == [[0], [2], [4]]
    assert len(shares[1]) == 3 and shares[1][:2] == [[1], [3]]
    assert rank_batches(batches, DistContext(0, 1, 0, "cpu")) == batches


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_torchrun_with_two_cpu_processes_writes_the_single_process_layout(tmp_path):
    root = write_corpus(tmp_path / "corpus", per_class=2, ambiguous=2)
    config = tmp_path / "train.yaml"
    config.write_text("train:\n  seed: 7\n")
    command = [
        sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", str(_free_port()),
        str(Path(sys.executable).parent / "toolkit"), "train", str(config), "--exp-dir", str(tmp_path / "exp"),
        "--medusa-stage", "1", "--device", "cpu",
    ]
    for override in tiny_overrides(root, epochs=1):
        command += ["--set", override]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
    completed = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert completed.returncode == 0, completed.stderr[-3000:]
    metrics = pd.read_csv(tmp_path / "exp" / "metrics.csv")
    assert list(metrics.columns) == METRIC_COLUMNS and len(metrics) == 1
    # 18 training rows in batches of 8 (8, 8, 2) over 2 processes: the process with one batch repeats it.
    assert metrics["train_samples"].iloc[0] in (18 + 8, 18 + 2)
    assert len(read_predictions(tmp_path / "exp" / "predictions" / "development.csv")) == 10
    assert (tmp_path / "exp" / "best.pt").exists() and (tmp_path / "exp" / ".stage1.done").exists()
