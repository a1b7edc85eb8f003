"""Gradient accumulation: a group of batches gives the gradient one batch holding all its samples would."""

import pytest
import torch

from toolkit.models.deepser import DeepSER, StreamSpec
from toolkit.training.losses import attribute_loss, soft_cross_entropy
from toolkit.training.trainer import accumulation_groups

SPECS = [StreamSpec("acoustic", 5), StreamSpec("text", 3)]
ROWS = 11


@pytest.fixture(scope="module")
def utterances():
    """ROWS utterances of different lengths, with soft targets and (one partly unknown row of) attributes."""
    generator = torch.Generator().manual_seed(0)
    lengths = torch.randint(2, 9, (ROWS, len(SPECS)), generator=generator)
    features = [[torch.randn(int(n), spec.dim, generator=generator) for n in lengths[:, s]]
                for s, spec in enumerate(SPECS)]
    targets = torch.softmax(torch.randn(ROWS, 8, generator=generator), dim=-1)
    attributes = 1 + 6 * torch.rand(ROWS, 3, generator=generator)
    return features, targets, attributes


def _batch(utterances, rows):
    features, targets, attributes = utterances
    padded, masks = [], []
    for stream in features:
        longest = max(stream[row].shape[0] for row in rows)
        x = torch.zeros(len(rows), longest, stream[0].shape[1])
        mask = torch.ones(len(rows), longest, dtype=torch.bool)
        for position, row in enumerate(rows):
            x[position, : stream[row].shape[0]] = stream[row]
            mask[position, : stream[row].shape[0]] = False
        padded.append(x)
        masks.append(mask)
    return padded, masks, targets[rows], attributes[rows]


def _accumulated_gradients(model, utterances, batches, accumulation):
    """The trainer's loss per batch, scaled as it scales it; gradients at each optimizer step."""
    weights = torch.linspace(0.5, 2.0, 8)
    steps, plan = [], accumulation_groups([len(rows) for rows in batches], accumulation)
    model.zero_grad(set_to_none=True)
    for rows, (scale, step_after) in zip(batches, plan):
        features, masks, targets, attributes = _batch(utterances, rows)
        logits, predicted = model(features, masks)
        known = torch.isfinite(attributes)
        loss = 1.5 * soft_cross_entropy(logits, targets, weights) + 0.4 * attribute_loss(predicted, attributes, known, "mse")
        (loss * scale).backward()
        if step_after:
            steps.append({name: p.grad.clone() for name, p in model.named_parameters()})
            model.zero_grad(set_to_none=True)
    return steps


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return DeepSER(SPECS, hidden_dim=8, ff_dim=16, dropout=0.0)


def _assert_same(gradients, expected):
    for name, gradient in expected.items():
        torch.testing.assert_close(gradients[name], gradient, atol=1e-6, rtol=1e-4, msg=name)


def test_the_plan_scales_by_each_groups_real_size_and_steps_after_each_group():
    assert accumulation_groups([8, 8, 8], 1) == [(1.0, True)] * 3
    assert accumulation_groups([8, 8, 8], 2) == [(0.5, False), (0.5, True), (1.0, True)]
    assert accumulation_groups([8, 4, 8, 8], 2) == [(8 / 12, False), (4 / 12, True), (0.5, False), (0.5, True)]


def test_two_batches_of_2_accumulated_equal_one_batch_of_4(model, utterances):
    full = _accumulated_gradients(model, utterances, [[0, 1, 2, 3]], 1)
    accumulated = _accumulated_gradients(model, utterances, [[0, 1], [2, 3]], 2)
    assert len(full) == len(accumulated) == 1
    _assert_same(accumulated[0], full[0])


def test_a_three_batch_epoch_with_accumulation_2_ends_with_a_full_strength_step(model, utterances):
    batches = [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10]]
    steps = _accumulated_gradients(model, utterances, batches, 2)
    assert len(steps) == 2
    _assert_same(steps[0], _accumulated_gradients(model, utterances, [list(range(8))], 1)[0])
    # The short last group is one batch: its gradient is that batch's own, not half of it.
    _assert_same(steps[1], _accumulated_gradients(model, utterances, [[8, 9, 10]], 1)[0])


def test_a_group_holding_the_epochs_short_batch_weighs_every_sample_alike(model, utterances):
    steps = _accumulated_gradients(model, utterances, [[0, 1, 2, 3], [4, 5]], 2)
    _assert_same(steps[0], _accumulated_gradients(model, utterances, [list(range(6))], 1)[0])
