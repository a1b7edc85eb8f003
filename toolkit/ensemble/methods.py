"""Combination methods: one small interface, so the ensemble stage loops over a registry.

Reads and writes nothing. A ``Method`` is fitted on members' outputs and labels
(``fit(outputs, classes, attributes) -> Combiner``); a ``Combiner`` maps members' outputs to class
probabilities and attributes (``apply(outputs)``) and serialises to a plain dict
(``to_dict``/``combiner_from_dict``), which ``system.json`` and exported bundles store. Members'
outputs are ``MemberOutputs``: posteriors ``(members, rows, classes)`` and attributes
``(members, rows, 3)``.

Methods, from the simplest (``SIMPLICITY`` order, used to break near ties in ``auto``):

- ``soft-vote``: the mean posterior; attributes the members' mean.
- ``hard-vote``: the class most members pick (a tie goes to the tied class with the highest summed
  posterior); probabilities are the vote shares; attributes the members' mean.
- ``best-member``: the member with the best Macro-F1 on the rows it is fitted on.
- ``pool``: a weighted log-linear pool, one weight per member and one bias per class over the
  members' log posteriors, fitted with a class-balanced loss (``pool``); attributes the members' mean.
- ``meta``: MEDUSA stage 3, one linear layer over every member's posteriors and attributes
  (``meta_classifier``); its L2 penalty is chosen by inner cross-validation on the rows it is
  fitted on (``choose_weight_decay``).
- ``soup``: MEDUSA stage 4, ``soup_runs`` meta-classifiers averaged weight by weight, with the
  penalty chosen the same way.
"""

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from toolkit.emotions import ATTRIBUTE_MAX, ATTRIBUTE_MIN
from toolkit.ensemble.members import softmax
from toolkit.ensemble.meta_classifier import LinearWeights, MetaConfig, choose_weight_decay, fit_meta_classifier
from toolkit.ensemble.pool import PoolConfig, PoolWeights, fit_log_linear_pool
from toolkit.ensemble.soup import fit_soup
from toolkit.metrics import macro_f1
from toolkit.utils.errors import ToolkitError

SOFT_VOTE, HARD_VOTE, BEST_MEMBER, POOL, META, SOUP = "soft-vote", "hard-vote", "best-member", "pool", "meta", "soup"
#: Method names from the simplest to the most fitted: ``auto`` prefers the earlier one on a near tie.
SIMPLICITY: Tuple[str, ...] = (SOFT_VOTE, HARD_VOTE, BEST_MEMBER, POOL, META, SOUP)
TITLES = {SOFT_VOTE: "soft voting", HARD_VOTE: "hard voting", BEST_MEMBER: "best single member",
          POOL: "weighted pool", META: "meta-classifier", SOUP: "soup"}


@dataclass
class MemberOutputs:
    """Every member's posteriors (members, rows, classes) and attributes (members, rows, 3) on some rows."""

    posteriors: np.ndarray
    attributes: np.ndarray

    def rows(self, index: np.ndarray) -> "MemberOutputs":
        return MemberOutputs(self.posteriors[:, index], self.attributes[:, index])

    def stacked(self) -> np.ndarray:
        """The meta-classifier's input (rows, members x (classes + 3)): per member posteriors then attributes."""
        return np.concatenate([np.concatenate([p, a], axis=1) for p, a in zip(self.posteriors, self.attributes)], axis=1)

    @property
    def num_classes(self) -> int:
        return self.posteriors.shape[2]


class Combiner:
    """A fitted combination: ``apply`` gives (probabilities (rows, classes), attributes (rows, 3) in 1-7)."""

    method: str

    def apply(self, outputs: MemberOutputs) -> Tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def payload(self) -> Dict[str, object]:
        return {}

    def to_dict(self) -> Dict[str, object]:
        return {"method": self.method, **self.payload()}


class SoftVote(Combiner):
    method = SOFT_VOTE

    def apply(self, outputs):
        return outputs.posteriors.mean(axis=0), outputs.attributes.mean(axis=0)


class HardVote(Combiner):
    method = HARD_VOTE

    def apply(self, outputs):
        posteriors = outputs.posteriors
        members, _, classes = posteriors.shape
        votes = np.eye(classes)[posteriors.argmax(axis=2)].sum(axis=0)
        # Summed posteriors are at most the number of members, so scaled below one vote they only
        # order classes with equal votes.
        scores = votes + posteriors.sum(axis=0) / (members + 1)
        return scores / scores.sum(axis=1, keepdims=True), outputs.attributes.mean(axis=0)


@dataclass
class BestMember(Combiner):
    member: int
    method = BEST_MEMBER

    def apply(self, outputs):
        return outputs.posteriors[self.member], outputs.attributes[self.member]

    def payload(self):
        return {"member": self.member}


@dataclass
class Pool(Combiner):
    weights: PoolWeights
    method = POOL

    def apply(self, outputs):
        return softmax(self.weights.logits(outputs.posteriors)), outputs.attributes.mean(axis=0)

    def payload(self):
        return {"weights": self.weights.to_dict()}


