"""Stage 0 for any corpus laid out as a folder of wavs plus one label CSV: the generic adapter.

Reads ``AUDIO_DIR`` (wavs, searched recursively) and ``LABELS_CSV`` with the header
``FileName,label[,speaker,split,arousal,valence,dominance,gender,text]`` (``FileName`` relative to
``AUDIO_DIR``), plus a label map (corpus label -> class: a standard code or name such as ``A`` or
``anger``, a new class ``"CODE Name"``, or ``O``/``X``). Writes the same files as the
MSP-Podcast adapter: ``OUTDIR/<split>/manifest.csv`` for every split that has rows (columns of
``toolkit.data.manifest.manifest_columns``) and ``OUTDIR/prepare_summary.json``.

- The inventory follows from the label map: the classes it maps to that occur in the kept rows,
  in the standard order (``toolkit.emotions.canonical_order``), unless ``classes`` pins it
  (rows of a class outside it are then skipped and counted). It is recorded in the summary
  (``"classes"``) and as the manifests' ``soft_<code>`` columns.
- Soft labels are one-hot on the mapped class (one label per file, no annotators, so
  ``n_annotators`` is 0); ``O`` and ``X`` rows get no soft label but keep their attributes.
- Attributes are rescaled linearly from ``attribute_range`` to MSP-Podcast's 1-7 scale.
- Splits come from the ``split`` column (train/development/test3, with common aliases) or, without
  one, from a deterministic hash of the speaker (of the file when there is no speaker) that sends
  about ``dev_fraction`` of speakers to Development, so Train and Development share no speaker.
- Wavs with no CSV row become unlabelled Test3 utterances, and are counted as such.
- Bad rows (unknown label, missing or unreadable wav, duplicate FileName, bad numbers, unknown split)
  are skipped and counted with file:line examples; ``strict=True`` makes the first one fatal.
"""

import hashlib
import json
import logging
from collections import Counter
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Tuple

from tqdm import tqdm

from toolkit.corpora.rows import add_soft_labels, rescale_attribute, utterance_row
from toolkit.data.manifest import SPLIT_NAMES, manifest_columns, write_manifest
from toolkit.data.problems import ProblemLog
from toolkit.data.tables import read_csv_chunks, read_header
from toolkit.emotions import (
    ATTRIBUTES,
    CHALLENGE,
    CLASS_NAME_ALIASES,
    NON_TARGET_CODES,
    STANDARD_NAMES,
    Inventory,
    canonical_order,
    check_code,
)
from toolkit.utils.atomic import PathLike, atomic_write_json
from toolkit.utils.errors import ToolkitError

logger = logging.getLogger(__name__)

REQUIRED_COLUMNS = ("FileName", "label")
OPTIONAL_COLUMNS = ("speaker", "split", "arousal", "valence", "dominance", "gender", "text")
#: Optional attribute columns of the generic CSV and the manifest column each one fills.
ATTRIBUTE_COLUMNS = dict(zip(("arousal", "valence", "dominance"), ATTRIBUTES))

SPLIT_ALIASES: Dict[str, str] = {
    "train": "Train", "training": "Train",
    "development": "Development", "dev": "Development", "valid": "Development", "validation": "Development",
    "test": "Test3", "test3": "Test3", "test1": "Test1", "test2": "Test2",
}


class LabelMap(dict):
    """Corpus label (lower case) -> class code; ``names`` holds the names of the classes it introduces."""

    def __init__(self, mapping: Dict[str, str], names: Optional[Dict[str, str]] = None):
        super().__init__(mapping)
        self.names: Dict[str, str] = dict(names or {})

    def name_of(self, code: str) -> str:
        return self.names.get(code) or STANDARD_NAMES.get(code, code)


