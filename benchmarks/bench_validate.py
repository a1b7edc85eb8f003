"""Benchmark of ``toolkit validate``: CLI wall time on a 3,200-row file against bare interpreter start-up.

Writes (under ``--workdir``, default benchmarks/out/validate) a valid Task 1 and a valid Task 2 file
for the 3,200 test3 names, a Task 1 file with a problem on every row, and a Development-sized
(``--dev-rows``) Task 1 file with its labels_consensus reference. Then, side by side in one run,
it times (median of ``--repeats`` fresh processes each):

- ``python -c pass`` (the interpreter's start-up, the floor),
- ``python -c "import toolkit.cli"`` (the CLI's own import cost),
- ``toolkit validate`` on each 3,200-row file (target: well under 1 s),
- ``toolkit validate --manifest`` and ``toolkit score`` on the Development-sized file,

and reports wall and CPU time and the ratio of each to bare start-up. Also prints the in-process time of
``validate_submission`` alone.

    .venv/bin/python benchmarks/bench_validate.py
"""

import argparse
import os
import random
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

TARGET_SECONDS = 1.0
CLASSES = "ASHUFDCN"


def write_files(workdir: Path, dev_rows: int) -> dict:
    from toolkit.submission.formats import challenge_test3_ids

    rng = random.Random(0)
    workdir.mkdir(parents=True, exist_ok=True)
    ids = challenge_test3_ids()
    paths = {
        "categorical": workdir / "valid_categorical.csv",
        "attributes": workdir / "valid_attributes.csv",
        "broken": workdir / "broken_categorical.csv",
        "dev_submission": workdir / "dev_categorical.csv",
        "dev_reference": workdir / "labels_consensus.csv",
    }
    paths["categorical"].write_text("FileName,EmoClass\n" + "".join(f"{n},{rng.choice(CLASSES)}\n" for n in ids))
    paths["attributes"].write_text(
        "FileName,EmoAct,EmoVal,EmoDom\n"
        + "".join(f"{n},{rng.uniform(1, 7):.6f},{rng.uniform(1, 7):.6f},{rng.uniform(1, 7):.6f}\n" for n in ids)
    )
    paths["broken"].write_text("FileName,EmoClass\n" + "".join(f"{n.lower()},angry\n" for n in ids))
    dev_ids = [f"MSP-PODCAST_{index // 50:04d}_{index % 50:04d}.wav" for index in range(dev_rows)]
    paths["dev_reference"].write_text(
        "FileName,EmoClass,EmoAct,EmoVal,EmoDom,SpkrID,Gender,Split_Set\n"
        + "".join(f"{n},{rng.choice(CLASSES + 'XO')},4.0,4.0,4.0,1,Male,Development\n" for n in dev_ids)
    )
    paths["dev_submission"].write_text("FileName,EmoClass\n" + "".join(f"{n},{rng.choice(CLASSES)}\n" for n in dev_ids))
    return paths


def median_times(command, repeats: int):
    """Median wall time and median CPU time (user + system) of ``repeats`` fresh processes."""
    walls, cpus = [], []
    for _ in range(repeats):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return statistics.median(walls), statistics.median(cpus)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", type=Path, default=Path("benchmarks/out/validate"))
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--dev-rows", type=int, default=32000)
    args = parser.parse_args()

    from toolkit.submission.validate import validate_submission

    paths = write_files(args.workdir, args.dev_rows)
    python = sys.executable
    toolkit = [python, "-c", "import sys; from toolkit.cli import main; sys.argv[0] = 'toolkit'; main()"]
    cases = [
        ("python -c pass", [python, "-c", "pass"]),
        ("python -c 'import toolkit.cli'", [python, "-c", "import toolkit.cli"]),
        ("toolkit validate (T1, 3200 rows, valid)", toolkit + ["validate", str(paths["categorical"])]),
        ("toolkit validate (T2, 3200 rows, valid)", toolkit + ["validate", str(paths["attributes"])]),
        ("toolkit validate (T1, 3200 rows, every row bad)", toolkit + ["validate", str(paths["broken"])]),
        (f"toolkit validate --manifest ({args.dev_rows} rows)",
         toolkit + ["validate", str(paths["dev_submission"]), "--manifest", str(paths["dev_reference"])]),
        (f"toolkit score ({args.dev_rows} rows)",
         toolkit + ["score", str(paths["dev_submission"]), "--reference", str(paths["dev_reference"])]),
    ]
    print(f"median of {args.repeats} fresh processes each; target for a 3,200-row validate: < {TARGET_SECONDS} s wall")
    print(f"(CPU time is shown too: on a shared, loaded machine wall time includes waiting for a core; load "
          f"average now {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    print(f"{'command':<52} {'wall':>8} {'ratio':>7} {'CPU':>8} {'ratio':>7}")
    base_wall = base_cpu = None
    for label, command in cases:
        wall, cpu = median_times(command, args.repeats)
        base_wall, base_cpu = base_wall or wall, base_cpu or cpu
        print(f"{label:<52} {wall:7.3f}s {wall / base_wall:6.1f}x {cpu:7.3f}s {cpu / base_cpu:6.1f}x")
    for key in ("categorical", "attributes", "broken"):
        start = time.perf_counter()
        report = validate_submission(paths[key])
        seconds = time.perf_counter() - start
        print(f"in-process validate_submission({key}): {seconds * 1000:.1f} ms, valid={report.valid}, "
              f"problems={sum(report.counts.values())}")


if __name__ == "__main__":
    main()
