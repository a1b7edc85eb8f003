"""Benchmark of training-data I/O: can the data loader feed a GPU from feature stores that are not cached?

Writes a synthetic training split with the streams of one MSP-Podcast member (``--member``, a
name from recipes/msp_podcast/conf/ensemble.yaml; widths and frame rates of the real stores,
``STREAM_SHAPES``) under benchmarks/out/io/, in the toolkit's store format (float16 frames x dim,
one shard per stream), MSP-Podcast-like durations (mean 5.5 s). It then reads it epoch by epoch
exactly as the trainer does (``toolkit.training.dataset``: ``load_split``, ``FeatureDataset``,
``collate``, ``bucket_batches`` with the trainer's batch size and pools; a DataLoader with a batch
sampler, as ``toolkit.training.trainer``) for every ``--workers`` x ``--prefetch`` setting, with
the store's pages evicted from the page cache before each epoch:

- ``--cold fadvise`` (default): ``posix_fadvise(POSIX_FADV_DONTNEED)`` on every store file (works
  for any user; checked with ``fincore`` when util-linux has it);
- ``--cold drop_caches``: ``sync; echo 3 > /proc/sys/vm/drop_caches`` (root; evicts every file on
  the machine, so other jobs suffer);
- ``--cold none``: warm cache, the CPU cost of loading alone;
- with ``--utterances`` large enough that the store exceeds RAM, the page cache cannot hold it
  whatever the eviction.

A ``readahead`` variant asks the kernel to read every utterance of a batch before the loader
touches it (``posix_fadvise(POSIX_FADV_WILLNEED)`` on their byte ranges, from the store's
documented ``index.tsv``), a candidate change to ``FeatureStore`` measured here: page faults
on a memory map read ahead a little at a time, one utterance after the other.

Against each: what one GPU consumes, from the member's training FLOPs per sample (forward and
backward of the real DeepSER at the paper's width, counted by ``torch.utils.flop_counter`` on the
meta device at the corpus's mean lengths) and an assumed sustained throughput (``--gpu-tflops``,
default 12: an A100 in float32, as the trainer runs; see docs/scale.md), or a measured rate
(``--gpu-samples-per-s``, e.g. from a real run's batches/s x 32). A setting that loads fewer
samples/s than that leaves the GPU waiting: the run is I/O-bound.

``--flops`` instead prints the FLOP counts docs/scale.md uses (the frozen encoders per
utterance, every member per training sample) and exits.

Prints a table and writes benchmarks/out/io/results.json (or flops.json).

Usage: .venv/bin/python benchmarks/bench_io.py [--member wavlm_roberta] [--utterances 20000] [--epochs 1]
       .venv/bin/python benchmarks/bench_io.py --utterances 64 --workers 0 2 --prefetch 2   # a quick check
       .venv/bin/python benchmarks/bench_io.py --flops
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))
OUT = REPO / "benchmarks" / "out" / "io"
ENSEMBLE = REPO / "recipes" / "msp_podcast" / "conf" / "ensemble.yaml"
#: Text tokens per second of speech: about 160 words a minute of conversational English, about
#: 1.3 RoBERTa/ModernBERT BPE tokens a word (an assumption; special tokens are dropped).
TOKENS_PER_SECOND = 3.5
#: Width and frames per second of each stream of the MSP-Podcast recipe (conf/encoders/*.yaml).
STREAM_SHAPES: Dict[str, Tuple[int, float]] = {
    "wavlm_large": (1024, 50.0),
    "hubert_large": (1024, 50.0),
    "whisper_large_v3": (1280, 50.0),
    "roberta_large": (1024, TOKENS_PER_SECOND),
    "modernbert_large": (1024, TOKENS_PER_SECOND),
}
MEAN_SECONDS = 5.5
BATCH_SIZE = 32


def member_streams(name: str) -> List[str]:
    from toolkit.recipes_support import load_ensemble_config

    members = {member.name: member.streams for member in load_ensemble_config(ENSEMBLE)}
    if name not in members:
        sys.exit(f"bench_io.py: no member {name!r} in {ENSEMBLE}; choose one of {', '.join(members)}")
    return members[name]


def _member_on_meta(streams: List[str], seconds: float, batch: int):
    """A DeepSER member at the paper's width and a batch of ``seconds``-long inputs, on the meta
    device: every operation runs on shapes alone, so counting FLOPs or saved bytes costs nothing."""
    import torch

    from toolkit.models.deepser import StreamSpec, build_model
    from toolkit.training.config import ModelConfig

    specs = [StreamSpec(stream, STREAM_SHAPES[stream][0]) for stream in streams]
    with torch.device("meta"):
        model = build_model(specs, ModelConfig())
        frames = [max(1, int(seconds * STREAM_SHAPES[stream][1])) for stream in streams]
        features = [torch.zeros(batch, count, spec.dim) for count, spec in zip(frames, specs)]
        masks = [torch.zeros(batch, count, dtype=torch.bool) for count in frames]
    return model, features, masks


def member_flops(streams: List[str], seconds: float = MEAN_SECONDS, train: bool = True) -> float:
    """FLOPs of one sample through a member (forward, plus backward when ``train``)."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    model, features, masks = _member_on_meta(streams, seconds, 1)
    model.train(train)
    with FlopCounterMode(display=False) as counter, torch.set_grad_enabled(train):
        logits, attributes = model(features, masks)
        if train:
            (logits.sum() + attributes.sum()).backward()
    return float(counter.get_total_flops())


