"""Benchmark of the linear probe's fit with scipy's bundled BLAS at one thread (now) against both BLAS
thread pools at the process's thread count (before), and against every BLAS at one thread.

pip's numpy and scipy wheels each bundle an OpenBLAS. The probe's logistic regression (L-BFGS-B,
scipy) alternates small vector updates in scipy's BLAS with the gradient's matrix products in
numpy's, and each pool's threads spin after a call on the cores the other needs. ``fit_probe`` now
runs the C grid inside ``toolkit.utils.threads.scipy_own_blas_single_threaded``; this script
measures what that buys as the training set grows, with "every BLAS at one thread" (the usual
``OPENBLAS_NUM_THREADS=1`` advice) as the alternative that also gives up numpy's threads.

Data: ``bench_probe_fit.synthetic_data`` (8 classes in MSP-Podcast's proportions, correlated pooled
features; Development a quarter of the training rows); the default width, 2,944, is the mini
recipe's all_streams probe (fbank, whisper_tiny_en and MiniLM pooled). For each size the three
settings fit the same arrays back to back in this one process (the whole C grid, warm-started, and
the ridge), in the order before, now, every-BLAS-one: wall time, chosen C, and how far each
setting's weights are from before's (the solver stops at tolerance 1e-8, so only rounding differs).

Prints a table and writes benchmarks/out/probe_blas_threads/results.json. Run it on an otherwise
idle machine (the load average and the BLAS pools are printed); the thread count is the process's
(``OMP_NUM_THREADS`` or every core), as the recipes' probe jobs get it.

Usage: .venv/bin/python benchmarks/bench_probe_blas_threads.py [--rows 40 400 2000] [--width 2944]
"""

import argparse
import contextlib
import json
import os
import sys
from pathlib import Path
from typing import Dict, List

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))
from bench_probe_fit import fit_timed, synthetic_data  # noqa: E402

OUT = REPO / "benchmarks" / "out" / "probe_blas_threads"


def settings() -> Dict[str, Dict[str, object]]:
    """The probe module's thread limit for each compared setting."""
    from threadpoolctl import threadpool_limits

    from toolkit.probes import linear

    return {
        "before": {"scipy_own_blas_single_threaded": contextlib.nullcontext},
        "now": {"scipy_own_blas_single_threaded": linear.scipy_own_blas_single_threaded},
        "every BLAS one thread": {"scipy_own_blas_single_threaded":
                                  lambda: threadpool_limits(limits=1, user_api="blas")},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[40, 400, 2000], help="training rows per run")
    parser.add_argument("--width", type=int, default=2944, help="pooled features per row")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    import scipy.optimize  # noqa: F401  (loads scipy's BLAS before the pools are listed)
    from threadpoolctl import threadpool_info

    from toolkit.probes import linear

    pools = [f"{Path(pool['filepath']).name} ({pool['num_threads']} threads)" for pool in threadpool_info()
             if pool["user_api"] == "blas"]
    print(f"load average {os.getloadavg()[0]:.2f}; width {args.width}; BLAS pools: {', '.join(pools)}")
    compared = settings()
    names = list(compared)
    print("\n| training rows | " + " | ".join(names) + " | before / now | C (each) | weights off before's by |")
    print("|---|" + "---|" * (len(names) + 3), flush=True)
    results: List[Dict[str, object]] = []
    for rows in args.rows:
        data = synthetic_data(rows, args.width, args.seed)
        if not results:
            # Untimed: the first fit pays for scikit-learn's imports and the BLAS pools' start.
            fit_timed(linear, {key: value[:40] for key, value in data.items()}, compared["now"])
        fits = {name: fit_timed(linear, data, compared[name]) for name in names}
        reference = fits["before"]["weights"]
        drift = {name: (float(np.abs(fit["weights"] - reference).max() / np.abs(reference).max())
                        if fit["C"] == fits["before"]["C"] else None) for name, fit in fits.items()}
        row = {"rows": rows, "width": args.width,
               "fits": {name: {key: value for key, value in fit.items() if key != "weights"}
                        for name, fit in fits.items()},
               "speed-up": fits["before"]["seconds"] / fits["now"]["seconds"], "weight_drift": drift}
        results.append(row)
        print(f"| {rows:,} | " + " | ".join(f"{fits[name]['seconds']:.1f} s" for name in names)
              + f" | {row['speed-up']:.1f}x | " + " / ".join(f"{fits[name]['C']:g}" for name in names) + " | "
              + " / ".join("another C" if drift[name] is None else f"{drift[name]:.0e}" for name in names[1:])
              + " |", flush=True)

    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwrote {OUT / 'results.json'}")


if __name__ == "__main__":
    main()
