"""Benchmark of the recipes: the mini_podcast demo's wall time per stage, and the launcher's overhead.

Writes everything under benchmarks/out/recipe/ (corpus, data, dump, exp, submissions) and prints
two tables, also saved to benchmarks/out/recipe/bench_recipe.json:

1. The demo (recipes/mini_podcast/run.sh, the same settings as `make demo` unless options say
   otherwise): seconds per stage from the recipe's own "Stage N: done in S s" lines, the total,
   and the total divided by the 15-minute target (target: ratio < 1 on 2 CPU cores); then the
   Development and test3 Macro-F1 and CCC mean from the stage-6 score files.
2. Launcher overhead: the same N short jobs run directly one after another and through
   utils/run_local.sh (JOB=1:N, per-job logs, --max-jobs-run 1), in one run; the ratio and the
   overhead per job.

Usage: .venv/bin/python benchmarks/bench_recipe.py [--num-utts 600] [--skip-demo] [--jobs 20]
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "benchmarks" / "out" / "recipe"
TARGET_SECONDS = 15 * 60


def _environment() -> dict:
    environment = dict(os.environ)
    environment["PATH"] = f"{REPO / '.venv' / 'bin'}:{environment['PATH']}"
    return environment


def _score(path: Path, name: str) -> float:
    match = re.search(rf"^{re.escape(name)}\s+(-?\d+\.\d+)", path.read_text(), re.M) if path.is_file() else None
    return float(match.group(1)) if match else float("nan")


def bench_demo(num_utts: int, fresh: bool) -> dict:
    if fresh and OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True, exist_ok=True)
    command = ["bash", str(REPO / "recipes/mini_podcast/run.sh"), "--num_utts", str(num_utts),
               "--corpus_dir", str(OUT / "corpus"), "--datadir", str(OUT / "data"), "--dumpdir", str(OUT / "dump"),
               "--expdir", str(OUT / "exp"), "--submission_dir", str(OUT / "submissions")]
    started = time.monotonic()
    with open(OUT / "run.log", "w") as log:
        completed = subprocess.run(command, stdout=log, stderr=subprocess.STDOUT, env=_environment())
    total = time.monotonic() - started
    text = (OUT / "run.log").read_text()
    if completed.returncode != 0:
        sys.exit(f"the demo failed (exit {completed.returncode}); see {OUT / 'run.log'}:\n{text[-3000:]}")
    stages = {int(stage): int(seconds) for stage, seconds in re.findall(r"Stage (\d): done in (\d+) s", text)}
    scores = OUT / "exp" / "mini_medusa" / "scores"
    return {
        "command": " ".join(command),
        "num_utts": num_utts,
        "stage_seconds": stages,
        "total_seconds": round(total, 1),
        "ratio_to_15_min_target": round(total / TARGET_SECONDS, 3),
        "development_macro_f1": _score(scores / "development_categorical.txt", "Macro-F1"),
        "development_ccc_mean": _score(scores / "development_attributes.txt", "CCC mean"),
        "test3_macro_f1": _score(scores / "test3_categorical.txt", "Macro-F1"),
        "test3_ccc_mean": _score(scores / "test3_attributes.txt", "CCC mean"),
    }


def bench_launcher(jobs: int) -> dict:
    work = OUT / "launcher"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    job = ["bash", "-c", "sleep 0.05"]
    started = time.monotonic()
    for _ in range(jobs):
        subprocess.run(job, check=True)
    direct = time.monotonic() - started
    started = time.monotonic()
    subprocess.run([str(REPO / "recipes/utils/run_local.sh"), "--max-jobs-run", "1", f"JOB=1:{jobs}",
                    str(work / "log/job.JOB.log"), *job], check=True)
    launched = time.monotonic() - started
    return {"jobs": jobs, "direct_seconds": round(direct, 3), "run_local_seconds": round(launched, 3),
            "ratio": round(launched / direct, 3), "overhead_ms_per_job": round(1000 * (launched - direct) / jobs, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--num-utts", type=int, default=600, help="mini corpus size (make demo: 600)")
    parser.add_argument("--skip-demo", action="store_true", help="only the launcher overhead")
    parser.add_argument("--keep", action="store_true", help="reuse an earlier run's outputs (re-run = markers only)")
    parser.add_argument("--jobs", type=int, default=20)
    args = parser.parse_args()

    results = {}
    if not args.skip_demo:
        demo = results["demo"] = bench_demo(args.num_utts, fresh=not args.keep)
        print(f"demo ({demo['num_utts']} utterances): {demo['command']}")
        print(f"{'stage':<8}{'seconds':>10}")
        for stage, seconds in sorted(demo["stage_seconds"].items()):
            print(f"{stage:<8}{seconds:>10}")
        print(f"{'total':<8}{demo['total_seconds']:>10.0f}   / 900 s target = {demo['ratio_to_15_min_target']:.2f}")
        print(f"Development: Macro-F1 {demo['development_macro_f1']:.4f}, CCC mean {demo['development_ccc_mean']:.4f}")
        print(f"test3:       Macro-F1 {demo['test3_macro_f1']:.4f}, CCC mean {demo['test3_ccc_mean']:.4f}")
    launcher = results["launcher"] = bench_launcher(args.jobs)
    print(f"launcher: {launcher['jobs']} jobs direct {launcher['direct_seconds']} s, through run_local.sh "
          f"{launcher['run_local_seconds']} s (ratio {launcher['ratio']}, {launcher['overhead_ms_per_job']} ms per job)")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "bench_recipe.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
