"""The ensemble driver: held-out comparison of combination methods, the submitted system, test files.

Reads each member's ``predictions/development.csv`` and ``predictions/<test split>.csv`` (DeepSER
members and probes alike), optional reference probes (scored, never combined) and the Development
manifest (labels). Writes into ``out_dir``: ``combination.csv`` / ``combination.md`` (the table),
``per_class_f1.csv``, ``system.json`` (the submitted combiner, its members and why it was chosen),
``predictions/development_oof.csv`` (the submitted method's out-of-fold predictions),
``predictions/<test split>.csv``, with a test key ``test_scores.csv`` / ``test_scores.md`` (every
system on the test split), ``summary.json`` and a ``.done`` marker; then the two leaderboard CSVs
through :func:`toolkit.submission.write.write_submissions`.

Held-out protocol: Development is split into ``folds`` stratified folds; every method in
``methods.SIMPLICITY`` is fitted on the other folds and predicts the held-out fold, and scores are
computed once over the concatenated out-of-fold predictions, so no score comes from a row a method
was fitted on. ``--combine auto`` submits the method chosen from those scores (``choice.py``);
the submitted method is then fitted on all of Development and applied to the test split.
"""

import json
import logging
from dataclasses import asdict
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from tqdm import tqdm

from toolkit.data.inventory import read_inventory
from toolkit.data.manifest import attribute_matrix, consensus_class_indices, read_manifest
from toolkit.emotions import ATTRIBUTES, Inventory
from toolkit.ensemble.choice import choose_method
from toolkit.ensemble.folds import stratified_folds, training_rows
from toolkit.ensemble.members import MemberPredictions, ensure_same_files, load_members, prediction_path
from toolkit.ensemble.methods import SIMPLICITY, TITLES, EnsembleConfig, MemberOutputs, fit_method
from toolkit.ensemble.results import EnsembleResult, SystemPredictions, format_table, score_rows
from toolkit.metrics import per_class_f1
from toolkit.predictions import write_predictions
from toolkit.utils.atomic import PathLike, atomic_path, atomic_write_json, atomic_write_text, is_done, mark_done
from toolkit.utils.errors import ToolkitError

logger = logging.getLogger(__name__)

__all__ = ["EnsembleConfig", "run_ensemble", "held_out_predictions", "dev_labels", "member_outputs",
           "system_predictions"]

SYSTEM_FILE = "system.json"


def member_outputs(members: Sequence[MemberPredictions]) -> MemberOutputs:
    return MemberOutputs(np.stack([member.posteriors for member in members]),
                         np.stack([member.attributes for member in members]))


def system_predictions(probabilities: np.ndarray, attributes: np.ndarray) -> SystemPredictions:
    return SystemPredictions(probabilities.argmax(axis=1), attributes, probabilities)


def held_out_predictions(outputs: MemberOutputs, classes: np.ndarray, attributes: np.ndarray,
                         config: EnsembleConfig, device=None) -> Dict[str, SystemPredictions]:
    """Out-of-fold predictions of every combination method on the Development rows."""
    rows, num_classes = len(classes), outputs.num_classes
    probabilities = {method: np.zeros((rows, num_classes)) for method in SIMPLICITY}
    predicted_attributes = {method: np.zeros((rows, len(ATTRIBUTES))) for method in SIMPLICITY}
    folds = stratified_folds(classes, config.folds, config.seed)
    for fold, held_out in enumerate(tqdm(folds, desc="held-out folds")):
        train = training_rows(rows, held_out)
        for method in SIMPLICITY:
            combiner = fit_method(method, outputs.rows(train), classes[train], attributes[train], config,
                                  seed=config.seed + 1000 * (fold + 1), device=device)
            probabilities[method][held_out], predicted_attributes[method][held_out] = \
                combiner.apply(outputs.rows(held_out))
    return {method: system_predictions(probabilities[method], predicted_attributes[method]) for method in SIMPLICITY}


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


