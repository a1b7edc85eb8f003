"""The ensemble driver: held-out comparison of combination methods, the final soup, test3 files.

Reads each member's ``predictions/development.csv`` and ``predictions/<test split>.csv`` and the
Development manifest (labels). Writes into ``out_dir``: ``combination.csv`` / ``combination.md``
(the table), ``per_class_f1.csv``, ``soup.json`` (the final meta-classifier and its input
layout), ``predictions/development_oof.csv`` (the soup's out-of-fold predictions),
``predictions/<test split>.csv``, ``summary.json`` and a ``.done`` marker; then the two
leaderboard CSVs through :func:`toolkit.submission.write.write_submissions`.

Held-out protocol: Development is split into ``folds`` stratified folds; every method that is
fitted or chosen (best single member, meta-classifier, soup) is fitted on the other folds and
predicts the held-out fold; scores are computed once over the concatenated out-of-fold
predictions, so no score comes from a row a method was fitted on.
"""

import json
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import numpy as np
from tqdm import tqdm

from toolkit.data.inventory import read_inventory
from toolkit.data.manifest import attribute_matrix, consensus_class_indices, read_manifest
from toolkit.emotions import ATTRIBUTE_MAX, ATTRIBUTE_MIN, ATTRIBUTES, Inventory
from toolkit.ensemble.folds import stratified_folds, training_rows
from toolkit.ensemble.members import MemberPredictions, ensure_same_files, load_members, prediction_path, stack_inputs
from toolkit.ensemble.meta_classifier import MetaConfig, fit_meta_classifier
from toolkit.ensemble.soup import fit_soup
from toolkit.ensemble.voting import hard_vote, mean_attributes, soft_vote
from toolkit.metrics import attribute_ccc, macro_f1, per_class_f1
from toolkit.predictions import write_predictions
from toolkit.utils.atomic import PathLike, atomic_path, atomic_write_json, atomic_write_text, is_done, mark_done
from toolkit.utils.errors import ToolkitError

logger = logging.getLogger(__name__)

HARD_VOTING, SOFT_VOTING, BEST_SINGLE, META, SOUP = (
    "hard voting", "soft voting", "best single member", "meta-classifier", "soup",
)
METHODS = (HARD_VOTING, SOFT_VOTING, BEST_SINGLE, META, SOUP)


@dataclass
class EnsembleConfig:
    folds: int = 5
    soup_runs: int = 6
    seed: int = 42
    test_split: str = "test3"
    meta: MetaConfig = field(default_factory=MetaConfig)


@dataclass
class MethodPredictions:
    """Out-of-fold class indices, attributes and (where defined) class scores of one method."""

    classes: np.ndarray
    attributes: np.ndarray
    scores: Optional[np.ndarray] = None


@dataclass
class EnsembleResult:
    inventory: Inventory
    member_names: List[str]
    member_dirs: List[str]
    dev_file_names: List[str]
    dev_classes: np.ndarray
    dev_attributes: np.ndarray
    member_predictions: Dict[str, MethodPredictions]
    held_out: Dict[str, MethodPredictions]
    table: List[Dict[str, object]]
    test_file_names: List[str]
    test_classes: np.ndarray
    test_attributes: np.ndarray
    submission_paths: List[str]
    test_scores: Optional[Dict[str, float]] = None


def score_rows(true_classes: np.ndarray, true_attributes: np.ndarray, predicted: MethodPredictions,
               num_classes: int) -> Dict[str, float]:
    """Macro-F1 on rows with a consensus class of the inventory, CCC on rows with all three attributes."""
    labelled = true_classes >= 0
    with_attributes = np.isfinite(true_attributes).all(axis=1)
    scores = {"macro_f1": macro_f1(true_classes[labelled], predicted.classes[labelled], num_classes)
              if labelled.any() else float("nan")}
    if with_attributes.sum() >= 2:
        ccc = attribute_ccc(true_attributes[with_attributes], predicted.attributes[with_attributes])
    else:
        ccc = {name: float("nan") for name in (*ATTRIBUTES, "mean")}
    scores.update({f"ccc_{name}": value for name, value in ccc.items()})
    scores["rows_f1"] = int(labelled.sum())
    scores["rows_ccc"] = int(with_attributes.sum())
    return scores


