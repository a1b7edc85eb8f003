"""Builders of a tiny EmoBox checkout for tests: ``data/<corpus>/`` metadata and ``downloads/<corpus>/`` audio.

File names, jsonl field order and value forms follow EmoBox's shipped metadata (checked against
github.com/emo-box/EmoBox at 08280f2): ``fold_<k>/<corpus>_{train,test[,valid]}_fold_<k>.jsonl`` with
their ``.json`` twins, ``label_map.json`` (``label_dict.json`` for EMOVO), ``data.seg.wrd.stm``, and
Emo-DB's legacy ``emodb_{train,test}_fold<k>.json[l]`` files. The audio is short noise written with
soundfile; for video containers (MELD's ``.mp4``) the audio is the extracted ``.wav`` beside the
path ``wav`` names, as the adapter expects.
"""

import json
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from tests.corpora.msp_layout import write_wav

APPLE_DOUBLE_BYTES = b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        "
SECONDS = 0.1


def record(corpus: str, utterance_id: str, wav: str, emo: str, sample_rate: int = 16000, channel: int = 1) -> Dict:
    """A fold record with EmoBox's fields in EmoBox's order."""
    return {"key": f"{corpus}-{utterance_id}", "dataset": corpus, "wav": wav, "type": "raw",
            "sample_rate": sample_rate, "num_frame": float(SECONDS * sample_rate), "task": "category",
            "length": SECONDS, "emo": emo, "channel": channel}


def write_jsonl(path: Path, records: Sequence[Dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(item) + "\n" for item in records), encoding="utf-8")


def write_json_twin(path: Path, records: Sequence[Dict]) -> None:
    """The ``.json`` form EmoBox ships beside each jsonl: a dict keyed by ``key``."""
    document = {item["key"]: {"wav": item["wav"], "length": item["length"], "emo": item["emo"],
                              "dataset": item["dataset"], "channel": item["channel"]} for item in records}
    path.write_text(json.dumps(document, indent=4), encoding="utf-8")


def write_audio(emobox_root: Path, item: Dict) -> Path:
    """The audio of a record under ``emobox_root``; a container's audio goes to its ``.wav`` twin."""
    path = emobox_root / item["wav"]
    if path.suffix != ".wav":
        path = path.with_suffix(".wav")
    path.parent.mkdir(parents=True, exist_ok=True)
    write_wav(path, seconds=SECONDS, sample_rate=item["sample_rate"])
    return path


def write_stm(path: Path, speakers: Dict[str, str], records: Sequence[Dict]) -> None:
    """``data.seg.wrd.stm``: ``<key> <channel> <spk> <start> <end> <id=..,lang=en,spk=..,emotion=..> <emo>``."""
    lines = [f"{item['key']} {item['channel']} {speakers[item['key']]} 0 {item['length']} "
             f"<id={item['key']},lang=en,spk={speakers[item['key']]},emotion={item['emo']}> {item['emo']}"
             for item in records if item["key"] in speakers]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_corpus(emobox_root: Path, corpus: str, label_map: Dict[str, str], folds: List[Dict[str, List[Dict]]],
                 label_map_name: str = "label_map.json", speakers: Optional[Dict[str, str]] = None) -> Path:
    """``data/<corpus>/`` with the label map, every fold's files (``folds[k-1]``: part -> records), the
    whole-corpus jsonl and, with ``speakers`` (key -> speaker), the stm. Returns the corpus folder."""
    corpus_dir = emobox_root / "data" / corpus
    corpus_dir.mkdir(parents=True, exist_ok=True)
    (corpus_dir / label_map_name).write_text(json.dumps(label_map, indent=4), encoding="utf-8")
    everything: Dict[str, Dict] = {}
    for number, parts in enumerate(folds, 1):
        for part, records in parts.items():
            path = corpus_dir / f"fold_{number}" / f"{corpus}_{part}_fold_{number}.jsonl"
            write_jsonl(path, records)
            write_json_twin(path.with_suffix(".json"), records)
            everything.update({item["key"]: item for item in records})
    write_jsonl(corpus_dir / f"{corpus}.jsonl", list(everything.values()))
    if speakers is not None:
        write_stm(corpus_dir / "data.seg.wrd.stm", speakers, list(everything.values()))
    return corpus_dir


def leave_one_out(groups: List[List[Dict]]) -> List[Dict[str, List[Dict]]]:
    """Fold k tests on ``groups[k-1]`` and trains on the other groups."""
    return [{"train": [item for other, group in enumerate(groups) if other != index for item in group],
             "test": list(group)} for index, group in enumerate(groups)]


# ---- IEMOCAP: 5 folds (test = session k), no valid file, raw exc merged into Happy -------------------------

