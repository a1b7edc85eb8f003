"""The experiment report: ``report.md`` plus matplotlib PNGs in ``figures/`` beside it.

Reads an :class:`toolkit.ensemble.results.EnsembleResult` and, for training curves, each member's
per-epoch metrics file (see :func:`read_training_curves`); writes ``report.md`` and
``figures/{combination,confusion_submitted,per_class_f1,training_curves,test_distribution}.png``.
"""

import logging
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import numpy as np

from toolkit.emotions import Inventory
from toolkit.ensemble.methods import TITLES
from toolkit.ensemble.results import EnsembleResult, format_table
from toolkit.metrics import per_class_f1
from toolkit.utils.atomic import PathLike, atomic_path, atomic_write_text

logger = logging.getLogger(__name__)

#: The per-epoch metrics file the trainer writes (toolkit.training.history).
CURVE_FILE = "metrics.csv"
#: Curves drawn when present; otherwise every numeric column the members share.
PREFERRED_CURVES = ("train_loss", "dev_macro_f1", "dev_ccc_mean")
BOOKKEEPING_COLUMNS = {"stage", "epoch", "is_best", "seconds", "train_samples", "lr"}


def read_training_curves(member_dir: PathLike):
    """A member's per-epoch metrics (``<member>/metrics.csv``) as a DataFrame, None when absent or unreadable."""
    import pandas as pd

    path = Path(member_dir) / CURVE_FILE
    if not path.is_file():
        return None
    try:
        frame = pd.read_csv(path)
    except (ValueError, pd.errors.ParserError) as error:
        logger.warning("%s: unreadable per-epoch metrics (%s); its curves are left out of the report", path, error)
        return None
    return frame if len(frame) else None


def _save(figure, path: Path) -> None:
    import matplotlib.pyplot as plt

    with atomic_path(path) as temporary:
        figure.savefig(temporary, format="png", dpi=110, bbox_inches="tight")
    plt.close(figure)


def plot_confusion(true: np.ndarray, predicted: np.ndarray, path: Path, title: str, codes: Sequence[str]) -> None:
    import matplotlib.pyplot as plt
    from sklearn.metrics import confusion_matrix

    matrix = confusion_matrix(true, predicted, labels=list(range(len(codes)))).astype(np.float64)
    recall = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    figure, axis = plt.subplots(figsize=(6, 5))
    image = axis.imshow(recall, cmap="Blues", vmin=0, vmax=1)
    for row in range(len(codes)):
        for column in range(len(codes)):
            axis.text(column, row, f"{int(matrix[row, column])}", ha="center", va="center", fontsize=7,
                      color="white" if recall[row, column] > 0.5 else "black")
    axis.set_xticks(range(len(codes)), list(codes))
    axis.set_yticks(range(len(codes)), list(codes))
    axis.set_xlabel("predicted")
    axis.set_ylabel("consensus")
    axis.set_title(title)
    figure.colorbar(image, ax=axis, label="row-normalised (recall)")
    _save(figure, path)


def plot_grouped_bars(values: Dict[str, np.ndarray], path: Path, ylabel: str, title: str, codes: Sequence[str]) -> None:
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(max(6, len(codes) * 0.25 * len(values)), 4))
    width = 0.8 / max(len(values), 1)
    positions = np.arange(len(codes))
    for index, (label, scores) in enumerate(values.items()):
        axis.bar(positions + index * width - 0.4 + width / 2, scores, width, label=label)
    axis.set_xticks(positions, list(codes))
    axis.set_ylabel(ylabel)
    axis.set_title(title)
    axis.legend(fontsize=7, ncol=2)
    _save(figure, path)


def plot_combination(table: Sequence[Dict[str, object]], path: Path) -> None:
    import matplotlib.pyplot as plt

    labels = [str(row["system"]) + (" (submitted)" if row.get("submitted") else "") for row in table]
    figure, axis = plt.subplots(figsize=(6, 0.35 * len(labels) + 1))
    axis.barh(labels, [float(row["macro_f1"]) for row in table], color="tab:blue")
    axis.invert_yaxis()
    axis.set_xlabel("Development Macro-F1 (held-out for fitted methods)")
    _save(figure, path)


def plot_training_curves(curves: Dict[str, object], path: Path) -> List[str]:
    """One panel per metric, one line per member, x = epochs over all stages; returns the metrics plotted."""
    import matplotlib.pyplot as plt

    shared = set.intersection(*[
        {c for c in frame.columns if np.issubdtype(frame[c].dtype, np.number)} - BOOKKEEPING_COLUMNS
        for frame in curves.values()
    ])
    metrics = [name for name in PREFERRED_CURVES if name in shared] or sorted(shared)
    if not metrics:
        return []
    figure, axes = plt.subplots(1, len(metrics), figsize=(4 * len(metrics), 3.2), squeeze=False)
    for axis, metric in zip(axes[0], metrics):
        for name, frame in curves.items():
            axis.plot(np.arange(1, len(frame) + 1), frame[metric], marker=".", label=name)
        axis.set_title(metric)
        axis.set_xlabel("epoch (all stages)")
    axes[0][0].legend(fontsize=7)
    _save(figure, path)
    return metrics


