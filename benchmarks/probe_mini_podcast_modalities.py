"""Does the mini corpus need both modalities? Text-only and audio-only probes, scored per carrier.

Reads a generated corpus (``toolkit corpus make-mini OUTDIR``): trains two small classifiers on the
Train and Development rows whose consensus is one of the 8 classes — TF-IDF + logistic regression
on the transcripts, and logistic regression on utterance statistics of log-mel energies and an
autocorrelation pitch track — then reports Test3 Macro-F1 (from ``Key/test3_labels.csv``) for each,
for their late fusion, and the accuracy of each probe per carrier (``Key/utterance_design.csv``).
A text probe should fail on ``prosody`` utterances and an audio probe do worst on ``lexical`` ones.

    .venv/bin/python benchmarks/probe_mini_podcast_modalities.py downloads/mini_podcast
"""

import argparse
import csv
from collections import defaultdict
from pathlib import Path

import numpy as np

from toolkit.data.audio import load_audio
from toolkit.emotions import EMOTION_CODES

FRAME = 640  # 40 ms at 16 kHz


def read_rows(path: Path):
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def transcript(root: Path, file_name: str) -> str:
    path = root / "Transcripts" / (Path(file_name).stem + ".txt")
    return path.read_text(encoding="utf-8") if path.is_file() else ""


def acoustic_features(path: Path) -> np.ndarray:
    """Mean/std of 40 log-mel energies over loud frames, duration, voiced share, pitch level and spread."""
    import torch
    import torchaudio

    waveform = load_audio(path)
    fbank = torchaudio.compliance.kaldi.fbank(torch.from_numpy(waveform * 32768).unsqueeze(0), num_mel_bins=40)
    energy = fbank.mean(dim=1)
    loud = fbank[energy > energy.max() - 6].numpy()
    frames = waveform[: len(waveform) // FRAME * FRAME].reshape(-1, FRAME) * np.hanning(FRAME)
    autocorrelation = np.fft.irfft(np.abs(np.fft.rfft(frames, 2048, axis=1)) ** 2, axis=1)[:, :400]
    low, high = 16000 // 500, 16000 // 60
    lag = low + autocorrelation[:, low:high].argmax(axis=1)
    voiced = autocorrelation[np.arange(len(lag)), lag] / (autocorrelation[:, 0] + 1e-9) > 0.5
    pitch = 16000 / lag[voiced] if voiced.any() else np.zeros(1)
    return np.concatenate([
        loud.mean(axis=0), loud.std(axis=0),
        [len(waveform) / 16000, voiced.mean(), float(energy.max()), np.median(pitch), np.std(pitch),
         np.percentile(pitch, 90) - np.percentile(pitch, 10)],
    ])


def main() -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import f1_score
    from sklearn.preprocessing import StandardScaler

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", type=Path)
    root = parser.parse_args().corpus
    train = [row for row in read_rows(root / "Labels" / "labels_consensus.csv") if row["EmoClass"] in EMOTION_CODES]
    test = read_rows(root / "Key" / "test3_labels.csv")
    carriers = {row["FileName"]: row["Carrier"] for row in read_rows(root / "Key" / "utterance_design.csv")}
    train_labels, test_labels = [row["EmoClass"] for row in train], np.array([row["EmoClass"] for row in test])

    vectorizer = TfidfVectorizer(ngram_range=(1, 2)).fit([transcript(root, row["FileName"]) for row in train])
    scaler = StandardScaler().fit([acoustic_features(root / "Audios" / row["FileName"]) for row in train])
    inputs = {
        "text": lambda rows: vectorizer.transform([transcript(root, row["FileName"]) for row in rows]).toarray(),
        "audio": lambda rows: scaler.transform([acoustic_features(root / "Audios" / row["FileName"]) for row in rows]),
    }
    probabilities = {}
    for name, features in inputs.items():
        model = LogisticRegression(max_iter=3000, class_weight="balanced").fit(features(train), train_labels)
        probabilities[name] = model.predict_proba(features(test))
        classes = model.classes_
    probabilities["late fusion"] = (probabilities["text"] + probabilities["audio"]) / 2

    print(f"{'probe':<12} {'Macro-F1':>8}   accuracy per carrier on Test3")
    for name, probs in probabilities.items():
        predicted = classes[probs.argmax(axis=1)]
        by_carrier = defaultdict(list)
        for row, guess in zip(test, predicted):
            by_carrier[carriers[row["FileName"]]].append(guess == row["EmoClass"])
        detail = "  ".join(f"{carrier} {np.mean(hits):.2f}" for carrier, hits in sorted(by_carrier.items()))
        print(f"{name:<12} {f1_score(test_labels, predicted, average='macro'):>8.3f}   {detail}")


if __name__ == "__main__":
    main()
