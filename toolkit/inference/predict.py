"""Apply an exported bundle to audio files: transcription, features, members, the combiner.

Reads a bundle (:mod:`toolkit.inference.bundle`) and audio files (any format soundfile reads;
resampled to 16 kHz mono); writes nothing itself (the CLI prints or saves the rows). Files are
processed in small batches, so memory stays bounded however many files are given. Features are
rounded through float16 exactly as the feature store keeps them for training. An empty
transcript (Whisper heard nothing, or the recogniser failed on the file) is no error: the text
encoder gives it the same one zero frame the feature store holds for such utterances
(``toolkit.features.encoders.empty_text_features``), and the count is logged. A file that
cannot be read or encoded gets a row with its ``error`` and no prediction.
"""

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np
from tqdm import tqdm

from toolkit.class_map import ClassMap, map_probabilities
from toolkit.emotions import ATTRIBUTES, CHALLENGE, Inventory
from toolkit.ensemble.members import softmax
from toolkit.ensemble.methods import MemberOutputs
from toolkit.inference.bundle import PROBE, Bundle, load_bundle, load_members, text_streams
from toolkit.utils.atomic import PathLike
from toolkit.utils.errors import ToolkitError

logger = logging.getLogger(__name__)

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg")
STAGES = ("audio", "asr", "features", "members", "combiner")


@dataclass
class FilePrediction:
    file: str
    emo_class: str = ""
    probabilities: Optional[np.ndarray] = None  # (classes,) over the bundle's inventory
    attributes: Optional[np.ndarray] = None     # (3,) EmoAct, EmoVal, EmoDom on 1-7
    transcript: Optional[str] = None
    error: str = ""
    inventory: Inventory = CHALLENGE

    def as_row(self) -> Dict[str, object]:
        row: Dict[str, object] = {"file": self.file, "EmoClass": self.emo_class}
        for index, column in enumerate(self.inventory.prob_columns):
            row[column] = None if self.probabilities is None else round(float(self.probabilities[index]), 6)
        for index, name in enumerate(ATTRIBUTES):
            row[name] = None if self.attributes is None else round(float(self.attributes[index]), 4)
        if self.transcript is not None:
            row["transcript"] = self.transcript
        row["error"] = self.error
        return row


@dataclass
class StageTimes:
    """Wall-clock seconds per stage and the seconds of audio processed."""

    seconds: Dict[str, float] = field(default_factory=lambda: {stage: 0.0 for stage in STAGES})
    audio_seconds: float = 0.0

    def add(self, stage: str, started: float) -> None:
        self.seconds[stage] += time.perf_counter() - started


def find_audio(inputs: Sequence[PathLike]) -> List[Path]:
    """Audio files named, or found under named directories (recursively, sorted)."""
    found: List[Path] = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES))
        elif path.is_file():
            found.append(path)
        else:
            raise ToolkitError(f"{path}: no such audio file or directory")
    if not found:
        raise ToolkitError(f"no audio files ({', '.join(AUDIO_SUFFIXES)}) in {', '.join(map(str, inputs))}")
    return found