def mean_over_durations(cost) -> float:
    """The mean of ``cost(seconds)`` over MSP-Podcast-like durations (``bench_threads.msp_durations``).

    Costs of a transformer are quadratic in length (attention), so the cost at the mean length
    understates the mean cost; three counts fix the quadratic exactly.
    """
    from bench_threads import msp_durations

    points = np.array([2.75, 5.5, 11.0])
    polynomial = np.polyfit(points, [cost(seconds) for seconds in points], 2)
    return float(np.polyval(polynomial, msp_durations(np.random.default_rng(0), 100000)).mean())


def member_memory(streams: List[str], seconds: float, batch: int = BATCH_SIZE) -> Tuple[float, float]:
    """(bytes autograd keeps for the backward pass, bytes of weights + gradients + AdamW's two
    moments) of one training step on a batch of ``seconds``-long utterances.

    The saved bytes are an upper bound for a GPU: they count attention with the math kernel, which
    keeps (frames x frames) matrices that CUDA's memory-efficient kernel never stores, and count
    a tensor shared by two operations twice.
    """
    import torch

    model, features, masks = _member_on_meta(streams, seconds, batch)
    model.train()
    saved = 0

    def pack(tensor):
        nonlocal saved
        saved += tensor.numel() * tensor.element_size()
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        model(features, masks)
    state = 4 * 4 * sum(parameter.numel() for parameter in model.parameters())
    return float(saved), float(state)