def test_labels(key_path: PathLike, file_names: Sequence[str], inventory: Inventory) -> Tuple[np.ndarray, np.ndarray]:
    """(classes, attributes) of the test rows from a key (labels_consensus-style CSV/JSON or manifest)."""
    from toolkit.submission.reference import read_reference

    reference = read_reference(key_path)
    missing = [name for name in file_names if name not in reference.classes and name not in reference.attributes]
    if missing:
        raise ToolkitError(f"{key_path}: no labels for {len(missing)} test FileName(s), e.g. {', '.join(missing[:3])}; "
                           "give the key of this test split")
    classes = np.array([inventory.index(reference.classes.get(name, "")) for name in file_names], dtype=np.int64)
    attributes = np.array([reference.attributes.get(name) or (np.nan,) * 3 for name in file_names], dtype=np.float64)
    return classes, attributes


def member_inventory(codes: Sequence[str], manifest_path: PathLike) -> Inventory:
    """The members' classes, named as the Development manifest's stage 0 named them."""
    recorded = read_inventory(manifest_path)
    if tuple(codes) != recorded.codes:
        raise ToolkitError(f"the members predict classes {','.join(codes)}, but {manifest_path} is labelled with "
                           f"{','.join(recorded.codes)}; give the Development manifest the members were trained on")
    return recorded


def fingerprint(member_dirs: Sequence[PathLike], probe_dirs: Sequence[PathLike], manifest_path: PathLike,
                config: EnsembleConfig, test_key: Optional[PathLike]) -> Dict[str, object]:
    """What a finished run depended on: a re-run with the same fingerprint is skipped."""
    files = [Path(manifest_path)] + ([Path(test_key)] if test_key is not None else []) + [
        prediction_path(directory, split) for directory in [*member_dirs, *probe_dirs]
        for split in ("development", config.test_split)
    ]
    return {
        "config": asdict(config),
        "members": [str(Path(directory).resolve()) for directory in member_dirs],
        "probes": [str(Path(directory).resolve()) for directory in probe_dirs],
        "inputs": {str(path.resolve()): [path.stat().st_size, path.stat().st_mtime_ns] for path in files if path.exists()},
    }


def finished_before(out_dir: Path, stamp: Dict[str, object]) -> bool:
    """True when ``out_dir`` holds a finished run of ``stamp`` whose submission files still exist."""
    if not is_done(out_dir) or not (out_dir / "fingerprint.json").is_file() or not (out_dir / "summary.json").is_file():
        return False
    if json.loads((out_dir / "fingerprint.json").read_text()) != json.loads(json.dumps(stamp, default=str)):
        return False
    summary = json.loads((out_dir / "summary.json").read_text())
    return all(Path(path).is_file() for path in summary.get("submissions", []))


def _reference_rows(names: Sequence[str], kind: str, predictions: Dict[str, SystemPredictions], classes: np.ndarray,
                    attributes: np.ndarray, num_classes: int, protocol: str) -> List[Dict[str, object]]:
    return [{"system": f"{kind} {name}", "protocol": protocol,
             **score_rows(classes, attributes, predictions[name], num_classes)} for name in names]


def _log_probabilities(probabilities: np.ndarray) -> np.ndarray:
    """Scores whose softmax is ``probabilities``: how a combiner's output is stored in a prediction file."""
    return np.log(np.clip(probabilities, 1e-12, 1.0))


