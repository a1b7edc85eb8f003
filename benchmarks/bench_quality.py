"""Quality benchmark: MEDUSA against the simple baselines on several mini corpora, test3 mean ± std.

For every corpus size and seed, runs the mini recipe (recipes/mini_podcast/run.sh) end to end on a
freshly generated mini_podcast corpus with per-speaker recording channels (``--channels``), with
the recipe's own configs (one config for every seed and size: nothing is tuned per corpus), then
trains the paper's ablations of one reference member. Scores every system on test3 against the
corpus key (Key/test3_labels.csv):

- the linear probes (each stream, all streams);
- every DeepSER member, and its stage-1 checkpoint (the "without stage 2" ablation);
- every combination method fitted on all of Development (soft and hard voting, best member,
  meta-classifier, soup) and the submitted one (the recipe's ``--combine``, auto by default);
- ablations of the reference member, each one setting of the mini config changed: the paper's soft
  targets and its deep fusion (the mini config trains one-hot targets with late fusion,
  docs/training.md), no MixUp (and no stage 2: its stage-1 checkpoint).

Writes everything under ``--out`` (default benchmarks/out/quality/): per corpus the recipe's data,
features and experiments; ``quality.json`` (every score) and ``quality.md`` (the tables: mean ±
std over seeds per size, per-seed values, and the issue's targets checked). Work already done is
skipped (the recipe's done markers), so an interrupted benchmark resumes.

Usage (runs outside the test suite; hours on 2 CPU cores at the default sizes):

    .venv/bin/python benchmarks/bench_quality.py [--sizes 600 3000] [--seeds 0 1 2] [--channels per-speaker]
        [--train-overrides "k=v ..."] [--ensemble-opts "..."] [--out DIR]
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List

import numpy as np

REPO = Path(__file__).resolve().parents[1]
RECIPE = REPO / "recipes" / "mini_podcast"
TAG = "mini_medusa"
REFERENCE_MEMBER = "fbank_whisper_minilm"
ABLATIONS = {
    "soft targets": ["loss.targets=soft"],
    "deep fusion": ["model.fusion=deep"],
    "no MixUp": ["mixup.p=0"],
}


def _environment(threads: int) -> dict:
    environment = dict(os.environ)
    environment["PATH"] = f"{REPO / '.venv' / 'bin'}:{environment['PATH']}"
    environment["OMP_NUM_THREADS"] = str(threads)
    return environment


def _run(command: List[str], log: Path, environment: dict) -> None:
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "a") as handle:
        completed = subprocess.run(command, stdout=handle, stderr=subprocess.STDOUT, env=environment)
    if completed.returncode != 0:
        sys.exit(f"failed (exit {completed.returncode}): {' '.join(command)}\n{log.read_text()[-3000:]}")


def run_corpus(root: Path, size: int, seed: int, args) -> None:
    """The mini recipe end to end on one corpus, then the ablations of the reference member."""
    command = ["bash", str(RECIPE / "run.sh"), "--num_utts", str(size), "--corpus_seed", str(seed),
               "--channels", args.channels, "--corpus_dir", str(root / "corpus"), "--datadir", str(root / "data"),
               "--dumpdir", str(root / "dump"), "--expdir", str(root / "exp"),
               "--submission_dir", str(root / "submissions")]
    if args.train_overrides:
        command += ["--train_overrides", args.train_overrides]
    if args.ensemble_opts:
        command += ["--ensemble_opts", args.ensemble_opts]
    _run(command, root / "recipe.log", _environment(1))
    if size not in args.ablation_sizes:
        return
    from toolkit.recipes_support import load_ensemble_config

    member = next(m for m in load_ensemble_config(RECIPE / "conf" / "ensemble.yaml") if m.name == REFERENCE_MEMBER)
    base = ["toolkit", "train", str(RECIPE / member.train_config), "--set", f"data.streams=[{','.join(member.streams)}]",
            "--set", f"data.manifest_dir={root / 'data'}", "--set", f"data.features_dir={root / 'dump' / 'features'}",
            *[value for override in member.overrides for value in ("--set", override)],
            *[value for override in args.train_overrides.split() for value in ("--set", override)]]
    for name, overrides in ABLATIONS.items():
        exp = root / "ablations" / name.replace(" ", "_")
        extra = [value for override in overrides for value in ("--set", override)]
        for stage in (1, 2):
            if not (exp / f".stage{stage}.done").exists():
                _run([*base, *extra, "--exp-dir", str(exp), "--medusa-stage", str(stage), "--resume"],
                     exp / "train.log", _environment(2))


def _key(root: Path):
    from toolkit.data.inventory import read_inventory
    from toolkit.submission.reference import read_reference

    reference = read_reference(root / "corpus" / "Key" / "test3_labels.csv")
    return reference, read_inventory(root / "data" / "train" / "manifest.csv")


def _score_predictions(path: Path, reference, inventory) -> Dict[str, float]:
    from toolkit.ensemble.members import softmax
    from toolkit.ensemble.results import SystemPredictions, score_rows
    from toolkit.predictions import LOGIT_PREFIX, prediction_codes, read_predictions

    frame = read_predictions(path)
    logits = frame[[f"{LOGIT_PREFIX}{code}" for code in prediction_codes(frame)]].to_numpy()
    names = list(frame["FileName"])
    classes = np.array([inventory.index(reference.classes[name]) for name in names])
    attributes = np.array([reference.attributes[name] for name in names], dtype=np.float64)
    predicted = SystemPredictions(logits.argmax(axis=1), frame[["EmoAct", "EmoVal", "EmoDom"]].to_numpy(),
                                  softmax(logits))
    return score_rows(classes, attributes, predicted, inventory.num_classes)


def collect(root: Path) -> Dict[str, Dict[str, float]]:
    """test3 scores of every system of one corpus, by system name."""
    import pandas as pd

    from toolkit.recipes_support import probe_members

    reference, inventory = _key(root)
    exp = root / "exp" / TAG
    scores: Dict[str, Dict[str, float]] = {}
    # Probes the ensemble combines are listed as members there; here they count as probes.
    combined_probes = {f"member {name}": f"probe {name}" for name in probe_members(RECIPE / "conf" / "ensemble.yaml")}
    table = pd.read_csv(exp / "ensemble" / "test_scores.csv")
    for row in table.to_dict("records"):
        name = combined_probes.get(row["system"], row["system"])
        scores[name] = {"macro_f1": row["macro_f1"], "ccc_mean": row["ccc_mean"]}
        if row.get("submitted") is True or row.get("submitted") == "True":
            scores["submitted system"] = dict(scores[name], method=name)
    for member in sorted((exp / "members").iterdir()):
        stage1 = member / "stage1" / "predictions" / "test3.csv"
        if stage1.is_file():
            values = _score_predictions(stage1, reference, inventory)
            scores[f"member {member.name}, stage 1 only"] = {"macro_f1": values["macro_f1"],
                                                             "ccc_mean": values["ccc_mean"]}
    for name in ABLATIONS:
        predictions = root / "ablations" / name.replace(" ", "_") / "predictions" / "test3.csv"
        if not predictions.is_file():  # ablations not run at this size (--ablation-sizes)
            continue
        values = _score_predictions(predictions, reference, inventory)
        scores[f"ablation {REFERENCE_MEMBER}: {name}"] = {"macro_f1": values["macro_f1"],
                                                          "ccc_mean": values["ccc_mean"]}
    return scores


def _mean_std(values: List[float]) -> str:
    return f"{np.mean(values):.3f} ± {np.std(values):.3f}"


def summarise(results: Dict[str, Dict[str, Dict[str, Dict[str, float]]]]) -> str:
    """Markdown: per size, every system's test3 Macro-F1 and CCC mean, mean ± std over the seeds done; the targets."""
    lines = []
    for size, per_seed in results.items():
        seeds = [int(seed) for seed in per_seed]
        # Every system in order of first appearance; ablations may exist for some seeds only.
        systems = list(dict.fromkeys(name for scores in per_seed.values() for name in scores))
        lines += [f"### {size} utterances (seeds {', '.join(map(str, seeds))})", "",
                  "| system | test3 Macro-F1 | test3 CCC mean | Macro-F1 per seed |", "|---|---|---|---|"]
        for system in systems:
            present = [seed for seed in seeds if system in per_seed[str(seed)]]
            f1 = [per_seed[str(seed)][system]["macro_f1"] for seed in present]
            ccc = [per_seed[str(seed)][system]["ccc_mean"] for seed in present]
            label = system if present == seeds else f"{system} (seeds {', '.join(map(str, present))})"
            lines.append(f"| {label} | {_mean_std(f1)} | {_mean_std(ccc)} | {' / '.join(f'{v:.3f}' for v in f1)} |")
        lines += ["", *targets(per_seed), ""]
    lines += gap_by_size(results)
    return "\n".join(lines)


