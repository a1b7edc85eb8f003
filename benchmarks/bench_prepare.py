"""Benchmark of stage 0 at MSP-Podcast scale: time and peak RSS of ``prepare_msp_podcast``.

Generates (under ``--workdir``, default benchmarks/out/prepare) a release with ``--files`` consensus
rows and about ``--annotators`` annotator rows per file (≈116k and ≈1M at full scale), with the
per-annotator labels in each of the three formats, plus empty ``.wav`` files so that only label
processing is measured (``scan_audio=False``, the ``--no-audio-scan`` path). Each format runs in a
fresh child process that reports its own wall time and peak RSS, side by side with the target
(under 30 s and 1.5 GB). A last run reads ``--scan-files`` real wav headers to give the cost of
the audio scan per file.

    .venv/bin/python benchmarks/bench_prepare.py            # full scale
    .venv/bin/python benchmarks/bench_prepare.py --files 5000 --scan-files 500   # quick look
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

TARGET_SECONDS = 30.0
TARGET_RSS_GB = 1.5
NAMES = ["Angry", "Sad", "Happy", "Surprise", "Fear", "Disgust", "Contempt", "Neutral", "Other-bored"]
SECONDARY = ["", "", "Sad", "Angry,Frustrated", "Happy,Amused", "Neutral", "Concerned", "Fear,Sad"]
CHILD = """
import json, resource, sys, time
from toolkit.corpora.msp_podcast import prepare_msp_podcast
start = time.perf_counter()
summary = prepare_msp_podcast(sys.argv[1], sys.argv[2], scan_audio=sys.argv[3] == "scan")
seconds = time.perf_counter() - start
rows = sum(split["rows"] for split in summary["splits"].values())
usage = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"seconds": seconds, "cpu_seconds": usage.ru_utime + usage.ru_stime, "peak_rss_gb": usage.ru_maxrss / 2**20,
                  "rows": rows, "problems": sum(summary["skipped"].values())}))
