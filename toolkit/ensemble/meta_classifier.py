"""MEDUSA stage 3: one linear layer from the members' posteriors and attributes to class logits + 3 attributes.

Reads nothing from disk: :func:`fit_meta_classifier` takes the stacked member inputs
(``toolkit.ensemble.methods.MemberOutputs.stacked``) and labels, and returns :class:`LinearWeights`,
plain numpy arrays that :mod:`toolkit.ensemble.soup` averages and that are applied without torch.
Fitting is full-batch L-BFGS on a convex loss, so a run is deterministic for a given row set.
"""

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Dict, Optional, Tuple

import numpy as np

from toolkit.emotions import ATTRIBUTES, CHALLENGE
from toolkit.utils.errors import ToolkitError

#: Input matrices with fewer elements than this are fitted on one CPU thread.
SINGLE_THREAD_BELOW = 1_000_000


@contextmanager
def threads_for(elements: int):
    """One torch thread while fitting a problem of fewer than ``SINGLE_THREAD_BELOW`` input elements.

    On small problems thread hand-offs cost more than the arithmetic (300 x 11 inputs on a busy
    2-core machine: 20 s with 2 threads, 1.2 s with one).
    """
    import torch

    threads = torch.get_num_threads()
    if elements < SINGLE_THREAD_BELOW:
        torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


