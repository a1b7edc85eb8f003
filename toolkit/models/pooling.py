"""Masked pooling over time: (batch, frames, dim) plus a padding mask → (batch, output_dim).

Padding positions (mask True) never contribute, so an utterance pools to the same vector
alone or padded inside a batch. Reads and writes nothing.
"""

import torch
from torch import nn


def masked_moments(hidden: torch.Tensor, padding_mask: torch.Tensor):
    """Per utterance, the mean and (biased) variance of the unpadded frames, each (batch, 1, dim)."""
    keep = (~padding_mask).unsqueeze(-1).to(hidden.dtype)
    count = keep.sum(dim=1, keepdim=True).clamp(min=1.0)
    mean = (hidden * keep).sum(dim=1, keepdim=True) / count
    variance = (((hidden - mean) * keep) ** 2).sum(dim=1, keepdim=True) / count
    return mean, variance


class MeanPooling(nn.Module):
    """Average of the unpadded frames."""

    def __init__(self, dim: int):
        super().__init__()
        self.output_dim = dim

    def forward(self, hidden: torch.Tensor, padding_mask: torch.Tensor) -> torch.Tensor:
        keep = (~padding_mask).unsqueeze(-1).to(hidden.dtype)
        return (hidden * keep).sum(dim=1) / keep.sum(dim=1).clamp(min=1.0)


class StatsPooling(nn.Module):
    """Mean and standard deviation of the unpadded frames (x-vector statistics pooling): what the
    linear probe pools, with no parameters to fit."""

    def __init__(self, dim: int):
        super().__init__()
        self.output_dim = 2 * dim

    def forward(self, hidden: torch.Tensor, padding_mask: torch.Tensor) -> torch.Tensor:
        mean, variance = masked_moments(hidden, padding_mask)
        # The floor keeps the gradient of sqrt finite for single-frame or constant inputs.
        return torch.cat([mean.squeeze(1), variance.squeeze(1).clamp(min=1e-6).sqrt()], dim=-1)


class AttentiveStatsPooling(nn.Module):
    """Attention-weighted mean and standard deviation (Okabe et al., 2018), masked softmax."""

    def __init__(self, dim: int, attention_dim: int = 128):
        super().__init__()
        self.output_dim = 2 * dim
        self.attention = nn.Sequential(nn.Linear(dim, attention_dim), nn.Tanh(), nn.Linear(attention_dim, 1))

    def forward(self, hidden: torch.Tensor, padding_mask: torch.Tensor) -> torch.Tensor:
        scores = self.attention(hidden).squeeze(-1).masked_fill(padding_mask, float("-inf"))
        weights = torch.softmax(scores, dim=1).unsqueeze(-1)
        mean = (weights * hidden).sum(dim=1)
        variance = (weights * (hidden - mean.unsqueeze(1)) ** 2).sum(dim=1)
        # The floor keeps the gradient of sqrt finite for single-frame or constant inputs.
        return torch.cat([mean, variance.clamp(min=1e-6).sqrt()], dim=-1)


def build_pooling(kind: str, dim: int) -> nn.Module:
    if kind == "mean":
        return MeanPooling(dim)
    if kind == "stats":
        return StatsPooling(dim)
    if kind == "attentive_stats":
        return AttentiveStatsPooling(dim)
    raise ValueError(f"unknown pooling {kind!r}; use mean, stats or attentive_stats")