def headline(per_seed) -> Dict[str, float]:
    """Means over the seeds done of test3 Macro-F1: best probe, best member, submitted system, soft voting."""
    names = list(next(iter(per_seed.values())))

    def mean_f1(name: str) -> float:
        return float(np.mean([scores[name]["macro_f1"] for scores in per_seed.values()]))

    return {
        "best probe": max(mean_f1(name) for name in names if name.startswith("probe ")),
        "best member": max(mean_f1(name) for name in names if name.startswith("member ") and "stage 1" not in name),
        "submitted": mean_f1("submitted system"),
        "soft voting": mean_f1("soft voting"),
    }


def gap_by_size(results) -> List[str]:
    """How the submitted system's and the best member's gaps to the best probe change with corpus size."""
    if len(results) < 2:
        return []
    lines = ["### Gap to the best probe by corpus size (test3 Macro-F1, means over seeds)", "",
             "| size | submitted − best probe | best member − best probe |", "|---|---|---|"]
    for size, per_seed in results.items():
        means = headline(per_seed)
        lines.append(f"| {size} | {means['submitted'] - means['best probe']:+.3f} "
                     f"| {means['best member'] - means['best probe']:+.3f} |")
    return lines + [""]


def targets(per_seed) -> List[str]:
    """The issue's targets on the means over seeds."""
    means = headline(per_seed)
    submitted, soft = means["submitted"], means["soft voting"]
    best_probe, best_member = means["best probe"], means["best member"]
    checks = [
        (f"submitted system {submitted:.3f} ≥ best probe {best_probe:.3f} + 0.02", submitted >= best_probe + 0.02),
        (f"best DeepSER member {best_member:.3f} ≥ best probe {best_probe:.3f}", best_member >= best_probe),
        (f"submitted system {submitted:.3f} ≥ best member {best_member:.3f}", submitted >= best_member),
        (f"submitted system {submitted:.3f} ≥ soft voting {soft:.3f}", submitted >= soft),
    ]
    return [f"- {'met' if passed else 'NOT met'}: {text}" for text, passed in checks] + [
        f"- gap submitted − best probe: {submitted - best_probe:+.3f}"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[600, 3000])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--ablation-sizes", type=int, nargs="*", default=None,
                        help="Sizes at which the ablations are trained (default: every size).")
    parser.add_argument("--channels", default="per-speaker", choices=["clean", "per-speaker"])
    parser.add_argument("--train-overrides", default="", help="key=value overrides for every member, as the recipe's.")
    parser.add_argument("--ensemble-opts", default="", help="Extra options of toolkit ensemble, as the recipe's.")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "out" / "quality")
    args = parser.parse_args()
    if args.ablation_sizes is None:
        args.ablation_sizes = args.sizes
    # The recipe runs from its own directory: a relative --out would land under it.
    args.out = args.out.resolve()
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    results: Dict[str, Dict[str, Dict[str, Dict[str, float]]]] = {}
    for size in args.sizes:
        for seed in args.seeds:
            root = args.out / f"n{size}_s{seed}"
            corpus_started = time.monotonic()
            run_corpus(root, size, seed, args)
            results.setdefault(str(size), {})[str(seed)] = collect(root)
            print(f"{root.name}: done in {time.monotonic() - corpus_started:.0f} s", flush=True)
            # Rewritten after every corpus, so an interrupted run still reports the corpora it finished.
            report = write_report(args, results, time.monotonic() - started)
    print(report)


def write_report(args, results, elapsed: float) -> str:
    """quality.md and quality.json under --out; returns the markdown."""
    header = (f"Wall time {elapsed / 60:.1f} min (this run; finished work is skipped). Channels: {args.channels}. "
              f"Train overrides: {args.train_overrides or 'none'}. Ensemble options: {args.ensemble_opts or 'none'}. "
              f"Ablations at sizes: {' '.join(map(str, args.ablation_sizes)) or 'none'}.\n\n")
    report = header + summarise(results)
    (args.out / "quality.md").write_text(report + "\n")
    (args.out / "quality.json").write_text(json.dumps({"arguments": {k: str(v) for k, v in vars(args).items()},
                                                       "wall_seconds": elapsed, "results": results}, indent=2))
    return report


if __name__ == "__main__":
    main()
