"""Combination methods and ``--combine auto``'s rules side by side on finished corpora, scored on test3.

The measurement behind docs/ensemble.md's "Which method auto submits": for each corpus, every
combination method (soft and hard voting, best member, weighted pool, meta-classifier, soup) is
fitted on all of Development and scored on test3 against the corpus's key, and auto's choice is
made from the same out-of-fold Development scores the recipe uses, under each rule: the one-
standard-error rule alone (``--auto-default none``), the weighted pool as the default kept unless
the best method leads it by more than 1, 2 or 3 standard errors (3: ``--auto-margin``'s default),
and the pool always. The column after the rules gives the best method out-of-fold, its lead over
the pool and the standard error of that lead. The last column measures how much Development
flatters the DeepSER members, whose checkpoints may be selected on it, against the probes combined
beside them: the members' mean drop in Macro-F1 from Development to test3 minus the probes'
(blank for an ``--out`` file written before it existed). Members are those of a finished
mini_podcast recipe run (``ROOT/exp/mini_medusa/members``, e.g. bench_quality.py's
corpora) or a variant of bench_member_variants.py (``ROOT:VARIANT``: ``ROOT/variants/VARIANT``);
the ensemble config's ``probe_members`` (``ROOT/.../probes/<name>``) are combined beside them, as
in the recipe. ``--class-weight-alpha`` sets the meta-classifier's (and so the soup's) class-weight
exponent, as ``toolkit ensemble``'s option of that name does. Choose rules and settings on tuning
corpora; report them on others.

Reads the members' prediction files, the Development manifest and ``ROOT/corpus/Key/test3_labels.csv``;
prints a markdown table and writes it with the raw figures to ``--out`` (JSON).

Usage:
    .venv/bin/python benchmarks/bench_ensemble_choice.py --corpus W1 --corpus W2:c1 ... \
        [--class-weight-alpha A] [--out FILE.json]
"""

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Dict, List

import numpy as np

if TYPE_CHECKING:  # for the annotation only; like the rest of the toolkit, imported where it is used
    from toolkit.ensemble.methods import EnsembleConfig

REPO = Path(__file__).resolve().parents[1]
RECIPE = REPO / "recipes" / "mini_podcast"
TAG = "mini_medusa"
DEFAULT = "pool"
#: auto's rules compared: the one-standard-error rule alone (None), and the pool as the default,
#: kept unless the best method leads it out-of-fold by more than this many standard errors
#: (3: the toolkit's default, --auto-margin; inf: the pool always).
MARGINS = (None, 1.0, 2.0, 3.0, float("inf"))


def member_dirs(spec: str) -> List[Path]:
    """The corpus's finished members in the ensemble config's order (others after them, by name),
    then its combined probes.

    The recipe passes members in that order; the meta-classifier's fit depends (slightly) on the
    order of its inputs, so another order can flip auto's choice where two methods are one
    standard error apart.
    """
    from toolkit.recipes_support import load_ensemble_config, probe_members

    root, _, variant = spec.partition(":")
    root = Path(root)
    members = root / "variants" / variant if variant else root / "exp" / TAG / "members"
    probes = root / "probes" if variant else root / "exp" / TAG / "probes"
    config = RECIPE / "conf" / "ensemble.yaml"
    order = {member.name: position for position, member in enumerate(load_ensemble_config(config))}
    found = sorted((path for path in members.iterdir() if (path / "predictions" / "test3.csv").is_file()),
                   key=lambda path: (order.get(path.name, len(order)), path.name))
    return found + [probes / name for name in probe_members(config)]


def measure(spec: str, config: "EnsembleConfig") -> Dict[str, object]:
    from toolkit.ensemble.choice import choose_method
    from toolkit.ensemble.combine import (
        dev_labels, held_out_predictions, member_inventory, member_outputs, system_predictions, test_labels,
    )
    from toolkit.ensemble.members import load_members
    from toolkit.ensemble.methods import SIMPLICITY, fit_method
    from toolkit.metrics import macro_f1
    from toolkit.probes.run import is_probe

    root = Path(spec.partition(":")[0])
    dirs = member_dirs(spec)
    development, test = load_members(dirs, "development"), load_members(dirs, "test3")
    manifest = root / "data" / "development" / "manifest.csv"
    inventory = member_inventory(development[0].codes, manifest)
    classes, attributes = dev_labels(manifest, development[0].file_names, dirs[0], inventory)
    key_classes, _ = test_labels(root / "corpus" / "Key" / "test3_labels.csv", test[0].file_names, inventory)
    dev_outputs, test_outputs = member_outputs(development), member_outputs(test)
    test_f1 = {}
    for method in SIMPLICITY:
        combiner = fit_method(method, dev_outputs, classes, attributes, config, seed=config.seed)
        predicted = system_predictions(*combiner.apply(test_outputs)).classes
        test_f1[method] = macro_f1(key_classes, predicted, inventory.num_classes)
    held_out = held_out_predictions(dev_outputs, classes, attributes, config)
    alone = choose_method(held_out, classes, inventory.num_classes, SIMPLICITY, config.auto_resamples, config.seed)

    def pick(margin) -> str:
        """The toolkit's own choice under each rule (the same seeded bootstrap, so the same scores)."""
        if margin is None:
            return alone.method
        if margin == float("inf"):
            return DEFAULT
        return choose_method(held_out, classes, inventory.num_classes, SIMPLICITY, config.auto_resamples,
                             config.seed, default=DEFAULT, margin=margin).method

    picks = {rule_name(margin): pick(margin) for margin in MARGINS}
    labelled = classes >= 0
    inputs = {path.name: {"probe": is_probe(path),
                          "development": macro_f1(classes[labelled], dev.posteriors[labelled].argmax(axis=1),
                                                  inventory.num_classes),
                          "test3": macro_f1(key_classes, member.posteriors.argmax(axis=1), inventory.num_classes)}
              for path, dev, member in zip(dirs, development, test)}
    return {"members": [path.name for path in dirs], "test3_macro_f1": test_f1, "auto_picks": picks,
            "dev_oof": alone.scores, "inputs": inputs, "meta_class_weight_alpha": config.meta.class_weight_alpha}