def encoder_flops(seconds: float = MEAN_SECONDS) -> Dict[str, float]:
    """FLOPs of each frozen encoder of the recipe for one utterance of ``seconds`` (all hidden states).

    Randomly initialised models of the published configurations; the acoustic ones on the meta
    device, the text ones (whose forward calls .item()) on the CPU with uninitialised weights.
    The Whisper encoder always sees a 30 s window.
    """
    import torch
    import transformers
    from torch.utils.flop_counter import FlopCounterMode

    def count(model, *args, **kwargs) -> float:
        with FlopCounterMode(display=False) as counter, torch.no_grad():
            model(*args, output_hidden_states=True, **kwargs)
        return float(counter.get_total_flops())

    large_speech = dict(hidden_size=1024, num_hidden_layers=24, num_attention_heads=16, intermediate_size=4096,
                        feat_extract_norm="layer", do_stable_layer_norm=True)
    results = {}
    with torch.device("meta"):
        audio = torch.zeros(1, int(16000 * seconds))
        results["wavlm_large"] = count(transformers.WavLMModel(transformers.WavLMConfig(**large_speech)).eval(), audio)
        results["hubert_large"] = count(transformers.HubertModel(transformers.HubertConfig(**large_speech)).eval(),
                                        audio)
        whisper = transformers.WhisperConfig(d_model=1280, encoder_layers=32, encoder_attention_heads=20,
                                             encoder_ffn_dim=5120, decoder_layers=32, decoder_attention_heads=20,
                                             decoder_ffn_dim=5120, num_mel_bins=128, vocab_size=51866)
        encoder = transformers.WhisperModel(whisper).get_encoder().eval()
        results["whisper_large_v3"] = count(encoder, torch.zeros(1, 128, 3000))
    tokens = max(1, int(seconds * TOKENS_PER_SECOND))
    # Token ids away from the special ones; token types given, as to_empty leaves buffers uninitialised.
    ids = torch.full((1, tokens + 2), 1000, dtype=torch.long)
    inputs = {"input_ids": ids, "attention_mask": torch.ones_like(ids)}
    text_models = {
        "roberta_large": (transformers.RobertaModel, transformers.RobertaConfig(
            hidden_size=1024, num_hidden_layers=24, num_attention_heads=16, intermediate_size=4096, vocab_size=50265,
            max_position_embeddings=514), {"token_type_ids": torch.zeros_like(ids)}),
        "modernbert_large": (transformers.ModernBertModel, transformers.ModernBertConfig(
            hidden_size=1024, num_hidden_layers=28, num_attention_heads=16, intermediate_size=2624, vocab_size=50368),
            {}),
    }
    for name, (model_class, config, extra) in text_models.items():
        with torch.device("meta"):
            model = model_class(config)
        # Special tokens (<s>, </s>) go through the encoder too; they are dropped from the store.
        results[name] = count(model.to_empty(device="cpu").eval(), **inputs, **extra)
        del model
    return results


def flops_table() -> None:
    from toolkit.recipes_support import load_ensemble_config

    encoders = encoder_flops()
    print(f"Frozen encoders, one utterance of {MEAN_SECONDS} s ({TOKENS_PER_SECOND} text tokens/s; "
          "Whisper: one 30 s window):")
    for name, flops in encoders.items():
        print(f"  {name:<20} {flops / 1e9:>9.1f} GFLOP")
    print(f"DeepSER members (width 512): GFLOP a sample at {MEAN_SECONDS} s and on average over MSP-like durations; "
          f"one training step of {BATCH_SIZE} utterances: bytes kept for backward (upper bound) and optimizer state")
    print(f"  {'member':<28} {'train':>7} {'train mean':>10} {'eval mean':>9} {'params M':>9} "
          f"{'step GB 5.5 s':>13} {'step GB 11 s':>12} {'state GB':>8}")
    rows = {}
    for member in load_ensemble_config(ENSEMBLE):
        streams = member.streams
        saved_mean, state = member_memory(streams, MEAN_SECONDS)
        row = rows[member.name] = {
            "streams": streams, "train": member_flops(streams),
            "train_mean": mean_over_durations(lambda seconds: member_flops(streams, seconds)),
            "eval_mean": mean_over_durations(lambda seconds: member_flops(streams, seconds, train=False)),
            "parameters": state / 16, "saved_bytes_5_5s": saved_mean,
            "saved_bytes_11s": member_memory(streams, 11.0)[0], "optimizer_state_bytes": state,
        }
        print(f"  {member.name:<28} {row['train'] / 1e9:>7.1f} {row['train_mean'] / 1e9:>10.1f} "
              f"{row['eval_mean'] / 1e9:>9.1f} {row['parameters'] / 1e6:>9.1f} {row['saved_bytes_5_5s'] / 1e9:>13.1f} "
              f"{row['saved_bytes_11s'] / 1e9:>12.1f} {state / 1e9:>8.2f}")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "flops.json").write_text(json.dumps({"seconds": MEAN_SECONDS, "tokens_per_second": TOKENS_PER_SECOND,
                                                "batch_size": BATCH_SIZE, "encoders": encoders, "members": rows},
                                               indent=2))
    print(f"wrote {OUT / 'flops.json'}")


def store_files(root: Path) -> List[Path]:
    return sorted((root / "features").glob("*/train/shards/*.f16"))


def resident_bytes(files: List[Path]) -> Optional[int]:
    """Bytes of ``files`` in the page cache (util-linux fincore), None when fincore is missing."""
    if shutil.which("fincore") is None:
        return None
    output = subprocess.run(["fincore", "--bytes", "--noheadings", "--raw", "--output", "RES", *map(str, files)],
                            capture_output=True, text=True, check=True).stdout
    return sum(int(line) for line in output.split())


