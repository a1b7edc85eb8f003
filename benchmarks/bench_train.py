"""Benchmark of DeepSER training: length bucketing with masks against naive padding, and peak memory.

Writes a synthetic two-stream feature store (MSP-Podcast-like lengths: 2.75-11 s, acoustic
frames at 50/s, text tokens at about 3/s) under benchmarks/out/train/ and trains the same
DeepSER, one configuration per fresh process, for one whole epoch (every utterance once, so
every configuration sees the same frames):

- ``bucketed``: the trainer's batching (length-sorted pools of 50 batches), padded to the batch's
  longest utterance, key-padding masks;
- ``random``: random batches (no bucketing), padded to the batch's longest utterance, masks;
- ``full``: random batches naively padded to the longest utterance of the split.

It prints training samples/s, the ratio to ``full`` and to ``random``, the fraction of padded
frames and each process's peak resident memory (the whole epoch, data loading included).

With ``--per-frame`` it instead measures what the trainer adds to the model's own cost, in a fresh
process: the trainer's steps (``StageTrainer.train_epoch``: data loading and collation, MixUp,
losses, backward, AdamW) against a plain loop of forward, the same loss, backward and AdamW step of
the same model (same initial weights and input statistics) over the same batches, collated in
memory beforehand (the same padded tensors). One epoch each, alternating, ``--repeats`` times; the
fastest of each is compared as time per processed position (frames including padding, summed over
the streams). The target is a ratio of at most 1.1.

With ``--fusion-table`` it instead trains (MEDUSA stage 1) one member per stream combination on
an existing corpus and its features (the mini_podcast recipe's ``data/`` and ``dump/features``):
each single stream, every pair, all three with deep fusion and all three with late fusion, once
per ``--seeds`` value, and prints the mean and spread of Development Macro-F1 per configuration
(120 Development utterances swing by several points between seeds, so one seed decides nothing).
Members go to benchmarks/out/train/fusion/<corpus>/; the table to benchmarks/out/train/fusion.json.

Usage: .venv/bin/python benchmarks/bench_train.py [--utterances 192] [--hidden 64]
       .venv/bin/python benchmarks/bench_train.py --per-frame [--utterances 192] [--hidden 64] [--repeats 3] \
           [--set data.num_workers=0]
       .venv/bin/python benchmarks/bench_train.py --fusion-table --config recipes/mini_podcast/conf/train/deepser.yaml \
           --manifest-dir recipes/mini_podcast/data --features-dir recipes/mini_podcast/dump/features \
           --streams fbank whisper_tiny_en minilm --seeds 1 2 3
"""

import argparse
import hashlib
import json
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
OUT = REPO / "benchmarks" / "out" / "train"
STREAMS = {"acoustic": (256, 50.0), "text": (128, 3.0)}


def make_store(count: int) -> Path:
    """Manifest + stores for ``count`` utterances (reused when already there)."""
    import pandas as pd

    from toolkit.emotions import EMOTION_CODES, SOFT_COLUMNS
    from toolkit.features.store import FeatureShardWriter, merge_store
    from toolkit.utils.atomic import is_done

    root = OUT / f"n{count}"
    rng = np.random.default_rng(0)
    seconds = rng.uniform(2.75, 11.0, size=count)
    labels = rng.integers(0, len(EMOTION_CODES), size=count)
    names = [f"MSP-PODCAST_{i:05d}.wav" for i in range(count)]
    manifest = root / "data" / "train" / "manifest.csv"
    if not manifest.exists():
        soft = np.eye(len(EMOTION_CODES))[labels]
        frame = pd.DataFrame({"FileName": names, "EmoClass": [EMOTION_CODES[c] for c in labels],
                              "EmoAct": 4.0, "EmoVal": 4.0, "EmoDom": 4.0, "path": "-"})
        for column, values in zip(SOFT_COLUMNS, soft.T):
            frame[column] = values
        manifest.parent.mkdir(parents=True, exist_ok=True)
        frame.to_csv(manifest, index=False)
    for stream, (dim, rate) in STREAMS.items():
        store = root / "features" / stream / "train"
        if is_done(store):
            continue
        writer = FeatureShardWriter(store, 1, 1, dim, {"encoder": "synthetic", "model": stream, "layers": "last"})
        for name, length in zip(names, seconds):
            frames = max(1, int(length * rate))
            writer.add(name, rng.standard_normal((frames, dim)).astype(np.float16))
        writer.close()
        merge_store(store, 1)
    return root


