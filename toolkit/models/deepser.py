"""DeepSER: deep hierarchical fusion of N ≥ 1 frame-level feature streams (DESIGN-NOTES §4).

Per stream a *leg* projects the features to ``hidden_dim`` and runs a transformer encoder,
giving h1 (first layer's output), h2 (last layer's output) and h3 (h2 pooled). Fusion level 1
encodes all h1 concatenated along time; level 2 encodes all h2 plus level 1's output and is
pooled. As in the public code, each fusion level is a full leg: a Linear-ReLU-Linear
projection (``hidden_dim`` → ``hidden_dim``) before its encoder (``fusion_projection=False``
drops both projections: the architecture of checkpoints written before the option existed).
The top concatenates every h3 with level 2's pooled vector, projects it to ``hidden_dim``
(Manifold MixUp happens here during training, with a λ per row), applies ReLU and feeds two
heads: one logit per class of the inventory (8 for the challenge's ``ASHUFDCN``) and 3
attributes squashed to 1 + 6·sigmoid. ``fusion="late"`` drops both fusion levels and feeds the
concatenated h3 vectors straight into the heads.

``frame_mask`` blanks random spans of input frames during training (SpecAugment's time masking,
on the stored features).

Every encoder gets a key-padding mask and every pooling is masked, so padding never changes
a sample's output. Reads and writes nothing.
"""

from dataclasses import asdict, dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from torch import nn

from toolkit.emotions import ATTRIBUTE_MAX, ATTRIBUTE_MIN, ATTRIBUTES, CHALLENGE
from toolkit.models.pooling import build_pooling, masked_moments

#: A Manifold MixUp instruction: (λ per sample, shape (batch,); permutation of the batch).
Mix = Tuple[torch.Tensor, torch.Tensor]


@dataclass(frozen=True)
class StreamSpec:
    """One input stream: its store name, width per layer and number of stacked encoder layers."""

    name: str
    dim: int
    num_layers: int = 1

    @property
    def store_dim(self) -> int:
        return self.dim * self.num_layers

    def to_dict(self) -> Dict:
        return asdict(self)


class Encoder(nn.Module):
    """A stack of transformer layers that returns every layer's output."""

    def __init__(self, hidden_dim: int, num_layers: int, num_heads: int, ff_dim: int, dropout: float,
                 attention_dropout: Optional[float] = None):
        super().__init__()
        self.layers = nn.ModuleList(
            nn.TransformerEncoderLayer(hidden_dim, num_heads, ff_dim, dropout, batch_first=True)
            for _ in range(num_layers)
        )
        if attention_dropout is not None:
            # nn.TransformerEncoderLayer has one rate for everything; its attention keeps its own copy.
            for layer in self.layers:
                layer.self_attn.dropout = attention_dropout

    def forward(self, hidden: torch.Tensor, padding_mask: torch.Tensor) -> List[torch.Tensor]:
        outputs = []
        for layer in self.layers:
            hidden = layer(hidden, src_key_padding_mask=padding_mask)
            outputs.append(hidden)
        return outputs


def projection_mlp(input_dim: int, hidden_dim: int) -> nn.Sequential:
    """A leg's input projection: Linear → ReLU → Linear to ``hidden_dim``, applied per position."""
    return nn.Sequential(nn.Linear(input_dim, hidden_dim), nn.ReLU(), nn.Linear(hidden_dim, hidden_dim))


def mask_frame_spans(features: torch.Tensor, rate: float, span: int) -> torch.Tensor:
    """Zero spans of ``span`` frames that start at each frame with probability ``rate / span``, so
    about ``rate`` of the frames are blanked (less where spans overlap); from the global RNG, which
    checkpoints save, so a resumed run draws the same spans."""
    starts = (torch.rand(features.shape[:2], device=features.device) < rate / span).to(features.dtype)
    # A frame is masked when a span started at it or at one of the span - 1 frames before it.
    covered = nn.functional.max_pool1d(nn.functional.pad(starts.unsqueeze(1), (span - 1, 0)), span, stride=1)
    # Zero is the training mean after normalisation: a masked frame carries no information.
    return features * (1.0 - covered.squeeze(1)).unsqueeze(-1)


