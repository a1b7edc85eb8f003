"""Benchmark of CPU sharing: one ``toolkit train`` alone against two at once, on the same config.

Each process's thread pools used to assume every core: two trainings on 2 cores slowed an epoch
25x. Now each process takes its CPU allotment (``toolkit.utils.threads``), and the local
launcher (``recipes/utils/run_local.sh``) gives each of its jobs its share of the cores. Three
runs, each launched the way the recipes launch training jobs (``run_local.sh``), fresh each time:

- ``alone``: one job, which gets every core of the launcher's allotment;
- ``shared``: two jobs at once (``--max-jobs-run 2``), which get half each (the default);
- ``forced``: two jobs at once, each told ``toolkit --num-threads <all cores>``: the bad case.

Every job trains MEDUSA stage 1 of the same DeepSER member (2 streams) for ``--epochs`` epochs
on a synthetic corpus this script writes under benchmarks/out/threads/corpus/ (MSP-Podcast-like
durations, 2.75-11 s, mean 5.5 s; an acoustic stream at 50 frames/s, a text stream at 3 tokens/s). The measure
is the wall time of an epoch (training plus the Development evaluation, the ``seconds`` column of
the job's metrics.csv); the first and last epochs are left out when there are 3 or more, so the
two jobs of a pair overlap in every epoch measured (their start-up and their end differ by
seconds). Target: two at once take at most 2.2x one alone (ideal: 2x, each has half the CPUs).

Prints a table (alone, two at once, ratio; the thread count each job chose and why, from its log)
and writes benchmarks/out/threads/results.json. Experiment directories and logs stay in
benchmarks/out/threads/<run>/. Measure on an otherwise idle machine: the load average is printed.

Usage: .venv/bin/python benchmarks/bench_threads.py [--utterances 320] [--epochs 3] [--hidden 64]
       .venv/bin/python benchmarks/bench_threads.py --utterances 64 --epochs 1 --hidden 16   # a quick check
"""

import argparse
import csv
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from statistics import median
from typing import Dict, List

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
OUT = REPO / "benchmarks" / "out" / "threads"
LAUNCHER = REPO / "recipes" / "utils" / "run_local.sh"
#: Synthetic streams: (dim, frames per second); the bench_train.py sizes.
STREAMS = {"acoustic": (256, 50.0), "text": (128, 3.0)}
#: Variables that would impose an outer allotment on the launcher; the runs start without them.
OUTER_LIMITS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "SLURM_CPUS_PER_TASK")


def msp_durations(rng: np.random.Generator, count: int) -> np.ndarray:
    """Seconds like MSP-Podcast's segments: 2.75 s plus an exponential of mean 2.95 s, cut at 11 s
    (range 2.75-11 s, mean 5.5 s, most segments short)."""
    return np.minimum(2.75 + rng.exponential(2.95, size=count), 11.0)


def write_corpus(root: Path, counts: Dict[str, int], streams: Dict[str, tuple], seed: int = 0,
                 chunk: int = 64) -> Path:
    """Manifests ``root/data/<split>/manifest.csv`` and float16 stores ``root/features/<stream>/<split>/``.

    ``counts``: utterances per split; ``streams``: name -> (dim, frames per second). Durations
    follow MSP-Podcast's segments (``msp_durations``), labels are uniform over the 8 classes with
    one-hot soft labels, features standard normal. Kept when already complete (stores have .done).
    """
    import pandas as pd

    from toolkit.emotions import EMOTION_CODES, SOFT_COLUMNS
    from toolkit.features.store import FeatureShardWriter, merge_store
    from toolkit.utils.atomic import is_done

    rng = np.random.default_rng(seed)
    for split, count in counts.items():
        seconds = msp_durations(rng, count)
        labels = rng.integers(0, len(EMOTION_CODES), size=count)
        names = [f"MSP-PODCAST_{split}_{i:06d}.wav" for i in range(count)]
        manifest = root / "data" / split / "manifest.csv"
        if not manifest.exists():
            frame = pd.DataFrame({"FileName": names, "EmoClass": [EMOTION_CODES[c] for c in labels],
                                  "EmoAct": 4.0, "EmoVal": 4.0, "EmoDom": 4.0, "Split_Set": split, "path": "-"})
            for column, values in zip(SOFT_COLUMNS, np.eye(len(EMOTION_CODES))[labels].T):
                frame[column] = values
            manifest.parent.mkdir(parents=True, exist_ok=True)
            frame.to_csv(manifest, index=False)
        for stream, (dim, rate) in streams.items():
            store = root / "features" / stream / split
            if is_done(store):
                continue
            writer = FeatureShardWriter(store, 1, 1, dim, {"encoder": "synthetic", "model": stream, "layers": "last"})
            # Several utterances per write: the writer syncs to disk once per call.
            for start in range(0, count, chunk):
                writer.add_many([(name, rng.standard_normal((max(1, int(length * rate)), dim), dtype=np.float32))
                                 for name, length in zip(names[start:start + chunk], seconds[start:start + chunk])])
            writer.close()
            merge_store(store, 1)
    return root


def toolkit_command() -> List[str]:
    """The ``toolkit`` console script of this interpreter's environment."""
    script = Path(sys.executable).parent / "toolkit"
    found = str(script) if script.exists() else shutil.which("toolkit")
    if found is None:
        sys.exit("bench_threads.py: no 'toolkit' command next to this Python or on PATH; run 'make venv' first")
    return [found]


