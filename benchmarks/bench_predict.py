"""Throughput of ``toolkit predict`` per second of audio on this machine, split by stage.

Builds, offline, the mini recipe's system shape: the encoder configs of
``recipes/mini_podcast/conf/encoders`` (Kaldi fbank, Whisper tiny.en encoder in CTranslate2,
MiniLM over tiny.en transcripts), the two members of ``conf/ensemble_ci.yaml`` at the default
DeepSER size with random weights (speed does not depend on training), and a soup; exports it
as a bundle, synthesises speech with espeak-ng, and runs the predictor over it. Reports, per
stage (audio decoding, ASR, features, members, combiner), the seconds spent per second of audio
(real-time factor) and the seconds of audio processed per second, side by side, in one run.

    .venv/bin/python benchmarks/bench_predict.py [--num-files 16] [--batch-size 8] [--device cpu]

Writes ``benchmarks/out/predict.json``.
"""

import argparse
import json
import logging
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
ENCODER_DIR = ROOT / "recipes" / "mini_podcast" / "conf" / "encoders"
MEMBERS = {"whisper_minilm": ["whisper_tiny_en", "minilm"], "fbank_whisper_minilm": ["fbank", "whisper_tiny_en", "minilm"]}
SENTENCES = [
    "I can't believe you did that again, this is the last time",
    "We went to the beach and it was a wonderful sunny afternoon",
    "Nobody told me the meeting had been moved to Thursday",
    "Honestly I think the whole plan is a terrible idea",
]


def build_system(work: Path, device: str) -> Path:
    import torch

    from toolkit.asr.backends import AsrOptions
    from toolkit.emotions import CHALLENGE
    from toolkit.ensemble.meta_classifier import LinearWeights
    from toolkit.ensemble.methods import Linear
    from toolkit.features.encoders import EncoderSpec, load_encoder
    from toolkit.inference.bundle import export_bundle
    from toolkit.models.deepser import StreamSpec, build_model
    from toolkit.training.checkpoint import model_payload, save_checkpoint
    from toolkit.training.config import TrainingConfig

    specs = {}
    for stream in sorted({s for streams in MEMBERS.values() for s in streams}):
        encoder = load_encoder(EncoderSpec.from_yaml(ENCODER_DIR / f"{stream}.yaml"), torch.device(device))
        specs[stream] = StreamSpec(stream, encoder.dim // encoder.num_layers, encoder.num_layers)
    member_dirs = []
    for seed, (name, streams) in enumerate(MEMBERS.items()):
        torch.manual_seed(seed)
        config = TrainingConfig()
        config.data.streams = streams
        model = build_model([specs[s] for s in streams], config.model)
        member_dirs.append(work / "members" / name)
        save_checkpoint(member_dirs[-1] / "best.pt", model_payload(model, config, [specs[s] for s in streams], 1, 1, 0.0))
    rng = np.random.default_rng(0)
    soup = LinearWeights(rng.normal(0, 0.5, (11, 11 * len(MEMBERS))), np.r_[np.zeros(8), np.full(3, 4.0)])
    (work / "ensemble").mkdir(parents=True)
    (work / "ensemble" / "system.json").write_text(json.dumps(
        {"classes": CHALLENGE.to_list(), "members": list(MEMBERS), "member_dirs": [str(d) for d in member_dirs],
         "combiner": Linear(soup, "soup").to_dict()}))
    return export_bundle(work / "ensemble", work / "bundle", ENCODER_DIR,
                         asr_options=AsrOptions(model="tiny.en-offline", beam_size=1))


def synthesise(directory: Path, count: int):
    import soundfile

    from toolkit.corpora.mini_podcast.script import Prosody
    from toolkit.corpora.mini_podcast.synthesis import render

    directory.mkdir(parents=True)
    rng = np.random.default_rng(1)
    paths = []
    for index in range(count):
        prosody = Prosody(pitch=40 + 5 * (index % 5), pitch_range=50, rate=150 + 10 * (index % 4), volume=100,
                          word_gap=0, pause_ms=0)
        paths.append(directory / f"utt{index:03d}.wav")
        soundfile.write(paths[-1], render(SENTENCES[index % len(SENTENCES)], "en-us", prosody, rng), 16000)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--num-files", type=int, default=16)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "out" / "predict.json")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    import torch

    from toolkit.inference.predict import STAGES, Predictor

    with tempfile.TemporaryDirectory() as temporary:
        work = Path(temporary)
        bundle = build_system(work, args.device)
        paths = synthesise(work / "audio", args.num_files)
        started = time.perf_counter()
        predictor = Predictor(bundle, device=args.device)
        load_seconds = time.perf_counter() - started
        # Warm-up on one file so one-off costs (lazy initialisation) are not charged to throughput.
        list(predictor.predict_files(paths[:1], progress=False))
        predictor.times = type(predictor.times)()
        started = time.perf_counter()
        results = list(predictor.predict_files(paths, batch_size=args.batch_size, progress=False))
        total = time.perf_counter() - started
    failed = sum(1 for r in results if r.error)
    audio = predictor.times.audio_seconds
    report = {
        "files": len(paths), "failed": failed, "audio_seconds": round(audio, 2), "batch_size": args.batch_size,
        "device": args.device, "torch_threads": torch.get_num_threads(), "bundle_load_seconds": round(load_seconds, 2),
        "total_seconds": round(total, 3), "realtime_factor_total": round(total / audio, 4),
        "audio_seconds_per_second_total": round(audio / total, 2),
        "stages": {stage: {"seconds": round(predictor.times.seconds[stage], 3),
                           "realtime_factor": round(predictor.times.seconds[stage] / audio, 4),
                           "audio_seconds_per_second": round(audio / max(predictor.times.seconds[stage], 1e-9), 1)}
                   for stage in STAGES},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"{len(paths)} files, {audio:.1f} s of audio, {failed} failed, device {args.device}, "
          f"{torch.get_num_threads()} torch threads; bundle load {load_seconds:.1f} s")
    print(f"{'stage':<10} {'seconds':>9} {'RTF':>8} {'audio s/s':>10}")
    for stage, figures in report["stages"].items():
        print(f"{stage:<10} {figures['seconds']:>9.3f} {figures['realtime_factor']:>8.4f} {figures['audio_seconds_per_second']:>10.1f}")
    print(f"{'total':<10} {total:>9.3f} {total / audio:>8.4f} {audio / total:>10.1f}")


if __name__ == "__main__":
    main()
