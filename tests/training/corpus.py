"""A tiny synthetic corpus for training tests: manifests plus feature stores with a learnable signal.

Each utterance's frames are its class's prototype vector plus noise, so a model can learn the
classes; lengths vary so padding and bucketing matter.
"""

from pathlib import Path
from typing import Dict, Optional, Sequence

import numpy as np
import pandas as pd

from toolkit.emotions import EMOTION_CODES
from toolkit.features.store import FeatureShardWriter, merge_store


def write_corpus(root: Path, streams: Optional[Dict[str, int]] = None, per_class: int = 4, seed: int = 0,
                 ambiguous: int = 4, noise: float = 0.5, num_layers: Optional[Dict[str, int]] = None,
                 codes: Sequence[str] = EMOTION_CODES) -> Path:
    """Write ``root/data/<split>/manifest.csv`` and ``root/features/<stream>/<split>/``; return root.

    ``codes``: the corpus's class inventory, in order (the challenge's ``ASHUFDCN`` by default).
    """
    codes = list(codes)
    streams = streams or {"acoustic": 6, "text": 4}
    num_layers = num_layers or {}
    rng = np.random.default_rng(seed)
    prototypes = {name: rng.normal(size=(len(codes), dim * num_layers.get(name, 1))) * 2.0
                  for name, dim in streams.items()}
    sizes = {"train": (per_class, ambiguous), "development": (max(per_class // 2, 1), 2), "test3": (1, 0)}
    for split, (count, extra) in sizes.items():
        rows = []
        classes = [c for c in range(len(codes)) for _ in range(count)] + [-1] * extra
        for number, label in enumerate(classes):
            soft = np.zeros(len(codes))
            if label >= 0:
                soft[label] = 0.8
                soft[(label + 1) % len(codes)] = 0.2
                code = codes[label]
            else:
                soft[[0, len(codes) - 1]] = 0.5
                code = "X"
            labelled = split != "test3"
            rows.append({
                "FileName": f"MSP-PODCAST_{split}_{number:04d}.wav",
                "EmoClass": code if labelled else "",
                "EmoAct": f"{1 + (label % 7 if label >= 0 else 3):.1f}" if labelled else "",
                "EmoVal": f"{4 + (0.5 if label % 2 else -0.5):.1f}" if labelled else "",
                "EmoDom": "4.0" if labelled else "",
                "Split_Set": split,
                "path": f"/nonexistent/{split}_{number}.wav",
                **{f"soft_{column}": (f"{value:.2f}" if labelled else "") for column, value in zip(codes, soft)},
                "_label": label,
            })
        frame = pd.DataFrame(rows)
        manifest = root / "data" / split / "manifest.csv"
        manifest.parent.mkdir(parents=True, exist_ok=True)
        frame.drop(columns="_label").to_csv(manifest, index=False)
        for name, dim in streams.items():
            layers = num_layers.get(name, 1)
            writer = FeatureShardWriter(root / "features" / name / split, 1, 1, dim * layers,
                                        {"encoder": "synthetic", "model": name, "layers": "last", "num_layers": layers})
            for row in rows:
                frames = int(rng.integers(3, 12))
                centre = (prototypes[name][row["_label"]] if row["_label"] >= 0
                          else prototypes[name][[0, len(codes) - 1]].mean(0))
                writer.add(row["FileName"], centre + noise * rng.normal(size=(frames, dim * layers)))
            writer.close()
            merge_store(root / "features" / name / split, 1)
    return root


def tiny_overrides(root: Path, streams=("acoustic", "text"), epochs: int = 2):
    """``--set`` overrides for a fast CPU run over ``write_corpus(root)``."""
    return [
        f"data.manifest_dir={root / 'data'}",
        f"data.features_dir={root / 'features'}",
        f"data.streams=[{', '.join(streams)}]",
        "data.num_workers=0",
        "model.hidden_dim=16",
        "model.ff_dim=32",
        "model.dropout=0.0",
        "train.batch_size=8",
        "stage1.lr=3e-3",
        f"stage1.max_epochs={epochs}",
        "stage2.lr=1e-3",
        f"stage2.max_epochs={epochs}",
    ]
