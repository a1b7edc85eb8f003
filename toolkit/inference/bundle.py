"""Model bundles: everything ``toolkit predict`` needs to apply a trained system to new audio.

``export_bundle`` reads an ensemble directory (``system.json`` written by ``toolkit ensemble``:
the submitted combiner and the member directories in input order), each member's ``best.pt``
(a DeepSER member) or ``probe.npz`` + ``probe.json`` (a probe member), the encoder configs
``<encoder_dir>/<stream>.yaml`` of every stream the members use, and the ASR options; it writes a
directory::

    bundle.json               format, classes, members (name, kind, streams), encoder specs per stream,
                              ASR options, the combiner (method and weights)
    members/<name>/best.pt    a DeepSER member's selected checkpoint (loadable with load_member), or
    members/<name>/probe.*    a probe member
    models/<name>/            copies of encoder / ASR models given as local paths (hub names and
                              ``package:`` models are resolved where the bundle is used)

The bundle is written under a temporary name and renamed into place, so it is complete or absent.
``load_bundle`` reads it back and checks it.
"""

import dataclasses
import json
import logging
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from toolkit.emotions import CHALLENGE, Inventory
from toolkit.ensemble.meta_classifier import LinearWeights
from toolkit.ensemble.methods import SOUP, BestMember, Combiner, Linear, Pool, combiner_from_dict
from toolkit.ensemble.members import inputs_per_member
from toolkit.probes.run import PROBE_ARRAYS, PROBE_DESCRIPTION, is_probe
from toolkit.utils.atomic import PathLike
from toolkit.utils.errors import ToolkitError

logger = logging.getLogger(__name__)

BUNDLE_FORMAT = "toolkit.bundle"
#: 2: a combiner of any method and probe members; 1 (still read): a soup over DeepSER members.
BUNDLE_VERSION = 2
TEXT_KINDS = ("hf_text",)
SYSTEM_FILE = "system.json"
DEEPSER, PROBE = "deepser", "probe"


@dataclass
class BundleMember:
    name: str
    streams: List[str]
    kind: str = DEEPSER


@dataclass
class Bundle:
    """A loaded bundle description (weights stay on disk until :func:`load_members` is called)."""

    root: Path
    members: List[BundleMember]
    encoders: Dict[str, Dict]     # stream name -> EncoderSpec fields
    asr: Optional[Dict]           # AsrOptions fields, None when no stream needs a transcript
    combiner: Combiner
    source: Dict = field(default_factory=dict)
    inventory: Inventory = CHALLENGE  # the classes the combiner's probabilities are over, in order

    def member_dir(self, name: str) -> Path:
        return self.root / "members" / name

    @property
    def streams(self) -> List[str]:
        """Every stream any member uses, in first-use order."""
        seen: List[str] = []
        for member in self.members:
            seen.extend(stream for stream in member.streams if stream not in seen)
        return seen

    def encoder_spec(self, stream: str):
        from toolkit.features.encoders import EncoderSpec

        raw = dict(self.encoders[stream])
        model = raw.get("model", "")
        if model.startswith("bundle:"):
            raw["model"] = str(self.root / model.split(":", 1)[1])
        return EncoderSpec.from_dict(raw, where=f"{self.root / 'bundle.json'}: encoders.{stream}")

    def asr_options(self):
        from toolkit.asr.backends import AsrOptions

        raw = dict(self.asr or {})
        if str(raw.get("model", "")).startswith("bundle:"):
            raw["model"] = str(self.root / raw["model"].split(":", 1)[1])
        return AsrOptions(**raw)


def _copy_model(model: str, bundle_tmp: Path, name: str) -> str:
    """Copy a local model file or directory into the bundle; return the value to store."""
    source = Path(model)
    if not source.exists():
        return model
    target = bundle_tmp / "models" / name
    target.parent.mkdir(parents=True, exist_ok=True)
    if source.is_dir():
        shutil.copytree(source, target)
    else:
        target = target.with_suffix(source.suffix)
        shutil.copy2(source, target)
    return f"bundle:{target.relative_to(bundle_tmp).as_posix()}"