class Predictor:
    """A loaded bundle: members, encoders and (for text streams) the recogniser, on one device."""

    def __init__(self, bundle: "Bundle | PathLike", device: str = "auto", class_map: Optional[ClassMap] = None):
        """``class_map``: map the system's classes onto another corpus's (cross-corpus evaluation);
        its source must be the bundle's inventory."""
        from toolkit.features.encoders import load_encoder
        from toolkit.utils.device import resolve_device

        self.bundle = bundle if isinstance(bundle, Bundle) else load_bundle(bundle)
        if class_map is not None and class_map.source != self.bundle.inventory:
            raise ToolkitError(f"the class map is from {class_map.source.describe()}, but the bundle predicts "
                               f"{self.bundle.inventory.describe()}")
        self.class_map = class_map
        self.inventory = class_map.target if class_map is not None else self.bundle.inventory
        self.device = resolve_device(device)
        self.models = load_members(self.bundle, device=str(self.device))
        self.encoders = {stream: load_encoder(self.bundle.encoder_spec(stream), self.device) for stream in self.bundle.streams}
        self.recognizer = None
        if text_streams(self.bundle):
            from toolkit.asr.backends import load_backend

            self.recognizer = load_backend(self.bundle.asr_options(), device=str(self.device))
        self.times = StageTimes()
        # Files with an empty transcript (their text streams got the zero frame), over all batches.
        self.empty_transcripts: List[str] = []

    def _features(self, stream: str, inputs: List) -> List[Optional[np.ndarray]]:
        encoder = self.encoders[stream]
        outputs = encoder.encode(inputs)
        # Members were trained on float16 stores: round the same way so predictions match.
        rounded = [output.astype(np.float16).astype(np.float32) for output in outputs]
        return [array if array.shape[0] and np.isfinite(array).all() else None for array in rounded]

    def _transcribe(self, path: Path, waveform: np.ndarray) -> str:
        """The file's transcript; "" when the recogniser fails on it, as ``toolkit transcribe`` leaves it
        for training (``asr_text`` empty, the reason in ``failures.tsv``)."""
        try:
            return self.recognizer(waveform).strip()
        except Exception as error:  # one bad file must not stop the others, nor lose its audio streams
            logger.warning("%s: recogniser failed (%s: %s); its text streams get the features of an empty "
                           "transcript, as in training", path, type(error).__name__, " ".join(str(error).split()))
            return ""

    def predict_batch(self, paths: Sequence[Path]) -> List[FilePrediction]:
        from toolkit.data.audio import TARGET_SAMPLE_RATE, load_audio
        from toolkit.probes.pooling import pool_utterances
        from toolkit.training.inference import predict_batch

        results = [FilePrediction(file=str(path), inventory=self.inventory) for path in paths]
        waveforms: Dict[int, np.ndarray] = {}
        started = time.perf_counter()
        for index, path in enumerate(paths):
            try:
                waveform = load_audio(path)
            except ToolkitError as error:
                results[index].error = str(error)
                continue
            if waveform.size == 0:
                results[index].error = f"{path}: audio file holds no samples"
                continue
            waveforms[index] = waveform
            self.times.audio_seconds += waveform.size / TARGET_SAMPLE_RATE
        self.times.add("audio", started)

        started = time.perf_counter()
        if self.recognizer is not None:
            for index in waveforms:
                results[index].transcript = self._transcribe(paths[index], waveforms[index])
                if not results[index].transcript:
                    self.empty_transcripts.append(results[index].file)
        self.times.add("asr", started)

        started = time.perf_counter()
        features: Dict[str, Dict[int, np.ndarray]] = {}
        for stream, encoder in self.encoders.items():
            order = list(waveforms)
            inputs = [results[i].transcript if encoder.modality == "text" else waveforms[i] for i in order]
            arrays = self._features(stream, inputs) if order else []
            features[stream] = {}
            for index, array in zip(order, arrays):
                if array is None:
                    results[index].error = f"stream {stream}: encoder returned no frames or non-finite features"
                    del waveforms[index]
                else:
                    features[stream][index] = array
        self.times.add("features", started)

        kept = list(waveforms)
        if not kept:
            return results
        started = time.perf_counter()
        posteriors, member_attributes = [], []
        for member, model in zip(self.bundle.members, self.models):
            arrays = {stream: [features[stream][i] for i in kept] for stream in member.streams}
            if member.kind == PROBE:
                logits, attributes = model.predict(pool_utterances([arrays[stream] for stream in member.streams]))
            else:
                logits, attributes = predict_batch(model, arrays)
            posteriors.append(softmax(logits.astype(np.float64)))
            member_attributes.append(attributes.astype(np.float64))
        self.times.add("members", started)

        started = time.perf_counter()
        probabilities, attributes = self.bundle.combiner.apply(
            MemberOutputs(np.stack(posteriors), np.stack(member_attributes)))
        if self.class_map is not None:
            probabilities = map_probabilities(probabilities, self.class_map)
        for row, index in enumerate(kept):
            results[index].probabilities = probabilities[row]
            results[index].attributes = attributes[row]
            results[index].emo_class = self.inventory.codes[int(probabilities[row].argmax())]
        self.times.add("combiner", started)
        return results

    def predict_files(self, paths: Sequence[Path], batch_size: int = 8, progress: bool = True) -> Iterator[FilePrediction]:
        if batch_size < 1:
            raise ToolkitError(f"--batch-size must be at least 1, got {batch_size}")
        already_empty = len(self.empty_transcripts)
        with tqdm(total=len(paths), desc="predict", unit="file", disable=not progress) as bar:
            for start in range(0, len(paths), batch_size):
                batch = list(paths[start:start + batch_size])
                yield from self.predict_batch(batch)
                bar.update(len(batch))
        empty = self.empty_transcripts[already_empty:]
        if empty:
            logger.warning("%d of %d file(s) have an empty transcript (e.g. %s); their text streams got one zero "
                           "frame, as the feature store holds for such utterances", len(empty), len(paths), empty[0])


def manifest_audio(manifest: PathLike) -> Tuple[List[str], List[Path]]:
    """(FileNames, audio paths) of a manifest's rows, in its order."""
    from toolkit.data.manifest import read_manifest

    frame = read_manifest(manifest)
    missing = [name for name, path in zip(frame["FileName"], frame["path"]) if not Path(path).is_file()]
    if missing:
        raise ToolkitError(f"{manifest}: {len(missing)} row(s) name audio that does not exist (first: {missing[0]}); "
                           "fix the path column or re-run stage 0")
    return list(frame["FileName"]), [Path(path) for path in frame["path"]]


def target_class_map(bundle_dir: PathLike, manifest: Optional[PathLike], classes: Optional[str],
                     spec: Optional[str]) -> Optional[ClassMap]:
    """The class map onto ``classes`` (or the manifest's inventory), None when the system's classes are wanted."""
    from toolkit.class_map import build_class_map
    from toolkit.data.inventory import read_inventory

    source = load_bundle(bundle_dir).inventory
    target = Inventory.parse(classes) if classes else (read_inventory(manifest, default=source) if manifest else source)
    if target == source and not spec:
        return None
    class_map = build_class_map(source, target, spec)
    logger.info("cross-corpus: %s", class_map.describe())
    if class_map.unreachable():
        logger.warning("no class of the system maps to %s: it is never predicted (give pairs with --class-map)",
                       ", ".join(class_map.unreachable()))
    return class_map


def write_files(results: Sequence[FilePrediction], file_names: Sequence[str], out_dir: PathLike, tag: str,
                inventory: Inventory) -> Tuple[Path, Path]:
    """Both leaderboard-style files of the predictions, one row per FileName, validated before they land."""
    from toolkit.submission.write import write_submissions

    return write_submissions(out_dir, tag, list(file_names), [result.emo_class for result in results],
                             np.stack([result.attributes for result in results]), classes=inventory.codes)
