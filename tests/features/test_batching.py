from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit.features.batching import length_batches, padded_cost, padding_waste
from toolkit.features.encoders import whisper_cost

lengths_strategy = st.lists(st.floats(min_value=0.1, max_value=40.0), min_size=0, max_size=60)


@settings(max_examples=60, deadline=None)
@given(lengths=lengths_strategy, budget=st.floats(min_value=1.0, max_value=120.0), max_batch=st.integers(1, 16))
def test_every_utterance_lands_in_exactly_one_batch_within_budget(lengths, budget, max_batch):
    batches = length_batches(lengths, budget, max_batch)
    flat = sorted(index for batch in batches for index in batch)
    assert flat == list(range(len(lengths)))
    for batch in batches:
        assert 1 <= len(batch) <= max_batch
        # Only an utterance longer than the budget on its own may exceed it; it is never cut.
        assert padded_cost([lengths[i] for i in batch]) <= budget or len(batch) == 1


def test_batches_are_built_longest_first_and_deterministically():
    lengths = [3.0, 10.0, 1.0, 9.5, 2.9, 1.1]
    batches = length_batches(lengths, budget=20.0, max_batch=8)
    assert batches == length_batches(lengths, budget=20.0, max_batch=8)
    assert batches[0] == [1, 3]
    assert batches[1] == [0, 4, 5, 2]


def test_length_batching_wastes_less_padding_than_manifest_order():
    lengths = [1.0, 12.0, 2.0, 11.0, 1.5, 10.0, 2.5, 9.0] * 4
    sorted_batches = length_batches(lengths, budget=40.0, max_batch=4)
    in_order = [list(range(start, start + 4)) for start in range(0, len(lengths), 4)]
    assert padding_waste(lengths, sorted_batches) < 0.2 < padding_waste(lengths, in_order)


def test_whisper_cost_counts_every_started_window_at_thirty_seconds():
    assert whisper_cost([2.0]) == 30.0
    assert whisper_cost([2.0, 45.0]) == 90.0
    batches = length_batches([2.0, 3.0, 4.0, 5.0], budget=60.0, max_batch=8, cost=whisper_cost)
    assert [len(batch) for batch in batches] == [2, 2]