IEMOCAP_LABEL_MAP = {"neu": "Neutral", "hap": "Happy", "ang": "Angry", "sad": "Sad", "exc": "Happy"}
#: (dialog without the session prefix, turn suffix, raw label); the turn letter, not the dialog's, is the speaker.
IEMOCAP_TURNS = [("F_impro01", "F000", "neu"), ("F_impro01", "M001", "exc"), ("M_script01_1", "F002", "ang"),
                 ("M_script01_1", "M003", "sad"), ("F_impro02", "F004", "hap")]
#: Listed in session 2 (test of fold 2, train of the others) but its audio is absent.
IEMOCAP_MISSING = "iemocap-Ses02F_impro02_F005"


def _iemocap_record(session: int, dialog: str, turn: str, emo: str) -> Dict:
    name = f"Ses0{session}{dialog}"
    wav = f"downloads/iemocap/Session{session}/sentences/wav/{name}/{name}_{turn}.wav"
    return record("iemocap", f"{name}_{turn}", wav, emo)


def build_iemocap(emobox_root: Path) -> Path:
    sessions = [[_iemocap_record(session, *turn) for turn in IEMOCAP_TURNS] for session in range(1, 6)]
    for item in (item for session in sessions for item in session):
        write_audio(emobox_root, item)
    sessions[1].append(_iemocap_record(2, "F_impro02", "F005", "neu"))
    # EmoBox's stm gives the dialog's prefix as spk, which is not the speaker of half the turns
    speakers = {item["key"]: item["key"].split("-", 1)[1][:6] for session in sessions for item in session}
    return write_corpus(emobox_root, "iemocap", IEMOCAP_LABEL_MAP, leave_one_out(sessions), speakers=speakers)


# ---- Emo-DB: 5 speaker-dependent folds, `Neutral` key vs `neutral` data, `boredem`, legacy files -----------

EMODB_LABEL_MAP = {"anger": "Angry", "boredem": "Boredom", "disgust": "Disgust", "fear": "Fear", "happy": "Happy",
                   "Neutral": "Neutral", "sad": "Sad"}
EMODB_UTTERANCES = [("03a01Wa", "anger"), ("03a02Lb", "boredem"), ("03a04Nc", "neutral"), ("08a01Ea", "disgust"),
                    ("08b01Aa", "fear"), ("08b02Fa", "happy"), ("09a05Ta", "sad"), ("09b03Wb", "anger"),
                    ("09b09Na", "neutral"), ("10a07La", "boredem"), ("10b10Fa", "happy"), ("10a01Tb", "sad"),
                    ("11b01Na", "neutral"), ("11a02Aa", "fear"), ("11a04Wc", "anger")]
#: Traps in fold 1's test file: a label outside the map, and a macOS AppleDouble file listed as audio.
EMODB_UNMAPPED = ("16b10Xa", "surprise")
EMODB_APPLE_DOUBLE = ("._03a01Wa", "anger")
#: Only in the legacy files: the adapter must not read them.
EMODB_LEGACY_ONLY = "emodb-16b10Td"


def _emodb_record(stem: str, emo: str) -> Dict:
    return record("emodb", stem, f"downloads/emodb/wav/{stem}.wav", emo)


def build_emodb(emobox_root: Path) -> Path:
    utterances = [_emodb_record(stem, emo) for stem, emo in EMODB_UTTERANCES]
    for item in utterances:
        write_audio(emobox_root, item)
    unmapped, apple_double = _emodb_record(*EMODB_UNMAPPED), _emodb_record(*EMODB_APPLE_DOUBLE)
    write_audio(emobox_root, unmapped)
    (emobox_root / apple_double["wav"]).write_bytes(APPLE_DOUBLE_BYTES)
    # every fold tests on utterances of 3 speakers and trains on all 5, like EmoBox's Emo-DB lists
    groups = [utterances[index::5] for index in range(5)]
    groups[0] += [unmapped, apple_double]
    corpus_dir = write_corpus(emobox_root, "emodb", EMODB_LABEL_MAP, leave_one_out(groups))
    legacy_extra = _emodb_record("16b10Td", "sad")
    for number, parts in enumerate(leave_one_out(groups), 1):
        for part, records in parts.items():
            legacy = [{"key": item["key"], "dataset": "emodb", "audio": item["wav"], "type": "raw",
                       "sample_rate": item["sample_rate"], "num_frame": item["num_frame"], "task": "category",
                       "label": item["emo"]} for item in [*records, legacy_extra]]
            path = corpus_dir / f"fold_{number}" / f"emodb_{part}_fold{number}.jsonl"
            write_jsonl(path, legacy)
            write_json_twin(path.with_suffix(".json"), [*records, legacy_extra])
    # a macOS copy of the metadata carries AppleDouble twins of the fold files too
    (corpus_dir / "fold_1" / "._emodb_test_fold_1.jsonl").write_bytes(APPLE_DOUBLE_BYTES)
    return corpus_dir