def _spec_fields(spec) -> Dict:
    return {f.name: getattr(spec, f.name) for f in dataclasses.fields(spec) if f.name != "where"}


def export_bundle(
    ensemble_dir: PathLike,
    bundle_dir: PathLike,
    encoder_dir: PathLike,
    asr_options=None,
    copy_models: bool = True,
    force: bool = False,
) -> Path:
    """Write a self-contained bundle of the system in ``ensemble_dir``; returns ``bundle_dir``."""
    from toolkit.features.encoders import EncoderSpec
    from toolkit.training.checkpoint import read_checkpoint

    ensemble_dir, bundle_dir, encoder_dir = Path(ensemble_dir), Path(bundle_dir), Path(encoder_dir)
    system_path = ensemble_dir / SYSTEM_FILE
    if not system_path.is_file():
        raise ToolkitError(f"{system_path}: not found; run toolkit ensemble --out-dir {ensemble_dir} first")
    system = json.loads(system_path.read_text(encoding="utf-8"))
    if bundle_dir.exists() and not force:
        raise ToolkitError(f"{bundle_dir}: already exists; remove it or pass --force to replace it")

    inventory = Inventory.from_list(system["classes"], str(system_path))
    combiner = combiner_from_dict(system["combiner"], str(system_path))
    members: List[BundleMember] = []
    sources: Dict[str, List[Path]] = {}
    for name, member_dir in zip(system["members"], system["member_dirs"]):
        member_dir = Path(member_dir)
        if is_probe(member_dir):
            description = json.loads((member_dir / PROBE_DESCRIPTION).read_text(encoding="utf-8"))
            members.append(BundleMember(name=name, streams=description["streams"], kind=PROBE))
            sources[name] = [member_dir / PROBE_DESCRIPTION, member_dir / PROBE_ARRAYS]
        else:
            payload = read_checkpoint(member_dir / "best.pt")
            members.append(BundleMember(name=name, streams=[stream["name"] for stream in payload["streams"]]))
            sources[name] = [member_dir / "best.pt"]
    _check_combiner(combiner, len(members), inventory, system_path)

    tmp = bundle_dir.with_name(f"{bundle_dir.name}.tmp-{os.getpid()}")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    try:
        encoders = {}
        needs_text = False
        for stream in dict.fromkeys(s for member in members for s in member.streams):
            spec = EncoderSpec.from_yaml(encoder_dir / f"{stream}.yaml")
            fields = _spec_fields(spec)
            if copy_models and spec.model:
                fields["model"] = _copy_model(spec.model, tmp, stream)
            encoders[stream] = fields
            needs_text = needs_text or spec.kind in TEXT_KINDS
        asr = None
        if needs_text:
            from toolkit.asr.backends import AsrOptions

            asr = dict((asr_options or AsrOptions()).as_dict())
            if copy_models:
                asr["model"] = _copy_model(str(asr["model"]), tmp, "asr")
        for member in members:
            target = tmp / "members" / member.name
            target.mkdir(parents=True)
            for source in sources[member.name]:
                shutil.copy2(source, target / source.name)
        description = {
            "format": BUNDLE_FORMAT,
            "format_version": BUNDLE_VERSION,
            "classes": inventory.to_list(),
            "members": [dataclasses.asdict(member) for member in members],
            "encoders": encoders,
            "asr": asr,
            "combiner": combiner.to_dict(),
            "source": {"ensemble_dir": str(ensemble_dir.resolve()), "submitted": system.get("submitted"),
                       "choice": system.get("choice"), "config": system.get("config")},
        }
        (tmp / "bundle.json").write_text(json.dumps(description, indent=2) + "\n", encoding="utf-8")
        if bundle_dir.exists():
            shutil.rmtree(bundle_dir)
        os.replace(tmp, bundle_dir)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    logger.info("bundle of %d members over streams %s written to %s", len(members), ", ".join(encoders), bundle_dir)
    return bundle_dir


