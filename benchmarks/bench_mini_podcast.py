"""Benchmark of the mini_podcast generator: the default corpus (600 utterances) in under a minute on 2 cores.

Runs, each in a fresh child process and side by side in one run:
1. ``make_mini_podcast`` at ``--num-utts`` (the product path: chunks in a process pool), wall and CPU
   time against the 60 s target;
2. the label plan alone (``plan_corpus``: script, simulated annotators, no audio);
3. synthesis of the same utterances in one process, chunk after chunk, to give the pool's speed-up.
Outputs go under ``--workdir`` (default benchmarks/out/mini_podcast), deleted before each run.

    .venv/bin/python benchmarks/bench_mini_podcast.py
    .venv/bin/python benchmarks/bench_mini_podcast.py --num-utts 200   # quick look
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

TARGET_SECONDS = 60.0
CHILD = """
import json, resource, sys, time
from pathlib import Path
mode, workdir, num_utts = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
start = time.perf_counter()
audio_seconds = None
if mode == "full":
    from toolkit.corpora.mini_podcast import make_mini_podcast
    if __name__ == "__main__":
        audio_seconds = make_mini_podcast(workdir, seed=0, num_utts=num_utts)["audio_seconds"]
elif mode == "plan":
    from toolkit.corpora.mini_podcast.generate import plan_corpus
    plan_corpus(0, num_utts)
else:
    from toolkit.corpora.mini_podcast.generate import CHUNK_SIZE, plan_corpus
    from toolkit.corpora.mini_podcast.synthesis import write_chunk
    plan = plan_corpus(0, num_utts)
    jobs = list(zip(plan.utterances, plan.audio_seed.spawn(len(plan.utterances))))
    (workdir / "Audios").mkdir(parents=True)
    audio_seconds = sum(sum(write_chunk(workdir / "Audios", jobs[i:i + CHUNK_SIZE]))
                        for i in range(0, len(jobs), CHUNK_SIZE))
seconds = time.perf_counter() - start
own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
cpu = own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime
print(json.dumps({"seconds": seconds, "cpu_seconds": cpu, "audio_seconds": audio_seconds}))
"""


def run(mode: str, workdir: Path, num_utts: int) -> dict:
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.parent.mkdir(parents=True, exist_ok=True)
    script = workdir.parent / "child.py"
    script.write_text(CHILD, encoding="utf-8")
    output = subprocess.run([sys.executable, str(script), mode, str(workdir), str(num_utts)],
                            check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--num-utts", type=int, default=600)
    parser.add_argument("--workdir", type=Path, default=Path("benchmarks/out/mini_podcast"))
    args = parser.parse_args()

    load = os.getloadavg()[0]
    print(f"cores: {os.cpu_count()}, load average at start: {load:.1f} (figures are wall times on a shared machine)")
    full = run("full", args.workdir / "full", args.num_utts)
    plan = run("plan", args.workdir / "plan", args.num_utts)
    serial = run("serial", args.workdir / "serial", args.num_utts)
    verdict = "PASS" if full["seconds"] < TARGET_SECONDS else "FAIL"
    print(f"{'step':<38} {'wall s':>8} {'cpu s':>8}")
    # The pool's workers are children of the forkserver, not of the benchmarked process: no CPU figure.
    print(f"{'make_mini_podcast (pool), ' + str(args.num_utts) + ' utts':<38} {full['seconds']:>8.1f} "
          f"{'-':>8}   target < {TARGET_SECONDS:.0f} s: {verdict}")
    print(f"{'  labels only (plan_corpus)':<38} {plan['seconds']:>8.1f} {plan['cpu_seconds']:>8.1f}")
    print(f"{'  synthesis in one process':<38} {serial['seconds']:>8.1f} {serial['cpu_seconds']:>8.1f}")
    print(f"audio: {full['audio_seconds']:.0f} s, {full['audio_seconds'] / full['seconds']:.0f}x real time end to end; "
          f"pool vs one process (wall, including labels and writing): "
          f"{serial['seconds'] / full['seconds']:.2f}x")


if __name__ == "__main__":
    main()
