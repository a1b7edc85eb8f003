import numpy as np
import pytest
import torch

from toolkit.models.deepser import DeepSER, StreamSpec
from toolkit.training.inference import predict_batch
from toolkit.utils.errors import ToolkitError


@pytest.fixture
def model():
    torch.manual_seed(0)
    return DeepSER([StreamSpec("a", 3), StreamSpec("b", 2)], hidden_dim=8, ff_dim=16)


def test_predict_batch_equals_each_utterance_alone_and_restores_training_mode(model):
    rng = np.random.default_rng(0)
    features = {"a": [rng.normal(size=(n, 3)).astype(np.float16) for n in (4, 9)],
                "b": [rng.normal(size=(n, 2)).astype(np.float16) for n in (2, 6)]}
    model.train()
    logits, attributes = predict_batch(model, features)
    assert model.training and logits.shape == (2, 8) and attributes.shape == (2, 3)
    for row in range(2):
        alone = predict_batch(model, {name: [arrays[row]] for name, arrays in features.items()})
        np.testing.assert_allclose(alone[0][0], logits[row], rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(alone[1][0], attributes[row], rtol=1e-5, atol=1e-5)


def test_predict_batch_names_missing_streams_and_wrong_widths(model):
    with pytest.raises(ToolkitError, match="needs feature stream"):
        predict_batch(model, {"a": [np.zeros((2, 3))]})
    with pytest.raises(ToolkitError, match=r"stream b: expected arrays of shape \(frames>0, 2\)"):
        predict_batch(model, {"a": [np.zeros((2, 3))], "b": [np.zeros((2, 5))]})
    with pytest.raises(ToolkitError, match="same non-zero number"):
        predict_batch(model, {"a": [np.zeros((2, 3))], "b": []})
