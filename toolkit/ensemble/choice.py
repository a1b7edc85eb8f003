"""``--combine auto``: which combination method to submit, from out-of-fold Development scores.

Reads and writes nothing. The method with the best out-of-fold Macro-F1 is the candidate; a
simpler method (``methods.SIMPLICITY``) replaces it when its score is within one standard error
of the best: the "one-standard-error rule" of model selection (Breiman et al., 1984; Hastie et
al., *Elements of Statistical Learning* §7.10). The standard error is that of the paired
difference, from a bootstrap over the Development rows, so it shrinks as Development grows: on
MSP-Podcast's tens of thousands of rows a real gain decides, on a 120-row Development set a
fitted method must win by more than the noise. Why: a meta-classifier or soup fitted on a small
Development set can win out-of-fold by chance and lose on the test set, where voting does not.
"""

from dataclasses import dataclass
from typing import Dict, List, Sequence

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
                  candidates: Sequence[str], resamples: int = 1000, seed: int = 0) -> Choice:
    """The simplest of ``candidates`` (ordered simplest first) within one standard error of the best."""
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
    chosen = next(name for name in candidates if observed[best] - observed[name] <= errors[name])
    reason = (f"{TITLES[best]} has the best out-of-fold Development Macro-F1 ({observed[best]:.4f})")
    if chosen == best:
        reason += "; no simpler method is within one standard error of it"
    else:
        reason += (f"; {TITLES[chosen]} ({observed[chosen]:.4f}) is within one standard error of it (paired "
                   f"bootstrap over {len(truth)} rows, {resamples} resamples: difference "
                   f"{observed[best] - observed[chosen]:.4f}, standard error {errors[chosen]:.4f}) and simpler, so it "
                   "is submitted (the one-standard-error rule)")
    return Choice(chosen, reason, scores)
