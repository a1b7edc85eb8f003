"""MEDUSA's training objective: class-weighted soft cross-entropy plus an attribute loss.

``total = class_weight · CE(soft targets) + attribute_weight · attribute loss`` where the
attribute loss is MSE on the 1-7 scale (paper) or 1 − CCC, over the rows whose attributes
are known. Stage-1 class weights are w_c = (N / (K · f_c)) ** α with f_c the soft-label mass
of class c and K the number of classes (8 for the challenge). Also the Manifold MixUp draw
(a λ per sample, as in the public code, or one per batch) and label smoothing of the targets.
Reads and writes nothing.
"""

from typing import Optional, Tuple

import numpy as np
import torch


def class_weights(targets: np.ndarray, alpha: float) -> np.ndarray:
    """w_c = (N / (K f_c)) ** alpha from the (rows, K) training targets; alpha 0 gives all ones."""
    mass = targets.sum(axis=0).astype(np.float64)
    total = mass.sum()
    weights = np.ones(targets.shape[1])
    present = mass > 0
    weights[present] = (total / (targets.shape[1] * mass[present])) ** alpha
    return weights.astype(np.float32)


def class_log_prior(targets: np.ndarray) -> np.ndarray:
    """log of each class's share of the training targets' mass (a floor keeps absent classes finite)."""
    mass = targets.sum(axis=0).astype(np.float64)
    return np.log(np.maximum(mass / mass.sum(), 1e-6)).astype(np.float32)


def soft_cross_entropy(logits: torch.Tensor, targets: torch.Tensor, weights: Optional[torch.Tensor] = None) -> torch.Tensor:
    """Mean of −Σ_c w_c · t_c · log p_c over the rows that have a class target (an all-zero row,
    kept for its attributes alone, does not dilute the others); 0 if none has."""
    log_probs = torch.log_softmax(logits, dim=-1)
    per_class = -targets * log_probs
    if weights is not None:
        per_class = per_class * weights
    per_row = per_class.sum(dim=-1)
    has_target = targets.sum(dim=-1) > 0
    if bool(has_target.all()):
        return per_row.mean()
    return per_row[has_target].sum() / has_target.sum().clamp(min=1)


def smooth_targets(targets: torch.Tensor, epsilon: float) -> torch.Tensor:
    """Label smoothing: (1 − ε) · t + ε / K on the rows that have a class target; empty rows stay empty."""
    has_target = (targets.sum(dim=-1, keepdim=True) > 0).to(targets.dtype)
    return (1.0 - epsilon) * targets + has_target * (epsilon / targets.shape[-1])


def attribute_loss(predicted: torch.Tensor, target: torch.Tensor, known: torch.Tensor, kind: str) -> torch.Tensor:
    """MSE or 1 − CCC per attribute over known values (``known``: bool, same shape); 0 if none known."""
    if not bool(known.any()):
        return predicted.sum() * 0.0
    # Unknown targets are NaN; replace them so no NaN reaches the gradient through the masked rows.
    target = torch.where(known, target, predicted.detach())
    if kind == "mse":
        return ((predicted - target) ** 2)[known].mean()
    losses = []
    for column in range(predicted.shape[1]):
        rows = known[:, column]
        if int(rows.sum()) < 2:
            continue
        x, y = predicted[rows, column], target[rows, column]
        covariance = ((x - x.mean()) * (y - y.mean())).mean()
        denominator = x.var(unbiased=False) + y.var(unbiased=False) + (x.mean() - y.mean()) ** 2
        losses.append(1.0 - 2.0 * covariance / (denominator + 1e-8))
    return torch.stack(losses).mean() if losses else predicted.sum() * 0.0


def draw_mixup(batch_size: int, p: float, alpha: float, generator: torch.Generator,
               per_sample: bool = True) -> Optional[Tuple[torch.Tensor, torch.Tensor]]:
    """With probability ``p`` (one draw per batch): (λ of shape (batch_size,), a random permutation of
    the batch); else None. λ ~ Beta(alpha, alpha) per sample, or one value for every row."""
    if p <= 0 or batch_size < 2 or float(torch.rand(1, generator=generator)) >= p:
        return None
    # torch.distributions.Beta cannot take a generator; a numpy draw seeded from ours keeps runs reproducible.
    # Both modes take the same draws from ``generator``, so the batches they mix are the same.
    seed = int(torch.randint(0, 2**31 - 1, (1,), generator=generator))
    draws = np.random.default_rng(seed).beta(alpha, alpha, size=batch_size if per_sample else 1)
    lam = torch.from_numpy(draws.astype(np.float32)).expand(batch_size).contiguous()
    return lam, torch.randperm(batch_size, generator=generator)


def mix_targets(targets: torch.Tensor, attributes: torch.Tensor, known: torch.Tensor,
                mix: Optional[Tuple[torch.Tensor, torch.Tensor]]):
    """Mix the class targets and attributes with each row's λ, as the hidden vector is mixed; an
    attribute stays known only if both rows knew it."""
    if mix is None:
        return targets, attributes, known
    lam, permutation = mix
    lam = lam.to(targets.dtype).unsqueeze(-1)
    mixed_targets = lam * targets + (1.0 - lam) * targets[permutation]
    mixed_attributes = lam * attributes + (1.0 - lam) * attributes[permutation]
    return mixed_targets, mixed_attributes, known & known[permutation]