def held_out_predictions(
    members: Sequence[MemberPredictions],
    classes: np.ndarray,
    attributes: np.ndarray,
    config: EnsembleConfig,
    device=None,
) -> Dict[str, MethodPredictions]:
    """Out-of-fold predictions of every combination method on the Development rows."""
    num_classes = len(members[0].codes)
    posteriors = np.stack([member.posteriors for member in members])
    member_attributes = np.stack([member.attributes for member in members])
    voted_attributes = mean_attributes(member_attributes)
    averaged = soft_vote(posteriors)
    results = {
        HARD_VOTING: MethodPredictions(hard_vote(posteriors), voted_attributes),
        SOFT_VOTING: MethodPredictions(averaged.argmax(axis=1), voted_attributes, averaged),
    }
    inputs = stack_inputs(members)
    rows = len(classes)
    best, meta, soup = (MethodPredictions(np.zeros(rows, dtype=np.int64), np.zeros((rows, 3)), np.zeros((rows, num_classes)))
                        for _ in range(3))
    labelled = classes >= 0
    folds = stratified_folds(classes, config.folds, config.seed)
    for fold, held_out in enumerate(tqdm(folds, desc="held-out folds")):
        train = training_rows(rows, held_out)
        train_labelled = train[labelled[train]]
        # The best single member is chosen on the training folds, like every other fitted method.
        chosen = int(np.argmax([
            macro_f1(classes[train_labelled], posteriors[m, train_labelled].argmax(axis=1), num_classes)
            for m in range(len(members))
        ]))
        best.classes[held_out] = posteriors[chosen, held_out].argmax(axis=1)
        best.attributes[held_out] = member_attributes[chosen, held_out]
        best.scores[held_out] = posteriors[chosen, held_out]

        single = fit_meta_classifier(
            inputs[train], classes[train], attributes[train], config=config.meta, seed=config.seed + fold, device=device,
            num_classes=num_classes,
        )
        soup_weights, _ = fit_soup(
            inputs[train], classes[train], attributes[train], runs=config.soup_runs, folds=config.folds,
            seed=config.seed + 1000 * (fold + 1), config=config.meta, device=device, num_classes=num_classes,
        )
        for target, weights in ((meta, single), (soup, soup_weights)):
            logits, predicted_attributes = weights.apply(inputs[held_out])
            target.scores[held_out] = logits
            target.classes[held_out] = logits.argmax(axis=1)
            # Clipped like the leaderboard file, so the Development CCC is what a submission would score.
            target.attributes[held_out] = np.clip(predicted_attributes, ATTRIBUTE_MIN, ATTRIBUTE_MAX)
    results.update({BEST_SINGLE: best, META: meta, SOUP: soup})
    return results


def combination_table(
    member_names: Sequence[str],
    member_predictions: Dict[str, MethodPredictions],
    held_out: Dict[str, MethodPredictions],
    classes: np.ndarray,
    attributes: np.ndarray,
    config: EnsembleConfig,
    num_classes: int,
) -> List[Dict[str, object]]:
    table = []
    for name in member_names:
        row = {"method": f"member {name}", "protocol": "not fitted here (members were selected on Development)"}
        row.update(score_rows(classes, attributes, member_predictions[name], num_classes))
        table.append(row)
    protocols = {
        HARD_VOTING: "no fitting",
        SOFT_VOTING: "no fitting",
        BEST_SINGLE: f"chosen on training folds, {config.folds}-fold out-of-fold",
        META: f"{config.folds}-fold out-of-fold",
        SOUP: f"{config.soup_runs} runs averaged, {config.folds}-fold out-of-fold",
    }
    for method in METHODS:
        row = {"method": method, "protocol": protocols[method]}
        row.update(score_rows(classes, attributes, held_out[method], num_classes))
        table.append(row)
    return table


def format_table(table: Sequence[Dict[str, object]]) -> str:
    """The combination table as GitHub markdown (also readable on a terminal)."""
    columns = ["method", "macro_f1", *[f"ccc_{name}" for name in (*ATTRIBUTES, "mean")], "protocol"]
    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    for row in table:
        cells = [f"{row[c]:.4f}" if isinstance(row[c], float) else str(row[c]) for c in columns]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def dev_labels(manifest_path: PathLike, file_names: Sequence[str], member_dir: PathLike, inventory: Inventory):
    """(classes, attributes) of ``file_names`` from the Development manifest, checked to match exactly;
    classes are indices into ``inventory`` (-1 outside it)."""
    manifest = read_manifest(manifest_path)
    duplicated = manifest["FileName"][manifest["FileName"].duplicated()]
    if len(duplicated):
        raise ToolkitError(f"{manifest_path}: FileName {duplicated.iloc[0]} appears more than once; fix the manifest")
    ensure_same_files(
        manifest["FileName"].tolist(), file_names, str(manifest_path), str(prediction_path(member_dir, "development"))
    )
    manifest = manifest.set_index("FileName").loc[list(file_names)].reset_index()
    if "EmoClass" not in manifest.columns or any(name not in manifest.columns for name in ATTRIBUTES):
        raise ToolkitError(f"{manifest_path}: Development manifest needs EmoClass, {', '.join(ATTRIBUTES)} columns for the labels")
    try:
        attributes = attribute_matrix(manifest)
    except ValueError as error:
        raise ToolkitError(f"{manifest_path}: an attribute value is not a number ({error}); fix the manifest") from error
    return consensus_class_indices(manifest, inventory), attributes