@dataclass
class Linear(Combiner):
    """A meta-classifier or a soup: linear weights over the stacked member outputs."""

    weights: LinearWeights
    method: str = META
    weight_decay: float = 0.0
    runs: int = 1

    def apply(self, outputs):
        logits, attributes = self.weights.apply(outputs.stacked())
        return softmax(logits), np.clip(attributes, ATTRIBUTE_MIN, ATTRIBUTE_MAX)

    def payload(self):
        return {"weights": self.weights.to_dict(), "weight_decay": self.weight_decay, "runs": self.runs}


def combiner_from_dict(payload: Dict[str, object], where: str) -> Combiner:
    """A combiner saved with ``to_dict``."""
    method = payload.get("method")
    if method == SOFT_VOTE:
        return SoftVote()
    if method == HARD_VOTE:
        return HardVote()
    if method == BEST_MEMBER:
        return BestMember(int(payload["member"]))
    if method == POOL:
        return Pool(PoolWeights.from_dict(payload["weights"]))
    if method in (META, SOUP):
        return Linear(LinearWeights.from_dict(payload["weights"]), method, float(payload.get("weight_decay", 0.0)),
                      int(payload.get("runs", 1)))
    raise ToolkitError(f"{where}: unknown combination method {method!r}; expected one of {', '.join(SIMPLICITY)}")


@dataclass
class EnsembleConfig:
    """Settings of the ensemble stage; the defaults are those documented in docs/ensemble.md."""

    folds: int = 5
    soup_runs: int = 6
    seed: int = 42
    test_split: str = "test3"
    meta: MetaConfig = field(default_factory=MetaConfig)
    pool: PoolConfig = field(default_factory=PoolConfig)
    #: L2 penalties the inner cross-validation chooses from (empty: always ``meta.weight_decay``).
    weight_decay_grid: Tuple[float, ...] = (1e-4, 1e-3, 1e-2, 1e-1, 1.0)
    inner_folds: int = 3
    #: The submitted method: one of ``SIMPLICITY`` or ``auto`` (``toolkit.ensemble.choice``).
    combine: str = "auto"
    #: ``auto`` keeps this method unless another beats it out-of-fold by more than ``auto_margin``
    #: standard errors (``None``: the one-standard-error rule alone).
    auto_default: Optional[str] = POOL
    auto_margin: float = 3.0
    auto_resamples: int = 1000


def _weight_decay(outputs: MemberOutputs, classes: np.ndarray, attributes: np.ndarray, settings: EnsembleConfig,
                  seed: int, device) -> float:
    if not settings.weight_decay_grid or len(classes) < 2 * settings.inner_folds:
        # Too few rows to hold any out: the configured penalty.
        return settings.meta.weight_decay
    return choose_weight_decay(outputs.stacked(), classes, attributes, settings.weight_decay_grid,
                               settings.inner_folds, seed, settings.meta, outputs.num_classes, device)


def fit_method(method: str, outputs: MemberOutputs, classes: np.ndarray, attributes: np.ndarray,
               settings: EnsembleConfig, seed: int, device=None) -> Combiner:
    """Fit ``method`` on these rows (``classes``: inventory indices, -1 without one; ``attributes`` NaN where unknown)."""
    from dataclasses import replace

    if method == SOFT_VOTE:
        return SoftVote()
    if method == HARD_VOTE:
        return HardVote()
    labelled = classes >= 0
    if method == BEST_MEMBER:
        scores = [macro_f1(classes[labelled], outputs.posteriors[m, labelled].argmax(axis=1), outputs.num_classes)
                  for m in range(outputs.posteriors.shape[0])]
        return BestMember(int(np.argmax(scores)))
    if method == POOL:
        return Pool(fit_log_linear_pool(outputs.posteriors, classes, settings.pool))
    if method not in (META, SOUP):
        raise ToolkitError(f"unknown combination method {method!r}; use one of {', '.join(SIMPLICITY)}")
    decay = _weight_decay(outputs, classes, attributes, settings, seed, device)
    config = replace(settings.meta, weight_decay=decay)
    inputs = outputs.stacked()
    if method == META:
        weights = fit_meta_classifier(inputs, classes, attributes, config=config, seed=seed, device=device,
                                      num_classes=outputs.num_classes)
        return Linear(weights, META, decay)
    weights, runs = fit_soup(inputs, classes, attributes, runs=settings.soup_runs, folds=settings.folds, seed=seed,
                             config=config, device=device, num_classes=outputs.num_classes)
    return Linear(weights, SOUP, decay, len(runs))


def parse_methods(names: Sequence[str]) -> List[str]:
    unknown = [name for name in names if name not in SIMPLICITY]
    if unknown:
        raise ToolkitError(f"unknown combination method(s) {', '.join(unknown)}; use {', '.join(SIMPLICITY)}")
    return [name for name in SIMPLICITY if name in names]