def write_config(path: Path, root: Path, hidden: int, epochs: int) -> Path:
    import yaml

    config = {
        "data": {"manifest_dir": str(root / "data"), "features_dir": str(root / "features"),
                 "streams": list(STREAMS), "predict_splits": ["development"], "num_workers": 0},
        "model": {"hidden_dim": hidden, "ff_dim": 4 * hidden},
        "stage1": {"lr": 1e-4, "max_epochs": epochs, "patience": epochs},
        "train": {"batch_size": 32, "checkpoint_every_steps": 0},
    }
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def run(name: str, jobs: int, config: Path, forced_threads: int = 0) -> dict:
    """Launch ``jobs`` trainings at once through run_local.sh; their epoch times and thread choices."""
    run_dir = OUT / name
    shutil.rmtree(run_dir, ignore_errors=True)
    toolkit = toolkit_command() + ["--log-level", "DEBUG"]
    if forced_threads:
        toolkit += ["--num-threads", str(forced_threads)]
    command = [str(LAUNCHER), "--max-jobs-run", str(jobs), f"JOB=1:{jobs}", str(run_dir / "log" / "train.JOB.log"),
               *toolkit, "train", str(config), "--exp-dir", str(run_dir / "JOB"), "--medusa-stage", "1"]
    environment = {key: value for key, value in os.environ.items() if key not in OUTER_LIMITS}
    started = time.perf_counter()
    completed = subprocess.run(command, capture_output=True, text=True, env=environment)
    wall = time.perf_counter() - started
    if completed.returncode != 0:
        sys.exit(f"bench_threads.py: run {name!r} failed:\n{completed.stderr}")
    results = []
    for job in range(1, jobs + 1):
        with open(run_dir / str(job) / "metrics.csv", newline="") as handle:
            seconds = [float(row["seconds"]) for row in csv.DictReader(handle)]
        measured = seconds[1:-1] if len(seconds) >= 3 else seconds
        log = (run_dir / "log" / f"train.{job}.log").read_text()
        choice = re.search(r"threads for torch, OpenMP and BLAS: (.*)", log)
        results.append({"epoch_seconds": seconds, "measured_epoch_seconds": median(measured),
                        "threads": choice.group(1) if choice else "?"})
    return {"run": name, "jobs": jobs, "forced_threads": forced_threads, "wall_seconds": wall, "per_job": results,
            "epoch_seconds": max(job["measured_epoch_seconds"] for job in results)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--utterances", type=int, default=320, help="training utterances (batches of 32)")
    parser.add_argument("--epochs", type=int, default=3,
                        help="epochs per job (3 or more: the first and last are not measured)")
    parser.add_argument("--hidden", type=int, default=64, help="model width (the paper uses 512)")
    args = parser.parse_args()

    from toolkit.utils.threads import choose_threads

    environment = {key: value for key, value in os.environ.items() if key not in OUTER_LIMITS}
    allotment = choose_threads(environ=environment)
    cpus, load = allotment.threads, os.getloadavg()[0]
    print(f"CPUs for the launcher: {allotment.reason}; load average {load:.2f} (measure on an idle machine)",
          flush=True)
    root = write_corpus(OUT / "corpus" / f"n{args.utterances}",
                        {"train": args.utterances, "development": max(32, args.utterances // 4)}, STREAMS)
    config = write_config(OUT / f"deepser_h{args.hidden}_e{args.epochs}.yaml", root, args.hidden, args.epochs)
    runs = [("alone", 1, 0), ("shared", 2, 0), ("forced", 2, cpus)]
    results = {}
    for name, jobs, forced in runs:
        results[name] = run(name, jobs, config, forced)
        print(f"{name}: epoch {results[name]['epoch_seconds']:.2f} s", flush=True)
    alone = results["alone"]["epoch_seconds"]
    labels = {"alone": "one job alone", "shared": "two at once (launcher's share)",
              "forced": f"two at once, --num-threads {cpus} each"}
    print(f"\nDeepSER stage 1, 2 streams, width {args.hidden}, {args.utterances} training utterances, "
          f"{args.epochs} epoch(s); {cpus} CPU(s)")
    print(f"{'run':<36} {'epoch s':>8} {'vs alone':>9}  threads of each job (its log)")
    for name, row in results.items():
        ratio = row["epoch_seconds"] / alone
        # The head of each job's reason ("1, set by OMP_NUM_THREADS"); the whole one is in the JSON.
        choices = dict.fromkeys(job["threads"].split(":")[0].split(" (")[0] for job in row["per_job"])
        print(f"{labels[name]:<36} {row['epoch_seconds']:>8.2f} {ratio:>8.2f}x  {' | '.join(choices)}")
    shared_ratio = results["shared"]["epoch_seconds"] / alone
    verdict = "met" if shared_ratio <= 2.2 else "MISSED"
    print(f"target: two at once at most 2.2x one alone: {shared_ratio:.2f}x, {verdict}")
    OUT.mkdir(parents=True, exist_ok=True)
    summary = {"cpus": cpus, "utterances": args.utterances, "epochs": args.epochs, "hidden": args.hidden,
               "load_average_at_start": load, "runs": results,
               "shared_vs_alone": shared_ratio, "forced_vs_alone": results["forced"]["epoch_seconds"] / alone}
    (OUT / "results.json").write_text(json.dumps(summary, indent=2))
    print(f"wrote {OUT / 'results.json'}")


if __name__ == "__main__":
    main()