def default_label_map() -> LabelMap:
    """The challenge's codes and the standard class names and their forms (angry, sad, calm, ...), lower-case."""
    mapping = {code.lower(): code for code in (*CHALLENGE.codes, *NON_TARGET_CODES)}
    mapping.update(CLASS_NAME_ALIASES)
    mapping.update({"other": "O", "no agreement": "X"})
    return LabelMap(mapping)


def parse_class_value(label: str, value: str, where: str) -> Tuple[str, Optional[str]]:
    """(code, name of a new class or None) for a label map value.

    A value is ``O`` or ``X``, a standard code (``A``) or name (``Anger``, ``angry``), or a new
    class written ``CODE Name`` (``P Pleasant surprise``).
    """
    text = str(value).strip()
    code, _, name = text.partition(" ")
    if name.strip():
        return check_code(code, f"{where}: label {label!r}"), name.strip()
    if text.upper() in NON_TARGET_CODES or text.upper() in STANDARD_NAMES:
        return text.upper(), None
    if text.lower() in CLASS_NAME_ALIASES:
        return CLASS_NAME_ALIASES[text.lower()], None
    raise ToolkitError(
        f"{where}: label {label!r} maps to {text.upper()!r}, which is not a known class; use a standard code or name "
        f"({', '.join(f'{c} {n}' for c, n in STANDARD_NAMES.items())}), O other, X no agreement, or name a new class "
        f"as 'CODE Name', e.g. 'P Pleasant surprise'"
    )


def read_label_pairs(spec: str) -> Tuple[List[Tuple[str, str]], str]:
    """(label, class) pairs as written in a YAML/JSON label-map file or an inline ``a=b,c=d`` string,
    and where they came from (for messages); the classes are not interpreted here."""
    path = Path(spec)
    if path.is_file():
        import yaml

        try:
            loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as error:
            raise ToolkitError(f"{path}: not valid YAML/JSON ({error}); expected lines like 'angry: A'") from None
        if not isinstance(loaded, dict) or not loaded:
            raise ToolkitError(f"{path}: expected a mapping of corpus label to class code, like 'angry: A'")
        return [(str(label), str(value)) for label, value in loaded.items()], str(path)
    if "=" not in spec:
        raise ToolkitError(
            f"label map {spec!r} is neither a file nor an inline map; give a YAML file or 'angry=A,sad=S,...'"
        )
    return [tuple(item.split("=", 1)) for item in spec.split(",") if item.strip()], "inline label map"


def load_label_map(spec: Optional[str]) -> LabelMap:
    """A label map from a YAML/JSON file (``label: class``) or an inline ``label=class,label=class`` string.

    Keys are matched case-insensitively; values as in ``parse_class_value``. ``None`` or an
    empty string gives ``default_label_map()``.
    """
    if not spec:
        return default_label_map()
    pairs, where = read_label_pairs(spec)
    mapping: Dict[str, str] = {}
    names: Dict[str, str] = {}
    for label, value in pairs:
        code, name = parse_class_value(str(label).strip(), str(value), where)
        if name is not None:
            if names.get(code, name) != name:
                raise ToolkitError(f"{where}: class {code} is named both {names[code]!r} and {name!r}; use one name")
            names[code] = name
        mapping[str(label).strip().lower()] = code
    return LabelMap(mapping, names)


def _dev_by_hash(key: str, dev_fraction: float) -> bool:
    digest = hashlib.md5(key.encode("utf-8")).hexdigest()
    return int(digest[:8], 16) / 0xFFFFFFFF < dev_fraction