def selection_gap(inputs: Dict[str, Dict[str, object]]) -> float:
    """The DeepSER members' mean Development-to-test3 Macro-F1 drop minus the probes'."""
    def mean_drop(probes: bool) -> float:
        return float(np.mean([scores["development"] - scores["test3"] for scores in inputs.values()
                              if scores["probe"] == probes]))

    return mean_drop(False) - mean_drop(True)


def rule_name(margin) -> str:
    if margin is None:
        return "auto, one-SE rule alone"
    if margin == float("inf"):
        return f"{DEFAULT} always"
    return f"auto, default {DEFAULT}, {margin:g} SE"


def corpus_size(spec: str) -> int:
    """Utterances of the corpus (mini_podcast's generation record)."""
    record = Path(spec.partition(":")[0]) / "corpus" / "mini_podcast.json"
    return int(json.loads(record.read_text())["arguments"]["num_utts"])


def table(results: Dict[str, Dict[str, object]]) -> str:
    """One row per corpus, then mean ± std over the corpora of each size."""
    from toolkit.ensemble.methods import SIMPLICITY

    rules = [rule_name(margin) for margin in MARGINS]
    lines = ["| corpus | " + " | ".join(SIMPLICITY) + " | " + " | ".join(rules)
             + " | best out-of-fold (lead over the pool / SE) | members' Dev-to-test3 drop − probes' |",
             "|---|" + "---|" * (len(SIMPLICITY) + len(rules) + 2)]
    by_size: Dict[int, Dict[str, List[float]]] = {}
    for spec, result in results.items():
        f1 = result["test3_macro_f1"]
        columns = by_size.setdefault(corpus_size(spec), {})
        cells = [f"{f1[method]:.3f}" for method in SIMPLICITY]
        for method in SIMPLICITY:
            columns.setdefault(method, []).append(f1[method])
        for rule in rules:
            pick = result["auto_picks"][rule]
            columns.setdefault(rule, []).append(f1[pick])
            cells.append(f"{f1[pick]:.3f} ({pick})")
        oof = result["dev_oof"]
        best = max(oof, key=lambda method: oof[method]["dev_oof_macro_f1"])
        lead = oof[DEFAULT]
        cells.append(f"{best} ({lead['difference_to_best']:.3f} / {lead['standard_error']:.3f})")
        if "inputs" in result:
            gap = selection_gap(result["inputs"])
            columns.setdefault("gap", []).append(gap)
            cells.append(f"{gap:+.3f}")
        else:
            cells.append("")
        lines.append(f"| {spec} | " + " | ".join(cells) + " |")
    for size, columns in sorted(by_size.items()):
        gaps = columns.pop("gap", [])
        lines.append(f"| mean ± std, {size} utterances | " + " | ".join(
            f"{np.mean(values):.3f} ± {np.std(values):.3f}" for values in columns.values())
            + " | | " + (f"{np.mean(gaps):+.3f} ± {np.std(gaps):.3f}" if gaps else "") + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", action="append", default=[],
                        help="ROOT (a finished recipe run) or ROOT:VARIANT (bench_member_variants.py); repeatable.")
    parser.add_argument("--class-weight-alpha", type=float, default=None,
                        help="The meta-classifier's class-weight exponent (default: toolkit ensemble's).")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--from-json", type=Path, default=None, help="Re-print the table of an earlier --out.")
    args = parser.parse_args()
    if not args.corpus and not args.from_json:
        parser.error("give --corpus ROOT[:VARIANT] (repeatable) or --from-json FILE")
    if args.from_json:
        results = json.loads(args.from_json.read_text())["results"]
    else:
        from dataclasses import replace

        from toolkit.ensemble.methods import EnsembleConfig

        config = EnsembleConfig()
        if args.class_weight_alpha is not None:
            config = replace(config, meta=replace(config.meta, class_weight_alpha=args.class_weight_alpha))
        results = {}
        for spec in args.corpus:
            results[spec] = measure(spec, config)
            print(f"{spec}: done", file=sys.stderr, flush=True)
    markdown = table(results)
    print(markdown)
    if args.out:
        args.out.write_text(json.dumps({"results": results, "table": markdown}, indent=2))


if __name__ == "__main__":
    main()
