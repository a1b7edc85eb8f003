import torch

from toolkit.models.pooling import AttentiveStatsPooling, MeanPooling, StatsPooling, build_pooling


def _padded(hidden, valid):
    mask = torch.zeros(hidden.shape[:2], dtype=torch.bool)
    mask[:, valid:] = True
    return mask


def test_mean_pooling_ignores_padding_values():
    hidden = torch.randn(2, 6, 4)
    mask = _padded(hidden, 3)
    pooled = MeanPooling(4)(hidden, mask)
    torch.testing.assert_close(pooled, hidden[:, :3].mean(dim=1))
    hidden[:, 3:] = 1e6
    torch.testing.assert_close(MeanPooling(4)(hidden, mask), pooled)


def test_stats_pooling_is_mean_and_std_of_the_unpadded_frames():
    hidden = torch.randn(2, 6, 4)
    mask = _padded(hidden, 3)
    pooled = StatsPooling(4)(hidden, mask)
    expected = torch.cat([hidden[:, :3].mean(dim=1), hidden[:, :3].std(dim=1, unbiased=False)], dim=-1)
    assert StatsPooling(4).output_dim == 8
    torch.testing.assert_close(pooled, expected)
    hidden[:, 3:] = 1e6
    torch.testing.assert_close(StatsPooling(4)(hidden, mask), pooled)


def test_stats_pooling_single_frame_has_finite_gradient():
    hidden = torch.randn(1, 1, 3, requires_grad=True)
    StatsPooling(3)(hidden, torch.zeros(1, 1, dtype=torch.bool)).sum().backward()
    assert torch.isfinite(hidden.grad).all()


def test_attentive_stats_pooling_is_padding_invariant_and_doubles_width():
    torch.manual_seed(0)
    pooling = AttentiveStatsPooling(4)
    hidden = torch.randn(1, 5, 4)
    alone = pooling(hidden, torch.zeros(1, 5, dtype=torch.bool))
    padded = torch.cat([hidden, torch.randn(1, 3, 4) * 100], dim=1)
    mask = torch.zeros(1, 8, dtype=torch.bool)
    mask[:, 5:] = True
    assert alone.shape == (1, 8) and pooling.output_dim == 8
    torch.testing.assert_close(pooling(padded, mask), alone)


def test_attentive_stats_single_frame_has_finite_gradient():
    pooling = AttentiveStatsPooling(3)
    hidden = torch.randn(1, 1, 3, requires_grad=True)
    pooling(hidden, torch.zeros(1, 1, dtype=torch.bool)).sum().backward()
    assert torch.isfinite(hidden.grad).all()


def test_build_pooling_rejects_unknown_kind():
    import pytest

    with pytest.raises(ValueError, match="attentive_stats"):
        build_pooling("max", 4)