def worker(root: Path, mode: str, hidden: int) -> dict:
    """Train one epoch in this process; samples/s, padding fraction, peak RSS."""
    import torch

    from toolkit.models.deepser import build_model
    from toolkit.training.config import load_config
    from toolkit.training.dataset import FeatureDataset, bucket_batches, collate, load_split, stream_specs
    from toolkit.training.losses import attribute_loss, soft_cross_entropy

    torch.manual_seed(0)
    streams = list(STREAMS)
    config = load_config(None, [f"model.hidden_dim={hidden}", f"model.ff_dim={2 * hidden}", "model.dropout=0.1"])
    data = load_split(root / "data", root / "features", streams, "train", targets="soft")
    specs = stream_specs(root / "features", streams, "train")
    model = build_model(specs, config.model)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    rng = np.random.default_rng(1)
    pool = 50 if mode == "bucketed" else 1
    plan = bucket_batches(np.arange(len(data)), data.total_lengths, 32, pool, rng)
    longest = data.lengths.max(axis=0)
    dataset = FeatureDataset(data)
    # One short untimed step first, so one-off start-up costs are not charged to the first batch.
    warm = collate([dataset[i] for i in range(2)])
    sum(part.sum() for part in model(warm["features"], warm["masks"])).backward()
    optimizer.zero_grad(set_to_none=True)
    real = padded = samples = 0
    started = time.perf_counter()
    for index_batch in plan:
        batch = collate([dataset[i] for i in index_batch])
        features, masks = batch["features"], batch["masks"]
        if mode == "full":
            # Naive: every batch padded to the split's longest utterance per stream.
            features = [torch.nn.functional.pad(x, (0, 0, 0, int(n) - x.shape[1])) for x, n in zip(features, longest)]
            masks = [torch.nn.functional.pad(m, (0, int(n) - m.shape[1]), value=True) for m, n in zip(masks, longest)]
        targets = torch.from_numpy(data.targets[index_batch])
        attributes = torch.from_numpy(data.attributes[index_batch])
        logits, predicted = model(features, masks)
        loss = 1.5 * soft_cross_entropy(logits, targets) + 0.4 * attribute_loss(
            predicted, attributes, torch.isfinite(attributes), "mse")
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        samples += len(index_batch)
        real += int(sum((~m).sum() for m in masks))
        padded += int(sum(m.numel() for m in masks))
    elapsed = time.perf_counter() - started
    return {"mode": mode, "samples": samples, "seconds": elapsed, "samples_per_s": samples / elapsed,
            "padding_fraction": 1 - real / padded,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def per_frame_worker(root: Path, hidden: int, repeats: int, overrides) -> dict:
    """Seconds per epoch of the trainer's steps and of a plain loop over the same padded batches."""
    import copy

    import torch

    from toolkit.training.config import load_config
    from toolkit.training.dataset import FeatureDataset, collate
    from toolkit.training.distributed import init_distributed
    from toolkit.training.losses import attribute_loss, soft_cross_entropy
    from toolkit.training.trainer import StageTrainer
    from toolkit.utils.logging import setup_logging

    setup_logging("WARNING")
    config = load_config(None, [
        f"data.manifest_dir={root / 'data'}", f"data.features_dir={root / 'features'}",
        f"data.streams=[{','.join(STREAMS)}]",
        # The trainer needs a Development split to start; train_epoch never evaluates it.
        "data.dev_split=train",
        f"model.hidden_dim={hidden}", f"model.ff_dim={2 * hidden}", "train.checkpoint_every_steps=0", *overrides,
    ])
    exp_dir = OUT / "per_frame"
    shutil.rmtree(exp_dir, ignore_errors=True)
    context = init_distributed("cpu")
    batches = positions = real = None
    times = {"trainer": [], "plain": []}
    for repeat in range(repeats):
        # A fresh trainer per repeat: each times the same first epoch from the same initial weights.
        trainer = StageTrainer(config, exp_dir, 1, context)
        trainer.prepare()
        model = copy.deepcopy(trainer.model)
        optimizer = torch.optim.AdamW(model.parameters(), lr=config.stage1.lr, weight_decay=config.train.weight_decay)
        if batches is None:
            dataset = FeatureDataset(trainer.train_data, config.data.max_frames)
            batches = [collate([dataset[i] for i in rows]) for rows in trainer.epoch_batches(0)]
            positions = sum(mask.numel() for batch in batches for mask in batch["masks"])
            real = sum(int((~mask).sum()) for batch in batches for mask in batch["masks"])
        targets_all = torch.from_numpy(trainer.train_data.targets)
        attributes_all = torch.from_numpy(trainer.train_data.attributes)

        def plain_epoch():
            model.train()
            for batch in batches:
                logits, predicted = model(batch["features"], batch["masks"])
                targets, attributes = targets_all[batch["indices"]], attributes_all[batch["indices"]]
                loss = config.loss.class_weight * soft_cross_entropy(logits, targets, trainer.class_weights) + \
                    config.loss.attribute_weight * attribute_loss(predicted, attributes, torch.isfinite(attributes),
                                                                  config.loss.attribute_loss)
                loss.backward()
                optimizer.step()
                optimizer.zero_grad(set_to_none=True)

        runs = {"trainer": lambda: trainer.train_epoch(0), "plain": plain_epoch}
        # Alternate which goes first, so a drift in machine load does not favour one.
        for name in (("trainer", "plain") if repeat % 2 == 0 else ("plain", "trainer")):
            started = time.perf_counter()
            runs[name]()
            times[name].append(time.perf_counter() - started)
    return {"positions": positions, "padding_fraction": 1 - real / positions, "batches": len(batches),
            "threads": torch.get_num_threads(), "num_workers": config.data.num_workers, "seconds": times}


def per_frame(utterances: int, hidden: int, repeats: int, overrides) -> None:
    root = make_store(utterances)
    command = [sys.executable, __file__, "--worker", "per_frame", "--root", str(root), "--hidden", str(hidden),
               "--repeats", str(repeats)] + [f"--set={override}" for override in overrides]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    result = json.loads(output.strip().splitlines()[-1])
    best = {name: min(seconds) for name, seconds in result["seconds"].items()}
    per_position = {name: seconds / result["positions"] * 1e6 for name, seconds in best.items()}
    ratio = per_position["trainer"] / per_position["plain"]
    print(f"DeepSER training cost per processed position: 2 streams ({', '.join(f'{s} {d}-d' for s, (d, _) in STREAMS.items())}), "
          f"hidden {hidden}, {utterances} utterances in {result['batches']} batches, "
          f"{result['positions']} positions ({result['padding_fraction']:.1%} padding), {result['threads']} torch "
          f"thread(s), data.num_workers={result['num_workers']}, fastest of {repeats} epochs"
          + (f", --set {' '.join(overrides)}" if overrides else ""))
    print(f"{'loop':<44} {'s/epoch':>8} {'us/position':>12} {'ratio':>6}")
    labels = {"trainer": "trainer steps (StageTrainer.train_epoch)", "plain": "plain forward + backward + AdamW"}
    for name in ("trainer", "plain"):
        print(f"{labels[name]:<44} {best[name]:>8.3f} {per_position[name]:>12.2f} "
              f"{per_position[name] / per_position['plain']:>5.2f}x")
    print(f"trainer / plain: {ratio:.2f}x (target at most 1.10x)")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "per_frame.json").write_text(json.dumps({**result, "hidden": hidden, "overrides": list(overrides),
                                                    "us_per_position": per_position, "ratio": ratio}, indent=2))