"""


def generate(root: Path, files: int, annotators: float, seed: int = 0) -> int:
    """Write labels (consensus + the three per-annotator formats side by side) and empty wavs; return annotator rows."""
    rng = np.random.default_rng(seed)
    (root / "Audios").mkdir(parents=True, exist_ok=True)
    (root / "Labels").mkdir(parents=True, exist_ok=True)
    names = [f"MSP-PODCAST_{index // 50:04d}_{index % 50:04d}.wav" for index in range(files)]
    splits = np.where(rng.random(files) < 0.72, "Train", "Development")
    classes = rng.choice(list("ASHUFDCNOX"), size=files)
    values = np.round(rng.uniform(1, 7, size=(files, 3)), 1)
    with open(root / "Labels" / "labels_consensus.csv", "w") as handle:
        handle.write("FileName,EmoClass,EmoAct,EmoVal,EmoDom,SpkrID,Gender,Split_Set\n")
        for index, name in enumerate(names):
            act, val, dom = values[index]
            handle.write(f"{name},{classes[index]},{act},{val},{dom},{index % 1000},Female,{splits[index]}\n")
    counts = rng.poisson(annotators - 1, size=files) + 1
    primary = rng.integers(0, len(NAMES), size=int(counts.sum()))
    secondary = rng.integers(0, len(SECONDARY), size=int(counts.sum()))
    position = 0
    document = {}
    with open(root / "Labels" / "rows.csv", "w") as rows, open(root / "Labels" / "packed.csv", "w") as packed:
        rows.write("FileName,WorkerID,EmoClass_Major,EmoClass_Second,EmoAct,EmoVal,EmoDom\n")
        packed.write("FileName,EmoDetail\n")
        for name, count in zip(names, counts):
            document[name] = {}
            for worker in range(count):
                major, second = NAMES[primary[position]], SECONDARY[secondary[position]]
                worker_id = f"WORKER{worker * 37 % 9999:05d}"
                rows.write(f'{name},{worker_id},{major},"{second}",4.0,3.0,5.0\n')
                packed.write(f'{name},"{worker_id}; {major}; {second}; A:4.0; V:3.0; D:5.0;"\n')
                document[name][worker_id] = {"EmoClass_Major": major, "EmoClass_Second": second,
                                             "EmoAct": 4.0, "EmoVal": 3.0, "EmoDom": 5.0}
                position += 1
    (root / "Labels" / "detailed.json").write_text(json.dumps(document))
    for name in names:
        (root / "Audios" / name).touch()
    return position


def run_child(root: Path, out: Path, mode: str, keep_output: bool = False) -> dict:
    """Run stage 0 in a fresh process; ``keep_output`` keeps OUTDIR (and its header cache) but forces a redo."""
    if keep_output:
        (out / ".prepare.done").unlink(missing_ok=True)
    else:
        shutil.rmtree(out, ignore_errors=True)
    result = subprocess.run([sys.executable, "-c", CHILD, str(root), str(out), mode],
                            capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=116_000, help="consensus rows")
    parser.add_argument("--annotators", type=float, default=8.6, help="mean annotators per file (≈1M rows at 116k)")
    parser.add_argument("--scan-files", type=int, default=2000, help="real wav headers read in the audio-scan run")
    parser.add_argument("--workdir", type=Path, default=Path(__file__).parent / "out" / "prepare")
    args = parser.parse_args()

    root = args.workdir / "release"
    params = {"files": args.files, "annotators": args.annotators}
    if (root / "params.json").is_file() and json.loads((root / "params.json").read_text()) == params:
        print(f"reusing the release generated earlier in {root}")
    else:
        shutil.rmtree(args.workdir, ignore_errors=True)
        start = time.perf_counter()
        annotator_rows = generate(root, args.files, args.annotators)
        (root / "params.json").write_text(json.dumps(params))
        print(f"generated {args.files} consensus rows, {annotator_rows} annotator rows in "
              f"{time.perf_counter() - start:.1f} s")

    print(f"load average now: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (wall time suffers on a busy machine)")
    print(f"{'per-annotator format':<24}{'rows':>9}{'wall s':>9}{'CPU s':>9}{'peak RSS GB':>13}   "
          f"target: <{TARGET_SECONDS:g} s, <{TARGET_RSS_GB:g} GB")
    labels = root / "Labels"
    for label, source, target in (("csv-rows", "rows.csv", "labels_detailed.csv"),
                                  ("csv-packed (EmoDetail)", "packed.csv", "labels_detailed.csv"),
                                  ("json", "detailed.json", "labels_detailed.json")):
        for stale in ("labels_detailed.csv", "labels_detailed.json"):
            (labels / stale).unlink(missing_ok=True)
        (labels / target).symlink_to(labels / source)
        figures = run_child(root, args.workdir / "out", "no-scan")
        verdict = " / ".join(f"{name} {'ok' if value < target else 'OVER'}" for name, value, target in (
            ("wall", figures["seconds"], TARGET_SECONDS), ("CPU", figures["cpu_seconds"], TARGET_SECONDS),
            ("RSS", figures["peak_rss_gb"], TARGET_RSS_GB)))
        print(f"{label:<24}{figures['rows']:>9}{figures['seconds']:>9.1f}{figures['cpu_seconds']:>9.1f}"
              f"{figures['peak_rss_gb']:>13.2f}   {verdict}")

    scan_root = args.workdir / "scan"
    shutil.rmtree(scan_root, ignore_errors=True)
    generate(scan_root, args.scan_files, args.annotators, seed=1)
    import soundfile

    silence = np.zeros(16000 * 3, dtype=np.int16)
    for wav in (scan_root / "Audios").iterdir():
        soundfile.write(str(wav), silence, 16000)
    (scan_root / "Labels" / "labels_detailed.csv").symlink_to(scan_root / "Labels" / "rows.csv")
    no_scan = run_child(scan_root, args.workdir / "scan-out", "no-scan")
    scan = run_child(scan_root, args.workdir / "scan-out", "scan")
    for clock, key in (("wall", "seconds"), ("CPU", "cpu_seconds")):
        per_file_ms = 1000 * (scan[key] - no_scan[key]) / args.scan_files
        print(f"audio scan ({clock}): {args.scan_files} wav headers, {no_scan[key]:.2f} s without vs "
              f"{scan[key]:.2f} s with the scan = {per_file_ms:.3f} ms per file "
              f"(≈{per_file_ms * 116_000 / 1000:.0f} s for 116k files)")
    cached = run_child(scan_root, args.workdir / "scan-out", "scan", keep_output=True)
    print(f"re-run of the scan (done marker removed), headers from the cache: {cached['seconds']:.2f} s wall, "
          f"{cached['cpu_seconds']:.2f} s CPU")


if __name__ == "__main__":
    main()