def evict(files: List[Path], how: str) -> None:
    if how == "fadvise":
        for path in files:
            descriptor = os.open(path, os.O_RDONLY)
            try:
                os.posix_fadvise(descriptor, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(descriptor)
    elif how == "drop_caches":
        os.sync()
        try:
            Path("/proc/sys/vm/drop_caches").write_text("3\n")
        except OSError as error:
            sys.exit(f"bench_io.py: cannot drop the page cache ({error}); run as root or use --cold fadvise")


def read_byte_ranges(store_dir: Path) -> Dict[str, Tuple[Path, int, int]]:
    """FileName -> (shard file, byte offset, bytes), from the store's index.tsv and meta.json."""
    dim = int(json.loads((store_dir / "meta.json").read_text())["dim"])
    row_bytes = dim * np.dtype(np.float16).itemsize
    ranges = {}
    with open(store_dir / "index.tsv", encoding="utf-8") as handle:
        for line in handle:
            name, shard, offset, frames = line.rstrip("\n").split("\t")
            ranges[name] = (store_dir / "shards" / f"{shard}.f16", int(offset) * row_bytes, int(frames) * row_bytes)
    return ranges


def readahead_dataset(data):
    """The trainer's FeatureDataset, plus: before a batch is read, the kernel is asked to fetch all of it."""
    from toolkit.training.dataset import FeatureDataset

    class ReadaheadDataset(FeatureDataset):
        def __init__(self, split):
            super().__init__(split)
            self.ranges = [read_byte_ranges(path) for path in split.store_dirs]

        def __getitems__(self, indices):
            # DataLoader fetches a whole batch through __getitems__ when the dataset has one.
            descriptors = {}
            try:
                for ranges in self.ranges:
                    for index in indices:
                        path, offset, length = ranges[self.data.file_names[index]]
                        if path not in descriptors:
                            descriptors[path] = os.open(path, os.O_RDONLY)
                        os.posix_fadvise(descriptors[path], offset, length, os.POSIX_FADV_WILLNEED)
            finally:
                for descriptor in descriptors.values():
                    os.close(descriptor)
            return [self[index] for index in indices]

    return ReadaheadDataset(data)


def read_epoch(data, batches: List[List[int]], workers: int, prefetch: int, readahead: bool) -> Tuple[int, float]:
    """(samples, seconds) of one pass of the trainer's loader over ``batches``."""
    import torch
    from torch.utils.data import DataLoader

    from toolkit.training.dataset import FeatureDataset, collate

    dataset = readahead_dataset(data) if readahead else FeatureDataset(data)
    loader = DataLoader(dataset, batch_sampler=batches, collate_fn=collate, num_workers=workers,
                        prefetch_factor=prefetch if workers else None, persistent_workers=False,
                        generator=torch.Generator().manual_seed(0))
    samples = 0
    started = time.perf_counter()
    for batch in loader:
        samples += len(batch["indices"])
    return samples, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--member", default="wavlm_roberta", help="a member of the MSP-Podcast ensemble config")
    parser.add_argument("--utterances", type=int, default=20000, help="training utterances in the store")
    parser.add_argument("--epochs", type=int, default=1, help="timed epochs per setting (the mean is reported)")
    parser.add_argument("--batches", type=int, default=0, help="read only this many batches per epoch (0: all)")
    parser.add_argument("--workers", type=int, nargs="+", default=[0, 2, 4], help="DataLoader num_workers values")
    parser.add_argument("--prefetch", type=int, nargs="+", default=[2, 8],
                        help="DataLoader prefetch_factor values (batches in flight per worker; the trainer's: 2)")
    parser.add_argument("--cold", choices=["fadvise", "drop_caches", "none"], default="fadvise")
    parser.add_argument("--no-readahead", action="store_true", help="skip the readahead variant")
    parser.add_argument("--gpu-tflops", type=float, default=12.0, help="sustained training throughput of one GPU")
    parser.add_argument("--gpu-samples-per-s", type=float, default=0.0, help="a measured GPU rate (overrides FLOPs)")
    parser.add_argument("--flops", action="store_true", help="print the FLOP counts of docs/scale.md and exit")
    args = parser.parse_args()
    if args.flops:
        flops_table()
        return

    from bench_threads import write_corpus

    from toolkit.training.dataset import bucket_batches, load_split

    streams = member_streams(args.member)
    root = write_corpus(OUT / f"{'+'.join(streams)}_n{args.utterances}", {"train": args.utterances},
                        {stream: STREAM_SHAPES[stream] for stream in streams})
    data = load_split(root / "data", root / "features", streams, "train", targets="soft")
    files = store_files(root)
    store_bytes = sum(path.stat().st_size for path in files)
    flops = mean_over_durations(lambda seconds: member_flops(streams, seconds))
    gpu_rate = args.gpu_samples_per_s or args.gpu_tflops * 1e12 / flops
    source = "measured" if args.gpu_samples_per_s else f"at {args.gpu_tflops:g} TFLOP/s"
    sample_bytes = store_bytes / len(data)
    print(f"member {args.member} ({' + '.join(streams)}): {len(data)} utterances, store {store_bytes / 1e9:.2f} GB "
          f"({sample_bytes / 1e3:.0f} kB a sample); training {flops / 1e9:.1f} GFLOP a sample; one GPU ({source}) "
          f"takes {gpu_rate:.0f} samples/s ({gpu_rate * sample_bytes / 1e6:.0f} MB/s); eviction: {args.cold}; "
          f"load average {os.getloadavg()[0]:.2f}", flush=True)

    settings = [(workers, prefetch, False)
                for workers in args.workers for prefetch in (args.prefetch if workers else [0])]
    if not args.no_readahead:
        settings += [(workers, prefetch, True) for workers, prefetch, _ in settings]
    rows = []
    for workers, prefetch, readahead in settings:
        samples = seconds = 0.0
        resident = []
        for epoch in range(args.epochs):
            rng = np.random.default_rng([0, epoch])
            batches = bucket_batches(np.arange(len(data)), data.total_lengths, BATCH_SIZE, 50, rng)
            batches = batches[: args.batches] if args.batches else batches
            evict(files, args.cold)
            resident.append(resident_bytes(files))
            epoch_samples, epoch_seconds = read_epoch(data, batches, workers, prefetch, readahead)
            samples += epoch_samples
            seconds += epoch_seconds
        rate = samples / seconds
        row = {"workers": workers, "prefetch_factor": prefetch, "readahead": readahead, "samples_per_s": rate,
               "mb_per_s": rate * sample_bytes / 1e6, "gpu_fraction_fed": min(1.0, rate / gpu_rate),
               "resident_bytes_before_epoch": resident}
        rows.append(row)
        print(f"workers {workers} prefetch {prefetch or '-'}{' readahead' if readahead else ''}: "
              f"{rate:.0f} samples/s", flush=True)

    print(f"\n{'workers':>7} {'prefetch':>8} {'readahead':>9} {'samples/s':>10} {'MB/s':>7} {'GPU fed':>8}")
    for row in rows:
        print(f"{row['workers']:>7} {row['prefetch_factor'] or '-':>8} {'yes' if row['readahead'] else 'no':>9} "
              f"{row['samples_per_s']:>10.0f} {row['mb_per_s']:>7.0f} {row['gpu_fraction_fed']:>8.0%}")
    resident = [value for row in rows for value in row["resident_bytes_before_epoch"] if value is not None]
    if resident:
        print(f"store bytes in the page cache before an epoch: at most {max(resident) / 1e6:.0f} MB of "
              f"{store_bytes / 1e6:.0f} MB")
    print(f"GPU fed: loader samples/s over the {gpu_rate:.0f} samples/s one GPU trains on (below 100 %: I/O-bound)")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "results.json").write_text(json.dumps({
        "member": args.member, "streams": streams, "utterances": len(data), "store_bytes": store_bytes,
        "cold": args.cold, "train_flops_per_sample": flops, "gpu_tflops": args.gpu_tflops,
        "gpu_samples_per_s": gpu_rate, "load_average": os.getloadavg()[0], "rows": rows}, indent=2))
    print(f"wrote {OUT / 'results.json'}")


if __name__ == "__main__":
    main()