def load_bundle(bundle_dir: PathLike) -> Bundle:
    root = Path(bundle_dir)
    path = root / "bundle.json"
    if not path.is_file():
        raise ToolkitError(f"{path}: not found; {root} is not a bundle (create one with toolkit export)")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ToolkitError(f"{path}: not valid JSON ({error}); re-export the bundle") from None
    if raw.get("format") != BUNDLE_FORMAT:
        raise ToolkitError(f"{path}: not a toolkit bundle (format {raw.get('format')!r})")
    if raw.get("format_version", 0) > BUNDLE_VERSION:
        raise ToolkitError(f"{path}: written by a newer toolkit (format {raw['format_version']}); upgrade the toolkit")
    combiner = combiner_from_dict(raw["combiner"], str(path)) if "combiner" in raw else \
        Linear(LinearWeights.from_dict(raw["soup"]), SOUP)
    bundle = Bundle(
        root=root,
        members=[BundleMember(**member) for member in raw["members"]],
        encoders=raw["encoders"],
        asr=raw.get("asr"),
        combiner=combiner,
        source=raw.get("source", {}),
        inventory=Inventory.from_list(raw["classes"], str(path)) if "classes" in raw else CHALLENGE,
    )
    _check_combiner(bundle.combiner, len(bundle.members), bundle.inventory, path)
    needed = [bundle.member_dir(m.name) / (PROBE_ARRAYS if m.kind == PROBE else "best.pt") for m in bundle.members]
    missing = [str(file) for file in needed if not file.is_file()]
    if missing:
        raise ToolkitError(f"{path}: member file(s) missing: {', '.join(missing)}; re-export the bundle")
    unknown = [s for s in bundle.streams if s not in bundle.encoders]
    if unknown:
        raise ToolkitError(f"{path}: no encoder spec for stream(s) {', '.join(unknown)}; re-export the bundle")
    return bundle


def _check_combiner(combiner: Combiner, members: int, inventory: Inventory, where: Path) -> None:
    """A combiner must fit the members and the classes."""
    if isinstance(combiner, BestMember) and not 0 <= combiner.member < members:
        raise ToolkitError(f"{where}: the best-member combiner names member {combiner.member} of {members}")
    if isinstance(combiner, Pool) and (len(combiner.weights.member_weights) != members
                                       or len(combiner.weights.class_bias) != inventory.num_classes):
        raise ToolkitError(f"{where}: the pool weighs {len(combiner.weights.member_weights)} members over "
                           f"{len(combiner.weights.class_bias)} classes, not {members} members over "
                           f"{inventory.num_classes} classes")
    if not isinstance(combiner, Linear):
        return
    weights = combiner.weights
    per_member = inputs_per_member(inventory.num_classes)
    if weights.weight.shape[1] != per_member * members or weights.num_classes != inventory.num_classes:
        raise ToolkitError(f"{where}: the {combiner.method} expects {weights.weight.shape[1]} inputs and "
                           f"{weights.num_classes} classes, not {members} members x {per_member} over "
                           f"{inventory.num_classes} classes")


def load_members(bundle: Bundle, device: str = "cpu") -> List:
    """The members in the combiner's input order: DeepSER models (eval mode) or ``LinearProbe`` objects."""
    from toolkit.probes.run import load_probe
    from toolkit.training.checkpoint import load_member

    return [load_probe(bundle.member_dir(member.name)) if member.kind == PROBE
            else load_member(bundle.member_dir(member.name), device=device)[0] for member in bundle.members]


def text_streams(bundle: Bundle) -> Sequence[str]:
    return [stream for stream in bundle.streams if bundle.encoders[stream]["kind"] in TEXT_KINDS]