@dataclass
class LinearWeights:
    """``outputs = inputs @ weight.T + bias``; outputs are one logit per class, then 3 attributes."""

    weight: np.ndarray  # (classes + 3, inputs)
    bias: np.ndarray    # (classes + 3,)

    @property
    def num_classes(self) -> int:
        return self.weight.shape[0] - len(ATTRIBUTES)

    def apply(self, inputs: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        if inputs.shape[1] != self.weight.shape[1]:
            raise ToolkitError(
                f"meta-classifier expects {self.weight.shape[1]} inputs per row, got {inputs.shape[1]}: "
                "the members given do not match the ones it was fitted on"
            )
        outputs = inputs @ self.weight.T + self.bias
        return outputs[:, :self.num_classes], outputs[:, self.num_classes:]

    def to_dict(self) -> Dict[str, list]:
        return {"weight": self.weight.tolist(), "bias": self.bias.tolist()}

    @classmethod
    def from_dict(cls, payload: Dict[str, list]) -> "LinearWeights":
        weight = np.asarray(payload["weight"], dtype=np.float64)
        bias = np.asarray(payload["bias"], dtype=np.float64)
        if weight.ndim != 2 or weight.shape[0] < len(ATTRIBUTES) + 2 or bias.shape != (weight.shape[0],):
            raise ToolkitError(f"meta-classifier weights must be (classes + 3, inputs) and (classes + 3,) with 2 or more "
                               f"classes, got {weight.shape} and {bias.shape}")
        return cls(weight=weight, bias=bias)


@dataclass
class MetaConfig:
    """Fitting options; the defaults are those documented in docs/ensemble.md."""

    weight_decay: float = 1e-3          # L2 on standardised-input weights
    class_weight_alpha: float = 0.5     # w_c = (N / (K f_c)) ** alpha, as in DeepSER stage 1; 0 disables
    attribute_loss_weight: float = 1.0  # MSE on attributes relative to cross-entropy on classes
    max_iterations: int = 200


def class_weights(classes: np.ndarray, alpha: float, num_classes: int = CHALLENGE.num_classes) -> np.ndarray:
    """Per-class weights that counter imbalance (Macro-F1 weighs rare classes like frequent ones)."""
    counts = np.bincount(classes[classes >= 0], minlength=num_classes).astype(np.float64)
    present = counts > 0
    weights = np.zeros(num_classes)
    weights[present] = (counts[present].sum() / (num_classes * counts[present])) ** alpha
    return weights


def fit_meta_classifier(
    inputs: np.ndarray,
    classes: np.ndarray,
    attributes: np.ndarray,
    config: Optional[MetaConfig] = None,
    seed: int = 42,
    device=None,
    num_classes: int = CHALLENGE.num_classes,
) -> LinearWeights:
    """Fit the linear meta-classifier on the given (held-out) rows.

    ``classes`` holds an index into the members' inventory of ``num_classes`` classes or -1 (row
    used for attributes only); ``attributes``
    may hold NaN rows (used for classes only). Inputs are standardised while fitting and the
    scaling is folded back into the returned weights, so they apply to raw inputs.
    """
    import torch

    config = config or MetaConfig()
    device = device or torch.device("cpu")
    labelled = classes >= 0
    with_attributes = np.isfinite(attributes).all(axis=1)
    if not labelled.any():
        raise ToolkitError(f"no Development row carries one of the {num_classes} consensus classes: cannot fit the "
                           "meta-classifier")
    mean = inputs.mean(axis=0)
    scale = np.maximum(inputs.std(axis=0), 1e-6)

    def tensor(array, dtype=torch.float64):
        return torch.as_tensor(np.ascontiguousarray(array), dtype=dtype, device=device)

    standardised = tensor((inputs - mean) / scale)
    class_rows = tensor(np.flatnonzero(labelled), torch.long)
    class_targets = tensor(classes[labelled], torch.long)
    attribute_rows = tensor(np.flatnonzero(with_attributes), torch.long)
    attribute_targets = tensor(attributes[with_attributes])
    loss_weights = tensor(class_weights(classes, config.class_weight_alpha, num_classes))
    outputs_count = num_classes + len(ATTRIBUTES)

    generator = torch.Generator().manual_seed(seed)
    weight = (torch.randn(outputs_count, inputs.shape[1], generator=generator, dtype=torch.float64) * 0.01).to(device)
    bias = torch.zeros(outputs_count, dtype=torch.float64, device=device)
    if with_attributes.any():
        # Starting attribute outputs at the target means saves L-BFGS the first, largest step.
        bias[num_classes:] = attribute_targets.mean(dim=0)
    weight.requires_grad_(True)
    bias.requires_grad_(True)
    optimiser = torch.optim.LBFGS(
        [weight, bias], lr=1.0, max_iter=config.max_iterations, tolerance_grad=1e-6,
        tolerance_change=1e-9, history_size=20, line_search_fn="strong_wolfe",
    )

    def closure():
        optimiser.zero_grad()
        outputs = standardised @ weight.T + bias
        loss = torch.nn.functional.cross_entropy(
            outputs[class_rows, :num_classes], class_targets, weight=loss_weights
        )
        if len(attribute_rows):
            residual = outputs[attribute_rows, num_classes:] - attribute_targets
            loss = loss + config.attribute_loss_weight * residual.pow(2).mean()
        loss = loss + config.weight_decay * weight.pow(2).sum()
        loss.backward()
        return loss

    with threads_for(inputs.size):
        optimiser.step(closure)
    fitted_weight = weight.detach().cpu().numpy() / scale
    fitted_bias = bias.detach().cpu().numpy() - fitted_weight @ mean
    if not (np.isfinite(fitted_weight).all() and np.isfinite(fitted_bias).all()):
        raise ToolkitError("meta-classifier fitting diverged (non-finite weights); check the members' predictions for extreme values")
    return LinearWeights(weight=fitted_weight, bias=fitted_bias)


def choose_weight_decay(inputs: np.ndarray, classes: np.ndarray, attributes: np.ndarray, grid, folds: int,
                        seed: int, config: Optional[MetaConfig] = None, num_classes: int = CHALLENGE.num_classes,
                        device=None) -> float:
    """The L2 penalty of ``grid`` with the best inner cross-validated Macro-F1 on these rows.

    Stratified ``folds``-fold cross-validation inside the given rows (the training folds of an
    outer held-out fold, or all of Development for the final fit), so the choice never sees the
    rows it will be scored on. A tie goes to the stronger penalty.
    """
    from dataclasses import replace

    from toolkit.ensemble.folds import stratified_folds, training_rows
    from toolkit.metrics import macro_f1

    config = config or MetaConfig()
    inner = stratified_folds(classes, folds, seed)
    best_decay, best_score = None, -np.inf
    for decay in sorted(grid, reverse=True):
        predicted = np.full(len(classes), -1)
        for held_out in inner:
            rows = training_rows(len(classes), held_out)
            weights = fit_meta_classifier(inputs[rows], classes[rows], attributes[rows],
                                          config=replace(config, weight_decay=decay), seed=seed, device=device,
                                          num_classes=num_classes)
            predicted[held_out] = weights.apply(inputs[held_out])[0].argmax(axis=1)
        labelled = classes >= 0
        score = macro_f1(classes[labelled], predicted[labelled], num_classes)
        if score > best_score:
            best_decay, best_score = decay, score
    return float(best_decay)
