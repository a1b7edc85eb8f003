"""Benchmark of the linear probe's peak memory, one checkout against another, side by side in one run.

The probe (``toolkit.probes.linear.fit_probe``) holds its training split as one matrix of pooled
features; at MSP-Podcast's scale (about 84k training rows, 10,752 features for the recipe's
all_streams probe) that matrix is 3.6 GB in float32 and 7.2 GB in float64, so every copy the fit
makes counts. This script measures the fit's peak resident memory above what the process held
before it (Linux's VmHWM after resetting it through /proc/self/clear_refs), in bytes per element
of the float32 training matrix, for each ``--checkout`` (a directory holding a ``toolkit``
package: this one, or a worktree of an older commit).

Data: bench_probe_fit.py's synthetic pooled features (correlated, 8 classes in MSP-Podcast's
proportions, Development a quarter of the training rows), drawn once per size and saved, with
``--unlabelled`` of the training rows given no class (as MSP-Podcast's rows without a consensus
class) and every row its attributes. Each fit runs in a fresh process that loads the saved arrays
and then fits one C and one alpha (the peak does not depend on the grid's length); the checkouts
alternate within each size.

Prints a table and writes benchmarks/out/probe_memory/results.json.

Usage: .venv/bin/python benchmarks/bench_probe_memory.py --checkout before=/path/to/worktree --checkout now=.
           [--rows 20000] [--width 2048] [--unlabelled 0.15]
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Dict, List

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))
OUT = REPO / "benchmarks" / "out" / "probe_memory"

#: Run in a fresh process with PYTHONPATH set to the checkout: load the arrays, fit, report in JSON.
FIT_AND_MEASURE = """
import json, sys, time
import numpy as np

def status_kib(field):
    with open("/proc/self/status") as handle:
        return next(int(line.split()[1]) for line in handle if line.startswith(field + ":"))

with np.load(sys.argv[1]) as arrays:
    data = {name: arrays[name] for name in arrays.files}
from toolkit.emotions import CHALLENGE
from toolkit.probes.linear import fit_probe
import sklearn.linear_model  # imported before the baseline, as the fit would import it
# Loading the archive passed through buffers of its own: reset the high-water mark to what is held now.
with open("/proc/self/clear_refs", "w") as handle:
    handle.write("5")
held = status_kib("VmRSS")
start = time.perf_counter()
fit_probe(data["train"], data["train_classes"], data["train_attributes"], data["dev"], data["dev_classes"],
          data["dev_attributes"], CHALLENGE, ["synthetic"], c_grid=(0.01,), alpha_grid=(100.0,))
print(json.dumps({"held_kib": held, "peak_kib": status_kib("VmHWM"), "seconds": time.perf_counter() - start,
                  "module": sys.modules["toolkit"].__file__}))
"""


def write_data(path: Path, rows: int, width: int, unlabelled: float, seed: int) -> None:
    from bench_probe_fit import synthetic_data

    data = synthetic_data(rows, width, seed)
    data["train_classes"][np.random.default_rng(seed).random(rows) < unlabelled] = -1
    np.savez(path, **data)


def measure(checkout: Path, data_path: Path) -> Dict[str, object]:
    environment = {**os.environ, "PYTHONPATH": str(checkout)}
    # Run from the checkout: ``python -c`` puts the working directory first on sys.path.
    completed = subprocess.run([sys.executable, "-c", FIT_AND_MEASURE, str(data_path)], env=environment,
                               cwd=checkout, capture_output=True, text=True)
    if completed.returncode != 0:
        sys.exit(f"the fit with {checkout} failed:\n{completed.stderr[-2000:]}")
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    if not Path(result["module"]).resolve().is_relative_to(checkout.resolve()):
        sys.exit(f"{checkout}: the fit imported toolkit from {result['module']}; give a checkout's root")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkout", action="append", required=True, metavar="NAME=DIR",
                        help="a label and a directory holding a toolkit package; repeat to compare")
    parser.add_argument("--rows", type=int, nargs="+", default=[20000], help="training rows per run")
    parser.add_argument("--width", type=int, default=2048, help="pooled features per row")
    parser.add_argument("--unlabelled", type=float, default=0.15, help="fraction of training rows without a class")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    checkouts = {}
    for item in args.checkout:
        name, separator, directory = item.partition("=")
        if not separator or not (Path(directory) / "toolkit" / "__init__.py").is_file():
            parser.error(f"--checkout {item!r}: give NAME=DIR, DIR holding a toolkit package")
        checkouts[name] = Path(directory)

    print(f"load average {os.getloadavg()[0]:.2f}; width {args.width}; {args.unlabelled:.0%} of training rows "
          f"without a class; peak above the loaded arrays, in bytes per float32 training element")
    print("\n| training rows | checkout | training matrix | peak during the fit | per element | fit |")
    print("|---|---|---|---|---|---|", flush=True)
    results: List[Dict[str, object]] = []
    with tempfile.TemporaryDirectory() as temporary:
        for rows in args.rows:
            data_path = Path(temporary) / f"probe_{rows}.npz"
            write_data(data_path, rows, args.width, args.unlabelled, args.seed)
            matrix_bytes = rows * args.width * 4
            for name, checkout in checkouts.items():
                measured = measure(checkout, data_path)
                extra_bytes = (measured["peak_kib"] - measured["held_kib"]) * 1024
                row = {"rows": rows, "width": args.width, "checkout": name, "directory": str(checkout),
                       "matrix_bytes": matrix_bytes, "peak_above_held_bytes": extra_bytes,
                       "bytes_per_element": extra_bytes / (rows * args.width), "seconds": measured["seconds"]}
                results.append(row)
                print(f"| {rows:,} | {name} | {matrix_bytes / 2**20:,.0f} MiB | {extra_bytes / 2**20:,.0f} MiB "
                      f"| {row['bytes_per_element']:.1f} B | {measured['seconds']:.1f} s |", flush=True)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwrote {OUT / 'results.json'}")


if __name__ == "__main__":
    main()