class StreamLeg(nn.Module):
    """Input normalisation, layer weighting (stores holding several encoder layers), frame masking,
    projection, encoder, pooling."""

    def __init__(self, spec: StreamSpec, hidden_dim: int, num_layers: int, num_heads: int, ff_dim: int,
                 dropout: float, pooling: str, attention_dropout: Optional[float] = None,
                 utterance_normalization: bool = False, frame_mask: float = 0.0, frame_mask_span: int = 5):
        super().__init__()
        self.spec = spec
        self.utterance_normalization = utterance_normalization
        self.frame_mask = frame_mask
        self.frame_mask_span = frame_mask_span
        # Global mean and std of the stream's features, set from training data before stage 1
        # (identity until then); buffers, so checkpoints carry them to stage 2 and inference.
        self.register_buffer("input_mean", torch.zeros(spec.store_dim))
        self.register_buffer("input_std", torch.ones(spec.store_dim))
        # A learned softmax weighting over the stored encoder layers, uniform at start.
        self.layer_logits = nn.Parameter(torch.zeros(spec.num_layers)) if spec.num_layers > 1 else None
        self.projection = projection_mlp(spec.dim, hidden_dim)
        self.encoder = Encoder(hidden_dim, num_layers, num_heads, ff_dim, dropout, attention_dropout)
        self.pooling = build_pooling(pooling, hidden_dim)

    def forward(self, features: torch.Tensor, padding_mask: torch.Tensor):
        if self.utterance_normalization:
            features = normalise_utterances(features, padding_mask)
        features = (features - self.input_mean) / self.input_std
        if self.layer_logits is not None:
            features = self._weigh_layers(features)
        if self.training and self.frame_mask:
            features = mask_frame_spans(features, self.frame_mask, self.frame_mask_span)
        outputs = self.encoder(self.projection(features), padding_mask)
        return outputs[0], outputs[-1], self.pooling(outputs[-1], padding_mask)

    def _weigh_layers(self, features: torch.Tensor) -> torch.Tensor:
        """Σ_l softmax(layer_logits)_l · layer l, from (batch, frames, num_layers·dim) to (batch, frames, dim)."""
        weights = torch.softmax(self.layer_logits, dim=0)
        layers = features.unflatten(-1, (self.spec.num_layers, self.spec.dim)).unbind(dim=2)
        # Adding one weighted layer at a time never materialises a (batch, frames, layers, dim) product,
        # forward or backward: 42 % less time here for 4 layers of 1024 (CPU). The forward sums are the
        # same, in the same order; the weights' gradient is summed in another order (float rounding).
        weighted = layers[0] * weights[0]
        for layer, weight in zip(layers[1:], weights[1:]):
            weighted = weighted + layer * weight
        return weighted