def fusion_table(config_path: str, manifest_dir: str, features_dir: str, streams, extra, seeds) -> None:
    """Stage-1 Development Macro-F1 of single streams, pairs, and 3-stream deep and late fusion, per seed."""
    from itertools import combinations

    from toolkit.training.config import load_config
    from toolkit.training.trainer import train_member
    from toolkit.utils.logging import setup_logging

    setup_logging("WARNING")
    runs = [(list(combo), "deep") for size in range(1, len(streams) + 1) for combo in combinations(streams, size)]
    runs.append((list(streams), "late"))
    # Keyed by the features directory, so a table over another corpus never reuses these members.
    corpus_tag = hashlib.sha1(str(Path(features_dir).resolve()).encode()).hexdigest()[:8]
    rows = []
    for combo, fusion in runs:
        name = "+".join(combo) + ("" if fusion == "deep" or len(combo) == 1 else f"_{fusion}")
        scores, seconds = [], 0.0
        for seed in seeds:
            overrides = [f"data.manifest_dir={Path(manifest_dir).resolve()}",
                         f"data.features_dir={Path(features_dir).resolve()}", f"data.streams=[{','.join(combo)}]",
                         f"model.fusion={fusion}", "data.predict_splits=[development]", f"train.seed={seed}", *extra]
            started = time.perf_counter()
            result = train_member(load_config(config_path, overrides), OUT / "fusion" / corpus_tag / f"{name}_seed{seed}", 1,
                                  resume=True, device="cpu")
            seconds += time.perf_counter() - started
            scores.append(result.best_macro_f1)
            print(f"{name} seed {seed}: Development Macro-F1 {result.best_macro_f1:.4f}", flush=True)
        rows.append({"streams": name, "fusion": fusion if len(combo) > 1 else "-", "macro_f1": scores,
                     "mean": float(np.mean(scores)), "std": float(np.std(scores)), "seconds_per_run": seconds / len(seeds)})
    print(f"\n{'streams':<36} {'fusion':<6} {'dev Macro-F1 mean':>17} {'std':>6}  per seed")
    for row in rows:
        per_seed = " ".join(f"{score:.3f}" for score in row["macro_f1"])
        print(f"{row['streams']:<36} {row['fusion']:<6} {row['mean']:>17.4f} {row['std']:>6.3f}  {per_seed}")
    best_single = max((row for row in rows if row["fusion"] == "-"), key=lambda row: row["mean"])
    best_fused = max((row for row in rows if row["fusion"] != "-"), key=lambda row: row["mean"])
    print(f"best single stream {best_single['streams']} {best_single['mean']:.4f}; "
          f"best fusion {best_fused['streams']} ({best_fused['fusion']}) {best_fused['mean']:.4f}")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "fusion.json").write_text(json.dumps({"seeds": list(seeds), "overrides": list(extra), "rows": rows}, indent=2))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--utterances", type=int, default=192, help="utterances in the epoch (batches of 32)")
    parser.add_argument("--hidden", type=int, default=64, help="model width (the paper uses 512)")
    parser.add_argument("--fusion-table", action="store_true", help="train the stream-combination table instead")
    parser.add_argument("--per-frame", action="store_true",
                        help="compare the trainer's steps with a plain loop per processed position instead")
    parser.add_argument("--repeats", type=int, default=3, help="epochs per loop of --per-frame (the fastest counts)")
    parser.add_argument("--config", default=str(REPO / "recipes" / "mini_podcast" / "conf" / "train" / "deepser.yaml"))
    parser.add_argument("--manifest-dir", default=str(REPO / "recipes" / "mini_podcast" / "data"))
    parser.add_argument("--features-dir", default=str(REPO / "recipes" / "mini_podcast" / "dump" / "features"))
    parser.add_argument("--streams", nargs="+", default=["fbank", "whisper_tiny_en", "minilm"])
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        help="config override for --fusion-table and --per-frame (repeatable)")
    parser.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3], help="training seeds of the table")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--root", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.fusion_table:
        fusion_table(args.config, args.manifest_dir, args.features_dir, args.streams, args.overrides, args.seeds)
        return
    if args.per_frame:
        per_frame(args.utterances, args.hidden, args.repeats, args.overrides)
        return
    if args.worker == "per_frame":
        print(json.dumps(per_frame_worker(Path(args.root), args.hidden, args.repeats, args.overrides)))
        return
    if args.worker:
        print(json.dumps(worker(Path(args.root), args.worker, args.hidden)))
        return
    root = make_store(args.utterances)
    results = {}
    for mode in ("bucketed", "random", "full"):
        command = [sys.executable, __file__, "--worker", mode, "--root", str(root), "--hidden", str(args.hidden)]
        output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        results[mode] = json.loads(output.strip().splitlines()[-1])
        print(f"{mode}: {results[mode]['samples_per_s']:.2f} samples/s", flush=True)
    print(f"DeepSER training, 2 streams ({', '.join(f'{s} {d}-d' for s, (d, _) in STREAMS.items())}), "
          f"hidden {args.hidden}, batch 32, one epoch of {args.utterances} utterances per configuration")
    print(f"{'batching':<10} {'samples/s':>10} {'vs full':>8} {'vs random':>10} {'padding':>8} {'peak RSS MB':>12}")
    for mode, row in results.items():
        print(f"{mode:<10} {row['samples_per_s']:>10.1f} {row['samples_per_s'] / results['full']['samples_per_s']:>7.2f}x "
              f"{row['samples_per_s'] / results['random']['samples_per_s']:>9.2f}x {row['padding_fraction']:>8.1%} "
              f"{row['peak_rss_mb']:>12.0f}")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "results.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
