"""Length batching: group utterances of similar length so that padding wastes little compute.

Reads nothing and writes nothing: it turns a list of lengths (seconds of audio, or tokens) into
batches of indices under a budget of *padded* length per batch. Batches are built longest
first, so an out-of-memory batch shows up at the start of a run rather than hours into it, and
deterministically, so a resumed run recomputes exactly the batches an uninterrupted run would.
"""

from typing import Callable, List, Sequence

#: Compute a batch costs, given its members' lengths: by default every member is padded to the longest.
BatchCost = Callable[[Sequence[float]], float]


def padded_cost(lengths: Sequence[float]) -> float:
    return len(lengths) * max(lengths) if lengths else 0.0


def length_batches(
    lengths: Sequence[float], budget: float, max_batch: int, cost: BatchCost = padded_cost
) -> List[List[int]]:
    """Indices into ``lengths`` grouped longest first; each batch costs at most ``budget``.

    An item that alone exceeds the budget gets a batch of its own (whole utterances are never cut).
    """
    if budget <= 0 or max_batch < 1:
        raise ValueError(f"batch budget must be positive and max_batch at least 1, got {budget}, {max_batch}")
    order = sorted(range(len(lengths)), key=lambda index: (-lengths[index], index))
    batches: List[List[int]] = []
    current: List[int] = []
    for index in order:
        candidate = current + [index]
        if current and (len(candidate) > max_batch or cost([lengths[i] for i in candidate]) > budget):
            batches.append(current)
            candidate = [index]
        current = candidate
    if current:
        batches.append(current)
    return batches


def padding_waste(lengths: Sequence[float], batches: Sequence[Sequence[int]], cost: BatchCost = padded_cost) -> float:
    """Fraction of the computed length that is padding (0 = none) over all ``batches``."""
    computed = sum(cost([lengths[i] for i in batch]) for batch in batches)
    real = sum(lengths[i] for batch in batches for i in batch)
    return 1.0 - real / computed if computed else 0.0
