import pytest
import torch

from toolkit.models.deepser import DeepSER, StreamSpec, mask_frame_spans, mix_hidden

SPECS = [StreamSpec("acoustic", 6), StreamSpec("text", 4, num_layers=3), StreamSpec("other", 5)]


def _batch(specs, lengths, seed=0):
    """Per-stream padded tensors and masks; lengths[b][s] frames of utterance b in stream s."""
    generator = torch.Generator().manual_seed(seed)
    features, masks = [], []
    for s, spec in enumerate(specs):
        longest = max(row[s] for row in lengths)
        x = torch.randn(len(lengths), longest, spec.store_dim, generator=generator)
        mask = torch.zeros(len(lengths), longest, dtype=torch.bool)
        for b, row in enumerate(lengths):
            mask[b, row[s]:] = True
            x[b, row[s]:] = 50.0  # garbage in padding must not matter
        features.append(x)
        masks.append(mask)
    return features, masks


@pytest.mark.parametrize("fusion", ["deep", "late"])
@pytest.mark.parametrize("pooling", ["mean", "stats", "attentive_stats"])
def test_output_alone_equals_output_padded_in_batch(fusion, pooling):
    torch.manual_seed(0)
    # Frame masking is on: evaluation must not mask.
    model = DeepSER(SPECS, hidden_dim=16, num_heads=2, ff_dim=32, pooling=pooling, fusion=fusion,
                    frame_mask=0.5).eval()
    lengths = [(7, 3, 5), (2, 6, 1), (4, 4, 4)]
    features, masks = _batch(SPECS, lengths)
    with torch.no_grad():
        logits, attributes = model(features, masks)
        for b, row in enumerate(lengths):
            alone = [x[b : b + 1, : row[s]] for s, x in enumerate(features)]
            alone_masks = [torch.zeros(1, row[s], dtype=torch.bool) for s in range(len(SPECS))]
            single_logits, single_attributes = model(alone, alone_masks)
            torch.testing.assert_close(logits[b : b + 1], single_logits, atol=1e-5, rtol=1e-5)
            torch.testing.assert_close(attributes[b : b + 1], single_attributes, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("count", [1, 2, 3])
def test_any_number_of_streams_gives_8_logits_and_attributes_in_range(count):
    specs = SPECS[:count]
    model = DeepSER(specs, hidden_dim=8, ff_dim=16, num_layers=3)
    features, masks = _batch(specs, [(3, 4, 5), (5, 2, 1)][:2])
    logits, attributes = model(features, masks)
    assert logits.shape == (2, 8) and attributes.shape == (2, 3)
    assert ((attributes >= 1) & (attributes <= 7)).all()
    (logits.sum() + attributes.sum()).backward()
    assert all(p.grad is not None for p in model.parameters() if p.requires_grad)


def test_late_fusion_has_no_fusion_encoders_and_fewer_parameters():
    deep = DeepSER(SPECS[:2], hidden_dim=8, ff_dim=16)
    late = DeepSER(SPECS[:2], hidden_dim=8, ff_dim=16, fusion="late")
    assert not hasattr(late, "fusion_1")
    assert sum(p.numel() for p in late.parameters()) < sum(p.numel() for p in deep.parameters())


def test_fusion_levels_are_full_legs_with_the_public_codes_projection_before_each_encoder():
    model = DeepSER(SPECS[:2], hidden_dim=8, ff_dim=16)
    for projection in (model.fusion_1_projection, model.fusion_2_projection):
        assert [type(layer) for layer in projection] == [torch.nn.Linear, torch.nn.ReLU, torch.nn.Linear]
        assert [(layer.in_features, layer.out_features) for layer in projection[::2]] == [(8, 8), (8, 8)]


def test_without_fusion_projection_the_state_dict_is_the_default_minus_the_projections():
    # Checkpoints written before model.fusion_projection existed have exactly these keys.
    with_projection = set(DeepSER(SPECS[:2], hidden_dim=8, ff_dim=16).state_dict())
    bare = set(DeepSER(SPECS[:2], hidden_dim=8, ff_dim=16, fusion_projection=False).state_dict())
    assert with_projection - bare == {f"fusion_{level}_projection.{layer}.{kind}"
                                      for level in (1, 2) for layer in (0, 2) for kind in ("weight", "bias")}
    assert bare < with_projection


def test_mixup_with_lambda_one_is_identity_and_mixes_otherwise():
    torch.manual_seed(0)
    model = DeepSER(SPECS[:1], hidden_dim=8, ff_dim=16).eval()
    features, masks = _batch(SPECS[:1], [(3,), (5,)])
    permutation = torch.tensor([1, 0])
    with torch.no_grad():
        plain = model(features, masks)[0]
        assert torch.equal(model(features, masks, (torch.ones(2), permutation))[0], plain)
        assert not torch.allclose(model(features, masks, (torch.full((2,), 0.5), permutation))[0], plain)
    hidden = torch.tensor([[0.0, 2.0], [4.0, 6.0]])
    torch.testing.assert_close(mix_hidden(hidden, (torch.full((2,), 0.25), permutation)),
                               torch.tensor([[3.0, 5.0], [1.0, 3.0]]))


def test_mixup_mixes_each_row_with_its_own_lambda():
    # Late fusion feeds the mixed vector straight into the linear class head, so each row's logits
    # are the same λ-mix of the unmixed logits as its targets are of the unmixed targets.
    torch.manual_seed(0)
    model = DeepSER(SPECS[:2], hidden_dim=8, ff_dim=16, fusion="late").eval()
    features, masks = _batch(SPECS[:2], [(3, 2), (5, 4), (2, 6)])
    lam, permutation = torch.tensor([0.9, 0.2, 0.5]), torch.tensor([2, 0, 1])
    with torch.no_grad():
        plain = model(features, masks)[0]
        mixed = model(features, masks, (lam, permutation))[0]
    expected = lam[:, None] * plain + (1 - lam[:, None]) * plain[permutation]
    torch.testing.assert_close(mixed, expected, atol=1e-5, rtol=1e-5)


def test_wrong_number_of_streams_is_rejected():
    model = DeepSER(SPECS[:2], hidden_dim=8, ff_dim=16)
    features, masks = _batch(SPECS[:1], [(3,)])
    with pytest.raises(ValueError, match="expected 2 streams"):
        model(features, masks)


def test_layer_weighting_starts_uniform_over_stored_layers():
    model = DeepSER([StreamSpec("s", 2, num_layers=2)], hidden_dim=8, ff_dim=16)
    leg = model.legs[0]
    assert leg.layer_logits.shape == (2,)
    # Uniform weights average the two stored layers: equal layers give the same as either one alone.
    layer = torch.randn(1, 3, 2)
    mask = torch.zeros(1, 3, dtype=torch.bool)
    model.eval()
    with torch.no_grad():
        same = leg(torch.cat([layer, layer], dim=-1), mask)[2]
        single = DeepSER([StreamSpec("s", 2)], hidden_dim=8, ff_dim=16)
        single.legs[0].load_state_dict({k: v for k, v in leg.state_dict().items()
                                         if k not in ("layer_logits", "input_mean", "input_std")}, strict=False)
        single.eval()
        torch.testing.assert_close(same, single.legs[0](layer, mask)[2])


def test_attention_dropout_is_set_apart_from_the_other_dropout():
    features = [torch.randn(2, 5, 3), torch.randn(2, 4, 6)]
    masks = [torch.zeros(2, 5, dtype=torch.bool), torch.zeros(2, 4, dtype=torch.bool)]
    streams = [StreamSpec("a", 3), StreamSpec("b", 6)]
    torch.manual_seed(0)
    only_attention = DeepSER(streams, hidden_dim=8, ff_dim=16, dropout=0.0, attention_dropout=0.5).train()
    assert not torch.equal(only_attention(features, masks)[0], only_attention(features, masks)[0])
    without = DeepSER(streams, hidden_dim=8, ff_dim=16, dropout=0.3, attention_dropout=0.0)
    attentions = [module for module in without.modules() if isinstance(module, torch.nn.MultiheadAttention)]
    assert len(attentions) == 2 * 2 + 2 * 2  # two legs and two fusion levels, two layers each
    assert all(module.dropout == 0.0 for module in attentions)
    assert all(module.dropout1.p == 0.3 for module in without.modules() if isinstance(module, torch.nn.TransformerEncoderLayer))


def test_frame_masking_blanks_about_the_asked_fraction_in_spans_and_only_in_training():
    torch.manual_seed(0)
    features = torch.ones(64, 200, 3)
    masked = mask_frame_spans(features, 0.3, 5)
    blank = (masked == 0).all(dim=-1)
    assert ((masked == 0) | (masked == 1)).all() and torch.equal(blank, (masked == 0).any(dim=-1))
    assert 0.2 < blank.float().mean() < 0.35
    # Spans: a blank frame's neighbour is blank far more often than the fraction alone would give.
    assert (blank[:, 1:] & blank[:, :-1]).float().sum() / blank[:, :-1].float().sum() > 0.7
    model = DeepSER(SPECS[:1], hidden_dim=8, ff_dim=16, dropout=0.0, fusion="late", frame_mask=0.9)
    features, masks = _batch(SPECS[:1], [(20,), (7,)])
    with torch.no_grad():
        trained = model.train()(features, masks)[0]
        evaluated = model.eval()(features, masks)[0]
        assert torch.equal(evaluated, model(features, masks)[0])
    assert not torch.allclose(trained, evaluated)
