import numpy as np
import pytest
import torch

from toolkit.training.losses import (attribute_loss, class_weights, draw_mixup, mix_targets, smooth_targets,
                                    soft_cross_entropy)


def test_class_weights_follow_the_paper_formula():
    targets = np.zeros((10, 8), dtype=np.float32)
    targets[:6, 7] = 1.0   # 6 neutral
    targets[6:, 0] = 0.5   # anger and sadness share 4 rows
    targets[6:, 1] = 0.5
    targets[:, 2:7] = 0.0
    targets[0, 2:7] = 0.0
    weights = class_weights(targets, alpha=0.5)
    total = targets.sum()
    assert weights[7] == pytest.approx((total / (8 * 6)) ** 0.5)
    assert weights[0] == pytest.approx((total / (8 * 2)) ** 0.5)
    assert weights[0] > weights[7]
    np.testing.assert_array_equal(class_weights(targets, alpha=0.0)[[0, 1, 7]], 1.0)


def test_soft_cross_entropy_matches_torch_with_probability_targets():
    logits = torch.randn(5, 8)
    targets = torch.softmax(torch.randn(5, 8), dim=-1)
    expected = torch.nn.functional.cross_entropy(logits, targets)
    torch.testing.assert_close(soft_cross_entropy(logits, targets), expected)
    weights = torch.arange(1.0, 9.0)
    weighted = torch.nn.functional.cross_entropy(logits, targets, weight=weights)
    torch.testing.assert_close(soft_cross_entropy(logits, targets, weights), weighted)


def test_soft_cross_entropy_averages_over_rows_with_a_class_target_only():
    logits = torch.randn(6, 8)
    targets = torch.nn.functional.one_hot(torch.tensor([0, 3, 5, 1, 2, 7]), 8).float()
    targets[[1, 4]] = 0.0  # rows kept for their attributes alone
    kept = [0, 2, 3, 5]
    expected = torch.nn.functional.cross_entropy(logits[kept], targets[kept])
    torch.testing.assert_close(soft_cross_entropy(logits, targets), expected)
    empty = soft_cross_entropy(logits.requires_grad_(), torch.zeros(6, 8))
    assert empty.item() == 0.0
    empty.backward()
    assert torch.equal(logits.grad, torch.zeros_like(logits))


def test_label_smoothing_matches_torch_and_leaves_rows_without_a_class_target_empty():
    logits = torch.randn(6, 8)
    labels = torch.tensor([0, 3, 5, 1, 2, 7])
    targets = torch.nn.functional.one_hot(labels, 8).float()
    smoothed = smooth_targets(targets, 0.1)
    torch.testing.assert_close(soft_cross_entropy(logits, smoothed),
                               torch.nn.functional.cross_entropy(logits, labels, label_smoothing=0.1))
    targets[[1, 4]] = 0.0  # rows kept for their attributes alone
    smoothed = smooth_targets(targets, 0.1)
    assert torch.equal(smoothed[[1, 4]], torch.zeros(2, 8))
    torch.testing.assert_close(smoothed.sum(dim=-1), torch.tensor([1.0, 0.0, 1.0, 1.0, 0.0, 1.0]))


@pytest.mark.parametrize("kind", ["mse", "ccc"])
def test_attribute_loss_skips_unknown_values_without_nan_gradients(kind):
    predicted = torch.full((4, 3), 4.0, requires_grad=True)
    target = torch.tensor([[1.0, 2.0, float("nan")], [7.0, 6.0, 5.0], [3.0, float("nan"), 2.0], [5.0, 5.0, 6.0]])
    known = torch.isfinite(target)
    loss = attribute_loss(predicted * torch.linspace(0.5, 1.5, 4)[:, None], target, known, kind)
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(predicted.grad).all()
    if kind == "mse":
        scaled = (4.0 * torch.linspace(0.5, 1.5, 4))[:, None].expand(4, 3)
        assert loss.item() == pytest.approx(float(((scaled - target) ** 2)[known].mean()))


def test_ccc_loss_is_zero_for_a_perfect_prediction():
    target = torch.tensor([[1.0, 2.0, 3.0], [4.0, 6.0, 5.0], [2.0, 2.5, 7.0]])
    loss = attribute_loss(target.clone(), target, torch.ones_like(target, dtype=torch.bool), "ccc")
    assert float(loss) == pytest.approx(0.0, abs=1e-6)


def test_mixup_draw_is_reproducible_and_respects_p():
    draws = [draw_mixup(8, 0.3, 0.2, torch.Generator().manual_seed(3)) for _ in range(2)]
    assert (draws[0] is None) == (draws[1] is None)
    if draws[0] is not None:
        assert torch.equal(draws[0][0], draws[1][0]) and torch.equal(draws[0][1], draws[1][1])
    generator = torch.Generator().manual_seed(0)
    assert all(draw_mixup(8, 0.0, 0.2, generator) is None for _ in range(20))
    mixed = [draw_mixup(8, 1.0, 0.2, generator) for _ in range(200)]
    lams = torch.cat([m[0] for m in mixed]).numpy()
    # Beta(0.2, 0.2) piles up near 0 and 1.
    assert ((lams < 0.1) | (lams > 0.9)).mean() > 0.5 and 0 <= lams.min() and lams.max() <= 1


def test_mixup_draws_a_lambda_per_sample_by_default_and_one_per_batch_on_request():
    per_sample = draw_mixup(16, 1.0, 0.2, torch.Generator().manual_seed(5))
    per_batch = draw_mixup(16, 1.0, 0.2, torch.Generator().manual_seed(5), per_sample=False)
    assert per_sample[0].shape == per_batch[0].shape == (16,)
    assert len(set(per_sample[0].tolist())) == 16
    assert len(set(per_batch[0].tolist())) == 1
    # Both modes use the generator alike: same batches mixed, same partners.
    assert torch.equal(per_sample[1], per_batch[1])


def test_mix_targets_mixes_classes_and_attributes_and_keeps_known_only_if_both_known():
    targets = torch.eye(8)[:2]
    attributes = torch.tensor([[1.0, 2.0, float("nan")], [3.0, 4.0, 5.0]])
    known = torch.isfinite(attributes)
    lam = torch.tensor([0.75, 0.1])
    mixed, mixed_attributes, mixed_known = mix_targets(targets, attributes, known, (lam, torch.tensor([1, 0])))
    # Each row with its own λ: row 0 keeps 0.75 of itself, row 1 keeps 0.1 of itself.
    torch.testing.assert_close(mixed[:, :2], torch.tensor([[0.75, 0.25], [0.9, 0.1]]))
    torch.testing.assert_close(mixed_attributes[:, :2], torch.tensor([[1.5, 2.5], [1.2, 2.2]]))
    assert mixed_known.tolist() == [[True, True, False], [True, True, False]]
