"""Cross-corpus evaluation: a system's classes mapped onto another corpus's inventory.

Reads and writes nothing; numpy-free so ``toolkit score`` can use it without slowing its start.
A ``ClassMap`` sends each class code of a source inventory (the system's, e.g. MSP-Podcast's 8)
to a code of a target inventory (the corpus it is scored on, e.g. IEMOCAP's 4) or to nothing:

- by default a class goes to the target class with the same code (codes are shared across
  corpora: ``toolkit.emotions.STANDARD_NAMES``), and source classes the target lacks go nowhere;
- explicit pairs (``--class-map "E=H,K=N"`` or a YAML/JSON file ``source: target``) add merges
  or rename codes; ``source=-`` drops a source class explicitly.

Probabilities are mapped by summing the source classes that go to each target class and
renormalising over the target classes ("restrict to the shared classes and renormalise"); a hard
prediction of a class that goes nowhere maps to no class, and counts as an error for the true one.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from toolkit.emotions import Inventory
from toolkit.utils.errors import ToolkitError

DROP = "-"


@dataclass(frozen=True)
class ClassMap:
    source: Inventory
    target: Inventory
    #: source code -> target code (sources missing here go nowhere)
    pairs: Dict[str, str]

    def target_index(self, source_code: str) -> int:
        """Index in the target inventory of a source class, -1 when it goes nowhere."""
        target = self.pairs.get(source_code)
        return self.target.index(target) if target is not None else -1

    def matrix(self) -> List[List[float]]:
        """(source classes, target classes) 0/1 matrix: probabilities @ matrix sums the mapped mass."""
        return [[1.0 if self.pairs.get(code) == target else 0.0 for target in self.target.codes]
                for code in self.source.codes]

    def unreachable(self) -> List[str]:
        """Target classes no source class maps to: the system can never predict them."""
        return [code for code in self.target.codes if code not in self.pairs.values()]

    def describe(self) -> str:
        kept = ", ".join(f"{source}->{target}" if source != target else source
                         for source, target in self.pairs.items())
        dropped = [code for code in self.source.codes if code not in self.pairs]
        text = f"classes mapped {kept}"
        if dropped:
            text += f"; dropped {', '.join(dropped)}"
        if self.unreachable():
            text += f"; never predicted: {', '.join(self.unreachable())}"
        return text


def _explicit_pairs(spec: str) -> Tuple[List[Tuple[str, str]], str]:
    path = Path(spec)
    if path.is_file():
        import yaml

        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
        if not isinstance(loaded, dict):
            raise ToolkitError(f"{path}: a class map is a mapping 'source code: target code', e.g. 'E: H'")
        return [(str(source), str(target)) for source, target in loaded.items()], str(path)
    if "=" not in spec:
        raise ToolkitError(f"class map {spec!r} is neither a file nor an inline map like 'E=H,K=N,C=-'")
    return [tuple(part.strip() for part in item.split("=", 1)) for item in spec.split(",") if item.strip()], \
        "inline class map"


def build_class_map(source: Inventory, target: Inventory, spec: Optional[str] = None) -> ClassMap:
    """Shared codes map to themselves; ``spec`` adds or overrides pairs (``S=T``, ``S=-`` to drop)."""
    pairs = {code: code for code in source.codes if code in target.codes}
    if spec:
        explicit, where = _explicit_pairs(spec)
        for source_code, target_code in explicit:
            if source_code not in source.codes:
                raise ToolkitError(f"{where}: {source_code!r} is not a class of the system ({','.join(source.codes)})")
            if target_code == DROP:
                pairs.pop(source_code, None)
                continue
            if target_code not in target.codes:
                raise ToolkitError(f"{where}: {target_code!r} is not a class of the target ({','.join(target.codes)})")
            pairs[source_code] = target_code
    if not pairs:
        raise ToolkitError(f"no class of the system ({','.join(source.codes)}) maps onto the target's "
                           f"({','.join(target.codes)}); give pairs with --class-map, e.g. 'E=H'")
    return ClassMap(source, target, {code: pairs[code] for code in source.codes if code in pairs})


def map_probabilities(probabilities: Sequence[Sequence[float]], class_map: ClassMap):
    """(rows, target classes) probabilities: mapped mass summed per target class, renormalised."""
    import numpy as np

    mapped = np.asarray(probabilities, dtype=np.float64) @ np.asarray(class_map.matrix())
    totals = mapped.sum(axis=1, keepdims=True)
    return mapped / np.where(totals > 0, totals, 1.0)