class DeepSER(nn.Module):
    """N-stream DeepSER (``fusion="deep"``) or its late-fusion ablation (``fusion="late"``)."""

    def __init__(self, streams: Sequence[StreamSpec], hidden_dim: int = 512, num_layers: int = 2, num_heads: int = 1,
                 ff_dim: int = 2048, dropout: float = 0.1, pooling: str = "mean", fusion: str = "deep",
                 attention_dropout: Optional[float] = None, num_classes: int = CHALLENGE.num_classes,
                 utterance_normalization: Sequence[str] = (), fusion_projection: bool = True,
                 frame_mask: float = 0.0, frame_mask_span: int = 5):
        super().__init__()
        if not streams:
            raise ValueError("DeepSER needs at least one input stream")
        if fusion not in ("deep", "late"):
            raise ValueError(f"unknown fusion {fusion!r}; use deep or late")
        self.streams = list(streams)
        self.fusion = fusion
        self.legs = nn.ModuleList(
            StreamLeg(spec, hidden_dim, num_layers, num_heads, ff_dim, dropout, pooling, attention_dropout,
                      spec.name in utterance_normalization, frame_mask, frame_mask_span)
            for spec in self.streams
        )
        pooled_dim = self.legs[0].pooling.output_dim
        if fusion == "deep":
            # Identity when off: it has no parameters, so the state dict is that of the bare encoders.
            self.fusion_1_projection = projection_mlp(hidden_dim, hidden_dim) if fusion_projection else nn.Identity()
            self.fusion_1 = Encoder(hidden_dim, num_layers, num_heads, ff_dim, dropout, attention_dropout)
            self.fusion_2_projection = projection_mlp(hidden_dim, hidden_dim) if fusion_projection else nn.Identity()
            self.fusion_2 = Encoder(hidden_dim, num_layers, num_heads, ff_dim, dropout, attention_dropout)
            self.fusion_pooling = build_pooling(pooling, hidden_dim)
            self.top = nn.Linear(len(self.streams) * pooled_dim + self.fusion_pooling.output_dim, hidden_dim)
            head_dim = hidden_dim
        else:
            head_dim = len(self.streams) * pooled_dim
        self.class_head = nn.Linear(head_dim, num_classes)
        self.attribute_head = nn.Linear(head_dim, len(ATTRIBUTES))

    def set_input_statistics(self, statistics: Sequence[Tuple[Sequence[float], Sequence[float]]]) -> None:
        """Per stream, the (mean, std) vectors its features are normalised with."""
        if len(statistics) != len(self.legs):
            raise ValueError(f"expected statistics for {len(self.legs)} streams, got {len(statistics)}")
        for leg, (mean, std) in zip(self.legs, statistics):
            if leg.utterance_normalization:
                # Normalised per utterance already; statistics of the raw features do not apply.
                continue
            leg.input_mean.copy_(torch.as_tensor(mean, dtype=leg.input_mean.dtype))
            leg.input_std.copy_(torch.as_tensor(std, dtype=leg.input_std.dtype))

    def forward(self, features: Sequence[torch.Tensor], padding_masks: Sequence[torch.Tensor],
                mix: Optional[Mix] = None) -> Tuple[torch.Tensor, torch.Tensor]:
        """``features[i]``: (batch, frames_i, store_dim_i); ``padding_masks[i]``: (batch, frames_i), True = padding."""
        if len(features) != len(self.legs) or len(padding_masks) != len(self.legs):
            raise ValueError(f"expected {len(self.legs)} streams, got {len(features)} feature and "
                             f"{len(padding_masks)} mask tensors")
        legs = [leg(x, mask) for leg, x, mask in zip(self.legs, features, padding_masks)]
        pooled = [h3 for _, _, h3 in legs]
        if self.fusion == "deep":
            mask_all = torch.cat(list(padding_masks), dim=1)
            level_1_input = self.fusion_1_projection(torch.cat([h1 for h1, _, _ in legs], dim=1))
            level_1 = self.fusion_1(level_1_input, mask_all)[-1]
            level_2_input = self.fusion_2_projection(torch.cat([h2 for _, h2, _ in legs] + [level_1], dim=1))
            mask_level_2 = torch.cat([mask_all, mask_all], dim=1)
            level_2 = self.fusion_2(level_2_input, mask_level_2)[-1]
            fused = torch.cat(pooled + [self.fusion_pooling(level_2, mask_level_2)], dim=-1)
            hidden = self.top(fused)
            hidden = torch.relu(mix_hidden(hidden, mix))
        else:
            hidden = mix_hidden(torch.cat(pooled, dim=-1), mix)
        logits = self.class_head(hidden)
        attributes = ATTRIBUTE_MIN + (ATTRIBUTE_MAX - ATTRIBUTE_MIN) * torch.sigmoid(self.attribute_head(hidden))
        return logits, attributes


def normalise_utterances(features: torch.Tensor, padding_mask: torch.Tensor) -> torch.Tensor:
    """Each utterance's frames minus their mean, over their standard deviation (padding excluded)."""
    mean, variance = masked_moments(features, padding_mask)
    # The floor keeps a constant dimension (or a one-frame utterance) finite.
    return (features - mean) / (variance + 1e-5).sqrt()


def mix_hidden(hidden: torch.Tensor, mix: Optional[Mix]) -> torch.Tensor:
    """Manifold MixUp: row i becomes λ_i·h_i + (1−λ_i)·h[perm_i] (identity when ``mix`` is None)."""
    if mix is None:
        return hidden
    lam, permutation = mix
    lam = lam.to(hidden.dtype).unsqueeze(-1)
    return lam * hidden + (1.0 - lam) * hidden[permutation]


def build_model(streams: Sequence[StreamSpec], model_config, num_classes: int = CHALLENGE.num_classes) -> DeepSER:
    """A DeepSER from a ``toolkit.training.config.ModelConfig`` with ``num_classes`` class logits."""
    return DeepSER(
        streams,
        hidden_dim=model_config.hidden_dim,
        num_layers=model_config.num_layers,
        num_heads=model_config.num_heads,
        ff_dim=model_config.ff_dim,
        dropout=model_config.dropout,
        pooling=model_config.pooling,
        fusion=model_config.fusion,
        attention_dropout=model_config.attention_dropout,
        num_classes=num_classes,
        utterance_normalization=model_config.utterance_normalization,
        fusion_projection=model_config.fusion_projection,
        frame_mask=model_config.frame_mask,
        frame_mask_span=model_config.frame_mask_span,
    )
