"""Training choices side by side: DeepSER members trained under named config variants on several corpora.

The measurement behind docs/training.md's "Why MEDUSA lost to the probe, and what fixed it": each
variant is a set of ``key=value`` overrides of the mini recipe's training config; every variant
trains the same members (stages 1 and 2) on the same prepared corpora (recipe work directories
whose stages 0-2 are done, e.g. bench_quality.py's), and is scored on test3 against each corpus's
key, and on Development. Corpora used to choose a setting must not be the ones it is reported on:
run this on tuning corpora (other seeds), then bench_quality.py on the evaluation seeds.

Writes ROOT/variants/<variant>/<member>/ per corpus (skipped when done) and prints, and saves to
``--out`` (JSON), per variant and member: test3 Macro-F1 mean ± std over corpora, the same for
the stage-1 checkpoint, and Development Macro-F1.

Usage:
    .venv/bin/python benchmarks/bench_member_variants.py --corpora W1 W2 ... \\
        --variant baseline= --variant "prior=loss.class_weight_alpha=0 loss.logit_adjustment=1" \\
        [--members whisper_minilm fbank_whisper_minilm] [--jobs 2] [--out FILE.json]
"""

import argparse
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Dict, List, Tuple

import numpy as np

REPO = Path(__file__).resolve().parents[1]
RECIPE = REPO / "recipes" / "mini_podcast"
sys.path.insert(0, str(REPO / "benchmarks"))

from bench_quality import _key, _score_predictions  # noqa: E402


def _train(root: Path, member, variant: str, overrides: List[str], threads: int) -> Path:
    exp = root / "variants" / variant / member.name
    base = ["toolkit", "train", str(RECIPE / member.train_config), "--set", f"data.streams=[{','.join(member.streams)}]",
            "--set", f"data.manifest_dir={root / 'data'}", "--set", f"data.features_dir={root / 'dump' / 'features'}",
            *[value for override in [*member.overrides, *overrides] for value in ("--set", override)]]
    environment = dict(os.environ, OMP_NUM_THREADS=str(threads), PATH=f"{REPO / '.venv' / 'bin'}:{os.environ['PATH']}")
    for stage in (1, 2):
        if (exp / f".stage{stage}.done").exists():
            continue
        exp.mkdir(parents=True, exist_ok=True)
        with open(exp / "train.log", "a") as log:
            completed = subprocess.run([*base, "--exp-dir", str(exp), "--medusa-stage", str(stage), "--resume"],
                                       stdout=log, stderr=subprocess.STDOUT, env=environment)
        if completed.returncode != 0:
            raise RuntimeError(f"{exp}: stage {stage} failed; see {exp / 'train.log'}")
    return exp


def _scores(root: Path, exp: Path) -> Dict[str, float]:
    import torch

    reference, inventory = _key(root)
    final = _score_predictions(exp / "predictions" / "test3.csv", reference, inventory)["macro_f1"]
    stage1 = _score_predictions(exp / "stage1" / "predictions" / "test3.csv", reference, inventory)["macro_f1"]
    best = torch.load(exp / "best.pt", map_location="cpu", weights_only=False)
    return {"test3": final, "test3_stage1": stage1, "dev": float(best["dev_macro_f1"])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpora", type=Path, nargs="+", required=True, help="Recipe work dirs (data/, dump/, corpus/Key/).")
    parser.add_argument("--variant", action="append", required=True, metavar="NAME=K=V K=V",
                        help="A named set of space-separated overrides; 'baseline=' for none. Repeatable.")
    parser.add_argument("--members", nargs="+", default=["whisper_minilm", "fbank_whisper_minilm"])
    parser.add_argument("--jobs", type=int, default=2, help="Trainings at once, each with cores / jobs threads.")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    from toolkit.recipes_support import load_ensemble_config

    members = {m.name: m for m in load_ensemble_config(RECIPE / "conf" / "ensemble.yaml")}
    variants: Dict[str, List[str]] = {}
    for text in args.variant:
        name, _, overrides = text.partition("=")
        variants[name] = overrides.split()
    tasks: List[Tuple[Path, str, str]] = [(root, name, variant) for variant in variants for root in args.corpora
                                          for name in args.members]
    threads = max(1, (os.cpu_count() or 1) // args.jobs)
    with ThreadPoolExecutor(args.jobs) as pool:
        exps = list(pool.map(lambda task: _train(task[0], members[task[1]], task[2], variants[task[2]], threads), tasks))
    results: Dict[str, Dict[str, List[Dict[str, float]]]] = {}
    for (root, name, variant), exp in zip(tasks, exps):
        results.setdefault(variant, {}).setdefault(name, []).append({"corpus": root.name, **_scores(root, exp)})
    print(f"{'variant':<28}{'member':<24}{'test3':>16}{'test3 stage 1':>18}{'dev':>16}")
    for variant, per_member in results.items():
        for name, rows in per_member.items():
            cells = [f"{np.mean([r[k] for r in rows]):.3f} ± {np.std([r[k] for r in rows]):.3f}"
                     for k in ("test3", "test3_stage1", "dev")]
            print(f"{variant:<28}{name:<24}{cells[0]:>16}{cells[1]:>18}{cells[2]:>16}")
    if args.out:
        args.out.write_text(json.dumps({"variants": variants, "results": results}, indent=2))


if __name__ == "__main__":
    main()
