"""Per-utterance normalisation of a stream: a recording's stationary channel is removed, padding never counts."""

import torch

from toolkit.models.deepser import DeepSER, StreamSpec, normalise_utterances


def test_each_utterance_is_normalised_over_its_own_frames_only():
    torch.manual_seed(0)
    features = torch.randn(2, 6, 3) * 4 + 7
    mask = torch.tensor([[False] * 6, [False] * 4 + [True] * 2])
    normalised = normalise_utterances(features, mask)
    kept = normalised[1, :4]
    torch.testing.assert_close(kept.mean(dim=0), torch.zeros(3), atol=1e-5, rtol=0)
    torch.testing.assert_close(kept.std(dim=0, unbiased=False), torch.ones(3), atol=1e-3, rtol=0)
    alone = normalise_utterances(features[1:, :4], torch.zeros(1, 4, dtype=torch.bool))
    torch.testing.assert_close(alone[0], kept)


def test_a_member_normalising_a_stream_ignores_its_gain_and_offset():
    torch.manual_seed(1)
    model = DeepSER([StreamSpec("fbank", 4), StreamSpec("text", 2)], hidden_dim=8, ff_dim=16,
                    utterance_normalization=["fbank"]).eval()
    fbank, text = torch.randn(1, 5, 4), torch.randn(1, 3, 2)
    masks = [torch.zeros(1, 5, dtype=torch.bool), torch.zeros(1, 3, dtype=torch.bool)]
    # A louder, differently coloured recording of the same utterance: a per-dimension gain and offset.
    recorded = fbank * torch.tensor([2.0, 0.5, 3.0, 1.5]) + torch.tensor([10.0, -4.0, 0.0, 2.0])
    with torch.no_grad():
        same = [model([x, text], masks)[0] for x in (fbank, recorded)]
    torch.testing.assert_close(same[0], same[1], atol=1e-4, rtol=0)
    # the global statistics do not apply to a stream normalised per utterance
    model.set_input_statistics([(torch.full((4,), 5.0), torch.full((4,), 2.0)), (torch.zeros(2), torch.ones(2))])
    assert model.legs[0].input_mean.eq(0).all() and model.legs[0].input_std.eq(1).all()