def write_outputs(out_dir: Path, result: EnsembleResult, system: Dict[str, object]) -> None:
    import pandas as pd

    atomic_write_text(out_dir / "combination.md", format_table(result.table))
    with atomic_path(out_dir / "combination.csv") as temporary:
        pd.DataFrame(result.table).to_csv(temporary, index=False, float_format="%.6f")
    if result.test_table is not None:
        atomic_write_text(out_dir / "test_scores.md", format_table(result.test_table))
        with atomic_path(out_dir / "test_scores.csv") as temporary:
            pd.DataFrame(result.test_table).to_csv(temporary, index=False, float_format="%.6f")
    codes = result.inventory.codes
    systems = {**result.reference_predictions, **{TITLES[m]: p for m, p in result.held_out.items()}}
    labelled = result.dev_classes >= 0
    frame = pd.DataFrame(
        [per_class_f1(result.dev_classes[labelled], p.classes[labelled], len(codes)) for p in systems.values()],
        columns=list(codes),
    )
    frame.insert(0, "system", list(systems))
    with atomic_path(out_dir / "per_class_f1.csv") as temporary:
        frame.to_csv(temporary, index=False, float_format="%.6f")
    atomic_write_json(out_dir / SYSTEM_FILE, system)
    oof = result.held_out[result.chosen]
    write_predictions(out_dir / "predictions" / "development_oof.csv", result.dev_file_names,
                      _log_probabilities(oof.probabilities), oof.attributes, codes)