def member_inventory(codes: Sequence[str], manifest_path: PathLike) -> Inventory:
    """The members' classes, named as the Development manifest's stage 0 named them."""
    recorded = read_inventory(manifest_path)
    if tuple(codes) != recorded.codes:
        raise ToolkitError(f"the members predict classes {','.join(codes)}, but {manifest_path} is labelled with "
                           f"{','.join(recorded.codes)}; give the Development manifest the members were trained on")
    return recorded


def fingerprint(member_dirs: Sequence[PathLike], manifest_path: PathLike, config: EnsembleConfig) -> Dict[str, object]:
    """What a finished run depended on: a re-run with the same fingerprint is skipped."""
    files = [Path(manifest_path)] + [
        prediction_path(directory, split) for directory in member_dirs for split in ("development", config.test_split)
    ]
    return {
        "config": asdict(config),
        "inputs": {str(path.resolve()): [path.stat().st_size, path.stat().st_mtime_ns] for path in files if path.exists()},
    }


def write_outputs(out_dir: Path, result: EnsembleResult, soup_payload: Dict[str, object], config: EnsembleConfig) -> None:
    atomic_write_text(out_dir / "combination.md", format_table(result.table))
    import pandas as pd

    with atomic_path(out_dir / "combination.csv") as temporary:
        pd.DataFrame(result.table).to_csv(temporary, index=False, float_format="%.6f")
    per_class = {
        **{f"member {name}": result.member_predictions[name] for name in result.member_names},
        **result.held_out,
    }
    labelled = result.dev_classes >= 0
    codes = result.inventory.codes
    frame = pd.DataFrame(
        [per_class_f1(result.dev_classes[labelled], p.classes[labelled], len(codes)) for p in per_class.values()],
        columns=list(codes),
    )
    frame.insert(0, "method", list(per_class))
    with atomic_path(out_dir / "per_class_f1.csv") as temporary:
        frame.to_csv(temporary, index=False, float_format="%.6f")
    atomic_write_json(out_dir / "soup.json", soup_payload)
    oof = result.held_out[SOUP]
    write_predictions(out_dir / "predictions" / "development_oof.csv", result.dev_file_names, oof.scores, oof.attributes,
                      codes)


def finished_before(out_dir: Path, stamp: Dict[str, object]) -> bool:
    """True when ``out_dir`` holds a finished run of ``stamp`` whose submission files still exist."""
    if not is_done(out_dir) or not (out_dir / "fingerprint.json").is_file() or not (out_dir / "summary.json").is_file():
        return False
    if json.loads((out_dir / "fingerprint.json").read_text()) != json.loads(json.dumps(stamp, default=str)):
        return False
    summary = json.loads((out_dir / "summary.json").read_text())
    return all(Path(path).is_file() for path in summary.get("submissions", []))


def summary_payload(result: EnsembleResult) -> Dict[str, object]:
    codes = result.inventory.codes
    distribution = np.bincount(result.test_classes, minlength=len(codes))
    return {
        "classes": result.inventory.to_list(),
        "members": result.member_names,
        "table": result.table,
        "test_rows": len(result.test_file_names),
        "test_class_distribution": {code: int(count) for code, count in zip(codes, distribution)},
        "submissions": result.submission_paths,
        "test_scores": result.test_scores,
    }


def score_test(key_path: PathLike, submission_paths: Sequence[str], inventory: Inventory) -> Dict[str, float]:
    """Score the written leaderboard files against a key with the challenge scorer (``toolkit score``)."""
    from toolkit.submission.score import score_submission

    if not submission_paths:
        raise ToolkitError("--test-key scores the leaderboard files, so it needs --submissions-dir")
    scores: Dict[str, float] = {}
    for path in submission_paths:
        result = score_submission(path, key_path, inventory=inventory)
        if not result.validation.valid:
            raise ToolkitError(f"{path} does not match the FileNames of {key_path}:\n{result.validation.format_text()}")
        scores.update(result.metrics)
    return scores


