"""Synthetic members for the ensemble tests: a Development manifest and prediction files built here."""

from pathlib import Path
from typing import List

import numpy as np
import pandas as pd
import pytest

from toolkit.data.manifest import CONSENSUS_COLUMNS
from toolkit.emotions import EMOTION_CODES
from toolkit.predictions import write_predictions


def write_manifest(path: Path, file_names: List[str], classes: np.ndarray, attributes: np.ndarray,
                   inventory: str = EMOTION_CODES) -> None:
    codes = ["X" if c < 0 else inventory[c] for c in classes]
    frame = pd.DataFrame({
        "FileName": file_names, "EmoClass": codes,
        "EmoAct": [f"{v:.2f}" for v in attributes[:, 0]], "EmoVal": [f"{v:.2f}" for v in attributes[:, 1]],
        "EmoDom": [f"{v:.2f}" for v in attributes[:, 2]], "SpkrID": "1", "Gender": "Female",
        "Split_Set": "Development",
    })[CONSENSUS_COLUMNS]
    frame["path"] = [f"/audio/{name}" for name in file_names]
    if inventory != EMOTION_CODES:
        # a corpus's own inventory is recorded in its manifests' soft-label columns
        for index, code in enumerate(inventory):
            frame[f"soft_{code}"] = ["" if c < 0 else str(float(c == index)) for c in classes]
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)


def member_outputs(rng, classes, attributes, accuracy: float, shift: int = 0, num_classes: int = 8):
    """Logits that point at (class + shift) with probability ``accuracy``, noisy attributes."""
    rows = len(classes)
    target = np.where(classes >= 0, classes, rng.integers(0, num_classes, rows))
    correct = rng.random(rows) < accuracy
    picked = np.where(correct, (target + shift) % num_classes, rng.integers(0, num_classes, rows))
    logits = rng.normal(0, 1, (rows, num_classes))
    logits[np.arange(rows), picked] += 3.0
    return logits, attributes + rng.normal(0, 0.5, attributes.shape)


class Corpus:
    def __init__(self, root: Path, accuracies=(0.6, 0.5, 0.45), shifts=(0, 0, 0), dev_rows=320, test_rows=48, seed=0,
                 codes: str = EMOTION_CODES):
        rng = np.random.default_rng(seed)
        self.codes = codes
        count = len(codes)
        self.root = root
        self.dev_names = [f"MSP-PODCAST_{i // 10:04d}_{i % 10:04d}.wav" for i in range(dev_rows)]
        self.test_names = [f"MSP-PODCAST_test3_{i + 1:04d}.wav" for i in range(test_rows)]
        self.dev_classes = rng.integers(-1, count, dev_rows)
        self.dev_attributes = rng.uniform(1, 7, (dev_rows, 3))
        self.test_classes = rng.integers(0, count, test_rows)
        self.test_attributes = rng.uniform(1, 7, (test_rows, 3))
        self.manifest = root / "data" / "development" / "manifest.csv"
        write_manifest(self.manifest, self.dev_names, self.dev_classes, self.dev_attributes, codes)
        self.members = []
        for index, (accuracy, shift) in enumerate(zip(accuracies, shifts)):
            member = root / "members" / f"m{index}"
            for split, names, classes, attributes in (
                ("development", self.dev_names, self.dev_classes, self.dev_attributes),
                ("test3", self.test_names, self.test_classes, self.test_attributes),
            ):
                logits, predicted = member_outputs(rng, classes, attributes, accuracy, shift, count)
                write_predictions(member / "predictions" / f"{split}.csv", names, logits, predicted, list(codes))
            self.members.append(member)


@pytest.fixture
def corpus(tmp_path):
    return Corpus(tmp_path)
