import pytest
import torch

from toolkit.features.layers import LayerSpec
from toolkit.utils.errors import ToolkitError


@pytest.mark.parametrize("text, mode, value, shown", [
    ("last4", "sum", 4, "last4"), ("LAST1", "sum", 1, "last1"), ("7", "single", 7, "7"), ("-1", "single", -1, "-1"),
    ("all", "all", 0, "all"),
])
def test_parse_layer_specs(text, mode, value, shown):
    spec = LayerSpec.parse(text)
    assert (spec.mode, spec.value, str(spec)) == (mode, value, shown)


@pytest.mark.parametrize("text", ["last0", "sum", "4.5", "", "last-2"])
def test_bad_layer_spec_names_the_key_and_the_forms(text):
    with pytest.raises(ToolkitError, match=r"conf.yaml: layers.*lastN"):
        LayerSpec.parse(text, where="conf.yaml: layers")


def test_spec_that_does_not_fit_the_model_fails_early():
    with pytest.raises(ToolkitError, match="5 hidden states"):
        LayerSpec.parse("last6").check(5, "conf.yaml")
    with pytest.raises(ToolkitError, match="5 hidden states"):
        LayerSpec.parse("5").check(5, "conf.yaml")
    LayerSpec.parse("-5").check(5, "conf.yaml")


def test_apply_sums_selects_or_concatenates_hidden_states():
    hidden = tuple(torch.full((2, 3, 4), float(layer)) for layer in range(5))
    assert torch.equal(LayerSpec.parse("last4").apply(hidden), torch.full((2, 3, 4), 1.0 + 2 + 3 + 4))
    assert torch.equal(LayerSpec.parse("2").apply(hidden), hidden[2])
    combined = LayerSpec.parse("all").apply(hidden)
    assert combined.shape == (2, 3, 20)
    # Reshaped as the docs say, (frames, num_layers, dim), layer k is hidden state k.
    assert torch.equal(combined.reshape(2, 3, 5, 4)[:, :, 3], hidden[3])
    assert LayerSpec.parse("all").num_layers(5) == 5 and LayerSpec.parse("last4").num_layers(5) == 1