def summary_payload(result: EnsembleResult) -> Dict[str, object]:
    codes = result.inventory.codes
    distribution = np.bincount(result.test_classes, minlength=len(codes))
    return {
        "classes": result.inventory.to_list(),
        "members": result.member_names,
        "probes": result.probe_names,
        "submitted": result.chosen,
        "choice": result.choice_reason,
        "table": result.table,
        "test_table": result.test_table,
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


def _predictions(members: Sequence[MemberPredictions]) -> Dict[str, SystemPredictions]:
    return {member.name: system_predictions(member.posteriors, member.attributes) for member in members}


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
    probe_dirs: Sequence[PathLike] = (),
) -> Optional[EnsembleResult]:
    """Compare combination methods on held-out Development rows, fit the submitted one, write test files.

    ``probe_dirs``: probes scored beside the members for reference (give a probe as a member to
    combine it). Returns None when ``out_dir`` already holds a finished run of the same inputs.
    """
    config = config or EnsembleConfig()
    if config.combine != "auto" and config.combine not in SIMPLICITY:
        raise ToolkitError(f"--combine {config.combine}: use auto or one of {', '.join(SIMPLICITY)}")
    if config.auto_default is not None and config.auto_default not in SIMPLICITY:
        raise ToolkitError(f"--auto-default {config.auto_default}: use none or one of {', '.join(SIMPLICITY)}")
    out_dir = Path(out_dir)
    member_dirs = [str(directory) for directory in member_dirs]
    probe_dirs = [str(directory) for directory in probe_dirs]
    if len(member_dirs) < 2:
        raise ToolkitError(f"an ensemble combines 2 or more members, got {len(member_dirs)} ({', '.join(member_dirs)}); "
                           "add --member directories, or write one member's files with "
                           "'python -m toolkit.recipes_support write-submissions'")
    stamp = fingerprint(member_dirs, probe_dirs, manifest_path, config, test_key)
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
    probes_dev = load_members(probe_dirs, "development") if probe_dirs else []
    probes_test = load_members(probe_dirs, config.test_split) if probe_dirs else []
    for probe in probes_dev + probes_test:
        if probe.codes != inventory.codes or sorted(probe.file_names) != sorted(
                file_names if probe in probes_dev else test_members[0].file_names):
            raise ToolkitError(f"probe {probe.name} does not predict the members' classes on the members' FileNames; "
                               "fit it on the same manifests")
    logger.info(
        "%d members, %d Development rows (%d with one of the %d classes, %d with attributes), %d %s rows",
        len(names), len(file_names), int((classes >= 0).sum()), inventory.num_classes,
        int(np.isfinite(attributes).all(axis=1).sum()), len(test_members[0].file_names), config.test_split,
    )
    dev_outputs, test_outputs = member_outputs(dev_members), member_outputs(test_members)
    reference = {**_predictions(dev_members), **_predictions(probes_dev)}
    held_out = held_out_predictions(dev_outputs, classes, attributes, config, device=device)
    count = inventory.num_classes
    table = _reference_rows(names, "member", reference, classes, attributes, count,
                            "all of Development (members were selected on it)")
    table += _reference_rows([p.name for p in probes_dev], "probe", reference, classes, attributes, count,
                             "all of Development (C and alpha were chosen on it)")
    table += [{"system": TITLES[method], "protocol": f"{config.folds}-fold out-of-fold",
               **score_rows(classes, attributes, held_out[method], count)} for method in SIMPLICITY]
    if config.combine == "auto":
        choice = choose_method(held_out, classes, count, SIMPLICITY, config.auto_resamples, config.seed,
                               default=config.auto_default, margin=config.auto_margin)
        chosen, reason = choice.method, f"--combine auto: {choice.reason}"
    else:
        chosen, reason = config.combine, f"--combine {config.combine} (chosen by the user)"
    for row in table:
        row["submitted"] = row["system"] == TITLES[chosen]
    logger.info("submitted: %s (%s)", TITLES[chosen], reason)

    test_names = test_members[0].file_names
    # Every method is fitted on all of Development when a key will score them all; else only the submitted one.
    final_methods = SIMPLICITY if test_key is not None else (chosen,)
    test_predictions: Dict[str, SystemPredictions] = {}
    combiners = {}
    for method in tqdm(final_methods, desc="fitting on all of Development", leave=False):
        combiners[method] = fit_method(method, dev_outputs, classes, attributes, config, seed=config.seed, device=device)
        test_predictions[method] = system_predictions(*combiners[method].apply(test_outputs))
    submitted = test_predictions[chosen]

    out_dir.mkdir(parents=True, exist_ok=True)
    write_predictions(out_dir / "predictions" / f"{config.test_split}.csv", test_names,
                      _log_probabilities(submitted.probabilities), submitted.attributes, inventory.codes)
    system = {
        "classes": inventory.to_list(),
        "members": names,
        "member_dirs": [str(Path(directory).resolve()) for directory in member_dirs],
        "inputs": "per member, in order: its class posteriors (softmax of its logits) then EmoAct, EmoVal, EmoDom",
        "combiner": combiners[chosen].to_dict(),
        "submitted": chosen,
        "choice": reason,
        "config": asdict(config),
    }
    submission_paths: List[str] = []
    if submissions_dir is not None:
        from toolkit.submission.write import write_submissions

        codes = [inventory.codes[index] for index in submitted.classes]
        submission_paths = [str(path) for path in write_submissions(submissions_dir, tag, test_names, codes,
                                                                    submitted.attributes, classes=inventory.codes)]
        logger.info("leaderboard files written and validated: %s", ", ".join(submission_paths))
    test_table = None
    if test_key is not None:
        key_classes, key_attributes = test_labels(test_key, test_names, inventory)
        test_reference = {**_predictions(test_members), **_predictions(probes_test)}
        test_table = _reference_rows(names, "member", test_reference, key_classes, key_attributes, count, "test")
        test_table += _reference_rows([p.name for p in probes_test], "probe", test_reference, key_classes,
                                      key_attributes, count, "test")
        test_table += [{"system": TITLES[method], "protocol": "fitted on all of Development",
                        "submitted": method == chosen,
                        **score_rows(key_classes, key_attributes, test_predictions[method], count)}
                       for method in SIMPLICITY]
    result = EnsembleResult(
        inventory=inventory, member_names=names, member_dirs=member_dirs, probe_names=[p.name for p in probes_dev],
        dev_file_names=file_names, dev_classes=classes, dev_attributes=attributes, reference_predictions=reference,
        held_out=held_out, table=table, chosen=chosen, choice_reason=reason, test_file_names=test_names,
        test_classes=submitted.classes, test_attributes=submitted.attributes, submission_paths=submission_paths,
        test_table=test_table,
    )
    if test_key is not None and submission_paths:
        result.test_scores = score_test(test_key, submission_paths, inventory)
    write_outputs(out_dir, result, system)
    atomic_write_json(out_dir / "summary.json", summary_payload(result))
    if report_path is not None:
        from toolkit.ensemble.report import write_report

        write_report(result, report_path, title=tag)
    atomic_write_json(out_dir / "fingerprint.json", stamp)
    mark_done(out_dir)
    return result