def prepare_generic(audio_dir: PathLike, labels_csv: PathLike, output_dir: PathLike,
                    label_map: Optional[LabelMap] = None, dev_fraction: float = 0.2,
                    attribute_range: Tuple[float, float] = (1.0, 7.0), strict: bool = False,
                    classes: Optional[Inventory] = None) -> Dict[str, object]:
    """Write per-split manifests and ``prepare_summary.json`` for a wav folder plus label CSV; return the summary.

    ``classes`` pins the inventory; by default it is the label map's classes that occur in the rows.
    """
    audio_dir, labels_csv, output_dir = Path(audio_dir), Path(labels_csv), Path(output_dir)
    if not audio_dir.is_dir():
        raise ToolkitError(f"{audio_dir}: audio directory not found; give the folder that holds the wavs")
    if not 0.0 <= dev_fraction < 1.0:
        raise ToolkitError(f"--dev-fraction must be in [0, 1), got {dev_fraction}")
    low, high = attribute_range
    if not high > low:
        raise ToolkitError(f"--attribute-range needs LOW < HIGH, got {low} {high}")
    mapping = default_label_map() if label_map is None else label_map
    if not isinstance(mapping, LabelMap):
        mapping = LabelMap(mapping)
    problems = ProblemLog(strict=strict)

    header = read_header(labels_csv)
    present = [column for column in OPTIONAL_COLUMNS if column in header]
    unknown = [column for column in header if column not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
    if unknown:
        logger.warning("%s: ignoring column(s) %s (known: %s)", labels_csv, ", ".join(unknown),
                       ",".join(REQUIRED_COLUMNS + OPTIONAL_COLUMNS))

    rows: Dict[str, List[Dict[str, str]]] = {}
    seen: Dict[str, int] = {}
    for chunk in read_csv_chunks(labels_csv, [*REQUIRED_COLUMNS, *present], problems):
        for record in tqdm(chunk.to_dict("records"), desc=f"reading {labels_csv.name}", unit="row", leave=False):
            where = f"{labels_csv}:{record['line']}"
            file_name = record["FileName"]
            if not file_name:
                problems.report("missing_file_name", 1, [f"{where}: empty FileName; row skipped"])
                continue
            if file_name in seen:
                problems.report("duplicate_file_name", 1, [
                    f"{where}: FileName {file_name} already on line {seen[file_name]}; row skipped"])
                continue
            seen[file_name] = record["line"]
            label = record["label"]
            code = mapping.get(label.lower()) if label else ""
            if code is None:
                problems.report("unknown_label", 1, [
                    f"{where}: label {label!r} is not in the label map; add '{label.lower()}: CLASS' "
                    f"(a class code or name, O other or X no agreement) to the map or fix the row; row skipped"])
                continue
            if classes is not None and code and code not in NON_TARGET_CODES and code not in classes.codes:
                problems.report("class_not_in_inventory", 1, [
                    f"{where}: label {label!r} is class {code}, which is not in --classes {','.join(classes.codes)}; "
                    "row skipped"])
                continue
            split_value = record.get("split", "")
            if split_value:
                split = SPLIT_ALIASES.get(split_value.lower())
                if split is None:
                    problems.report("unknown_split", 1, [
                        f"{where}: split {split_value!r} unknown; use train, development or test3; row skipped"])
                    continue
            elif "split" in present:
                problems.report("empty_split", 1, [f"{where}: empty split; use train, development or test3; row skipped"])
                continue
            else:
                key = record.get("speaker") or file_name
                split = "Development" if _dev_by_hash(key, dev_fraction) else "Train"
            if not code and split in ("Train", "Development"):
                problems.report("missing_label", 1, [f"{where}: {split} row without a label; row skipped"])
                continue
            try:
                attributes = {ATTRIBUTE_COLUMNS[name]: rescale_attribute(float(record[name]), low, high)
                              for name in ATTRIBUTE_COLUMNS if record.get(name, "")}
            except ValueError as error:
                reason = "attribute_out_of_range" if "outside" in str(error) else "unparsable_number"
                problems.report(reason, 1, [f"{where}: {error}; row skipped"])
                continue
            wav = audio_dir / file_name
            if not wav.is_file():
                problems.report("missing_audio", 1, [f"{where}: {wav} not found; row skipped"])
                continue
            try:
                row = utterance_row(file_name, wav, code, record.get("speaker", ""), record.get("gender", ""),
                                    attributes, record.get("text", ""), split)
            except ToolkitError as error:
                problems.report("unreadable_audio", 1, [f"{where}: {error}; row skipped"])
                continue
            rows.setdefault(split, []).append(row)

    unlisted = sorted(str(path.relative_to(audio_dir)) for path in audio_dir.rglob("*.wav")
                      if str(path.relative_to(audio_dir)) not in seen)
    for file_name in tqdm(unlisted, desc="unlisted wavs", unit="wav", leave=False):
        try:
            rows.setdefault("Test3", []).append(
                utterance_row(file_name, audio_dir / file_name, "", split_set="Test3"))
        except ToolkitError as error:
            problems.report("unreadable_audio", 1, [f"{audio_dir / file_name}: {error}; file skipped"])
    if unlisted:
        logger.info("%d wav(s) have no row in %s: written to test3 as unlabelled", len(unlisted), labels_csv)

    for needed in ("Train", "Development"):
        if not rows.get(needed):
            raise ToolkitError(
                f"{labels_csv}: no usable {needed} rows; give a split column with train and development rows, "
                "or drop the split column and set --dev-fraction > 0"
            )
    inventory = classes or _occurring_classes(rows, mapping, labels_csv)
    return _write_outputs(rows, output_dir, problems, labels_csv, audio_dir, len(unlisted), inventory)


def _occurring_classes(rows: Dict[str, List[Dict[str, str]]], mapping: LabelMap, labels_csv: Path) -> Inventory:
    """The label map's target classes that label at least one kept row, in the standard order."""
    found = {row["EmoClass"] for split_rows in rows.values() for row in split_rows} - set(NON_TARGET_CODES) - {""}
    unused = canonical_order(set(mapping.values()) - found - set(NON_TARGET_CODES))
    if unused:
        logger.info("label map class(es) %s label no kept row: left out of the inventory (--classes keeps them)",
                    ", ".join(unused))
    if len(found) < 2:
        raise ToolkitError(f"{labels_csv}: the kept rows carry {len(found)} class(es) ({', '.join(sorted(found)) or 'none'}); "
                           "a classifier needs 2 or more: check the label column and the label map")
    codes = canonical_order(found)
    return Inventory.from_codes(codes, {code: mapping.name_of(code) for code in codes})


def _write_outputs(rows: Dict[str, List[Dict[str, str]]], output_dir: Path, problems: ProblemLog,
                   labels_csv: Path, audio_dir: Path, unlisted: int, inventory: Inventory) -> Dict[str, object]:
    import pandas as pd

    summary: Dict[str, object] = {"adapter": "generic", "classes": inventory.to_list(), "labels": str(labels_csv),
                                  "audio_dir": str(audio_dir), "splits": {}, "unlisted_wavs_to_test3": unlisted,
                                  "skipped": problems.to_dict(), "skipped_total": problems.total()}
    logger.info("classes (%d): %s", inventory.num_classes, inventory.describe())
    for split, split_rows in sorted(rows.items()):
        name = SPLIT_NAMES[split]
        labelled = add_soft_labels(split_rows, inventory)
        frame = pd.DataFrame(sorted(labelled, key=lambda row: row["FileName"]), columns=manifest_columns(inventory))
        write_manifest(frame, output_dir / name / "manifest.csv")
        classes = Counter(row["EmoClass"] or "unlabelled" for row in split_rows)
        summary["splits"][name] = {"rows": len(split_rows), "classes": dict(sorted(classes.items()))}
        logger.info("%s: %d rows %s", name, len(split_rows), json.dumps(dict(sorted(classes.items()))))
    if problems.total():
        logger.warning("skipped %d row(s): %s", problems.total(),
                       ", ".join(f"{reason} {count}" for reason, count in sorted(problems.counts.items())))
    atomic_write_json(output_dir / "prepare_summary.json", summary)
    return summary
