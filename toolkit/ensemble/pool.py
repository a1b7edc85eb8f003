"""A weighted log-linear pool: one weight per member and one bias per class over the members' log posteriors.

Reads nothing from disk: :func:`fit_log_linear_pool` takes the members' posteriors
``(members, rows, classes)`` and labels and returns :class:`PoolWeights`, plain numpy arrays.

``logits = sum_m w_m log p_m + b``. With every ``w_m = 1/M`` and ``b = 0`` this is voting by the
geometric mean of the posteriors; fitting moves the weights towards the members that are right on
Development and the biases towards the decision rule of a class-balanced test set (the loss
weighs each class equally, as Macro-F1 and the challenge's balanced test set do). It has
``members + classes`` parameters where the meta-classifier has ``(members x (classes + 3) + 1) x
(classes + 3)``, so a Development set of a hundred rows can fit it. The penalty pulls the weights
towards equal ones and the biases towards zero; it is added to the loss summed over rows, so its
pull shrinks as Development grows. Fitting is full-batch L-BFGS on a convex loss: deterministic for a row set.
"""

from dataclasses import dataclass
from typing import Dict, Optional

import numpy as np

from toolkit.ensemble.meta_classifier import class_weights, threads_for
from toolkit.utils.errors import ToolkitError

#: Posteriors are floored here before the log, so a member's zero does not veto a class.
POSTERIOR_FLOOR = 1e-8


def log_posteriors(posteriors: np.ndarray) -> np.ndarray:
    return np.log(np.clip(posteriors, POSTERIOR_FLOOR, 1.0))


@dataclass
class PoolConfig:
    """Fitting options; the defaults are those documented in docs/ensemble.md."""

    #: L2 pull of the weights towards 1/members and of the biases towards 0, against the summed loss.
    penalty: float = 10.0
    #: Class weights ``(N / (K n_c)) ** alpha`` in the loss; 1 = every class counts equally.
    class_weight_alpha: float = 1.0
    max_iterations: int = 200


@dataclass
class PoolWeights:
    member_weights: np.ndarray  # (members,)
    class_bias: np.ndarray      # (classes,)

    def logits(self, posteriors: np.ndarray) -> np.ndarray:
        """Class logits (rows, classes) from the members' posteriors (members, rows, classes)."""
        if posteriors.shape[0] != len(self.member_weights) or posteriors.shape[2] != len(self.class_bias):
            raise ToolkitError(f"the pool was fitted on {len(self.member_weights)} members and {len(self.class_bias)} "
                               f"classes, got {posteriors.shape[0]} members and {posteriors.shape[2]} classes: the "
                               "members given do not match the ones it was fitted on")
        return np.einsum("m,mnc->nc", self.member_weights, log_posteriors(posteriors)) + self.class_bias

    def to_dict(self) -> Dict[str, list]:
        return {"member_weights": self.member_weights.tolist(), "class_bias": self.class_bias.tolist()}

    @classmethod
    def from_dict(cls, payload: Dict[str, list]) -> "PoolWeights":
        weights = np.asarray(payload["member_weights"], dtype=np.float64)
        bias = np.asarray(payload["class_bias"], dtype=np.float64)
        if weights.ndim != 1 or bias.ndim != 1 or len(bias) < 2:
            raise ToolkitError(f"pool weights must be (members,) and (classes,) with 2 or more classes, got "
                               f"{weights.shape} and {bias.shape}")
        return cls(weights, bias)


def fit_log_linear_pool(posteriors: np.ndarray, classes: np.ndarray, config: Optional[PoolConfig] = None) -> PoolWeights:
    """Fit member weights and class biases on the rows with a class (``classes`` -1 elsewhere)."""
    import torch

    config = config or PoolConfig()

    members, _, num_classes = posteriors.shape
    labelled = classes >= 0
    if not labelled.any():
        raise ToolkitError(f"no Development row carries one of the {num_classes} consensus classes: cannot fit the pool")
    inputs = torch.as_tensor(log_posteriors(posteriors[:, labelled]), dtype=torch.float64)
    targets = torch.as_tensor(classes[labelled], dtype=torch.long)
    row_weights = torch.as_tensor(class_weights(classes, config.class_weight_alpha, num_classes),
                                  dtype=torch.float64)[targets]
    # Weights with mean 1 over the rows: the loss is a sum, so the penalty weighs less as rows grow.
    row_weights = row_weights / row_weights.mean()
    equal = torch.full((members,), 1.0 / members, dtype=torch.float64)
    weights = equal.clone().requires_grad_(True)
    bias = torch.zeros(num_classes, dtype=torch.float64, requires_grad=True)
    optimiser = torch.optim.LBFGS([weights, bias], lr=1.0, max_iter=config.max_iterations, tolerance_grad=1e-8,
                                  tolerance_change=1e-10, history_size=20, line_search_fn="strong_wolfe")

    def closure():
        optimiser.zero_grad()
        logits = torch.einsum("m,mnc->nc", weights, inputs) + bias
        loss = (row_weights * torch.nn.functional.cross_entropy(logits, targets, reduction="none")).sum()
        loss = loss + config.penalty * ((weights - equal).pow(2).sum() + bias.pow(2).sum())
        loss.backward()
        return loss

    with threads_for(inputs.numel()):
        optimiser.step(closure)
    fitted = PoolWeights(weights.detach().numpy().copy(), bias.detach().numpy().copy())
    if not (np.isfinite(fitted.member_weights).all() and np.isfinite(fitted.class_bias).all()):
        raise ToolkitError("pool fitting diverged (non-finite weights); check the members' predictions for extreme values")
    return fitted
