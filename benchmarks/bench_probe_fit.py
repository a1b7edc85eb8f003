"""Benchmark of the linear probe's fit: the solver tolerance 1e-8 (now) against scikit-learn's 1e-4 (before).

The probe (``toolkit.probes.linear.fit_probe``) fits a logistic regression for each C of its grid
with L-BFGS. Fitting to 1e-8 makes the chosen C and the weights independent of the thread count,
at the price of more iterations; this script measures that price as the training set grows, to
see how it would scale towards MSP-Podcast (about 84k training rows, and 10,752 pooled features
for the recipe's all_streams probe), which this machine cannot hold in a benchmark.

Data, synthetic and the same for both tolerances: ``--width`` pooled features with the strong
correlations of pooled SSL features (a 64-dimensional latent factor, spread over every feature,
plus independent noise), 8 classes in MSP-Podcast's proportions (its Development counts, as mini_podcast
takes them) whose means differ in the latent space, and Development at a quarter of the training
rows. For each training size both tolerances run back to back in this one process, on the same
arrays, with the same threads: the wall time of ``fit_probe`` (the whole C grid, warm-started,
and the attributes' ridge), the chosen C, the Development Macro-F1 at it, and how far the 1e-4
weights are from the 1e-8 ones.

Prints a table and writes benchmarks/out/probe_fit/results.json. Measure on an otherwise idle
machine (the load average is printed); the BLAS thread count is the environment's
(``OMP_NUM_THREADS=1`` as the recipes' probe jobs on a busy launcher, unset for every core).

Usage: .venv/bin/python benchmarks/bench_probe_fit.py [--rows 2000 8000 32000] [--width 1024]
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Dict, List
from unittest import mock

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
OUT = REPO / "benchmarks" / "out" / "probe_fit"
LATENT_DIM = 64
#: The probe's settings before it fitted to 1e-8: scikit-learn's default tolerance, 2,000 iterations.
BEFORE = {"SOLVER_TOLERANCE": 1e-4, "SOLVER_MAX_ITERATIONS": 2000}


def class_priors() -> np.ndarray:
    """MSP-Podcast's class proportions in the challenge's order."""
    from toolkit.corpora.mini_podcast.script import MSP_CLASS_COUNTS
    from toolkit.emotions import EMOTION_CODES

    counts = np.array([MSP_CLASS_COUNTS[code] for code in EMOTION_CODES], dtype=float)
    return counts / counts.sum()


def synthetic_split(rng: np.random.Generator, rows: int, priors: np.ndarray, class_means: np.ndarray,
                    mixing: np.ndarray):
    """(features (rows, width) float32, classes (rows,), attributes (rows, 3)) drawn from the latent model."""
    classes = rng.choice(len(priors), size=rows, p=priors)
    latent = class_means[classes] + rng.standard_normal((rows, LATENT_DIM))
    features = latent @ mixing + 0.5 * rng.standard_normal((rows, mixing.shape[1]))
    attributes = np.clip(4.0 + latent[:, :3], 1.0, 7.0)
    return features.astype(np.float32), classes, attributes


def synthetic_data(rows: int, width: int, seed: int) -> Dict[str, np.ndarray]:
    """Training (``rows``) and Development (a quarter of it) splits: ``train``, ``train_classes``,
    ``train_attributes`` and the same for ``dev``."""
    rng = np.random.default_rng(seed)
    priors = class_priors()
    mixing = rng.standard_normal((LATENT_DIM, width)) * np.linspace(1.0, 0.05, LATENT_DIM)[:, None]
    class_means = 0.15 * rng.standard_normal((len(priors), LATENT_DIM))
    data = {}
    for split, count in (("train", rows), ("dev", rows // 4)):
        data[split], data[f"{split}_classes"], data[f"{split}_attributes"] = synthetic_split(
            rng, count, priors, class_means, mixing)
    return data


def fit_timed(linear, data: Dict[str, np.ndarray], settings: Dict[str, float]) -> Dict[str, object]:
    """Fit the probe with the module's solver settings replaced by ``settings``; its wall time and result."""
    from toolkit.emotions import CHALLENGE

    with mock.patch.multiple(linear, **settings):
        start = time.perf_counter()
        probe = linear.fit_probe(data["train"], data["train_classes"], data["train_attributes"], data["dev"],
                                 data["dev_classes"], data["dev_attributes"], CHALLENGE, ["synthetic"],
                                 extend_grids=False)  # both tolerances fit the same grid
        seconds = time.perf_counter() - start
    chosen = next(row for row in probe.selection if row["parameter"] == "C" and row["value"] == probe.C)
    return {"seconds": seconds, "C": probe.C, "dev_macro_f1": chosen["dev_macro_f1"], "weights": probe.class_weight}


def table_row(row: Dict[str, object]) -> str:
    drift = row["weight_drift_before"]
    return (f"| {row['rows']:,} | {row['width']:,} | {row['before']['seconds']:.1f} s | {row['after']['seconds']:.1f} s "
            f"| {row['ratio']:.2f}x | {row['before']['C']:g} / {row['after']['C']:g} "
            f"| {'another C chosen' if drift is None else f'{drift:.1e} of the largest'} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[2000, 8000, 32000], help="training rows per run")
    parser.add_argument("--width", type=int, default=1024, help="pooled features per row")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from threadpoolctl import threadpool_info

    from toolkit.probes import linear

    # The BLAS pool's size, as the environment (OMP_NUM_THREADS and the like) set it: the probe's cost is BLAS.
    threads = max((pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"), default=1)
    print(f"load average {os.getloadavg()[0]:.2f}; {threads} threads; width {args.width}; "
          f"C grid {', '.join(f'{c:g}' for c in linear.DEFAULT_C_GRID)}")
    print("\n| training rows | width | 1e-4 (before) | 1e-8 (now) | ratio | C before / now | 1e-4 weights off by |")
    print("|---|---|---|---|---|---|---|", flush=True)
    now = {name: getattr(linear, name) for name in BEFORE}
    results: List[Dict[str, object]] = []
    for rows in args.rows:
        data = synthetic_data(rows, args.width, args.seed)
        if not results:
            # Untimed: the first fit pays for scikit-learn's imports and the BLAS pool's start.
            fit_timed(linear, {key: value[:200] for key, value in data.items()}, BEFORE)
        before = fit_timed(linear, data, BEFORE)
        after = fit_timed(linear, data, now)
        # Weights are comparable only at the same C.
        drift = (float(np.abs(before["weights"] - after["weights"]).max() / np.abs(after["weights"]).max())
                 if before["C"] == after["C"] else None)
        row = {"rows": rows, "width": args.width, "threads": threads,
               "before": {key: value for key, value in before.items() if key != "weights"},
               "after": {key: value for key, value in after.items() if key != "weights"},
               "ratio": after["seconds"] / before["seconds"], "weight_drift_before": drift}
        results.append(row)
        print(table_row(row), flush=True)

    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwrote {OUT / 'results.json'}")


if __name__ == "__main__":
    main()
