"""Per-epoch training metrics: ``<exp_dir>/metrics.csv`` and its curves ``<exp_dir>/metrics.png``.

One row per finished epoch of every stage run (column ``stage``), always the same columns
(``metric_columns(codes)``: a ``dev_f1_<code>`` per class of the member's inventory) whatever
the number of processes. The file is rewritten atomically from
the run's history after each epoch, so a resumed run never duplicates or loses a row.
"""

from pathlib import Path
from typing import Dict, List, Sequence

from toolkit.emotions import ATTRIBUTES, CHALLENGE
from toolkit.utils.atomic import PathLike, atomic_path


def metric_columns(codes: Sequence[str]) -> List[str]:
    """The columns of ``metrics.csv`` for a member over classes ``codes``."""
    return [
        "stage", "epoch", "lr", "train_samples", "train_loss", "train_ce", "train_attribute",
        "dev_ce", "dev_macro_f1", *[f"dev_f1_{code}" for code in codes],
        *[f"dev_ccc_{name}" for name in ATTRIBUTES], "dev_ccc_mean", "is_best", "seconds",
    ]


#: The columns of a challenge (8-class) member's ``metrics.csv``.
METRIC_COLUMNS: List[str] = metric_columns(CHALLENGE.codes)


def read_metrics(path: PathLike) -> List[Dict]:
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        return []
    return pd.read_csv(path).to_dict("records")


def write_metrics(path: PathLike, rows: Sequence[Dict], codes: Sequence[str] = CHALLENGE.codes) -> None:
    import pandas as pd

    frame = pd.DataFrame(list(rows), columns=metric_columns(codes))
    with atomic_path(path) as temporary:
        frame.to_csv(temporary, index=False, float_format="%.6g")


def plot_metrics(rows: Sequence[Dict], path: PathLike) -> None:
    """Loss, Macro-F1 and mean CCC against the epoch count over all stages, stage boundaries marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x = list(range(1, len(rows) + 1))
    figure, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    panels = [
        ("loss", [("train_loss", "train"), ("dev_ce", "dev CE")]),
        ("Development Macro-F1", [("dev_macro_f1", "macro-F1")]),
        ("Development CCC (mean)", [("dev_ccc_mean", "CCC")]),
    ]
    for axis, (title, series) in zip(axes, panels):
        for column, label in series:
            axis.plot(x, [row[column] for row in rows], marker="o", label=label)
        for position in range(1, len(rows)):
            if rows[position]["stage"] != rows[position - 1]["stage"]:
                axis.axvline(position + 0.5, color="grey", linestyle="--", linewidth=1)
        axis.set_title(title)
        axis.set_xlabel("epoch (all stages)")
        axis.legend()
    figure.tight_layout()
    with atomic_path(path) as temporary:
        figure.savefig(temporary, format="png", dpi=80)
    plt.close(figure)
