"""``--combine auto``: which combination method to submit, from out-of-fold Development scores.

Reads and writes nothing. Out-of-fold Development Macro-F1 ranks the candidates; the standard
error of each one's difference to the best comes from a paired bootstrap over the Development rows,
so it shrinks as Development grows. Two rules, in order:

1. **The default stays unless beaten.** ``default`` (``EnsembleConfig.auto_default``: the weighted pool) is submitted
   unless the best method beats it by more than ``margin`` standard errors (``EnsembleConfig.auto_margin``:
   3). The default is a method that won on held-out corpora (benchmarks/bench_quality.py's tuning
   corpora, docs/ensemble.md); a 120-row Development set is too noisy to overturn that on a small
   out-of-fold difference, and its class balance differs from a balanced test set's, so its ranking
   of close methods is not the test set's. Why three: the best of five challengers is compared with
   the default, so its lead is the largest of five noisy leads; on the tuning corpora a margin of
   three scored better than one (docs/ensemble.md, "The switching margin").
2. **The one-standard-error rule** (Breiman et al., 1984; Hastie et al., *Elements of Statistical
   Learning* §7.10), without a default or when it is beaten: the simplest method
   (``methods.SIMPLICITY``) within one standard error of the best. Why: a meta-classifier or soup
   fitted on a small Development set can win out-of-fold by chance and lose on the test set.
"""

from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence

import numpy as np

from toolkit.ensemble.methods import TITLES
from toolkit.ensemble.results import SystemPredictions
from toolkit.metrics import confusion_scores


@dataclass
class Choice:
    method: str
    reason: str
    #: Per candidate: out-of-fold Macro-F1, and the bootstrap standard error of its difference to the best.
    scores: Dict[str, Dict[str, float]]


def choose_method(held_out: Dict[str, SystemPredictions], classes: np.ndarray, num_classes: int,
                  candidates: Sequence[str], resamples: int = 1000, seed: int = 0,
                  default: Optional[str] = None, margin: float = 3.0) -> Choice:
    """``default`` unless beaten by more than ``margin`` standard errors, else the simplest of ``candidates``
    (ordered simplest first) within one standard error of the best."""
    labelled = np.flatnonzero(classes >= 0)
    truth = classes[labelled]
    predicted = {name: held_out[name].classes[labelled] for name in candidates}
    observed = {name: confusion_scores(truth, predicted[name], num_classes)["macro_f1"] for name in candidates}
    best = max(candidates, key=lambda name: (observed[name], -list(candidates).index(name)))
    rng = np.random.default_rng(seed)
    draws: Dict[str, List[float]] = {name: [] for name in candidates}
    for _ in range(resamples):
        rows = rng.integers(0, len(truth), size=len(truth))
        best_score = confusion_scores(truth[rows], predicted[best][rows], num_classes)["macro_f1"]
        for name in candidates:
            draws[name].append(best_score - confusion_scores(truth[rows], predicted[name][rows], num_classes)["macro_f1"])
    errors = {name: float(np.std(draws[name])) for name in candidates}
    scores = {name: {"dev_oof_macro_f1": observed[name], "difference_to_best": observed[best] - observed[name],
                     "standard_error": errors[name]} for name in candidates}
    noise = f"paired bootstrap over {len(truth)} rows, {resamples} resamples"
    reason = f"{TITLES[best]} has the best out-of-fold Development Macro-F1 ({observed[best]:.4f})"

    def within(name: str) -> bool:
        return observed[best] - observed[name] <= errors[name]

    if default is not None and default in candidates:
        standard_errors = "one standard error" if margin == 1 else f"{margin:g} standard errors"
        if observed[best] - observed[default] <= margin * errors[default]:
            if default != best:
                reason += (f"; the default, {TITLES[default]} ({observed[default]:.4f}), is within {standard_errors} "
                           f"of it ({noise}: difference {observed[best] - observed[default]:.4f}, standard error "
                           f"{errors[default]:.4f}), so the default is submitted")
            else:
                reason += "; it is the default, so it is submitted"
            return Choice(default, reason, scores)
        reason += (f"; it beats the default, {TITLES[default]} ({observed[default]:.4f}), by more than "
                   f"{standard_errors} (standard error {errors[default]:.4f})")
    chosen = next(name for name in candidates if within(name))
    if chosen == best:
        reason += "; no simpler method is within one standard error of it"
    else:
        reason += (f"; {TITLES[chosen]} ({observed[chosen]:.4f}) is within one standard error of it ({noise}: "
                   f"difference {observed[best] - observed[chosen]:.4f}, standard error {errors[chosen]:.4f}) and "
                   "simpler, so it is submitted (the one-standard-error rule)")
    return Choice(chosen, reason, scores)