def plot_distribution(classes: np.ndarray, path: Path, title: str, inventory: Inventory) -> np.ndarray:
    import matplotlib.pyplot as plt

    counts = np.bincount(classes, minlength=inventory.num_classes)
    figure, axis = plt.subplots(figsize=(6, 3.2))
    axis.bar(list(inventory.codes), counts, color="tab:green")
    axis.set_ylabel("files")
    axis.set_title(title)
    _save(figure, path)
    return counts


def write_report(result: EnsembleResult, report_path: PathLike, title: Optional[str] = None) -> Path:
    """Write the report and its figures; returns the report's path."""
    import matplotlib

    matplotlib.use("Agg")
    report_path = Path(report_path)
    figures = report_path.parent / "figures"
    figures.mkdir(parents=True, exist_ok=True)
    labelled = result.dev_classes >= 0
    true = result.dev_classes[labelled]
    submitted = result.held_out[result.chosen]
    submitted_title = TITLES[result.chosen]
    inventory = result.inventory
    codes, count = inventory.codes, inventory.num_classes

    plot_combination(result.table, figures / "combination.png")
    plot_confusion(true, submitted.classes[labelled], figures / "confusion_submitted.png",
                   f"{submitted_title}, Development out-of-fold", codes)
    f1_values = {name: per_class_f1(true, predictions.classes[labelled], count)
                 for name, predictions in result.reference_predictions.items()}
    f1_values[f"submitted ({submitted_title})"] = per_class_f1(true, submitted.classes[labelled], count)
    plot_grouped_bars(f1_values, figures / "per_class_f1.png", "F1", "per-class F1 on Development", codes)
    curves = {name: read_training_curves(d) for name, d in zip(result.member_names, result.member_dirs)}
    found = {name: frame for name, frame in curves.items() if frame is not None}
    plotted = plot_training_curves(found, figures / "training_curves.png") if found else []
    counts = plot_distribution(result.test_classes, figures / "test_distribution.png", "predicted classes on the test split",
                               inventory)

    lines = [
        f"# {title or report_path.parent.name}: ensemble report", "",
        f"Members ({len(result.member_names)}): {', '.join(result.member_names)}.",
    ]
    if result.probe_names:
        lines.append(f"Reference probes ({len(result.probe_names)}): {', '.join(result.probe_names)}.")
    lines += [
        f"Classes ({count}): {inventory.describe()}.",
        f"Development rows: {len(result.dev_file_names)} ({int(labelled.sum())} with one of the {count} classes, scored for "
        f"Macro-F1, UA and WA; {int(np.isfinite(result.dev_attributes).all(axis=1).sum())} with attributes, scored for "
        "CCC).", "",
        "## Combination methods", "",
        "Combination methods are scored out-of-fold: each Development fold is predicted by a model fitted on the "
        "other folds, and no score comes from a row its model was fitted on. Member and probe rows show each on all of "
        "Development (they were selected on Development, so these are optimistic).", "",
        format_table(result.table), "![combination](figures/combination.png)", "",
        f"**Submitted: {submitted_title}.** Why: {result.choice_reason}.", "",
    ]
    if result.test_table is not None:
        lines += ["## Test split (against the key)", "",
                  "Every member, probe and combination method (fitted on all of Development) on the test split; "
                  f"the submitted system is {submitted_title}.", "", format_table(result.test_table), ""]
    lines += [
        "## Submitted method on Development (out-of-fold)", "",
        "![confusion matrix](figures/confusion_submitted.png)", "",
        "## Per-class F1", "",
        "| model | " + " | ".join(codes) + " |", "|---|" + "---|" * count,
        *[f"| {name} | " + " | ".join(f"{v:.3f}" for v in values) + " |" for name, values in f1_values.items()], "",
        "![per-class F1](figures/per_class_f1.png)", "",
        "## Training curves", "",
    ]
    missing = [name for name, frame in curves.items() if frame is None]
    if plotted:
        lines += [f"Per-epoch {', '.join(plotted)}.", "", "![training curves](figures/training_curves.png)", ""]
    if missing:
        lines += [f"No per-epoch {CURVE_FILE} in: {', '.join(missing)}.", ""]
    lines += [
        "## Test predictions", "",
        "| class | " + " | ".join(f"{code} ({name})" for code, name in zip(codes, inventory.names)) + " |",
        "|---|" + "---|" * count,
        "| files | " + " | ".join(str(int(c)) for c in counts) + " |", "",
        "![test distribution](figures/test_distribution.png)", "",
    ]
    if result.test_scores:
        lines += ["Scores against the test key: " + ", ".join(
            f"{k} {v:.4f}" for k, v in result.test_scores.items() if isinstance(v, float)) + ".", ""]
    if result.submission_paths:
        lines += ["Leaderboard files (validated): " + ", ".join(f"`{p}`" for p in result.submission_paths) + ".", ""]
    atomic_write_text(report_path, "\n".join(lines))
    return report_path
