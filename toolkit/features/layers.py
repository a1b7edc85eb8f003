"""Layer specs: which hidden layers of a transformer encoder become the stored features.

Written in an encoder config as ``layers:``

- ``lastN`` (default ``last4``, as MEDUSA): the sum of the last N hidden layers, ``dim`` wide;
- an integer K: hidden layer K alone (0 is the input embedding / CNN output, negative counts
  from the end), ``dim`` wide;
- ``all``: every hidden layer including layer 0, concatenated along the feature axis, so the
  store holds ``(frames, num_layers * dim)`` and ``meta["num_layers"]`` says how to reshape it
  to ``(frames, num_layers, dim)`` for a learned layer weighting.
"""

import re
from dataclasses import dataclass
from typing import Sequence

from toolkit.utils.errors import ToolkitError

DEFAULT_LAYERS = "last4"


@dataclass(frozen=True)
class LayerSpec:
    mode: str  # "sum" | "single" | "all"
    value: int = 0  # how many last layers for "sum", the layer index for "single"

    @classmethod
    def parse(cls, text, where: str = "layers") -> "LayerSpec":
        text = str(text).strip().lower()
        if text == "all":
            return cls("all")
        match = re.fullmatch(r"last(\d+)", text)
        if match and int(match.group(1)) >= 1:
            return cls("sum", int(match.group(1)))
        if re.fullmatch(r"-?\d+", text):
            return cls("single", int(text))
        raise ToolkitError(
            f"{where}: cannot read layer spec {text!r}; use lastN (sum of the last N layers, e.g. last4), "
            "an integer layer index (0 = embeddings, -1 = last), or all"
        )

    def __str__(self) -> str:
        return {"all": "all", "sum": f"last{self.value}", "single": str(self.value)}[self.mode]

    def check(self, num_hidden_states: int, where: str) -> None:
        """Fail early when the model has fewer hidden states than the spec asks for."""
        too_many = self.mode == "sum" and self.value > num_hidden_states
        out_of_range = self.mode == "single" and not -num_hidden_states <= self.value < num_hidden_states
        if too_many or out_of_range:
            raise ToolkitError(
                f"{where}: layer spec {self} does not fit a model with {num_hidden_states} hidden states "
                f"(layers 0..{num_hidden_states - 1}); change layers: in the encoder config"
            )

    def num_layers(self, num_hidden_states: int) -> int:
        """How many layers are stored side by side (1 unless ``all``)."""
        return num_hidden_states if self.mode == "all" else 1

    def apply(self, hidden_states: Sequence):
        """Combine a model's tuple of (batch, frames, dim) hidden states into float32 features."""
        import torch

        # Combine in float32: summing half-precision layers can overflow.
        if self.mode == "all":
            return torch.cat([hidden.float() for hidden in hidden_states], dim=-1)
        if self.mode == "single":
            return hidden_states[self.value].float()
        return torch.stack([hidden.float() for hidden in hidden_states[-self.value :]], dim=0).sum(dim=0)