# ---- MELD: 1 fold with the official valid file, .mp4 paths read from extracted .wav, speakers from the stm ---

MELD_LABEL_MAP = {"neutral": "Neutral", "joy": "Happy", "sadness": "Sad", "surprise": "Surprise",
                  "disgust": "Disgust", "anger": "Angry", "fear": "Fear"}
MELD_FOLDERS = {"train": "train/train_splits", "valid": "dev_splits_complete", "test": "output_repeated_splits_test"}
MELD_SPLIT_TAGS = {"train": "train", "valid": "dev", "test": "test"}
#: part -> (dialog, utterance, raw label, speaker)
MELD_UTTERANCES: Dict[str, List[Tuple[int, int, str, str]]] = {
    "train": [(0, 0, "neutral", "Chandler"), (0, 1, "neutral", "The-Interviewer"), (1, 0, "joy", "Monica"),
              (1, 1, "anger", "Ross"), (2, 0, "sadness", "Rachel"), (2, 1, "surprise", "Joey")],
    "valid": [(0, 0, "sadness", "Phoebe"), (0, 1, "surprise", "Monica"), (1, 0, "joy", "Chandler")],
    "test": [(0, 0, "surprise", "Joey"), (0, 1, "anger", "Ross"), (1, 0, "neutral", "Rachel")],
}
#: A training video whose audio the user has not extracted.
MELD_NOT_EXTRACTED = "meld-dia9_utt0-train"


def _meld_record(part: str, dialog: int, utterance: int, emo: str) -> Dict:
    return record("meld", f"dia{dialog}_utt{utterance}-{MELD_SPLIT_TAGS[part]}",
                  f"downloads/meld/{MELD_FOLDERS[part]}/dia{dialog}_utt{utterance}.mp4", emo,
                  sample_rate=48000, channel=3 if part == "test" else 1)


def build_meld(emobox_root: Path, valid: bool = True, stm: Optional[str] = "speakers") -> Path:
    """``stm``: ``speakers`` (MELD's), ``file_names`` (a speaker field that names each utterance, as RESD's
    does) or None (no stm)."""
    parts = {part: [_meld_record(part, *entry[:3]) for entry in entries] for part, entries in MELD_UTTERANCES.items()
             if valid or part != "valid"}
    for item in (item for records in parts.values() for item in records):
        write_audio(emobox_root, item)
    not_extracted = _meld_record("train", 9, 0, "fear")
    (emobox_root / not_extracted["wav"]).write_bytes(b"\x00\x00\x00\x18ftypmp42")
    parts["train"].append(not_extracted)
    speakers = None
    if stm == "speakers":
        speakers = {f"meld-dia{d}_utt{u}-{MELD_SPLIT_TAGS[part]}": speaker
                    for part, entries in MELD_UTTERANCES.items() for d, u, _, speaker in entries}
        speakers[MELD_NOT_EXTRACTED] = "Phoebe"
    elif stm == "file_names":
        speakers = {item["key"]: item["key"].split("-", 1)[1] for records in parts.values() for item in records}
    return write_corpus(emobox_root, "meld", MELD_LABEL_MAP, [parts], speakers=speakers)


# ---- EMOVO: the label map is named label_dict.json; speakers from the stm ------------------------------------

EMOVO_LABEL_MAP = {"neu": "Neutral", "dis": "Disgust", "gio": "Happy", "pau": "Fear", "rab": "Angry",
                   "sor": "Surprise", "tri": "Sad"}
EMOVO_SPEAKERS = ("f1", "m1", "f2", "m2")


def build_emovo(emobox_root: Path) -> Path:
    groups = []
    for speakers in (EMOVO_SPEAKERS[:2], EMOVO_SPEAKERS[2:]):
        group = [record("emovo", f"{emo}-{speaker}-b1", f"downloads/emovo/{speaker}/{emo}-{speaker}-b1.wav", emo,
                        sample_rate=48000) for speaker in speakers for emo in ("neu", "gio", "tri")]
        groups.append(group)
    for item in (item for group in groups for item in group):
        write_audio(emobox_root, item)
    speakers = {item["key"]: item["key"].split("-")[2] for group in groups for item in group}
    return write_corpus(emobox_root, "emovo", EMOVO_LABEL_MAP, leave_one_out(groups),
                        label_map_name="label_dict.json", speakers=speakers)


def build_emobox(emobox_root: Path) -> Path:
    """IEMOCAP, Emo-DB, MELD and EMOVO under ``emobox_root``; returns its ``data`` folder."""
    build_iemocap(emobox_root)
    build_emodb(emobox_root)
    build_meld(emobox_root)
    build_emovo(emobox_root)
    return emobox_root / "data"