def run_ensemble(
    member_dirs: Sequence[PathLike],
    manifest_path: PathLike,
    out_dir: PathLike,
    submissions_dir: Optional[PathLike],
    tag: str,
    config: Optional[EnsembleConfig] = None,
    test_key: Optional[PathLike] = None,
    device=None,
    force: bool = False,
    report_path: Optional[PathLike] = None,
) -> Optional[EnsembleResult]:
    """Compare combination methods on held-out Development rows, fit the final soup, write test3 files.

    Returns None when ``out_dir`` already holds a finished run of the same inputs and settings.
    """
    config = config or EnsembleConfig()
    out_dir = Path(out_dir)
    member_dirs = [str(directory) for directory in member_dirs]
    stamp = fingerprint(member_dirs, manifest_path, config)
    if not force and finished_before(out_dir, stamp):
        logger.info("%s is done for these members and settings; skipping (use --force to redo)", out_dir)
        return None

    dev_members = load_members(member_dirs, "development")
    test_members = load_members(member_dirs, config.test_split)
    names = [member.name for member in dev_members]
    file_names = dev_members[0].file_names
    inventory = member_inventory(dev_members[0].codes, manifest_path)
    if test_members[0].codes != dev_members[0].codes:
        raise ToolkitError(f"{prediction_path(member_dirs[0], config.test_split)} predicts classes "
                           f"{','.join(test_members[0].codes)}, its development predictions "
                           f"{','.join(dev_members[0].codes)}; re-run the member's prediction step")
    classes, attributes = dev_labels(manifest_path, file_names, member_dirs[0], inventory)
    logger.info(
        "%d members, %d Development rows (%d with one of the %d classes, %d with attributes), %d %s rows",
        len(names), len(file_names), int((classes >= 0).sum()), inventory.num_classes,
        int(np.isfinite(attributes).all(axis=1).sum()),
        len(test_members[0].file_names), config.test_split,
    )
    member_predictions = {
        member.name: MethodPredictions(member.logits.argmax(axis=1), member.attributes, member.logits) for member in dev_members
    }
    held_out = held_out_predictions(dev_members, classes, attributes, config, device=device)
    table = combination_table(names, member_predictions, held_out, classes, attributes, config, inventory.num_classes)

    soup_weights, runs = fit_soup(
        stack_inputs(dev_members), classes, attributes, runs=config.soup_runs, folds=config.folds,
        seed=config.seed, config=config.meta, device=device, progress=True, num_classes=inventory.num_classes,
    )
    test_logits, test_attributes = soup_weights.apply(stack_inputs(test_members))
    test_attributes = np.clip(test_attributes, ATTRIBUTE_MIN, ATTRIBUTE_MAX)
    test_classes = test_logits.argmax(axis=1)
    test_names = test_members[0].file_names

    out_dir.mkdir(parents=True, exist_ok=True)
    write_predictions(out_dir / "predictions" / f"{config.test_split}.csv", test_names, test_logits, test_attributes,
                      inventory.codes)
    order = "".join(inventory.codes) if all(len(code) == 1 for code in inventory.codes) else ",".join(inventory.codes)
    soup_payload = {
        "classes": inventory.to_list(),
        "members": names,
        "member_dirs": [str(Path(directory).resolve()) for directory in member_dirs],
        "inputs": f"per member, in order: softmax over logits {order} ({inventory.num_classes}) then EmoAct, EmoVal, "
                  "EmoDom (3)",
        "outputs": f"logits {order} ({inventory.num_classes}) then EmoAct, EmoVal, EmoDom (3, clip to [1, 7])",
        "soup": soup_weights.to_dict(),
        "runs": len(runs),
        "config": asdict(config),
    }
    submission_paths: List[str] = []
    if submissions_dir is not None:
        from toolkit.submission.write import write_submissions

        codes = [inventory.codes[index] for index in test_classes]
        submission_paths = [str(path) for path in write_submissions(submissions_dir, tag, test_names, codes,
                                                                    test_attributes, classes=inventory.codes)]
        logger.info("leaderboard files written and validated: %s", ", ".join(submission_paths))
    result = EnsembleResult(
        inventory=inventory, member_names=names, member_dirs=member_dirs, dev_file_names=file_names, dev_classes=classes,
        dev_attributes=attributes, member_predictions=member_predictions, held_out=held_out, table=table,
        test_file_names=test_names, test_classes=test_classes, test_attributes=test_attributes,
        submission_paths=submission_paths,
    )
    if test_key is not None:
        result.test_scores = score_test(test_key, submission_paths, inventory)
    write_outputs(out_dir, result, soup_payload, config)
    atomic_write_json(out_dir / "summary.json", summary_payload(result))
    if report_path is not None:
        from toolkit.ensemble.report import write_report

        write_report(result, report_path, title=tag)
    atomic_write_json(out_dir / "fingerprint.json", stamp)
    mark_done(out_dir)
    return result
